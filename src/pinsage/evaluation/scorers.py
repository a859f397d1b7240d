"""What each method ranks by: PinSage's embeddings and the baselines, all behind one `Scorer` signature."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from pinsage.evaluation.metrics import DenseRows, Scorer, require_finite
from pinsage.graph.engagement import EngagementSequence


class EmbeddingScorer(Scorer):
    """The served score: inner products of items' embeddings, plus the candidate's `prior` where given
    (`pinsage.model.scoring`; the index holds it as one more coordinate, against the query's 1). The prior
    is added to each block of scores rather than joined to the table: at 10M items a joined copy would be
    2.6 GB more in validation, which runs beside training.

    Ranked in blocks of items for a batch of queries, each block's scores counted while they are in the
    cache: the table is read once per batch instead of once per few queries, and no [batch, n_items]
    matrix is held."""

    batch_size = 256
    items_per_block = 2048

    def __init__(self, embeddings: np.ndarray | torch.Tensor, prior: np.ndarray | None = None):
        self.table = np.ascontiguousarray(np.asarray(embeddings, dtype=np.float32))
        super().__init__(len(self.table))
        self.prior = np.zeros(self.n_items, np.float32) if prior is None else np.asarray(prior, dtype=np.float32)
        if self.prior.shape != (self.n_items,):
            raise ValueError(f"a prior of shape {self.prior.shape} for {self.n_items} items")
        require_finite(self.table)
        require_finite(self.prior)
        # |x·y| ≤ |x||y| bounds every score and every partial sum of one: below float32's largest value,
        # no score can overflow, so the blocks need no check of their own.
        largest_norm = float(np.sqrt((self.table.astype(np.float64) ** 2).sum(axis=1).max(initial=0.0)))
        if largest_norm**2 + float(np.abs(self.prior).max(initial=0.0)) >= np.finfo(np.float32).max:
            raise ValueError(f"embeddings with norm {largest_norm:.3g}: their inner products overflow float32")

    def rows(self, queries: np.ndarray) -> np.ndarray:
        return self.table[queries] @ self.table.T + self.prior

    def batch_ranks(
        self, queries: np.ndarray, targets: np.ndarray, seen_rows: np.ndarray, seen_items: np.ndarray
    ) -> np.ndarray:
        query = self.table[queries]
        target_score = (query @ self.table[targets].T).diagonal() + self.prior[targets]
        # An item before the target in index order is ahead when it scores at least as much, that is more
        # than the next float below the target's score: one comparison per score for both kinds of item.
        below_target_score = np.nextafter(target_score, -np.inf)
        by_item = np.argsort(seen_items, kind="stable")
        seen_rows, seen_items = seen_rows[by_item], seen_items[by_item]
        ahead = np.zeros(len(queries), dtype=np.int64)
        for start in range(0, self.n_items, self.items_per_block):
            stop = min(start + self.items_per_block, self.n_items)
            scores = query @ self.table[start:stop].T + self.prior[start:stop]
            lo, hi = np.searchsorted(seen_items, [start, stop])
            scores[seen_rows[lo:hi], seen_items[lo:hi] - start] = -np.inf  # seen items are not candidates
            inside = np.flatnonzero((targets >= start) & (targets < stop))
            # The target is not ahead of itself (its score here comes from a product of another shape than
            # `target_score`, so it may differ in the last bit).
            scores[inside, targets[inside] - start] = -np.inf
            threshold = np.where(targets >= stop, below_target_score, target_score)
            ahead += np.count_nonzero(scores > threshold[:, None], axis=1)
            for i in inside:  # ties count as ahead only before the target
                ahead[i] += np.count_nonzero(scores[i, : targets[i] - start] == target_score[i])
        return ahead + 1


class PopularityScorer(Scorer):
    """Training interactions per item, the same for every query."""

    batch_size = 4096

    def __init__(self, train: pd.DataFrame, n_items: int):
        super().__init__(n_items)
        self.counts = np.bincount(train["item"].to_numpy(), minlength=n_items).astype(np.int64)
        if self.counts.max(initial=0) >= np.iinfo(np.int64).max // max(n_items, 1):
            raise ValueError("popularity: interaction counts too large to rank by one integer key")
        # An item is ahead of another when it has more interactions, or as many and a smaller index: one
        # integer key orders both, so a target's rank among all items is one binary search.
        self.key = self.counts * n_items - np.arange(n_items)
        self.sorted_key = np.sort(self.key)

    def rows(self, queries: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts.astype(np.float64), (len(queries), self.n_items))

    def batch_ranks(
        self, queries: np.ndarray, targets: np.ndarray, seen_rows: np.ndarray, seen_items: np.ndarray
    ) -> np.ndarray:
        target_key = self.key[targets]
        ahead = self.n_items - np.searchsorted(self.sorted_key, target_key, side="right")
        seen_ahead = self.key[seen_items] > target_key[seen_rows]
        return ahead - np.bincount(seen_rows[seen_ahead], minlength=len(targets)) + 1


def interaction_matrix(train: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """The binary users × items matrix of `train`: a repeated (user, item) pair counts once."""
    x = sp.csr_matrix(
        (np.ones(len(train), dtype=np.float64), (train["user"].to_numpy(), train["item"].to_numpy())),
        shape=(n_users, n_items),
    )
    x.data[:] = 1.0
    return x


class SparseRowsScorer(Scorer):
    """A method whose rows are sparse: only a few items score above zero for a query (those sharing a user
    with it, or engaged next to it). A row is ranked from its listed entries; the items scoring zero are
    counted, not listed, so a catalogue of any size costs only the listed entries."""

    batch_size = 256

    @abstractmethod
    def sparse_rows(self, queries: np.ndarray) -> sp.csr_matrix:
        """Scores of query items [B] against every item, zero where unlisted, indices sorted per row."""

    def rows(self, queries: np.ndarray) -> np.ndarray:
        return self.sparse_rows(queries).toarray()

    def batch_ranks(
        self, queries: np.ndarray, targets: np.ndarray, seen_rows: np.ndarray, seen_items: np.ndarray
    ) -> np.ndarray:
        scores = self.sparse_rows(queries)
        n, batch = self.n_items, len(queries)
        row = np.repeat(np.arange(batch), np.diff(scores.indptr))
        item = scores.indices.astype(np.int64)
        score = scores.data
        key = row * n + item  # sorted: rows in order, items sorted within each
        seen_key = seen_rows.astype(np.int64) * n + seen_items
        target_key = np.arange(batch) * n + targets
        target_score = np.zeros(batch)
        if len(key):
            at = np.minimum(np.searchsorted(key, target_key), len(key) - 1)
            target_score = np.where(key[at] == target_key, score[at], 0.0)
        candidate = ~np.isin(key, seen_key)
        ahead_listed = candidate & (
            (score > target_score[row]) | ((score == target_score[row]) & (item < targets[row]))
        )
        ahead = np.bincount(row[ahead_listed], minlength=batch)
        # A target scoring zero has behind it every listed item (all score above zero) and ahead of it
        # every unlisted, unseen item with a smaller index.
        listed_below = np.bincount(row[item < targets[row]], minlength=batch)
        seen_unlisted = ~np.isin(seen_key, key) & (seen_items < targets[seen_rows])
        seen_below = np.bincount(seen_rows[seen_unlisted], minlength=batch)
        ahead += np.where(target_score == 0, targets - listed_below - seen_below, 0)
        return ahead + 1


class ItemKnnScorer(SparseRowsScorer):
    """Cosine similarity of items' user sets, computed only for the query rows (sparse, any size)."""

    def __init__(self, train: pd.DataFrame, n_users: int, n_items: int):
        super().__init__(n_items)
        x = interaction_matrix(train, n_users, n_items)
        norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
        self.inverse_norm = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        # Both factors row-compressed once here: a CSR @ CSC product converts its right factor to CSR on
        # every call, a pass over all interactions per batch of queries.
        self.item_users, self.user_items = x.T.tocsr(), x.tocsr()

    def sparse_rows(self, queries: np.ndarray) -> sp.csr_matrix:
        co = self.item_users[queries] @ self.user_items
        co.sort_indices()
        row = np.repeat(np.arange(len(queries)), np.diff(co.indptr))
        co.data = co.data * self.inverse_norm[queries][row] * self.inverse_norm[co.indices]
        return co


class NextItemsScorer(SparseRowsScorer):
    """Next-items co-occurrence: how often the candidate lies at most `window` interactions before or after
    the query in one user's time-ordered training interactions. No learning: the count PinSage's positives
    (`pairs.positives: next_engaged`) are drawn from, so a learnt model should beat it.

    A query's row is counted when asked, from the query's occurrences in `sequence` (built with a window at
    least this one's, and shared by the scorers of every window): a whole items × items count matrix has
    2·W entries per interaction, 3.6 billion at 90M interactions and W = 20."""

    # Occurrences expanded at once: bounds the memory of one batch of popular queries.
    positions_per_chunk = 1 << 20

    def __init__(self, sequence: EngagementSequence, n_items: int, window: int):
        if window > sequence.window:
            raise ValueError(f"a next-items window of {window} from a sequence built for {sequence.window}")
        super().__init__(n_items)
        self.sequence, self.window = sequence, window

    def sparse_rows(self, queries: np.ndarray) -> sp.csr_matrix:
        positions, starts = self.sequence.occurrences(queries)
        items = self.sequence.items.numpy()
        ahead = np.minimum(self.sequence.ahead.numpy(), self.window)
        behind = np.minimum(self.sequence.behind.numpy(), self.window)
        row_of = np.repeat(np.arange(len(queries)), np.diff(starts))
        counts = sp.csr_matrix((len(queries), self.n_items), dtype=np.float64)
        for s in range(0, len(positions), self.positions_per_chunk):
            at, row = positions[s : s + self.positions_per_chunk], row_of[s : s + self.positions_per_chunk]
            rows, columns = [], []
            for offset in range(1, self.window + 1):
                for valid, step in ((ahead[at] >= offset, offset), (behind[at] >= offset, -offset)):
                    rows.append(row[valid])
                    columns.append(items[at[valid] + step])
            r, c = np.concatenate(rows), np.concatenate(columns)
            keep = c != queries[r]  # a repeat of the query itself is no pair
            counts = counts + sp.csr_matrix(
                (np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(len(queries), self.n_items)
            )
        counts.sort_indices()
        return counts


class PriorScorer(Scorer):
    """A baseline given what PinSage's served score has: its scores, each row divided by its largest
    absolute value (the ranking of the base is unchanged), plus β·ln(1 + the candidate's interactions).
    Ranked from dense rows: the prior gives every item a score, sparse or not."""

    def __init__(self, base: Scorer, prior: np.ndarray):
        super().__init__(base.n_items)
        self.base = base
        self.prior = np.asarray(prior, dtype=np.float64)

    @property
    def batch_size(self) -> int:
        """A quarter of a dense scorer's: a batch holds the base's rows, their normalised float64 copy, the
        sum with each prior and its ranking copy at once (at 1M pins the new-item evaluation's peak fell from
        4.91 to 4.70 GiB with it)."""
        return int(min(1024, max(1, 2**23 // max(self.n_items, 1))))

    def rows(self, queries: np.ndarray) -> np.ndarray:
        return self.normalised(self.base.rows(queries)) + self.prior

    @staticmethod
    def normalised(scores: np.ndarray) -> np.ndarray:
        """The base's rows, each divided by its largest absolute value: what the prior is added to."""
        scores = np.asarray(scores, dtype=np.float64)
        scale = np.abs(scores).max(axis=1, keepdims=True)
        return scores / np.where(scale > 0, scale, 1.0)


def ease_scorer(train: pd.DataFrame, n_users: int, n_items: int, l2: float) -> Scorer:
    """EASE (Steck, WWW 2019), item to item: the query's row of B = I − P / diag(P), P = (XᵀX + λI)⁻¹,
    the diagonal zeroed. Dense n_items × n_items: the caller bounds the catalogue size."""
    x = interaction_matrix(train, n_users, n_items)
    gram = (x.T @ x).toarray()
    gram[np.diag_indices(n_items)] += l2
    p = np.linalg.inv(gram)
    b = (p / -np.diag(p)).astype(np.float32)  # column j divided by P_jj
    b[np.diag_indices(n_items)] = 0.0
    return DenseRows(lambda q: b[q], n_items)


def feature_scorer(features: dict[str, torch.Tensor]) -> Scorer:
    """Content-only baseline: cosine of items' own feature vectors, with no learning and no graph.

    Each block (category labels, title/text words, year, standardised dense vector) is unit-normalised
    on its own, so every kind of feature counts alike whatever its width.
    """
    n = int(features["year"].shape[0])
    rows = np.arange(n)
    blocks = []
    for name in ("categories", "words"):
        ids = features[name].numpy()
        r, c = np.nonzero(ids)
        blocks.append(sp.csr_matrix((np.ones(len(r)), (r, ids[r, c])), shape=(n, int(ids.max(initial=0)) + 1)))
    year = features["year"].numpy()
    blocks.append(sp.csr_matrix((np.ones(n), (rows, year)), shape=(n, int(year.max(initial=0)) + 1))[:, 1:])
    if "dense" in features:
        blocks.append(sp.csr_matrix(features["dense"].numpy().astype(np.float64)))
    normalised = []
    for block in blocks:
        norms = np.sqrt(np.asarray(block.multiply(block).sum(axis=1)).ravel())
        normalised.append(sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ block)
    x = sp.hstack(normalised).tocsr()
    # Sparse items × dense queries: the scores are mostly non-zero (a shared common word, category or
    # dense vector is enough), so a sparse × sparse product spends its time building a sparse result.
    return DenseRows(lambda q: (x @ x[q].T.toarray()).T, n)
