import dgl
import numpy as np
import pandas as pd
import pytest
import torch

from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
from pinsage.data.split import split_by_time
from pinsage.graph.build import ITEM, ITEM_TO_USER, USER, USER_TO_ITEM, build_graph, edges_by_id, extend_graph
from pinsage.graph.config import NeighbourConfig
from pinsage.graph.sampling import fixed_neighbourhoods


def test_graph_holds_training_edges_only():
    data = generate_world(SyntheticWorld(n_pins=100, n_boards=60, n_topics=5, dense_dim=0))
    train, val, test = split_by_time(data.interactions)
    graph = build_graph(train, len(data.users), len(data.items))
    users, items = edges_by_id(graph, USER_TO_ITEM)
    edges = set(zip(users.tolist(), items.tolist(), strict=True))
    assert edges == set(zip(train["user"], train["item"], strict=True))
    for held_out in (val, test):
        assert not edges & set(zip(held_out["user"], held_out["item"], strict=True))
    assert graph.num_nodes(ITEM) == len(data.items)  # items without training edges are still nodes


def test_items_without_training_edges_are_isolated():
    train = pd.DataFrame({"user": [0, 1], "item": [0, 0], "timestamp": [1, 2]})
    graph = build_graph(train, n_users=2, n_items=3)
    assert graph.out_degrees(torch.tensor([1, 2]), etype=ITEM_TO_USER).tolist() == [0, 0]


def test_only_the_walks_form_is_kept_and_edges_read_from_it_are_in_edge_id_order():
    """Random walks read out-edges only: the graph keeps the CSR form alone (no COO, no CSC beside it),
    and edge lists read from it are the ones DGL's full graph gives, edge by edge, in id order."""
    train = pd.DataFrame({"user": [2, 0, 1, 0, 2, 2], "item": [3, 1, 0, 4, 1, 0], "timestamp": range(6)})
    graph = build_graph(train, n_users=3, n_items=5)
    assert graph.formats() == {"created": ["csr"], "not created": []}
    full = dgl.heterograph(
        {
            (USER, USER_TO_ITEM, ITEM): (torch.tensor(train["user"]), torch.tensor(train["item"])),
            (ITEM, ITEM_TO_USER, USER): (torch.tensor(train["item"]), torch.tensor(train["user"])),
        },
        num_nodes_dict={USER: 3, ITEM: 5},
    )
    for etype in (USER_TO_ITEM, ITEM_TO_USER):
        for mine, theirs in zip(edges_by_id(graph, etype), full.edges(etype=etype), strict=True):
            assert mine.tolist() == theirs.tolist()


@pytest.mark.parametrize("seed", [0, 1])
def test_a_graph_extended_with_new_interactions_is_the_graph_built_from_all_of_them(seed):
    """New users and items after the old ones, edges added to old rows, new rows and an old row left alone;
    the extended graph must have exactly the rows `build_graph` makes, so walks on it are the same walks."""
    rng = np.random.default_rng(seed)
    n_users, n_items, more_users, more_items = 30, 40, 5, 6
    old = pd.DataFrame({"user": rng.integers(0, n_users, 300), "item": rng.integers(0, n_items - 3, 300)})
    added = pd.DataFrame(
        {
            "user": rng.integers(0, n_users + more_users, 80),
            "item": rng.integers(n_items - 2, n_items + more_items, 80),
        }
    )
    extended = extend_graph(build_graph(old, n_users, n_items), added, n_users + more_users, n_items + more_items)
    whole = build_graph(pd.concat([old, added], ignore_index=True), n_users + more_users, n_items + more_items)
    assert extended.formats() == whole.formats()
    assert same_csr(extended, whole)
    assert extended.num_nodes(USER) == n_users + more_users and extended.num_nodes(ITEM) == n_items + more_items
    new_items = torch.arange(n_items - 2, n_items + more_items)
    walks = NeighbourConfig(inference_random_walks=20)
    for ours, theirs in zip(
        fixed_neighbourhoods(extended, walks, new_items), fixed_neighbourhoods(whole, walks, new_items), strict=True
    ):
        assert torch.equal(ours, theirs)
    # Nothing added: the same graph.
    unchanged = extend_graph(build_graph(old, n_users, n_items), added.iloc[:0], n_users, n_items)
    assert same_csr(unchanged, build_graph(old, n_users, n_items))


def same_csr(a: dgl.DGLGraph, b: dgl.DGLGraph) -> bool:
    """The same row pointers and neighbours (edge ids aside: `extend_graph` leaves them implicit)."""
    return all(
        torch.equal(x, y)
        for etype in (USER_TO_ITEM, ITEM_TO_USER)
        for x, y in zip(a.adj_tensors("csr", etype=etype)[:2], b.adj_tensors("csr", etype=etype)[:2], strict=True)
    )
