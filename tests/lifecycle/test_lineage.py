import pytest

from pinsage.lifecycle.lineage import inconsistencies, made_from, record_lineage, resolve_artifacts

NAMES = ["model_weights", "item_embeddings", "embedding_index", "metrics"]


def partial_runs(folder):
    """The issue's sequence: a whole run A; a run B up to the index; a run C up to training (another model);
    an evaluation D of the newest embeddings (B's), which read C's model for the new items."""
    record_lineage(
        folder,
        "A",
        {
            "model_weights": {},
            "item_embeddings": {"model_weights": "A"},
            "embedding_index": {"model_weights": "A", "item_embeddings": "A"},
            "metrics": {"model_weights": "A", "item_embeddings": "A", "embedding_index": "A"},
        },
    )
    record_lineage(
        folder,
        "B",
        {
            "model_weights": {},
            "item_embeddings": {"model_weights": "B"},
            "embedding_index": {"model_weights": "B", "item_embeddings": "B"},
        },
    )
    record_lineage(folder, "C", {"model_weights": {}})
    record_lineage(folder, "D", {"metrics": {"item_embeddings": "B", "embedding_index": "B", "model_weights": "C"}})


def test_a_run_reads_back_what_it_recorded_and_an_unrecorded_run_reads_none(tmp_path):
    record_lineage(tmp_path, "A", {"item_embeddings": {"model_weights": "A"}})
    assert made_from(tmp_path, "item_embeddings", "A") == {"model_weights": "A"}
    assert made_from(tmp_path, "item_embeddings", "Z") is None


def test_an_evaluation_of_one_runs_embeddings_beside_anothers_model_is_inconsistent(tmp_path):
    partial_runs(tmp_path)
    read = {"item_embeddings": "B", "embedding_index": "B", "model_weights": "C", "metrics": "D"}
    artifacts = resolve_artifacts(tmp_path, NAMES, read, dict.fromkeys(NAMES, "newest"))
    assert artifacts == read
    problems = inconsistencies(tmp_path, artifacts, artifacts)
    assert problems == [
        "embedding_index of run B was made with model_weights of run B, but model_weights of run C would be "
        "published beside it",
        "item_embeddings of run B was made with model_weights of run B, but model_weights of run C would be "
        "published beside it",
    ]


def test_what_a_run_did_not_read_is_what_made_what_it_read(tmp_path):
    """An evaluation reads the embeddings and the index: the model published beside them is the one that
    made them, not the newest."""
    partial_runs(tmp_path)
    record_lineage(tmp_path, "E", {"metrics": {"item_embeddings": "B", "embedding_index": "B"}})
    read = {"item_embeddings": "B", "embedding_index": "B", "metrics": "E"}
    artifacts = resolve_artifacts(tmp_path, NAMES, read, dict.fromkeys(NAMES, "C"))
    assert artifacts["model_weights"] == "B" and not inconsistencies(tmp_path, artifacts, artifacts)


def test_a_whole_run_is_consistent_and_a_missing_artifact_is_named(tmp_path):
    partial_runs(tmp_path)
    artifacts = dict.fromkeys(NAMES, "A")
    assert not inconsistencies(tmp_path, artifacts, artifacts)
    # A later evaluation of the same embeddings: new metrics, the same model.
    record_lineage(tmp_path, "F", {"metrics": {"item_embeddings": "A", "embedding_index": "A", "model_weights": "A"}})
    again = {**artifacts, "metrics": "F"}
    assert not inconsistencies(tmp_path, again, again)
    with pytest.raises(FileNotFoundError, match="no version of users"):
        resolve_artifacts(tmp_path, [*NAMES, "users"], artifacts, {"users": None})
