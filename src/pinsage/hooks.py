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
    """After a run that wrote `metrics`, publish its version (the run id) or refuse with exit code 3."""

    @hook_impl
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog) -> None:
        if "metrics" not in pipeline.all_outputs():
            return
        config = PublishConfig.model_validate(catalog.load("params:publish"))
        value = float(catalog.load("metrics")["pinsage"]["val"][config.metric])
        decision = decide(value, read_pointer(config.pointer), config)
        if not decision.publish:
            log.error("not published: %s", decision.reason)
            raise PromotionRefused(decision.reason)
        write_pointer(config.pointer, run_params["run_id"], config.metric, value)
        log.info("published run %s: %s", run_params["run_id"], decision.reason)
