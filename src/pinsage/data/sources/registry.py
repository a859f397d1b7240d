"""The table of data sources: each name, and how its files become the canonical tables."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pinsage.data.schema import DataError, Dataset, validate
from pinsage.data.sources.download import ensure_movielens_zip
from pinsage.data.sources.files import SourceFiles
from pinsage.data.sources.movielens import LAYOUTS, load_movielens
from pinsage.data.sources.pins import load_pins
from pinsage.data.sources.synthetic import SyntheticWorld, generate_world


def _synthetic(config: DataConfig) -> Dataset:
    return generate_world(config.synthetic)


def _pins(config: DataConfig) -> Dataset:
    if config.path is None:
        raise DataError("data.source=pins needs data.path, the folder or zip of pins/saves files")
    return load_pins(SourceFiles(config.path))


def _movielens(config: DataConfig) -> Dataset:
    path = config.path if config.path is not None else ensure_movielens_zip(config.source, Path(config.raw_dir))
    return load_movielens(config.source, SourceFiles(path), config.min_rating)


# The one list of sources: the parameter's allowed values, the README's list and the loaders come from it.
LOADERS: dict[str, Callable[[DataConfig], Dataset]] = {
    "synthetic": _synthetic,
    "pins": _pins,
    **dict.fromkeys(LAYOUTS, _movielens),
}
SOURCES = tuple(LOADERS)


class DataConfig(BaseModel):
    """The `data` parameters: which source, where its files are, and how to read them."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    source: Literal[SOURCES] = "synthetic"  # type: ignore[valid-type]
    path: str | None = Field(None, description="folder or zip of the source's files")
    raw_dir: str = Field("data/01_raw", description="where a downloaded MovieLens zip is kept")
    min_rating: float | None = Field(None, description="MovieLens: keep ratings at or above this")
    synthetic: SyntheticWorld = SyntheticWorld()


def dataset_identity(data: DataConfig) -> dict:
    """Which dataset a run trained on: the same source read from the same place (for the synthetic world,
    the same world). The promotion gate compares only runs of one dataset. Interaction batches added
    since do not change it: a retraining is compared with the model it would replace."""
    identity: dict = {"source": data.source, "path": str(Path(data.path).resolve()) if data.path else None}
    if data.source == "synthetic":
        world = json.dumps(data.synthetic.model_dump(), sort_keys=True)
        identity["world"] = hashlib.sha256(world.encode()).hexdigest()[:16]
    return identity


def load_source(config: DataConfig) -> Dataset:
    dataset = LOADERS[config.source](config)
    validate(dataset)
    return dataset
