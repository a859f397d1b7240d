"""Recall evaluation under the latest-item protocol, and the baselines measured the same way.

Protocol: for each user with a held-out item, the query is the user's latest item before it (for
validation the latest training item, for test the validation item where there is one); the candidates
are all items minus everything the user interacted with before the target; the held-out item's rank
among them gives HITS@K, NDCG@K and MRR. Equal scores are broken by item index, so every method is
ranked deterministically and no method gains from ties.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field, field_validator


class Scorer(ABC):
    """What one method ranks by: its scores of query items against all `n_items` items, and the ranks
    of targets among a user's candidates.

    `rows` is the definition; `batch_ranks` ranks from it, holding a dense [batch, n_items] score matrix.
    A method that can count the items ahead of a target without that matrix (sorted, sparse or in chunks
    of items) overrides `batch_ranks` and `batch_size`: at millions of items the dense rows are most of
    the evaluation's time.
    """

    def __init__(self, n_items: int):
        self.n_items = n_items

    @abstractmethod
    def rows(self, queries: np.ndarray) -> np.ndarray:
        """Scores of query items [B] against every item: [B, n_items]."""

    @property
    def batch_size(self) -> int:
        """Queries per `batch_ranks` call: the dense score matrix stays near 256 MB whatever the catalogue."""
        return int(min(1024, max(1, 2**25 // max(self.n_items, 1))))

    def batch_ranks(
        self, queries: np.ndarray, targets: np.ndarray, seen_rows: np.ndarray, seen_items: np.ndarray
    ) -> np.ndarray:
        """1-based rank of each target among all items but the seen ones (`seen_items[i]` was seen by the
        user of query `seen_rows[i]`). An item is ahead of the target when it scores higher, or the same
        with a smaller index, so every method is ranked deterministically and none gains from ties."""
        # In the scorer's own precision: comparisons within one array rank the same in float32 or float64.
        scores = np.array(self.rows(queries), copy=True)
        require_finite(scores)
        scores[seen_rows, seen_items] = -np.inf
        target_score = scores[np.arange(len(targets)), targets][:, None]
        item_ids = np.arange(self.n_items)
        ahead = (scores > target_score) | ((scores == target_score) & (item_ids < targets[:, None]))
        return ahead.sum(axis=1) + 1


class DenseRows(Scorer):
    """A scorer given by a function from query items [B] to dense scores [B, n_items]."""

    def __init__(self, rows: Callable[[np.ndarray], np.ndarray], n_items: int):
        super().__init__(n_items)
        self._rows = rows

    def rows(self, queries: np.ndarray) -> np.ndarray:
        return self._rows(queries)


def require_finite(scores: np.ndarray) -> None:
    """NaN compares false with everything, so it would rank every target first: a broken model would
    score HITS@k = 1.0 and be published."""
    if not np.isfinite(scores).all():
        raise ValueError("scores are not finite (NaN or inf): the model or its embeddings are broken")


class EvaluationConfig(BaseModel):
    """The `evaluation` parameters."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    k: int = Field(10, ge=1, description="cut-off of HITS@k and NDCG@k, in validation, the report and the gate")
    index_queries: int = Field(
        200, ge=1, description="items whose nearest neighbours from the faiss index are compared with exact search"
    )
    max_users: int | None = Field(
        10_000,
        ge=1,
        description="users per split in the report and the gate: a fixed, seeded sample where more have a "
        "held-out item, so evaluation stays affordable with millions of users (null: all)",
    )
    validation_users: int | None = Field(
        2_000, ge=1, description="users in each epoch's validation: a fixed, seeded sample (null: all)"
    )
    seed: int = Field(0, description="seed of the user samples and of the bootstrap")
    bootstrap_samples: int = Field(
        1000, ge=100, description="resamples of the users behind every confidence interval and paired difference"
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="coverage of the intervals")
    degree_buckets: list[int] = Field(
        [5, 20, 100],
        min_length=1,
        description="edges of the report's split by how many training interactions the target item has",
    )
    ease_max_items: int = Field(
        10_000,
        ge=0,
        description="EASE (a dense items x items inverse) is a baseline up to this many items, skipped above it",
    )
    ease_lambdas: list[float] = Field(
        [300.0, 1000.0, 3000.0, 10000.0, 30000.0, 100000.0],
        min_length=1,
        description="EASE's L2 strengths; the one with the best validation figure is used for test",
    )
    next_items_windows: list[int] = Field(
        [1, 2, 3, 5, 10, 20, 50],
        min_length=1,
        description="the next-items co-occurrence baseline's windows W; the one best on validation is used",
    )
    prior_weights: list[float] = Field(
        [0.001, 0.003, 0.01, 0.03, 0.1, 0.3],
        description="β of the popularity prior a baseline may add (score / the query's best score + β·ln(1 + "
        "interactions)), chosen with the baseline's own setting on validation; none (raw) is always a choice",
    )
    baseline_prior_max_items: int = Field(
        100_000,
        ge=0,
        description="baselines with a prior rank dense rows of every item: above this many items they are "
        "ranked without one (and the report says so)",
    )
    new_item_snapshots: int = Field(
        8,
        ge=1,
        description="new items are re-embedded this many times, each from the interactions before the "
        "earliest target it answers for (more: fresher interactions, more embedding passes)",
    )

    @field_validator("next_items_windows")
    @classmethod
    def _windows_fit(cls, windows: list[int]) -> list[int]:
        if any(not 1 <= w <= 255 for w in windows):
            raise ValueError(f"evaluation.next_items_windows must lie in [1, 255], got {windows}")
        return windows

    @field_validator("prior_weights")
    @classmethod
    def _finite_weights(cls, values: list[float]) -> list[float]:
        if any(not (np.isfinite(v) and v >= 0) for v in values):
            raise ValueError(f"evaluation.prior_weights must be finite and not negative, got {values}")
        return values

    @field_validator("ease_lambdas")
    @classmethod
    def _positive_lambdas(cls, values: list[float]) -> list[float]:
        if any(not (np.isfinite(v) and v > 0) for v in values):
            raise ValueError(f"evaluation.ease_lambdas must be finite and positive, got {values}")
        return values

    @field_validator("degree_buckets")
    @classmethod
    def _increasing(cls, edges: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or edges[0] < 1:
            raise ValueError(f"evaluation.degree_buckets must be positive and increasing, got {edges}")
        return edges

    @property
    def metrics(self) -> tuple[str, ...]:
        """The names of the figures every evaluation reports, and the gate may compare."""
        return (f"hits@{self.k}", f"ndcg@{self.k}", "mrr")


class EvaluationQueries:
    """Per-user queries, targets and the items to exclude, built once per split.

    `history` is everything each user did before their held-out item (training interactions for
    validation; training and validation ones for test): its latest item is the query and all of it is
    excluded from the candidates. `seen` holds the evaluated users' histories only. A user with several
    held-out interactions (a global time cut) is asked for the earliest: the item right after the query.
    """

    def __init__(
        self,
        history: pd.DataFrame,
        held_out: pd.DataFrame,
        n_users: int,
        n_items: int,
        max_users: int | None = None,
        seed: int = 0,
    ):
        has_history = np.bincount(history["user"].to_numpy(), minlength=n_users) > 0
        held_out = held_out[has_history[held_out["user"].to_numpy()]]
        if held_out["user"].duplicated().any():
            held_out = held_out.sort_values(["user", "timestamp"], kind="stable").drop_duplicates("user")
        # Every user with a held-out item is eligible; beyond `max_users`, a seeded sample of them is
        # evaluated (the same users whatever the model, so methods and epochs stay comparable).
        self.eligible = len(held_out)
        if max_users is not None and len(held_out) > max_users:
            keep = np.sort(np.random.default_rng(seed).choice(len(held_out), max_users, replace=False))
            held_out = held_out.iloc[keep]
        self.users = held_out["user"].to_numpy(dtype=np.int64)
        self.targets = held_out["item"].to_numpy(dtype=np.int64)
        self.times = held_out["timestamp"].to_numpy()
        # Only the evaluated users' histories are read from here on: with millions of users, sorting and
        # indexing every interaction for a sample of thousands cost minutes and gigabytes.
        evaluated = np.zeros(len(has_history), dtype=bool)
        evaluated[self.users] = True
        history = history[evaluated[history["user"].to_numpy()]]
        latest = history.sort_values(["user", "timestamp"], kind="stable").groupby("user")[["item", "timestamp"]].last()
        self.queries = latest["item"].loc[self.users].to_numpy(dtype=np.int64)
        self.query_times = latest["timestamp"].loc[self.users].to_numpy()
        self.n_items = n_items
        self.seen = sp.csr_matrix(
            (np.ones(len(history), dtype=bool), (history["user"].to_numpy(), history["item"].to_numpy())),
            shape=(n_users, n_items),
        )

    def subset(self, positions: np.ndarray) -> EvaluationQueries:
        """The same queries restricted to `positions` (e.g. the targets of one time snapshot)."""
        part = copy.copy(self)
        part.users, part.targets = self.users[positions], self.targets[positions]
        part.times, part.queries = self.times[positions], self.queries[positions]
        part.query_times = self.query_times[positions]
        return part

    @property
    def tied(self) -> int:
        """Targets at the same time as their query: which of the two is "after" is the source's row order."""
        return int((self.times == self.query_times).sum())

    def __len__(self) -> int:
        return len(self.users)


def ranks(scorer: Scorer, queries: EvaluationQueries) -> np.ndarray:
    """1-based rank of each target among its user's candidates (all items but the user's earlier ones),
    in batches of the scorer's size."""
    out = np.empty(len(queries), dtype=np.int64)
    for batch in query_batches(queries, scorer):
        out[batch.rows] = scorer.batch_ranks(batch.queries, batch.targets, batch.seen_rows, batch.seen_items)
    return out


@dataclass(frozen=True)
class QueryBatch:
    """One batch of `queries` as `Scorer.batch_ranks` takes it: positions `rows` of the queries, their
    query items and targets, and the (row in the batch, item) pairs the users had seen."""

    rows: slice
    queries: np.ndarray
    targets: np.ndarray
    seen_rows: np.ndarray
    seen_items: np.ndarray


def query_batches(queries: EvaluationQueries, scorer: Scorer) -> Iterator[QueryBatch]:
    """`queries` in batches of `scorer`'s size, for ranking with it (or with scorers sharing its rows)."""
    if scorer.n_items != queries.n_items:
        raise ValueError(f"the scorer ranks {scorer.n_items} items but the queries' candidates are {queries.n_items}")
    for start in range(0, len(queries), scorer.batch_size):
        rows = slice(start, start + scorer.batch_size)
        seen = queries.seen[queries.users[rows]].tocoo()
        yield QueryBatch(rows, queries.queries[rows], queries.targets[rows], seen.row, seen.col)


def per_user_figures(rank: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Each user's HITS@k, NDCG@k and reciprocal rank: the figures are their means over users."""
    hit = rank <= k
    return {
        f"hits@{k}": hit.astype(np.float64),
        f"ndcg@{k}": np.where(hit, 1.0 / np.log2(rank + 1), 0.0),
        "mrr": 1.0 / rank,
    }


def metrics_from_ranks(rank: np.ndarray, k: int) -> dict[str, float]:
    means = {name: float(v.mean()) if len(rank) else 0.0 for name, v in per_user_figures(rank, k).items()}
    return {**means, "users": int(len(rank))}


def evaluate(scorer: Scorer, queries: EvaluationQueries, k: int) -> dict[str, float]:
    """The figures, with how many users they are over (`users`) out of how many were eligible."""
    return {**metrics_from_ranks(ranks(scorer, queries), k), "eligible_users": queries.eligible}
