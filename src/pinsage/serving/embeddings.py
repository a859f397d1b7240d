"""Embedding tables: what export writes and serving reads, one unit-length vector per item and the
popularity term its served score adds to the cosine (`pinsage.model.scoring`).

A table is stored as Parquet parts of contiguous items (`part-00000.parquet`, ...), so a cluster's
workers can each write their partition's part without the table passing through one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch


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
    """Write one partition's embeddings as a part: `payload` is (the part's path, the partition's `item`,
    `item_id` and `prior` columns). Runs on a dask worker (`embed_all_items_on_cluster`'s `store`)."""
    path, items = payload
    write_part(embedding_table(items, embeddings, items["prior"].to_numpy()), path)
    return Path(path).name


def read_embedding_table(path: str | Path) -> pd.DataFrame:
    """The whole table at `path`: a folder of parts (read in name order) or, as written before parts
    existed, one Parquet file."""
    path = Path(path)
    if not path.is_dir():
        return pd.read_parquet(path)
    parts = sorted(path.glob("part-*.parquet"))
    if not parts:
        raise FileNotFoundError(f"{path} holds no part-*.parquet files")
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def embedding_table(items: pd.DataFrame, embeddings: torch.Tensor, prior: np.ndarray) -> pd.DataFrame:
    """One row per item: `item` (index), `item_id` (source id), `embedding` (unit-length floats) and `prior`
    (what the item's served score adds to its cosine with the query: score = query · embedding + prior)."""
    return pd.DataFrame(
        {
            "item": items["item"].to_numpy(),
            "item_id": items["item_id"].to_numpy(),
            "embedding": list(embeddings.numpy()),
            "prior": np.asarray(prior, dtype=np.float32),
        }
    )


def embedding_matrix(item_embeddings: pd.DataFrame) -> np.ndarray:
    """The embedding table as a float32 matrix whose row i is item i."""
    return _matrix(item_embeddings, with_prior=False)


def has_prior(item_embeddings: pd.DataFrame) -> bool:
    """Whether the table has priors: one written before they existed is scored by the cosine alone."""
    return "prior" in item_embeddings.columns


def prior_vector(item_embeddings: pd.DataFrame) -> np.ndarray | None:
    """The priors as a float32 vector whose entry i is item i's (None for a table without them)."""
    if not has_prior(item_embeddings):
        return None
    return item_embeddings["prior"].to_numpy(dtype=np.float32)[np.argsort(item_embeddings["item"].to_numpy())]


def index_vectors(item_embeddings: pd.DataFrame) -> np.ndarray:
    """Row i: item i's embedding followed by its prior (where the table has them), the vectors the index
    holds."""
    return _matrix(item_embeddings, with_prior=has_prior(item_embeddings))


def query_vectors(item_embeddings: pd.DataFrame) -> np.ndarray:
    """Row i: what a query for the items similar to item i searches the index with (see `as_queries`)."""
    return as_queries(index_vectors(item_embeddings), has_prior(item_embeddings))


def as_queries(index_rows: np.ndarray, with_prior: bool) -> np.ndarray:
    """`index_rows` (rows of `index_vectors`, changed in place and returned) as queries: with priors, the
    prior's coordinate becomes a 1, so a query's inner product with the index's row j is the served score of
    j, cosine + j's prior."""
    if with_prior:
        index_rows[:, -1] = 1.0
    return index_rows


def _matrix(item_embeddings: pd.DataFrame, with_prior: bool) -> np.ndarray:
    """Row i is item i's embedding, then (`with_prior`) its prior: written into one float32 array, since at
    10M items every extra copy of the table is 2.6 GB."""
    order = np.argsort(item_embeddings["item"].to_numpy())
    rows = item_embeddings["embedding"].to_numpy()[order]
    dim = len(rows[0]) if len(rows) else 0
    out = np.empty((len(rows), dim + with_prior), dtype=np.float32)
    if len(rows):
        np.stack(rows, out=out[:, :dim], casting="same_kind")
    if with_prior:
        out[:, dim] = item_embeddings["prior"].to_numpy(dtype=np.float32)[order]
    return out
