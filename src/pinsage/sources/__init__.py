"""Data sources: each turns its own files into the canonical tables of `pinsage.schema`."""

from pinsage.sources.loading import SOURCES, load_source

__all__ = ["SOURCES", "load_source"]
