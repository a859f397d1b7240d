import faiss
import numpy as np
import pandas as pd
import pytest

from pinsage.serving.embeddings import index_vectors, query_vectors
from pinsage.serving.index import (
    IndexConfig,
    build_embedding_index,
    build_inner_product_index,
    exact_top_k,
    index_recall,
)


def clustered(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    """Unit vectors around 20 centres: the shape item embeddings have, and what IVF is built for."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(20, dim))[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(
    ("kind", "index_type"), [("exact", "IndexFlatIP"), ("ivf", "IndexIVFFlat"), ("hnsw", "IndexHNSWFlat")]
)
def test_every_index_kind_finds_the_exact_neighbours_of_clustered_items(kind, index_type):
    x = clustered(3000)
    index = build_inner_product_index(x, IndexConfig(kind=kind, ivf_lists=30, ivf_probe=8))
    recall = index_recall(index, x, k=10, queries=200)
    assert recall["index"] == index_type
    assert recall["recall@10"] >= 0.9, recall


def test_auto_is_exact_below_the_threshold_and_ivf_from_it():
    x = clustered(500)
    assert isinstance(build_inner_product_index(x, IndexConfig(exact_below=501)), faiss.IndexFlatIP)
    assert isinstance(build_inner_product_index(x, IndexConfig(exact_below=500)), faiss.IndexIVFFlat)


def test_search_breadth_is_saved_with_the_index(tmp_path):
    x = clustered(2000)
    ivf = build_inner_product_index(x, IndexConfig(kind="ivf", ivf_lists=40, ivf_probe=7))
    hnsw = build_inner_product_index(x, IndexConfig(kind="hnsw", hnsw_ef_search=99))
    faiss.write_index(ivf, str(tmp_path / "ivf.faiss"))
    faiss.write_index(hnsw, str(tmp_path / "hnsw.faiss"))
    assert faiss.read_index(str(tmp_path / "ivf.faiss")).nprobe == 7
    assert faiss.downcast_index(faiss.read_index(str(tmp_path / "hnsw.faiss"))).hnsw.efSearch == 99


@pytest.mark.parametrize("kind", ["exact", "ivf", "hnsw"])
def test_an_index_of_a_table_with_priors_serves_cosine_plus_the_prior(kind):
    """The index holds [embedding, prior] and is asked with [embedding, 1]: its top 10 are those of
    cosine + prior, the score the evaluation ranks by, and index_recall measures it so."""
    x = clustered(3000)
    prior = (0.05 * np.random.default_rng(1).integers(0, 8, len(x))).astype(np.float32)
    table = pd.DataFrame({"item": np.arange(len(x))[::-1], "item_id": [str(i) for i in range(len(x))][::-1]})
    table["embedding"], table["prior"] = list(x[::-1]), prior[::-1]  # stored out of item order
    vectors = index_vectors(table)
    np.testing.assert_array_equal(vectors, np.hstack([x, prior[:, None]]))
    np.testing.assert_array_equal(query_vectors(table), np.hstack([x, np.ones((len(x), 1), np.float32)]))
    index = build_embedding_index(table, IndexConfig(kind=kind, ivf_lists=30, ivf_probe=8))
    assert index.d == x.shape[1] + 1
    recall = index_recall(index, vectors, k=10, queries=200, with_prior=True)
    assert recall["recall@10"] >= 0.9, recall
    exact = exact_top_k(x[:20], x, 10)
    with_prior = exact_top_k(query_vectors(table)[:20], vectors, 10)
    assert (exact != with_prior).any()  # the prior changes what is served
    np.testing.assert_array_equal(with_prior, np.argsort(-(x[:20] @ x.T + prior), axis=1, kind="stable")[:, :10])


def test_a_table_written_before_priors_is_indexed_and_asked_by_cosine_alone():
    x = clustered(200)
    table = pd.DataFrame({"item": np.arange(200), "item_id": [str(i) for i in range(200)], "embedding": list(x)})
    np.testing.assert_array_equal(index_vectors(table), x)
    np.testing.assert_array_equal(query_vectors(table), x)
    index = build_embedding_index(table, IndexConfig())
    assert index.d == x.shape[1]
    with pytest.raises(ValueError, match="index holds 16-dimensional vectors, the embedding table gives 17"):
        index_recall(index, np.hstack([x, np.zeros((200, 1), np.float32)]), k=10, queries=20, with_prior=True)
