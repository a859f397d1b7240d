import json

from pinsage.lifecycle.publishing import PublishConfig, decide, read_pointer, write_pointer


def test_first_run_is_published_and_worse_runs_are_not(tmp_path):
    config = PublishConfig(pointer=str(tmp_path / "published.json"), tolerance=0.01, artifacts=["model_weights"])
    assert decide(0.2, None, config).publish
    published = {"version": "v1", "value": 0.20}
    assert decide(0.195, published, config).publish  # within tolerance
    refused = decide(0.18, published, config)
    assert not refused.publish and "v1" in refused.reason and "stays" in refused.reason


def test_pointer_is_replaced_whole(tmp_path):
    path = tmp_path / "pub" / "published.json"
    assert read_pointer(path) is None
    write_pointer(path, "v1", "hits@10", 0.2, {"model_weights": "v1", "item_embeddings": "v1"})
    write_pointer(path, "v3", "hits@10", 0.21, {"model_weights": "v1", "item_embeddings": "v2"})
    assert read_pointer(path) == {
        "version": "v3",
        "metric": "hits@10",
        "value": 0.21,
        "artifacts": {"model_weights": "v1", "item_embeddings": "v2"},
    }
    assert [p.name for p in path.parent.iterdir()] == ["published.json"]  # no temporary files left
    json.loads(path.read_text())
