import pandas as pd
import torch

from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
from pinsage.data.split import split_by_time
from pinsage.graph.build import ITEM, USER_TO_ITEM, build_graph


def test_graph_holds_training_edges_only():
    data = generate_world(SyntheticWorld(n_pins=100, n_boards=60, n_topics=5, dense_dim=0))
    train, val, test = split_by_time(data.interactions)
    graph = build_graph(train, len(data.users), len(data.items))
    users, items = graph.edges(etype=USER_TO_ITEM)
    edges = set(zip(users.tolist(), items.tolist(), strict=True))
    assert edges == set(zip(train["user"], train["item"], strict=True))
    for held_out in (val, test):
        assert not edges & set(zip(held_out["user"], held_out["item"], strict=True))
    assert graph.num_nodes(ITEM) == len(data.items)  # items without training edges are still nodes


def test_items_without_training_edges_are_isolated():
    train = pd.DataFrame({"user": [0, 1], "item": [0, 0], "timestamp": [1, 2]})
    graph = build_graph(train, n_users=2, n_items=3)
    assert graph.in_degrees(torch.tensor([1, 2]), etype=USER_TO_ITEM).tolist() == [0, 0]
