"""The export pipeline."""

from pinsage.pipelines.export.pipeline import create_pipeline

__all__ = ["create_pipeline"]
