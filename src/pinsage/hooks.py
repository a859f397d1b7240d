"""Kedro hooks, wiring only: parameters validated before the first node; one run at a time (the run lock);
after a run, the promotion gate (publish or refuse; `pinsage.lifecycle.gate` decides) and retention of old
runs. Their order is set in `settings.HOOKS`."""

from __future__ import annotations

import logging
from pathlib import Path

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, AbstractVersionedDataset

from pinsage.lifecycle.gate import FinishedRun, verdict
from pinsage.lifecycle.lineage import lineage_folder, record_lineage
from pinsage.lifecycle.publishing import published_versions, read_pointer, write_pointer
from pinsage.lifecycle.retention import apply_retention
from pinsage.lifecycle.run_lock import RunLock, RunLockHeld
from pinsage.parameters import Parameters, check_publish_artifacts, validate_parameters

log = logging.getLogger(__name__)

REFUSED_EXIT_CODE = 3
LOCKED_EXIT_CODE = 4


class PromotionRefused(SystemExit):
    """Ends `kedro run` with exit code 3: the run completed, but its model is not published."""

    def __init__(self, reason: str):
        super().__init__(REFUSED_EXIT_CODE)
        self.reason = reason


class RunRefused(SystemExit):
    """Ends `kedro run` with exit code 4 before any node ran: another run is writing in this project."""

    def __init__(self, reason: str):
        super().__init__(LOCKED_EXIT_CODE)
        self.reason = reason


class ValidateParameters:
    """Validates the whole parameter set before the first node runs.

    Kedro 1.7 instantiates the pydantic model of each parameter a node declares by type hint; what it cannot
    see is checked here: sections no node reads (`publish`, `retention`, read by the hooks), misspelt
    sections, rules that span sections and devices this machine lacks. Each `params:<section>` in the
    catalog then holds its validated model, and `params:train_settings` the sections training reads, as
    the one object `fit` takes.
    """

    def __init__(self) -> None:
        self._validated: Parameters | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        # The raw configuration (runtime --params merged in), before Kedro builds a model for each node's
        # typed parameter: every bad parameter is reported here, in one format, naming `section.key`.
        # Relative paths among them are the project's, wherever the session was started from.
        self._validated = validate_parameters(context.config_loader["parameters"], context.project_path)

    @hook_impl
    def after_catalog_created(self, catalog) -> None:
        check_publish_artifacts(self._validated.publish, catalog.keys())
        for section in Parameters.model_fields:
            catalog[f"params:{section}"] = getattr(self._validated, section)
        catalog["params:train_settings"] = self._validated.train_settings()


class HoldRunLock:
    """Before a run, take the project's run lock (exit code 4 if another run holds it); release it when the
    run ends, whatever happened, after the gate and retention (it wraps their after_pipeline_run)."""

    def __init__(self) -> None:
        self._lock: RunLock | None = None

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._lock = RunLock(catalog.load("params:runs").lock)
        try:
            self._lock.acquire(run_params["run_id"])
        except RunLockHeld as held:
            log.error("not run: %s", held)
            raise RunRefused(str(held)) from None

    @hook_impl(wrapper=True)
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog):
        try:
            return (yield)
        finally:
            self._release()

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog) -> None:
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class ApplyRetention:
    """After every run, refused ones too (it wraps the gate), delete the artifacts of runs beyond
    `retention.keep_runs`, never a publication's (the pointer's current, earlier and withdrawn ones)."""

    def __init__(self) -> None:
        self._versioned_paths: list[Path] = []

    @hook_impl
    def after_catalog_created(self, conf_catalog: dict) -> None:
        self._versioned_paths = [
            Path(entry["filepath"])
            for entry in conf_catalog.values()
            if isinstance(entry, dict) and entry.get("versioned") and "filepath" in entry
        ]

    @hook_impl(wrapper=True)
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog):
        try:
            return (yield)
        finally:
            config = catalog.load("params:retention")
            if config.keep_runs is not None:
                protected = published_versions(read_pointer(catalog.load("params:publish").pointer))
                deleted = apply_retention(self._versioned_paths, config.keep_runs, protected, Path(config.trash))
                if deleted:
                    log.info(
                        "retention: deleted %d version folders of runs older than the newest %d (publications kept)",
                        len(deleted),
                        config.keep_runs,
                    )


