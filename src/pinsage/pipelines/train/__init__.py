"""The train pipeline: the whole chain a scheduled retraining job runs."""

from pinsage.pipelines.train.pipeline import create_pipeline

__all__ = ["create_pipeline"]
