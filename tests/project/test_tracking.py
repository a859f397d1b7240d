"""MLflow tracking (kedro-mlflow, the `tracking` extra): off by default, and with `tracking.enabled` a `train`
run is logged to the project's SQLite store: its parameters, per-epoch loss and validation figures, every
method's final figures, the report and the figures, and whether the gate published it."""

from __future__ import annotations

import json

from tests.project.runs import TINY, kedro_run, params_arg


def test_a_train_run_is_logged_to_mlflow_when_tracking_is_enabled(project):
    # The project's own train run (the fixture's) had tracking off, the default: it never opened the store.
    assert (project / "data/09_published/published.json").exists() and not (project / "data/mlflow.db").exists()

    tracked = kedro_run(project, "--pipeline=train", params_arg({**TINY, "tracking.enabled": "true"}))
    assert tracked.returncode == 0, tracked.stderr[-3000:]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'data/mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("pinsage").experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "train"
    assert run.data.params["training.epochs"] == "2" and run.data.params["model.hidden_dim"] == "64"
    assert run.data.params["data.synthetic.n_pins"] == "300"
    loss = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in loss] == [1, 2]
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_hits_at_10")] == [1, 2]
    metrics = run.data.metrics
    pointer = json.loads((project / "data/09_published/published.json").read_text())
    assert metrics["val.pinsage.hits_at_10"] == pointer["value"]
    assert {
        "test.pinsage.hits_at_10",
        "test.ease.hits_at_10",
        "val.ease.chosen.l2",
        "val.next_items.chosen.window",
        "new_items.pinsage_cold.hits_at_10",
    } <= set(metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"recall_report.md", "training_curve.png", "recall_by_degree.png", "metrics.json"} <= artifacts
    assert run.data.tags["published"] == "true" and pointer["version"] == run.data.tags["kedro_run_id"]

    refused = kedro_run(project, "--pipeline=evaluate", "--params=tracking.enabled=true,publish.tolerance=-1.0")
    assert refused.returncode == 3
    latest_run = client.search_runs([run.info.experiment_id], order_by=["attributes.start_time DESC"])[0]
    assert latest_run.info.run_name == "evaluate" and latest_run.data.tags["published"] == "false"
    assert latest_run.info.status == "FINISHED"  # ended, though the gate refused


def test_a_corrupt_tracking_store_costs_the_run_nothing_but_its_tracking(project):
    """A corrupt store blocked every tracked run before (and one corrupted mid-run ended it after training)."""
    (project / "data/mlflow.db").write_bytes(b"not a database" * 100)
    before = json.loads((project / "data/09_published/published.json").read_text())["version"]
    result = kedro_run(project, "--pipeline=evaluate", "--params=tracking.enabled=true")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MLflow tracking failed while starting the run" in " ".join((result.stdout + result.stderr).split())
    assert json.loads((project / "data/09_published/published.json").read_text())["version"] > before
    required = kedro_run(project, "--pipeline=evaluate", "--params=tracking.enabled=true,tracking.required=true")
    assert required.returncode not in (0, 3)
