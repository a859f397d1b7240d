import pandas as pd
import torch

from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
from pinsage.data.split import split_by_time
from pinsage.graph.build import build_graph
from pinsage.graph.config import NeighbourConfig, PairConfig
from pinsage.graph.sampling import EpochSampler, fixed_neighbourhoods, importance_neighbours


def small_graph():
    data = generate_world(SyntheticWorld(n_pins=150, n_boards=80, n_topics=6, dense_dim=0, seed=1))
    train, _, _ = split_by_time(data.interactions)
    return build_graph(train, len(data.users), len(data.items)), train


def co_interacted(train: pd.DataFrame) -> set[tuple[int, int]]:
    by_user = train.groupby("user")["item"].apply(list)
    return {(a, b) for items in by_user for a in items for b in items if a != b}


def test_neighbours_are_top_visited_co_interacted_items():
    graph, train = small_graph()
    config = NeighbourConfig(num_neighbors=5, num_random_walks=20, num_traversals=1)
    neighbours, weights = importance_neighbours(graph, config, seed=0)
    assert neighbours.shape == weights.shape == (150, 5)
    pairs = co_interacted(train)
    present = weights > 0
    rows = torch.arange(150).unsqueeze(1).expand_as(neighbours)
    # With one traversal, every neighbour is reached through a shared user; never the item itself.
    assert all((int(a), int(b)) in pairs for a, b in zip(rows[present], neighbours[present], strict=True))
    assert not (neighbours[present] == rows[present]).any()
    # Padding slots point at the item itself with weight 0; weights are sorted, largest first.
    assert (neighbours[~present] == rows[~present]).all()
    assert (weights[:, :-1] >= weights[:, 1:]).all()


def test_an_item_gets_t_neighbours_besides_itself_wherever_its_walks_reach_t_others():
    """DGL's sampler ranks the item itself among its top visited; dropping it used to leave T - 1."""
    graph, train = small_graph()
    config = NeighbourConfig(num_neighbors=5, num_random_walks=200, num_traversals=1)
    _, weights = importance_neighbours(graph, config, seed=0)
    pairs = pd.DataFrame(sorted(co_interacted(train)), columns=["item", "other"])
    reachable = pairs.groupby("item")["other"].nunique()
    many = torch.tensor(reachable[reachable >= 8].index.tolist())
    assert len(many) > 50 and bool((weights[many] > 0).all())


def test_same_seed_same_neighbourhoods():
    graph, _ = small_graph()
    a = fixed_neighbourhoods(graph, NeighbourConfig(seed=3))
    b = fixed_neighbourhoods(graph, NeighbourConfig(seed=3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_walk_positives_come_from_item_user_item_walks():
    graph, train = small_graph()
    fixed = fixed_neighbourhoods(graph, NeighbourConfig())
    sampler = EpochSampler(graph, NeighbourConfig(), PairConfig(positives="walk"), 2000, seed=0, fixed_neighbours=fixed)
    sample = sampler(0)
    assert len(sample.queries) == 2000
    pairs = co_interacted(train)
    assert all((q, p) in pairs for q, p in zip(sample.queries.tolist(), sample.positives.tolist(), strict=True))
    again = sampler(0)
    assert torch.equal(again.queries, sample.queries) and torch.equal(again.positives, sample.positives)
    assert not torch.equal(sampler(1).queries, sample.queries)


def test_positive_damping_favours_less_popular_items():
    graph, train = small_graph()
    fixed = fixed_neighbourhoods(graph, NeighbourConfig())
    degree = torch.bincount(torch.tensor(train["item"].to_numpy()), minlength=150).float()

    def mean_positive_degree(alpha):
        sampler = EpochSampler(
            graph, NeighbourConfig(), PairConfig(positives="walk", positive_damping=alpha), 5000, 0, fixed
        )
        return degree[sampler(0).positives].mean()

    assert mean_positive_degree(1.0) < 0.8 * mean_positive_degree(0.0)
