"""The gate's decision as library code: what a finished run publishes, or why not, without Kedro."""

import numpy as np
import pandas as pd

from pinsage.lifecycle.gate import FinishedRun, verdict
from pinsage.lifecycle.lineage import record_lineage
from pinsage.lifecycle.publishing import PublishConfig
from pinsage.serving.index import build_inner_product_index

ARTIFACTS = ["model_weights", "trained_with", "item_embeddings", "embedding_index", "metrics"]
CONFIG = PublishConfig(artifacts=ARTIFACTS, min_users=50, tolerance=0.005)
DATASET = {"source": "synthetic"}


def store(value: float = 0.2, users: int = 100):
    """Every artifact of a sound run, whatever version is asked for."""
    vectors = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    table = pd.DataFrame({"item": range(40), "item_id": [f"i{i}" for i in range(40)], "embedding": list(vectors)})
    data = {
        "item_embeddings": table,
        "embedding_index": build_inner_product_index(vectors),
        "metrics": {"pinsage": {"val": {"hits@10": value, "users": users}}},
        "dataset_identity": DATASET,
    }
    return lambda name, version: data[name]


def whole_run(folder, run_id: str) -> FinishedRun:
    made = {name: dict.fromkeys(ARTIFACTS[: ARTIFACTS.index(name)], run_id) for name in ARTIFACTS}
    record_lineage(folder, run_id, made)
    versions = {**dict.fromkeys(ARTIFACTS, run_id), "dataset_identity": run_id}
    return FinishedRun(run_id, set(versions), embedded_new_items=False, versions=versions)


def test_a_whole_sound_run_is_published_with_its_own_artifacts(tmp_path):
    result = verdict(whole_run(tmp_path, "A"), None, CONFIG, tmp_path, store(), lambda name: None)
    assert result.publish and set(result.artifacts.values()) == {"A"} and result.value == 0.2
    assert result.dataset == DATASET and "nothing is published yet" in result.reason


def test_a_worse_run_is_refused_and_a_run_that_evaluated_nothing_publishes_nothing(tmp_path):
    published = {"version": "A", "value": 0.3, "artifacts": {}, "dataset": DATASET}
    refused = verdict(whole_run(tmp_path, "B"), published, CONFIG, tmp_path, store(0.2), lambda name: None)
    assert not refused.publish and "worse than the published run A" in refused.reason
    trained_only = FinishedRun("C", {"model_weights"}, embedded_new_items=False, versions={"model_weights": "C"})
    assert verdict(trained_only, published, CONFIG, tmp_path, store(), lambda name: None) is None


def test_an_evaluation_of_one_runs_embeddings_beside_anothers_model_is_refused(tmp_path):
    whole_run(tmp_path, "B")
    record_lineage(tmp_path, "C", {"model_weights": {}, "trained_with": {}})
    record_lineage(tmp_path, "D", {"metrics": {"item_embeddings": "B", "embedding_index": "B", "model_weights": "C"}})
    read = {"item_embeddings": "B", "embedding_index": "B", "model_weights": "C", "trained_with": "C", "metrics": "D"}
    run = FinishedRun("D", {"metrics"}, embedded_new_items=False, versions=read)
    result = verdict(run, None, CONFIG, tmp_path, store(), lambda name: "B")
    assert not result.publish and "item_embeddings of run B was made with model_weights of run B" in result.reason


def test_too_few_users_is_refused_whatever_was_published(tmp_path):
    result = verdict(whole_run(tmp_path, "A"), None, CONFIG, tmp_path, store(users=3), lambda name: None)
    assert not result.publish and "fewer than publish.min_users" in result.reason
