"""The model pipeline."""

from pinsage.pipelines.model.pipeline import create_pipeline

__all__ = ["create_pipeline"]
