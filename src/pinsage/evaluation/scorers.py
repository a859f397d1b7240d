"""What each method ranks by: PinSage's embeddings and the baselines, all behind one `Scorer` signature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from pinsage.evaluation.metrics import Scorer


def embedding_scorer(embeddings: np.ndarray | torch.Tensor) -> Scorer:
    table = torch.tensor(np.asarray(embeddings, dtype=np.float32))
    return lambda q: (table[torch.tensor(q)] @ table.T).numpy()


def popularity_scorer(train: pd.DataFrame, n_items: int) -> Scorer:
    counts = np.bincount(train["item"].to_numpy(), minlength=n_items).astype(np.float64)
    return lambda q: np.broadcast_to(counts, (len(q), n_items))


def interaction_matrix(train: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """The binary users × items matrix of `train`: a repeated (user, item) pair counts once."""
    x = sp.csr_matrix(
        (np.ones(len(train), dtype=np.float64), (train["user"].to_numpy(), train["item"].to_numpy())),
        shape=(n_users, n_items),
    )
    x.data[:] = 1.0
    return x


def itemknn_scorer(train: pd.DataFrame, n_users: int, n_items: int) -> Scorer:
    """Cosine similarity of items' user sets, computed only for the query rows (sparse, any size)."""
    x = interaction_matrix(train, n_users, n_items)
    norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
    inverse_norm = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    # Both factors row-compressed once here: a CSR @ CSC product converts its right factor to CSR on
    # every call, a pass over all interactions per batch of queries (most of the evaluation at 1M items).
    item_users, user_items = x.T.tocsr(), x.tocsr()

    def score(q: np.ndarray) -> np.ndarray:
        co = (item_users[q] @ user_items).toarray()
        return co * inverse_norm[q][:, None] * inverse_norm[None, :]

    return score


def ease_scorer(train: pd.DataFrame, n_users: int, n_items: int, l2: float) -> Scorer:
    """EASE (Steck, WWW 2019), item to item: the query's row of B = I − P / diag(P), P = (XᵀX + λI)⁻¹,
    the diagonal zeroed. Dense n_items × n_items: the caller bounds the catalogue size."""
    x = interaction_matrix(train, n_users, n_items)
    gram = (x.T @ x).toarray()
    gram[np.diag_indices(n_items)] += l2
    p = np.linalg.inv(gram)
    b = (p / -np.diag(p)).astype(np.float32)  # column j divided by P_jj
    b[np.diag_indices(n_items)] = 0.0
    return lambda q: b[q]


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
    xt = x.T.tocsr()  # row-compressed once, not converted on every call (see itemknn_scorer)
    return lambda q: (x[q] @ xt).toarray()
