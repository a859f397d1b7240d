"""Kedro hooks: the promotion gate that runs after a pipeline that evaluated a model."""

from __future__ import annotations

import logging

from kedro.framework.hooks import hook_impl

from pinsage.publishing import PublishConfig, decide, read_pointer, write_pointer

log = logging.getLogger(__name__)

REFUSED_EXIT_CODE = 3


class PromotionRefused(SystemExit):
    """Ends `kedro run` with exit code 3: the run completed, but its model is not published."""

    def __init__(self, reason: str):
        super().__init__(REFUSED_EXIT_CODE)
        self.reason = reason


class PromotionGate:
    """After a run that evaluated a model, publish it or refuse with exit code 3; after a run that
    embedded new items with the published model, publish the extended embeddings."""

    @hook_impl
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog) -> None:
        outputs = pipeline.all_outputs()
        if "metrics" not in outputs and not ("published_run" in pipeline.inputs() and "item_embeddings" in outputs):
            return
        config = PublishConfig.model_validate(catalog.load("params:publish"))
        published = read_pointer(config.pointer)
        run_id = run_params["run_id"]

        def version_of(name: str) -> str:
            return run_id if name in outputs else catalog.get(name).resolve_load_version()

        if "metrics" not in outputs:  # new items embedded with the published model: same model, more items
            write_pointer(
                config.pointer, run_id, config.metric, published["value"],
                embeddings_version=run_id, model_version=published["model_version"],
            )
            log.info("published run %s: the published model's embeddings with the new items", run_id)
            return
        value = float(catalog.load("metrics")["pinsage"]["val"][config.metric])
        decision = decide(value, published, config)
        if not decision.publish:
            log.error("not published: %s", decision.reason)
            raise PromotionRefused(decision.reason)
        write_pointer(
            config.pointer, run_id, config.metric, value,
            embeddings_version=version_of("item_embeddings"), model_version=version_of("model_weights"),
        )
        log.info("published run %s: %s", run_id, decision.reason)
