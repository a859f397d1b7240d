"""Choosing and loading a data source by name."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pinsage.schema import Dataset, DataError, validate
from pinsage.sources.download import ensure_movielens_zip
from pinsage.sources.files import SourceFiles
from pinsage.sources.movielens import LAYOUTS, load_movielens
from pinsage.sources.pins import load_pins
from pinsage.sources.synthetic import SyntheticWorld, generate_world

SOURCES = ("synthetic", "pins", *LAYOUTS)


class DataConfig(BaseModel):
    """The `data` parameters: which source, where its files are, and how to read them."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["synthetic", "pins", "ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-32m", "ml-latest", "ml-latest-small"] = "synthetic"  # fmt: skip
    path: str | None = Field(None, description="folder or zip of the source's files")
    raw_dir: str = Field("data/01_raw", description="where a downloaded MovieLens zip is kept")
    min_rating: float | None = Field(None, description="MovieLens: keep ratings at or above this")
    synthetic: SyntheticWorld = SyntheticWorld()


def load_source(config: DataConfig) -> Dataset:
    if config.source == "synthetic":
        dataset = generate_world(config.synthetic)
    elif config.source == "pins":
        if config.path is None:
            raise DataError("data.source=pins needs data.path, the folder or zip of pins/saves files")
        dataset = load_pins(SourceFiles(config.path))
    else:
        path = config.path
        if path is None:
            path = ensure_movielens_zip(config.source, Path(config.raw_dir))
        dataset = load_movielens(config.source, SourceFiles(path), config.min_rating)
    validate(dataset)
    return dataset
