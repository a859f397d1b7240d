import json
from datetime import UTC, datetime

import numpy as np
import pytest

from pinsage.data.sources.registry import DataConfig, dataset_identity
from pinsage.lifecycle.publishing import (
    PublishConfig,
    check_publishable,
    decide,
    published_versions,
    read_pointer,
    roll_back,
    write_pointer,
)
from pinsage.serving.index import build_inner_product_index


def test_first_run_is_published_and_worse_runs_are_not(tmp_path):
    config = PublishConfig(pointer=str(tmp_path / "published.json"), tolerance=0.01, artifacts=["model_weights"])
    dataset = dataset_identity(DataConfig())
    assert decide(0.2, None, config, dataset).publish
    published = {"version": "v1", "value": 0.20, "dataset": dataset}
    assert decide(0.195, published, config, dataset).publish  # within tolerance
    refused = decide(0.18, published, config, dataset)
    assert not refused.publish and "v1" in refused.reason and "stays" in refused.reason


def test_pointer_is_replaced_whole(tmp_path):
    path = tmp_path / "pub" / "published.json"
    assert read_pointer(path) is None
    dataset = {"source": "synthetic"}
    write_pointer(path, "v1", "hits@10", 0.2, {"model_weights": "v1", "item_embeddings": "v1"}, dataset)
    write_pointer(path, "v3", "hits@10", 0.21, {"model_weights": "v1", "item_embeddings": "v2"}, dataset)
    record = read_pointer(path)
    assert [p["version"] for p in record.pop("previous")] == ["v1"] and record.pop("withdrawn") == []
    assert set(record.pop("last_by_dataset")) == {json.dumps(dataset)}
    published_at = datetime.fromisoformat(record.pop("published_at"))  # when it was published, for serving
    assert abs((datetime.now(UTC) - published_at).total_seconds()) < 60
    assert record == {
        "version": "v3",
        "metric": "hits@10",
        "value": 0.21,
        "artifacts": {"model_weights": "v1", "item_embeddings": "v2"},
        "dataset": dataset,
    }
    assert [p.name for p in path.parent.iterdir()] == ["published.json"]  # no temporary files left
    json.loads(path.read_text())


