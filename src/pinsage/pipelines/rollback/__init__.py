"""The rollback pipeline: `kedro run --pipeline=rollback` publishes the previous publication again."""

from pinsage.pipelines.rollback.pipeline import create_pipeline

__all__ = ["create_pipeline"]
