import numpy as np
import pandas as pd
import pytest
import torch

from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
from pinsage.data.split import split_by_time
from pinsage.graph.build import build_graph
from pinsage.graph.config import HardNegativeConfig, NeighbourConfig, PairConfig
from pinsage.graph.hard_negatives import curriculum_count, exact_bands, excluded_pairs, visit_counts, walk_band
from pinsage.graph.sampling import _HARD_NEGATIVE_WALKS, EpochSampler, fixed_neighbourhoods
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


def test_exact_ranking_is_the_walks_expected_visits_without_the_excluded_items():
    graph = chain(8)
    config = HardNegativeConfig(walk_hops=3, restart=0.3, band_ranks=(0, 3), band_fractions=(0, 1))
    nothing = excluded_pairs(8, torch.arange(8).unsqueeze(1), None)  # each item's only "neighbour" is itself
    band, count = exact_bands(graph, config, nothing)
    # From item 0 the walks reach 1, 2, 3 (nearer ones more); from item 4 in the middle, 3 and 5 first.
    assert band[0, : count[0]].tolist() == [1, 2, 3]
    assert set(band[4, :2].tolist()) == {3, 5} and count[4] == 3
    # Excluding item 1 for item 0 leaves what lies beyond it, in the same order.
    without_1 = excluded_pairs(
        8, torch.tensor([[0], [1], [2], [3], [4], [5], [6], [7]]), (np.array([0]), np.array([1]))
    )
    band, count = exact_bands(graph, config, without_1)
    assert band[0, : count[0]].tolist() == [2, 3]


def test_exact_visits_agree_with_sampled_walks():
    data = generate_world(SyntheticWorld(n_pins=60, n_boards=40, n_topics=4, dense_dim=0, seed=3))
    train, _, _ = split_by_time(data.interactions)
    graph = build_graph(train, len(data.users), len(data.items))
    config = HardNegativeConfig(
        walks_per_query=20000, walk_hops=2, restart=0.4, band_ranks=(0, 5), band_fractions=(0, 1)
    )
    band, count = exact_bands(graph, config, excluded_pairs(60, torch.arange(60).unsqueeze(1), None))
    row, item, visits = visit_counts(graph, torch.tensor([7]), config, seed=0)
    # The five most visited items by 20,000 sampled walks are the exact top five (allowing a near tie).
    assert len(set(item[:5].tolist()) & set(band[7, : count[7]].tolist())) >= 4


@pytest.fixture(scope="module", params=["exact", "walks"])
def sampler(request):
    data = generate_world(SyntheticWorld(n_pins=200, n_boards=150, n_topics=8, dense_dim=0, seed=2))
    train, _, _ = split_by_time(data.interactions)
    graph = build_graph(train, len(data.users), len(data.items))
    fixed = fixed_neighbourhoods(graph, NeighbourConfig(inference_random_walks=20))
    config = HardNegativeConfig(enabled=True, band_fractions=(0.05, 0.3), max_per_query=3, ranking=request.param)
    sampler = EpochSampler(graph, NeighbourConfig(), PairConfig(), 512, 0, fixed, config, interactions=train)
    sampler.train = train
    return sampler


def exact_band_of(sampler, train: pd.DataFrame) -> dict[int, set[int]]:
    """Each item's band, recomputed densely from its definition: the walks' expected visits
    Σ_h (1 − restart)^(h−1) P^h, ranked over the items that are not itself, its neighbours or its window
    co-occurrences, ranks [start, end) (the less visited half where fewer are reached), and the items
    that tie with the band's first or last within float32's precision (either side of such a tie may win)."""
    config = sampler.hard_config
    n, n_users = sampler.graph.num_nodes("item"), sampler.graph.num_nodes("user")
    a = np.zeros((n, n_users))
    np.add.at(a, (train["item"].to_numpy(), train["user"].to_numpy()), 1.0)
    step = (a / np.maximum(a.sum(1, keepdims=True), 1)) @ (a.T / np.maximum(a.T.sum(1, keepdims=True), 1))
    visits, power = np.zeros((n, n)), np.eye(n)
    for h in range(config.walk_hops):
        power = power @ step
        visits += (1 - config.restart) ** h * power
    window = set(zip(*(x.tolist() for x in sampler.sequence.window_pairs(n)), strict=True))
    start, end = config.band(n - 1)
    out = {}
    for q in range(n):
        banned = {q} | set(sampler.fixed_neighbours[0][q].tolist()) | {i for i in range(n) if (q, i) in window}
        ranking = [i for i in np.argsort(-visits[q], kind="stable") if visits[q, i] > 1e-9 and i not in banned]
        band = ranking[start:end] if len(ranking) > start else ranking[len(ranking) // 2 :]
        edges = visits[q, [band[0], band[-1]]] if band else np.zeros(0)
        ties = {i for i in ranking if np.isclose(visits[q, i], edges, rtol=1e-5, atol=0).any()}
        out[q] = set(band) | ties
    return out


def test_hard_negatives_come_from_the_band_and_never_are_the_positive(sampler):
    assert sampler(0).hard_negatives is None  # epoch 1: none
    sample = sampler(2)
    assert sample.hard_negatives.shape == (512, 2)
    config = sampler.hard_config
    start, end = config.band(199)
    if config.ranking == "exact":
        band_of = exact_band_of(sampler, sampler.train)
    else:
        # The share's walks, redone with the seed the sampler derives for them, give each query's ranking.
        distinct = torch.unique(sample.queries)
        seed = derive_seed(derive_seed(derive_seed(0, 2, 0), _HARD_NEGATIVE_WALKS), 0)
        row, item, _ = visit_counts(sampler.graph, distinct, config, seed)
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
            assert not set(hard) & set(sampler.fixed_neighbours[0][q].tolist())
        out = batch.blocks.output_items
        assert torch.equal(out[batch.hard_index], batch.hard_items)


def test_each_rank_walks_its_own_share(sampler):
    """Rank r's share is seeded by (seed, epoch, r): the same share every time, another rank's differs."""
    first, second = sampler(2, rank=0), sampler(2, rank=1)
    assert len(first.queries) == len(second.queries) == 512
    assert not torch.equal(first.queries, second.queries)
    again = sampler(2, rank=1)
    assert torch.equal(again.queries, second.queries) and torch.equal(again.hard_negatives, second.hard_negatives)
