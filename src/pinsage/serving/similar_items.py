"""Item-to-item recall over one published set: the embeddings, the index built from them, and each item's
title and categories, all of one publication.

A `ServedSet` is immutable once built, and every answer is computed from one set alone, so a service that
swaps sets (see `pinsage.serving.reloading`) never mixes two publications in one answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np
import pandas as pd

from pinsage.data.schema import among
from pinsage.serving.embeddings import query_vectors

# index, query vectors, k → (scores, rows), as faiss's `index.search`; see `pinsage.serving.batching`.
Search = Callable[[faiss.Index, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def search_directly(index: faiss.Index, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    return index.search(vectors, k)


class UnknownItems(KeyError):
    """Item ids the served set does not hold; `ids` lists them in the order asked."""

    def __init__(self, ids: list[str]):
        super().__init__(ids)
        self.ids = ids

    def __str__(self) -> str:
        shown = ", ".join(repr(i) for i in self.ids[:10]) + (" …" if len(self.ids) > 10 else "")
        return f"unknown item id(s): {shown}"


@dataclass(frozen=True)
class Neighbour:
    item_id: str
    title: str | None
    categories: list[str]
    score: float


@dataclass(frozen=True)
class ServedSet:
    """One publication, ready to answer: row i of `queries` and of the index is item `item_ids[i]`."""

    publication: dict  # the pointer's record: version, metric, value, dataset, artifacts, published_at
    item_ids: pd.Index  # str, unique, in index row order
    titles: np.ndarray  # object: str or None
    lowercase_titles: pd.Series  # str, "" where there is no title: what title search matches, lowered once
    categories: np.ndarray  # object: "|"-joined labels, "" when none
    queries: np.ndarray  # [n_items, index.d] float32: row i searches the index for the items similar to item i
    index: faiss.Index

    @property
    def version(self) -> str:
        return self.publication["version"]

    def __len__(self) -> int:
        return len(self.item_ids)

    def rows(self, item_ids: list[str]) -> np.ndarray:
        """Index rows of `item_ids`; raises UnknownItems naming every id the set lacks."""
        rows = self.item_ids.get_indexer(pd.Index(item_ids, dtype=object))
        if (rows < 0).any():
            raise UnknownItems([i for i, r in zip(item_ids, rows, strict=True) if r < 0])
        return rows

    def describe(self, row: int, score: float | None = None) -> dict:
        described = {
            "item_id": self.item_ids[row],
            "title": self.titles[row],
            "categories": [c for c in str(self.categories[row]).split("|") if c],
        }
        return described if score is None else {**described, "score": round(float(score), 6)}

    def similar(self, item_ids: list[str], k: int, search: Search = search_directly) -> list[list[dict]]:
        """For each item, its k best-scoring items in the index (cosine + the item's popularity prior, best
        first), the item itself excluded."""
        return self.nearest(self.rows(item_ids), k, search)

    def nearest(self, rows: np.ndarray, k: int, search: Search = search_directly) -> list[list[dict]]:
        """`similar` for index rows already looked up (see `rows`)."""
        # One more than asked, so k remain once the item itself is dropped; an approximate index may not
        # return the item, then its last neighbour is dropped instead.
        scores, found = search(self.index, np.ascontiguousarray(self.queries[rows]), min(k + 1, len(self)))
        answers = []
        for row, row_scores, row_found in zip(rows, scores, found, strict=True):
            keep = (row_found != row) & (row_found >= 0)  # faiss pads with -1 when a list runs short
            nearest = zip(row_found[keep][:k], row_scores[keep][:k], strict=True)
            answers.append([self.describe(n, s) for n, s in nearest])
        return answers

    def search(self, query: str, limit: int) -> list[dict]:
        """Items whose title holds every word of `query` (case-insensitive), titles starting with the
        query first, then in catalogue order."""
        words = query.lower().split()
        if not words:
            return []
        titles = self.lowercase_titles
        hit = np.ones(len(titles), dtype=bool)
        for word in words:
            hit &= titles.str.contains(word, regex=False).to_numpy()
        rows = np.flatnonzero(hit)
        starts = titles.iloc[rows].str.startswith(" ".join(words)).to_numpy()
        ordered = np.concatenate([rows[starts], rows[~starts]])[:limit]
        return [self.describe(int(r)) for r in ordered]


def item_details(catalogue: pd.DataFrame, new_items: pd.DataFrame | None = None) -> pd.DataFrame:
    """`item_id`, `title`, `categories` of the trained catalogue, then of items added since (the new-item
    batches), for the items the catalogue lacks."""
    frames = [catalogue[["item_id", "title", "categories"]].astype({"item_id": str})]
    if new_items is not None and len(new_items):
        added = new_items.reindex(columns=["item_id", "title", "categories"]).astype({"item_id": str})
        frames.append(added[~among(added["item_id"], frames[0]["item_id"])].drop_duplicates("item_id", keep="last"))
    return pd.concat(frames, ignore_index=True)


def served_set(
    publication: dict, item_embeddings: pd.DataFrame, index: faiss.Index, details: pd.DataFrame
) -> ServedSet:
    """The set serving `item_embeddings` from `index`, titled from `details` (see `item_details`); refuses
    an index and a table that are not one run's."""
    queries = query_vectors(item_embeddings)
    if index.ntotal != len(queries) or index.d != queries.shape[1]:
        raise ValueError(
            f"the index holds {index.ntotal} vectors of {index.d} dimensions, the embedding table "
            f"{len(queries)} rows searching with {queries.shape[1]}: they are not one publication's"
        )
    table = item_embeddings.sort_values("item")
    ids = pd.Index(table["item_id"].astype(str).to_numpy(), dtype=object)
    if ids.has_duplicates:
        raise ValueError(f"the embedding table lists item {ids[ids.duplicated()][0]!r} more than once")
    described = details.drop_duplicates("item_id").set_index("item_id").reindex(ids)
    titles = described["title"].astype(object).where(described["title"].notna(), None).to_numpy()
    return ServedSet(
        publication=publication,
        item_ids=ids,
        titles=titles,
        lowercase_titles=pd.Series(titles, dtype=object).fillna("").str.lower(),
        categories=described["categories"].fillna("").astype(str).to_numpy(dtype=object),
        queries=queries,
        index=index,
    )
