"""The split pipeline."""

from pinsage.pipelines.split.pipeline import create_pipeline

__all__ = ["create_pipeline"]
