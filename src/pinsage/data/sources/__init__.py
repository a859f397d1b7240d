"""Data sources: each turns its own files into the canonical tables of `pinsage.data.schema`."""

from pinsage.data.sources.registry import SOURCES, DataConfig, load_source

__all__ = ["SOURCES", "DataConfig", "load_source"]
