"""The graph pipeline."""

from pinsage.pipelines.graph.pipeline import create_pipeline

__all__ = ["create_pipeline"]
