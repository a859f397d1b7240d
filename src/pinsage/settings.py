"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # `kedro run --params="data.source=ml-100k"` and conf/local overrides change only the keys they
    # name; a destructive merge would drop the sibling keys of `data`.
    "merge_strategy": {"parameters": "soft"},
}

# kedro-mlflow (the `tracking` extra) would otherwise register its hook for every run and open the tracking
# store even with tracking off; TrackInMlflow drives it only for runs with `tracking.enabled`.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)  # its distribution name, as pluggy reports it

from pinsage.hooks import ApplyRetention, HoldRunLock, PublishGate, ValidateParameters  # noqa: E402
from pinsage.tracking import TrackInMlflow  # noqa: E402

# Hooks run in reverse order of this tuple (a wrapper registered later wraps one registered earlier):
# before a run, the lock is taken before MLflow starts a run; after it, the gate decides inside tracking
# (which tags what it decided), inside retention, inside the lock's release, so a refusal (exit 3) still
# applies retention and releases the lock; a failed run records its lineage before the lock is released.
HOOKS = (TrackInMlflow(), ApplyRetention(), HoldRunLock(), PublishGate(), ValidateParameters())
