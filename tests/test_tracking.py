"""Tracking is optional: a failing MLflow store must not cost a run its training, evaluation or publication."""

import logging

import pytest

from pinsage.tracking import TrackInMlflow

METRICS = {"pinsage": {"val": {"hits@10": 0.2, "users": 100}, "test": {"hits@10": 0.18, "users": 100}}}


class StoreBroken(Exception):
    pass


@pytest.fixture
def broken_store(monkeypatch):
    import mlflow

    def fail(*args, **kwargs):
        raise StoreBroken("database disk image is malformed")

    for name in ("log_metrics", "log_dict", "end_run"):
        monkeypatch.setattr(mlflow, name, fail)


def test_a_tracking_failure_is_logged_once_and_the_run_goes_on(broken_store, caplog):
    """A corrupt `data/mlflow.db` during training ended a finished run with exit 1, nothing published."""
    hook = TrackInMlflow()
    hook._mlflow_hook = object()  # a run being tracked
    with caplog.at_level(logging.ERROR):
        hook.after_dataset_saved("metrics", METRICS, node=None)
        hook.after_dataset_saved("metrics", METRICS, node=None)
    assert hook._mlflow_hook is None  # no more tracking for this run
    failures = [r for r in caplog.records if "MLflow tracking failed" in r.getMessage()]
    assert len(failures) == 1 and "StoreBroken: database disk image is malformed" in failures[0].getMessage()


def test_with_tracking_required_a_failure_ends_the_run(broken_store):
    hook = TrackInMlflow()
    hook._mlflow_hook, hook._required = object(), True
    with pytest.raises(StoreBroken):
        hook.after_dataset_saved("metrics", METRICS, node=None)
