"""Embedding tables: what export writes and serving reads, one unit-length vector per item."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field


class ExportConfig(BaseModel):
    """The `export` parameters: how layer-wise inference runs over the whole catalogue."""

    model_config = ConfigDict(extra="forbid")

    chunk_size: int = Field(65536, ge=1, description="items per chunk in layer-wise inference; bounds memory")
    device: str = Field("cpu", description="torch device of inference (cpu, cuda, cuda:1 …)")


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
