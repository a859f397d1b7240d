"""The features pipeline."""

from pinsage.pipelines.features.pipeline import create_pipeline

__all__ = ["create_pipeline"]
