"""Embeddings for items added after training, with the trained model unchanged."""

from pinsage.pipelines.embed_new_items.pipeline import create_pipeline

__all__ = ["create_pipeline"]
