"""Item-to-item recall over one published set: the embeddings, the index built from them, and each item's
title and categories, all of one publication.

A `ServedSet` is immutable once built, and every answer is computed from one set alone, so a service that
swaps sets (see `pinsage.serving.reloading`) never mixes two publications in one answer.
"""

from __future__ import annotations

import re
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
        # Each id cut to 80 characters: a 10 MB id would otherwise come back whole in the 404.
        shown = ", ".join(repr(i if len(i) <= 80 else i[:80] + "…") for i in self.ids[:10])
        shown += " …" if len(self.ids) > 10 else ""
        return f"unknown item id(s): {shown}"


def title_words(text: str) -> list[str]:
    """The words a title is found by: its runs of letters and digits, lower-cased."""
    return re.findall(r"\w+", text.lower())


@dataclass(frozen=True)
class TitleIndex:
    """Each distinct title word, sorted, with the rows whose title holds it: built once per published set,
    so a query word costs a binary search and its matches, not a scan of every title."""

    words: np.ndarray  # sorted distinct words (str)
    bounds: np.ndarray  # word w's rows are rows[bounds[w]:bounds[w + 1]]
    rows: np.ndarray  # item rows, ascending within each word

    @classmethod
    def of(cls, lowercase_titles: pd.Series) -> TitleIndex:
        words = lowercase_titles.str.findall(r"\w+").explode().dropna()
        pairs = pd.DataFrame({"word": words.to_numpy(dtype=object), "row": words.index.to_numpy()}).drop_duplicates()
        pairs = pairs.sort_values(["word", "row"], kind="stable")
        distinct, first = np.unique(pairs["word"].to_numpy(dtype=str), return_index=True)
        return cls(distinct, np.r_[first, len(pairs)].astype(np.int64), pairs["row"].to_numpy(dtype=np.int64))

    def starting_with(self, prefix: str) -> np.ndarray:
        """Rows whose title has a word starting with `prefix`, ascending."""
        lo = np.searchsorted(self.words, prefix, side="left")
        hi = np.searchsorted(self.words, prefix + "\U0010ffff", side="left")
        return np.unique(self.rows[self.bounds[lo] : self.bounds[hi]])


@dataclass(frozen=True)
class ServedSet:
    """One publication, ready to answer: row i of `queries` and of the index is item `item_ids[i]`."""

    publication: dict  # the pointer's record: version, metric, value, dataset, artifacts, published_at
    item_ids: pd.Index  # str, unique, in index row order
    titles: np.ndarray  # object: str or None
    lowercase_titles: pd.Series  # str, "" where there is no title: lowered once, to rank title starts first
    title_index: TitleIndex  # what title search finds items by
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
        """Items whose title has, for every word of `query`, a word starting with it (case-insensitive;
        words are runs of letters and digits), titles starting with the query first, then in catalogue order."""
        words = title_words(query)
        if not words:
            return []
        rows = self.title_index.starting_with(words[0])
        for word in words[1:]:
            rows = np.intersect1d(rows, self.title_index.starting_with(word), assume_unique=True)
        titles = self.lowercase_titles
        starts = titles.iloc[rows].str.startswith(query.lower().strip()).to_numpy()
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
    lowercase_titles = pd.Series(titles, dtype=object).fillna("").astype(str).str.lower()
    return ServedSet(
        publication=publication,
        item_ids=ids,
        titles=titles,
        lowercase_titles=lowercase_titles,
        title_index=TitleIndex.of(lowercase_titles),
        categories=described["categories"].fillna("").astype(str).to_numpy(dtype=object),
        queries=queries,
        index=index,
    )
