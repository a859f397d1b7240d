import pandas as pd
import pytest
import torch

from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
from pinsage.data.split import split_by_time
from pinsage.graph.build import build_graph
from pinsage.graph.config import HardNegativeConfig, NeighbourConfig, PairConfig
from pinsage.graph.hard_negatives import curriculum_count, visit_counts, walk_band
from pinsage.graph.sampling import _HARD_NEGATIVE_WALKS, WalkEpochSampler, fixed_neighbourhoods
from pinsage.seeding import derive_seed
from pinsage.training.config import TrainConfig
from pinsage.training.minibatch import MinibatchProducer


def chain(n_items: int):
    """item0 – user0 – item1 – user1 – item2 …: item k is k hops from item 0."""
    users = torch.tensor([u for k in range(n_items - 1) for u in (k, k)])
    items = torch.tensor([i for k in range(n_items - 1) for i in (k, k + 1)])
    return build_graph(
        pd.DataFrame({"user": users.numpy(), "item": items.numpy(), "timestamp": 0}), n_items - 1, n_items
    )


def test_visits_are_ranked_by_count_and_leave_out_the_query():
    graph = chain(6)
    config = HardNegativeConfig(walks_per_query=2000, walk_hops=3, restart=0.3)
    row, item, count = visit_counts(graph, torch.tensor([0, 5]), config, seed=0)
    assert torch.equal(row, torch.sort(row, stable=True).values)
    ranking = {q: item[row == r].tolist() for r, q in enumerate([0, 5])}
    # Nearer items are visited more often; the walk never counts its own start; 3 hops reach item 3 at most.
    assert ranking[0] == [1, 2, 3]
    assert ranking[5] == [4, 3, 2]
    for r in range(2):
        counts = count[row == r]
        assert torch.all(counts[:-1] >= counts[1:])


def test_band_skips_the_most_visited_items():
    graph = chain(8)
    config = HardNegativeConfig(
        walks_per_query=2000,
        walk_hops=3,
        restart=0.3,
        band_ranks=(1, 2),
        band_fractions=(0.5, 1.0),
        samples_per_query=50,
    )
    assert config.band(7) == (1, 2)
    band = walk_band(graph, torch.tensor([0, 7]), config, seed=0, generator=torch.Generator().manual_seed(0))
    assert band.shape == (2, 50)
    assert set(band[0].tolist()) == {2}  # rank 1 from item 0; item 1 (rank 0) is its likely next pick
    assert set(band[1].tolist()) == {5}


def test_band_falls_back_to_the_less_visited_half_when_the_walks_reach_fewer_items():
    graph = chain(8)
    # A band starting at rank 6 cannot be reached by walks of 2 hops: the band is what the walks
    # reached beyond the most visited half.
    config = HardNegativeConfig(
        walks_per_query=2000, walk_hops=2, restart=0.1, band_ranks=(100, 200), band_fractions=(0.9, 1)
    )
    band = walk_band(graph, torch.tensor([0]), config, seed=0, generator=torch.Generator().manual_seed(0))
    assert set(band[0].tolist()) == {2}


def test_band_ranks_are_capped_by_the_catalogue_fractions():
    config = HardNegativeConfig()
    assert config.band(1_000_000) == (2000, 5000)
    assert config.band(1681) == (84, 252)
    assert config.band(3) == (0, 1)
    with pytest.raises(ValueError, match="band_ranks"):
        HardNegativeConfig(band_ranks=(50, 10))


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
    config = HardNegativeConfig(enabled=True, band_fractions=(0.05, 0.3), max_per_query=3)
    return WalkEpochSampler(graph, NeighbourConfig(), PairConfig(), 512, 0, fixed, config)


def test_hard_negatives_come_from_the_band_and_never_are_the_positive(sampler):
    assert sampler(0).hard_negatives is None  # epoch 1: none
    sample = sampler(2)
    assert sample.hard_negatives.shape == (512, 2)
    # The share's walks, redone with the seed the sampler derives for them, give each query's ranking.
    distinct = torch.unique(sample.queries)
    config = sampler.hard_config
    seed = derive_seed(derive_seed(derive_seed(0, 2, 0), _HARD_NEGATIVE_WALKS), 0)
    row, item, _ = visit_counts(sampler.graph, distinct, config, seed)
    start, end = config.band(199)
    band_of = {}
    for r, q in enumerate(distinct.tolist()):
        ranking = item[row == r].tolist()
        band_of[q] = set(ranking[start:end] if len(ranking) > start else ranking[len(ranking) // 2 :])
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
            assert q not in hard
            assert p not in hard
        out = batch.blocks.output_items
        assert torch.equal(out[batch.hard_index], batch.hard_items)


def test_each_rank_walks_its_own_share(sampler):
    """Rank r's share is seeded by (seed, epoch, r): the same share every time, another rank's differs."""
    first, second = sampler(2, rank=0), sampler(2, rank=1)
    assert len(first.queries) == len(second.queries) == 512
    assert not torch.equal(first.queries, second.queries)
    again = sampler(2, rank=1)
    assert torch.equal(again.queries, second.queries) and torch.equal(again.hard_negatives, second.hard_negatives)
