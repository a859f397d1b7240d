"""Embedding tables: what export writes and serving reads, one unit-length vector per item.

A table is stored as Parquet parts of contiguous items (`part-00000.parquet`, ...), so a cluster's
workers can each write their partition's part without the table passing through one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field


class ExportConfig(BaseModel):
    """The `export` parameters: how layer-wise inference runs over the whole catalogue."""

    model_config = ConfigDict(extra="forbid")

    chunk_size: int = Field(
        65536, ge=1, description="items per chunk (dask: per partition) in layer-wise inference; bounds memory"
    )
    device: str = Field("cpu", description="torch device of local inference (cpu, cuda, cuda:1 …)")
    engine: Literal["local", "dask"] = Field(
        "local", description="local: this process; dask: partitions on a dask.distributed cluster (`.[dask]`)"
    )
    dask_scheduler: str | None = Field(
        None, description="dask: the scheduler's address (tcp://host:8786); null: a LocalCluster started and closed"
    )
    dask_local_workers: int = Field(2, ge=1, description="dask without a scheduler: the LocalCluster's workers")
    dask_staging: str = Field(
        "data/07_model_output/staging",
        description="dask: a folder the workers and this process can all reach (a shared file system on a "
        "real cluster); the workers write the parts there, and saving item_embeddings moves them in",
    )


@dataclass(frozen=True)
class StagedParts:
    """An embedding table already written as parts, by the cluster's workers, into `folder`: saving it
    moves the parts into the dataset's version folder instead of writing the table again."""

    folder: Path
    files: list[str]  # part file names in item order


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def write_part(table: pd.DataFrame, path: str | Path) -> None:
    table.to_parquet(path, index=False)


def write_embedding_part(payload: tuple[str, pd.DataFrame], embeddings: torch.Tensor) -> str:
    """Write one partition's embeddings as a part: `payload` is (the part's path, the partition's `item`
    and `item_id` columns). Runs on a dask worker (`embed_all_items_on_cluster`'s `store`)."""
    path, items = payload
    write_part(embedding_table(items, embeddings), path)
    return Path(path).name


def read_table(path: str | Path) -> pd.DataFrame:
    """The whole table at `path`: a folder of parts (read in name order) or, as written before parts
    existed, one Parquet file."""
    path = Path(path)
    if not path.is_dir():
        return pd.read_parquet(path)
    parts = sorted(path.glob("part-*.parquet"))
    if not parts:
        raise FileNotFoundError(f"{path} holds no part-*.parquet files")
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def embedding_table(items: pd.DataFrame, embeddings: torch.Tensor) -> pd.DataFrame:
    """One row per item: `item` (index), `item_id` (source id) and `embedding` (unit-length floats)."""
    return pd.DataFrame(
        {
            "item": items["item"].to_numpy(),
            "item_id": items["item_id"].to_numpy(),
            "embedding": list(embeddings.numpy()),
        }
    )


def embedding_matrix(item_embeddings: pd.DataFrame) -> np.ndarray:
    """The embedding table as a float32 matrix whose row i is item i."""
    order = np.argsort(item_embeddings["item"].to_numpy())
    return np.stack(item_embeddings["embedding"].to_numpy()[order]).astype(np.float32)
