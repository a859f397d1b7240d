"""Embedding tables: what export writes and serving reads, one unit-length vector per item."""

from __future__ import annotations

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