def unit_rows(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


CONFIG = PublishConfig(artifacts=["model_weights"], min_users=50)


def test_a_healthy_run_has_nothing_against_it():
    embeddings = unit_rows(200)
    assert check_publishable(0.2, 300, embeddings, build_inner_product_index(embeddings), CONFIG) == []


def test_nan_embeddings_a_nan_metric_and_too_few_users_are_refused():
    """A NaN model scored HITS@10 = 1.0, and so did a dataset with one validation user: both were published."""
    embeddings = unit_rows(200)
    index = build_inner_product_index(embeddings)
    broken = embeddings.copy()
    broken[7] = np.nan
    assert "embeddings: 1 rows are not finite (first: row 7)" in check_publishable(0.2, 300, broken, index, CONFIG)
    assert any("not finite" in p for p in check_publishable(float("nan"), 300, embeddings, index, CONFIG))
    (few,) = check_publishable(1.0, 1, embeddings, index, CONFIG)
    assert "measured on 1 users, fewer than publish.min_users = 50" in few


def test_an_index_of_other_embeddings_is_refused():
    """After a kill, an evaluation-only run published one run's embeddings with another run's index."""
    embeddings = unit_rows(200)
    assert any(
        "index holds 199 vectors, the embedding table 200 rows" in p
        for p in check_publishable(0.2, 300, embeddings, build_inner_product_index(embeddings[:199]), CONFIG)
    )
    other = build_inner_product_index(unit_rows(200, seed=1))
    assert any("do not find themselves first" in p for p in check_publishable(0.2, 300, embeddings, other, CONFIG))


def test_an_index_with_priors_is_checked_by_cosine_so_popular_neighbours_do_not_fail_it():
    """Served with priors, a popular neighbour outscores the item itself; asked by cosine alone, every
    item still finds itself first in its own run's index, and not in another run's."""
    # Items in pairs of near twins (cosine about 0.99), the second of each pair the more popular.
    twins = np.repeat(unit_rows(100), 2, axis=0) + 0.05 * unit_rows(200, seed=2)
    embeddings = (twins / np.linalg.norm(twins, axis=1, keepdims=True)).astype(np.float32)
    prior = np.tile(np.array([0.5, 0.9], dtype=np.float32), 100)[:, None]
    vectors = np.hstack([embeddings, prior])
    assert (build_inner_product_index(vectors, with_prior=True).search(vectors[::2], 1)[1][:, 0] % 2 == 1).all()
    index = build_inner_product_index(vectors, with_prior=True)
    assert check_publishable(0.2, 300, vectors, index, CONFIG, with_prior=True) == []
    other = build_inner_product_index(np.hstack([unit_rows(200, seed=1), prior]), with_prior=True)
    assert check_publishable(0.2, 300, vectors, index, CONFIG, with_prior=False)  # asked with the priors
    assert any("do not find themselves" in p for p in check_publishable(0.2, 300, vectors, other, CONFIG, True))


def test_runs_are_compared_only_with_a_published_run_of_the_same_dataset(tmp_path):
    movielens = dataset_identity(DataConfig(source="ml-100k", path=str(tmp_path)))
    synthetic = dataset_identity(DataConfig())
    assert movielens != synthetic
    assert dataset_identity(DataConfig(source="ml-100k", path=str(tmp_path / "." / ""))) == movielens
    published = {"version": "v1", "value": 0.9, "dataset": synthetic}
    config = PublishConfig(pointer=str(tmp_path / "p.json"), artifacts=["model_weights"])
    decision = decide(0.1, published, config, movielens)
    assert decision.publish and "no published run of this dataset" in decision.reason
    assert not decide(0.1, published, config, synthetic).publish


def test_the_pointer_remembers_earlier_publications_and_rolls_back_to_them(tmp_path):
    path = tmp_path / "published.json"
    dataset = {"source": "synthetic"}
    for version in ("v1", "v2", "v3"):
        write_pointer(path, version, "hits@10", 0.2, {"model_weights": version}, dataset, keep=2)
    record = read_pointer(path)
    assert record["version"] == "v3" and [p["version"] for p in record["previous"]] == ["v2"]
    assert published_versions(record) == {"v2", "v3"}  # what retention must keep
    back = roll_back(path, lambda record: [])
    assert back["version"] == "v2" and read_pointer(path)["version"] == "v2" and back["previous"] == []
    with pytest.raises(ValueError, match="no earlier publication to roll back to"):
        roll_back(path, lambda record: [])


def test_a_rollback_to_a_set_that_does_not_load_is_refused_and_one_never_drops_what_it_replaces(tmp_path):
    """Rolling back to a publication whose embeddings were deleted left the service unable to start, and
    dropped the good publication it replaced from the history."""
    path = tmp_path / "published.json"
    for version in ("v1", "v2"):
        write_pointer(path, version, "hits@10", 0.2, {"model_weights": version}, {"source": "synthetic"})
    before = path.read_text()
    with pytest.raises(ValueError, match="item_embeddings of run v1 does not load"):
        roll_back(path, lambda record: [f"item_embeddings of run {record['version']} does not load"])
    assert path.read_text() == before
    roll_back(path, lambda record: [])
    now = read_pointer(path)
    assert now["version"] == "v1" and [w["version"] for w in now["withdrawn"]] == ["v2"]
    assert published_versions(now) == {"v1", "v2"}  # retention keeps the withdrawn publication restorable
    write_pointer(path, "v3", "hits@10", 0.2, {"model_weights": "v3"}, {"source": "synthetic"})
    assert "v2" in published_versions(read_pointer(path))


def test_a_run_is_compared_with_the_last_publication_of_its_dataset_wherever_it_sits(tmp_path):
    """Publishing on another dataset in between let a much worse run on the first one through."""
    path = tmp_path / "published.json"
    x, y = {"source": "synthetic", "world": "x"}, {"source": "synthetic", "world": "y"}
    config = PublishConfig(pointer=str(path), tolerance=0.005, artifacts=["model_weights"])
    write_pointer(path, "v1", "hits@10", 0.2083, {"model_weights": "v1"}, x, keep=2)
    write_pointer(path, "v2", "hits@10", 0.15, {"model_weights": "v2"}, y, keep=2)
    refused = decide(0.05, read_pointer(path), config, x)
    assert not refused.publish and "v1" in refused.reason
    for version in ("v3", "v4", "v5"):  # x's publication is no longer among the restorable ones
        write_pointer(path, version, "hits@10", 0.15, {"model_weights": version}, y, keep=2)
    assert not decide(0.05, read_pointer(path), config, x).publish
    assert decide(0.21, read_pointer(path), config, x).publish
