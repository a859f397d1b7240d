"""A faiss index for item-to-item recall over the exported embeddings."""

from __future__ import annotations

import faiss
import numpy as np
import pandas as pd

from pinsage.serving.embeddings import embedding_matrix


def build_inner_product_index(embeddings: np.ndarray) -> faiss.Index:
    """Exact inner-product search; on unit-length vectors that is cosine similarity.

    Row i of the index is item i, so search results are item indices directly.
    """
    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    if len(vectors) and not np.allclose(norms[norms > 0], 1.0, atol=1e-3):
        raise ValueError("embeddings must be L2-normalised for an inner-product index to rank by cosine")
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def build_embedding_index(item_embeddings: pd.DataFrame) -> faiss.Index:
    """The index over an embedding table (see `pinsage.serving.embeddings`)."""
    return build_inner_product_index(embedding_matrix(item_embeddings))


def index_recall(index: faiss.Index, embeddings: np.ndarray, k: int, queries: int, seed: int = 0) -> dict:
    """Recall@k of the index against exact search over `embeddings`, for a seeded sample of items as
    queries: what serving from the index loses (1.0 for an exact index built from these embeddings)."""
    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    rows = np.random.default_rng(seed).choice(len(vectors), min(queries, len(vectors)), replace=False)
    k = min(k, len(vectors))
    exact = exact_top_k(vectors[rows], vectors, k)
    _, found = index.search(vectors[rows], k)
    overlap = [len(set(a) & set(b)) / k for a, b in zip(exact, found, strict=True)]
    return {
        f"recall@{k}": float(np.mean(overlap)) if len(rows) else 0.0,
        "queries": int(len(rows)),
        "items": int(len(vectors)),
        "index": type(index).__name__,
    }


def exact_top_k(queries: np.ndarray, vectors: np.ndarray, k: int, chunk_size: int = 262_144) -> np.ndarray:
    """The k rows of `vectors` with the largest inner product with each query, best first; scored one
    chunk of rows at a time, so memory is queries × chunk whatever the catalogue size."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), chunk_size):
        scores = queries @ vectors[start : start + chunk_size].T
        candidates = np.concatenate([best_scores, scores], axis=1)
        rows = np.concatenate(
            [best_rows, np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)], axis=1
        )
        keep = np.argsort(-candidates, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(candidates, keep, axis=1)
        best_rows = np.take_along_axis(rows, keep, axis=1)
    return best_rows
