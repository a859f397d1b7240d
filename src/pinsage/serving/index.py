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
