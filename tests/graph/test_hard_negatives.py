import numpy as np
import pytest
import torch

from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
from pinsage.data.split import split_by_time
from pinsage.graph.build import build_graph
from pinsage.graph.config import NeighbourConfig, PairConfig
from pinsage.graph.hard_negatives import HardNegativeConfig, PersonalisedPageRank, curriculum_count
from pinsage.graph.sampling import WalkEpochSampler, fixed_neighbourhoods
from pinsage.training.config import TrainConfig
from pinsage.training.minibatch import MinibatchProducer


def dense_ppr(users, items, n_users, n_items, query, restart, iterations):
    a = np.zeros((n_items, n_users))
    a[items, users] = 1
    to_user = a / a.sum(1, keepdims=True)
    to_item = a.T / a.T.sum(1, keepdims=True)
    step = to_user @ to_item  # item → item, rows sum to 1
    start = np.zeros(n_items)
    start[query] = 1
    scores = start.copy()
    for _ in range(iterations):
        scores = restart * start + (1 - restart) * scores @ step
    return scores


def test_band_is_the_ppr_ranking_without_the_query():
    rng = np.random.default_rng(0)
    n_users, n_items = 30, 40
    users = rng.integers(0, n_users, 300)
    items = rng.integers(0, n_items, 300)
    pairs = np.unique(np.stack([users, items], 1), axis=0)
    users, items = pairs[:, 0], pairs[:, 1]
    config = HardNegativeConfig(band_start=0.1, band_end=0.5, iterations=20, chunk_size=3)
    ppr = PersonalisedPageRank(users, items, n_users, n_items)
    queries = torch.tensor([0, 5, 7, 39])
    band = ppr.band(queries, config)
    start, end = config.band(n_items - 1)
    assert band.shape == (4, end - start)
    for row, q in zip(band, queries.tolist(), strict=True):
        expected = dense_ppr(users, items, n_users, n_items, q, config.restart, config.iterations)
        expected[q] = -1
        ranking = np.argsort(-expected, kind="stable")
        assert q not in row.tolist()
        # Same scores at the band's edges can swap places; compare the scores, not the ids.
        np.testing.assert_allclose(np.sort(expected[row.numpy()]), np.sort(expected[ranking[start:end]]), rtol=1e-4)


def test_curriculum_adds_one_hard_negative_per_epoch_up_to_the_cap():
    config = HardNegativeConfig(enabled=True, max_per_query=3)
    assert [curriculum_count(e, config) for e in range(6)] == [0, 1, 2, 3, 3, 3]
    assert curriculum_count(4, HardNegativeConfig(enabled=False)) == 0


@pytest.fixture(scope="module")
def sampler():
    data = generate_world(SyntheticWorld(n_pins=200, n_boards=150, n_topics=8, dense_dim=0, seed=2))
    train, _, _ = split_by_time(data.interactions)
    graph = build_graph(train, len(data.users), len(data.items))
    fixed = fixed_neighbourhoods(graph, NeighbourConfig(inference_random_walks=20))
    config = HardNegativeConfig(enabled=True, band_start=0.05, band_end=0.3, max_per_query=3)
    return WalkEpochSampler(graph, NeighbourConfig(), PairConfig(), 512, 0, fixed, config)


def test_hard_negatives_come_from_the_band_and_never_are_the_positive(sampler):
    assert sampler(0).hard_per_query == 0  # epoch 1: none
    sample = sampler(2)
    assert sample.hard_per_query == 2
    band = sampler._pagerank.band(torch.unique(sample.queries), sampler.hard_config)
    band_of = dict(zip(torch.unique(sample.queries).tolist(), band.tolist(), strict=True))
    producer = MinibatchProducer(
        sample, {"x": torch.zeros(200, 1)}, TrainConfig(batch_size=64, num_negatives=10, seed=0), n_layers=1, epoch=2
    )
    for i in range(len(producer)):
        batch = producer[i]
        assert batch.hard_items.shape == (64, 2)
        for q, p, hard in zip(
            batch.query_items.tolist(), batch.positive_items.tolist(), batch.hard_items.tolist(), strict=True
        ):
            assert all(h in band_of[q] for h in hard)
            assert p not in hard
        out = batch.blocks.output_items
        assert torch.equal(out[batch.hard_index], batch.hard_items)
