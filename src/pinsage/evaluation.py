"""Recall evaluation under the latest-item protocol, and the baselines measured the same way.

Protocol: for each user with a held-out item, the query is the user's latest training item; the
candidates are all items minus the user's training items; the held-out item's rank among them gives
HITS@K, NDCG@K and MRR. Equal scores are broken by item index, so every method is ranked
deterministically and no method gains from ties.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

# A scorer maps query item ids [B] to scores over all items [B, n_items].
Scorer = Callable[[np.ndarray], np.ndarray]


class EvaluationQueries:
    """Per-user queries, targets and the training items to exclude, built once per split."""

    def __init__(self, train: pd.DataFrame, held_out: pd.DataFrame, n_users: int, n_items: int):
        latest = train.sort_values(["user", "timestamp"], kind="stable").groupby("user")["item"].last()
        held_out = held_out[held_out["user"].isin(latest.index)]
        self.users = held_out["user"].to_numpy(dtype=np.int64)
        self.targets = held_out["item"].to_numpy(dtype=np.int64)
        self.queries = latest.loc[self.users].to_numpy(dtype=np.int64)
        self.n_items = n_items
        self.seen = sp.csr_matrix(
            (np.ones(len(train), dtype=bool), (train["user"].to_numpy(), train["item"].to_numpy())),
            shape=(n_users, n_items),
        )

    def __len__(self) -> int:
        return len(self.users)


def ranks(scorer: Scorer, queries: EvaluationQueries, batch_size: int | None = None) -> np.ndarray:
    """1-based rank of each target among its user's candidates.

    Queries are scored in batches whose score matrix stays near 256 MB, whatever the catalogue size."""
    if batch_size is None:
        batch_size = int(min(1024, max(1, 2**25 // max(queries.n_items, 1))))
    out = np.empty(len(queries), dtype=np.int64)
    item_ids = np.arange(queries.n_items)
    for start in range(0, len(queries), batch_size):
        rows = slice(start, start + batch_size)
        scores = np.asarray(scorer(queries.queries[rows]), dtype=np.float64).copy()
        seen = queries.seen[queries.users[rows]].tocoo()
        scores[seen.row, seen.col] = -np.inf
        targets = queries.targets[rows]
        target_score = scores[np.arange(len(targets)), targets][:, None]
        ahead = (scores > target_score) | ((scores == target_score) & (item_ids < targets[:, None]))
        out[rows] = ahead.sum(axis=1) + 1
    return out


def metrics_from_ranks(rank: np.ndarray, k: int = 10) -> dict[str, float]:
    hit = rank <= k
    return {
        f"hits@{k}": float(hit.mean()) if len(rank) else 0.0,
        f"ndcg@{k}": float(np.where(hit, 1.0 / np.log2(rank + 1), 0.0).mean()) if len(rank) else 0.0,
        "mrr": float((1.0 / rank).mean()) if len(rank) else 0.0,
        "users": int(len(rank)),
    }


def evaluate(scorer: Scorer, queries: EvaluationQueries, k: int = 10) -> dict[str, float]:
    return metrics_from_ranks(ranks(scorer, queries), k)


def embedding_scorer(embeddings: np.ndarray | torch.Tensor) -> Scorer:
    table = torch.tensor(np.asarray(embeddings, dtype=np.float32))
    return lambda q: (table[torch.tensor(q)] @ table.T).numpy()


def popularity_scorer(train: pd.DataFrame, n_items: int) -> Scorer:
    counts = np.bincount(train["item"].to_numpy(), minlength=n_items).astype(np.float64)
    return lambda q: np.broadcast_to(counts, (len(q), n_items))


def itemknn_scorer(train: pd.DataFrame, n_users: int, n_items: int) -> Scorer:
    """Cosine similarity of items' user sets, computed only for the query rows (sparse, any size)."""
    x = sp.csc_matrix(
        (np.ones(len(train), dtype=np.float64), (train["user"].to_numpy(), train["item"].to_numpy())),
        shape=(n_users, n_items),
    )
    x.data[:] = 1.0  # a repeated (user, item) pair counts once
    norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
    inverse_norm = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    xt = x.T.tocsr()

    def score(q: np.ndarray) -> np.ndarray:
        co = (xt[q] @ x).toarray()
        return co * inverse_norm[q][:, None] * inverse_norm[None, :]

    return score


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
    xt = x.T.tocsc()
    return lambda q: (x[q] @ xt).toarray()