class PublishGate:
    """Records what each run made its outputs from (`pinsage.lifecycle.lineage`) and, after a run that
    evaluated a model or embedded new items with the published one, publishes it or refuses with exit code 3
    (`pinsage.lifecycle.gate` decides)."""

    def __init__(self) -> None:
        self._conf_catalog: dict = {}
        self._catalog = None
        self._run_id = ""
        self._versions: dict[str, str] = {}  # versioned dataset → the version this run read or wrote
        self._made_from: dict[str, dict[str, str]] = {}  # output → versioned datasets upstream of it, in this run

    @hook_impl
    def after_catalog_created(self, conf_catalog: dict) -> None:
        self._conf_catalog = conf_catalog

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._catalog, self._run_id, self._versions, self._made_from = catalog, run_params["run_id"], {}, {}

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data, node) -> None:
        dataset = self._catalog.get(dataset_name) if self._catalog is not None else None
        if isinstance(dataset, AbstractVersionedDataset):
            self._versions.setdefault(dataset_name, dataset.resolve_load_version())

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data, node) -> None:
        if isinstance(self._catalog.get(dataset_name), AbstractVersionedDataset):
            self._versions[dataset_name] = self._run_id  # what a run writes, it made: its own version

    @hook_impl
    def before_node_run(self, node, catalog, inputs) -> None:
        # Every output of a node is made from its inputs and from whatever those were made from in this run.
        sources: dict[str, str] = {}
        for name in node.inputs:
            sources.update(self._made_from.get(name, {}))
            if name in self._versions:
                sources[name] = self._versions[name]
        for name in node.outputs:
            self._made_from[name] = sources

    @hook_impl
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog) -> None:
        self._record_lineage(catalog)
        outputs = pipeline.all_outputs()
        run = FinishedRun(
            run_id=run_params["run_id"],
            outputs=outputs,
            # New items embedded with the published model read the new-item folders.
            embedded_new_items="new_items" in pipeline.inputs() and "item_embeddings" in outputs,
            versions=self._versions,
        )
        config = catalog.load("params:publish")
        published = read_pointer(config.pointer)
        result = verdict(run, published, config, self._lineage_folder(catalog), self._load, self._newest)
        if result is None:
            # A run that trains or exports without evaluating (say `--to-nodes=build_faiss_index`).
            if "item_embeddings" in outputs or "model_weights" in outputs:
                log.warning("this run did not evaluate: nothing is published (run the evaluate pipeline to)")
            return
        if not result.publish:
            log.error("not published: %s", result.reason)
            raise PromotionRefused(result.reason)
        write_pointer(
            config.pointer,
            run.run_id,
            config.metric,
            result.value,
            result.artifacts,
            result.dataset,
            config.keep_published,
        )
        log.info("published run %s: %s", run.run_id, result.reason)

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog) -> None:
        self._record_lineage(catalog)  # what a failed run wrote may be read later as the newest

    def _record_lineage(self, catalog) -> None:
        written = {
            name: self._made_from.get(name, {}) for name, version in self._versions.items() if version == self._run_id
        }
        if written:
            record_lineage(self._lineage_folder(catalog), self._run_id, written)

    @staticmethod
    def _lineage_folder(catalog) -> Path:
        return lineage_folder(catalog.load("params:publish").pointer)

    def _newest(self, name: str) -> str | None:
        try:
            return self._catalog.get(name).resolve_load_version()
        except Exception:  # noqa: BLE001 - no version saved yet: reported as missing where it is needed
            return None

    def _load(self, name: str, version: str):
        """A dataset at a given version, whatever a concurrent run wrote since."""
        return AbstractDataset.from_config(name, self._conf_catalog[name], load_version=version).load()
