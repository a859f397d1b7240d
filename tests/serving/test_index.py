import faiss
import numpy as np
import pytest

from pinsage.serving.index import IndexConfig, build_inner_product_index, index_recall


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
