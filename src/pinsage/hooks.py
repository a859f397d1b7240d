"""Kedro hooks: parameters validated before the first node; after a run, the promotion gate (publish or
refuse) and retention of old runs."""

from __future__ import annotations

import logging
from pathlib import Path

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset

from pinsage.lifecycle.publishing import check_publishable, decide, published_versions, read_pointer, write_pointer
from pinsage.lifecycle.retention import apply_retention
from pinsage.lifecycle.run_lock import RunLock, RunLockHeld
from pinsage.parameters import Parameters, validate_parameters
from pinsage.serving.embeddings import has_prior, index_vectors

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
    catalog then holds its validated model (models Kedro built already are kept, not validated again).
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
        for section in Parameters.model_fields:
            catalog[f"params:{section}"] = getattr(self._validated, section)


class PublishAndRetain:
    """Before a run, take the project's run lock (exit code 4 if another run holds it). After a run that
    evaluated a model, publish it or refuse with exit code 3; after a run that embedded new items with the
    published model, publish the extended embeddings. Either way, then delete the artifacts of runs beyond
    `retention.keep_runs`, never a protected publication's, and release the lock."""

    def __init__(self) -> None:
        self._versioned_paths: list[Path] = []
        self._conf_catalog: dict = {}
        self._lock: RunLock | None = None

    @hook_impl
    def after_catalog_created(self, conf_catalog: dict) -> None:
        self._conf_catalog = conf_catalog
        self._versioned_paths = [
            Path(entry["filepath"])
            for entry in conf_catalog.values()
            if isinstance(entry, dict) and entry.get("versioned") and "filepath" in entry
        ]

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._lock = RunLock(catalog.load("params:runs").lock)
        try:
            self._lock.acquire(run_params["run_id"])
        except RunLockHeld as held:
            log.error("not run: %s", held)
            raise RunRefused(str(held)) from None

    @hook_impl
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog) -> None:
        try:
            self._publish(run_params["run_id"], pipeline, catalog)
        finally:  # a refused run is still a run: retention applies to it too
            try:
                self._clean_up(catalog)
            finally:
                self._lock.release()

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog) -> None:
        if self._lock is not None:
            self._lock.release()

    def _clean_up(self, catalog) -> None:
        config = catalog.load("params:retention")
        if config.keep_runs is None:
            return
        protected = published_versions(read_pointer(catalog.load("params:publish").pointer))
        deleted = apply_retention(self._versioned_paths, config.keep_runs, protected, Path(config.trash))
        if deleted:
            log.info(
                "retention: deleted %d version folders of runs older than the newest %d (publications kept)",
                len(deleted),
                config.keep_runs,
            )

    def _publish(self, run_id: str, pipeline, catalog) -> None:
        outputs = pipeline.all_outputs()
        # New items embedded with the published model read the new-item folders; a run that trains or
        # exports without evaluating (say `--to-nodes=build_faiss_index`) has no figure to publish on.
        embedded_new_items = "new_items" in pipeline.inputs() and "item_embeddings" in outputs
        if "metrics" not in outputs and not embedded_new_items:
            if "item_embeddings" in outputs or "model_weights" in outputs:
                log.warning("this run did not evaluate: nothing is published (run the evaluate pipeline to)")
            return
        config = catalog.load("params:publish")
        published = read_pointer(config.pointer)
        if embedded_new_items:  # the published model's embeddings with the new items: same model, more items
            artifacts = {**published["artifacts"], **{name: run_id for name in config.artifacts if name in outputs}}
            value, users, dataset = float(published["value"]), config.min_users, published.get("dataset")
        else:
            artifacts = {
                name: run_id if name in outputs else catalog.get(name).resolve_load_version()
                for name in config.artifacts
            }
            validation = self._load("metrics", run_id)["pinsage"]["val"]
            value, users = float(validation[config.metric]), int(validation["users"])
            identity = "dataset_identity"
            dataset = self._load(
                identity, run_id if identity in outputs else catalog.get(identity).resolve_load_version()
            )
        problems = self._check(value, users, artifacts, config)
        if problems:
            reason = "; ".join(problems) + "; the published version stays"
            log.error("not published: %s", reason)
            raise PromotionRefused(reason)
        if embedded_new_items:
            write_pointer(config.pointer, run_id, config.metric, value, artifacts, dataset, config.keep_published)
            log.info("published run %s: the published model's embeddings with the new items", run_id)
            return
        decision = decide(value, published, config, dataset)
        if not decision.publish:
            log.error("not published: %s", decision.reason)
            raise PromotionRefused(decision.reason)
        write_pointer(config.pointer, run_id, config.metric, value, artifacts, dataset, config.keep_published)
        log.info("published run %s: %s", run_id, decision.reason)

    def _check(self, value: float, users: int, artifacts: dict[str, str], config) -> list[str]:
        """The gate's checks on exactly the embedding table and index it would publish."""
        if not {"item_embeddings", "embedding_index"} <= set(artifacts):
            return ["publish.artifacts must include item_embeddings and embedding_index, which are served"]
        table = self._load("item_embeddings", artifacts["item_embeddings"])
        index = self._load("embedding_index", artifacts["embedding_index"])
        return check_publishable(value, users, index_vectors(table), index, config, has_prior(table))

    def _load(self, name: str, version: str):
        """A dataset at a given version, whatever a concurrent run wrote since."""
        return AbstractDataset.from_config(name, self._conf_catalog[name], load_version=version).load()
