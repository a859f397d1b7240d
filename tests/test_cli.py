"""`pinsage serve`'s loading: what cannot be served is said by run and artifact, never by file path."""

import pytest

from pinsage.cli import NothingToServe, loaded


def test_an_unreadable_published_file_is_a_clear_refusal_without_its_path():
    """Published files were 0600: a service running as another user died with a PermissionError traceback."""

    def unreadable():
        raise PermissionError(13, "Permission denied", "/srv/project/data/09_published/published.json")

    with pytest.raises(NothingToServe) as refused:
        loaded("item_embeddings", "2026-12-06T10.00.00.000Z", unreadable)
    message = str(refused.value)
    assert "item_embeddings of the published run 2026-12-06T10.00.00.000Z cannot be loaded" in message
    assert "permission denied: the service's user cannot read the published files" in message
    assert "/srv/project" not in message


def test_a_missing_artifact_names_its_kind_of_failure():
    def missing():
        raise FileNotFoundError("/srv/project/data/07_model_output/embedding_index.faiss/v3 does not exist")

    with pytest.raises(
        NothingToServe, match=r"embedding_index of the published run v3 cannot be loaded \(FileNotFoundError\)"
    ):
        loaded("embedding_index", "v3", missing)
