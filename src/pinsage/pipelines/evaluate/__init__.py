"""The evaluate pipeline."""

from pinsage.pipelines.evaluate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
