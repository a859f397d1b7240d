"""Searches of concurrent requests run together answer exactly as each request's own search would."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pinsage.serving.batching import BatchingSearcher
from pinsage.serving.index import IndexConfig, build_inner_product_index


def unit_rows(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, 16)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["exact", "ivf"])
def test_batched_answers_equal_direct_ones_across_indexes_and_k(kind):
    indexes = [
        build_inner_product_index(unit_rows(2000, seed), IndexConfig(kind=kind, ivf_lists=20)) for seed in (0, 1)
    ]
    queries = unit_rows(300, 2)
    searcher = BatchingSearcher(max_queries=64)

    def ask(i: int):
        index, k = indexes[i % 2], 1 + i % 12
        return i, searcher.search(index, queries[i : i + 1 + i % 3], k)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, range(300)))
    for i, (scores, found) in answers:
        expected_scores, expected = indexes[i % 2].search(queries[i : i + 1 + i % 3], 1 + i % 12)
        assert np.array_equal(found, expected), i
        assert np.allclose(scores, expected_scores, atol=1e-5)


def test_a_failed_search_fails_only_its_own_callers():
    index = build_inner_product_index(unit_rows(100, 0))
    searcher = BatchingSearcher()
    with pytest.raises(AssertionError):
        searcher.search(index, np.zeros((1, 5), dtype=np.float32), 3)  # faiss: wrong dimension
    scores, found = searcher.search(index, unit_rows(2, 1), 3)
    assert found.shape == (2, 3)
