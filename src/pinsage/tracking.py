"""Runs tracked in MLflow through kedro-mlflow (the `tracking` extra), off unless `tracking.enabled`.

kedro-mlflow owns the MLflow side: its configuration (`conf/base/mlflow.yml`: the tracking URI, by default a
SQLite database under `data/`, and the experiment), starting and ending the run, `kedro mlflow ui`. Its hook is
not registered by itself (`settings.DISABLE_HOOKS_FOR_PLUGINS`), so a run without tracking never touches
MLflow; `TrackInMlflow` drives it when tracking is enabled and logs what runs are compared by: the validated
parameters (flattened, `training.lr`), each epoch's loss and validation figures as steps, every method's final
figures, the report and the figures as artifacts, and whether the promotion gate published the run.

Under torchrun only the `model` node's process runs Kedro hooks (the ranks exchange tensors, not catalog
saves), so one run is logged once.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

from kedro.framework.hooks import hook_impl

from pinsage.lifecycle.publishing import read_pointer
from pinsage.parameters import Parameters

log = logging.getLogger(__name__)


def metric_key(*parts: str) -> str:
    """An MLflow metric name: `hits@10` becomes `hits_at_10` (MLflow does not accept `@`)."""
    return ".".join(re.sub(r"[^\w\-. /]", "_", part.replace("@", "_at_")) for part in parts)


def flat_parameters(parameters: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """`{"training": {"lr": 0.01}}` as `{"training.lr": "0.01"}`: one MLflow parameter per setting."""
    flat = {}
    for key, value in parameters.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flat_parameters(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def method_figures(figures: dict[str, dict], prefix: str) -> dict[str, float]:
    """The scalar figures of each method (`hits@10`, `users` …) and the settings chosen for it (`chosen.l2`,
    `chosen.prior` …), not intervals or tables."""
    flat = {}
    for method, values in figures.items():
        for name, value in [*values.items(), *((f"chosen.{k}", v) for k, v in (values.get("chosen") or {}).items())]:
            if isinstance(value, int | float) and not isinstance(value, bool):
                flat[metric_key(prefix, method, name)] = float(value)
    return flat


class TrackInMlflow:
    """Drives kedro-mlflow's hook for runs with `tracking.enabled`, and logs this project's figures."""

    def __init__(self) -> None:
        self._context = None
        self._mlflow_hook = None
        self._required = False

    @hook_impl
    def after_context_created(self, context) -> None:
        self._context = context

    def _guarded(self, what: str, action) -> None:
        """Run a tracking `action`; a failure ends tracking for this run (logged once) unless
        `tracking.required`, when it ends the run: training, evaluation and publishing never depend on it."""
        try:
            action()
        except Exception as err:
            if self._required:
                raise
            log.error(
                "MLflow tracking failed while %s (%s: %s); the run goes on untracked (tracking.required=true "
                "would end it)",
                what,
                type(err).__name__,
                err,
            )
            hook, self._mlflow_hook = self._mlflow_hook, None
            if hook is not None:
                with contextlib.suppress(Exception):  # the run may be half-open in the store: close it if we can
                    import mlflow

                    mlflow.end_run(status="FAILED")

    @hook_impl
    def before_pipeline_run(self, run_params: dict, pipeline, catalog) -> None:
        self._mlflow_hook = None
        config = catalog.load("params:tracking")
        self._required = config.required
        if config.enabled:
            self._guarded("starting the run", lambda: self._start(run_params, pipeline, catalog))

    def _start(self, run_params: dict, pipeline, catalog) -> None:
        import mlflow
        from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook

        hook = MlflowHook()
        hook.after_context_created(self._context)
        hook.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
        self._mlflow_hook = hook
        validated = {section: catalog.load(f"params:{section}") for section in Parameters.model_fields}
        mlflow.log_params(flat_parameters({name: model.model_dump(mode="json") for name, model in validated.items()}))
        mlflow.set_tag("kedro_run_id", run_params["run_id"])  # the version of everything this run saves
        log.info("tracking this run in MLflow at %s (run %s)", mlflow.get_tracking_uri(), hook.run_id)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:
        if self._mlflow_hook is not None:
            self._guarded(f"logging {dataset_name}", lambda: self._log_dataset(dataset_name, data))

    @staticmethod
    def _log_dataset(dataset_name: str, data: Any) -> None:
        import mlflow

        if dataset_name == "training_history":
            for record in data:
                figures = {metric_key(k): v for k, v in record.items() if k != "epoch" and isinstance(v, int | float)}
                mlflow.log_metrics(figures, step=record["epoch"])
        elif dataset_name == "metrics":
            for split in ("val", "test"):
                mlflow.log_metrics(method_figures({m: f[split] for m, f in data.items() if split in f}, split))
            mlflow.log_dict(data, "metrics.json")
        elif dataset_name == "new_item_metrics":
            mlflow.log_metrics(method_figures(data["methods"], "new_items"))
            mlflow.log_dict(data, "new_item_metrics.json")
        elif dataset_name == "recall_report":
            mlflow.log_text(data, "recall_report.md")
        elif dataset_name in ("training_curve", "recall_by_degree"):
            mlflow.log_figure(data, f"{dataset_name}.png")

    @hook_impl(wrapper=True)
    def after_pipeline_run(self, run_params: dict, run_result, pipeline, catalog) -> Iterator[None]:
        """Around the promotion gate (`PublishGate`), so the run is tagged with what it decided, and
        ended even when the gate refuses."""
        if self._mlflow_hook is None:
            return (yield)
        try:
            return (yield)
        finally:
            if self._mlflow_hook is not None:
                self._guarded("ending the run", lambda: self._end(run_params, pipeline, catalog))
            self._mlflow_hook = None

    def _end(self, run_params: dict, pipeline, catalog) -> None:
        import mlflow

        published = read_pointer(catalog.load("params:publish").pointer)
        mlflow.set_tag("published", str(bool(published) and published["version"] == run_params["run_id"]).lower())
        self._mlflow_hook.after_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict, pipeline, catalog) -> None:
        if self._mlflow_hook is not None:
            hook = self._mlflow_hook
            self._guarded(
                "ending the failed run",
                lambda: hook.on_pipeline_error(error=error, run_params=run_params, pipeline=pipeline, catalog=catalog),
            )
            self._mlflow_hook = None
