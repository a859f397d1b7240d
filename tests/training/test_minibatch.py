import torch

from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
from pinsage.data.split import split_by_time
from pinsage.graph.build import build_graph
from pinsage.graph.config import NeighbourConfig, PairConfig
from pinsage.graph.sampling import EpochSampler, fixed_neighbourhoods
from pinsage.training.config import TrainConfig
from pinsage.training.minibatch import MinibatchProducer

CONFIG = TrainConfig(batch_size=64, num_negatives=40, seed=0)


def world_sampler(**pairs):
    data = generate_world(SyntheticWorld(n_pins=120, n_boards=90, n_topics=6, dense_dim=0, seed=4))
    train, _, _ = split_by_time(data.interactions)
    graph = build_graph(train, len(data.users), len(data.items))
    fixed = fixed_neighbourhoods(graph, NeighbourConfig(inference_random_walks=10))
    return train, EpochSampler(graph, NeighbourConfig(), PairConfig(**pairs), 256, 0, fixed, interactions=train)


def test_co_interacted_easy_negatives_are_masked_per_query():
    train, sampler = world_sampler(exclude_co_interacted_negatives=True)
    users_of = train.groupby("item")["user"].apply(set).to_dict()
    producer = MinibatchProducer(sampler(0), {"x": torch.zeros(120, 1)}, CONFIG, n_layers=1, epoch=0)
    batch = producer[1]
    for i, q in enumerate(batch.query_items.tolist()):
        for j, n in enumerate(batch.negative_items.tolist()):
            shares_a_user = bool(users_of.get(q, set()) & users_of.get(n, set()))
            assert batch.negative_mask[i, j].item() == shares_a_user
    assert batch.negative_mask.any() and not batch.negative_mask.all()


def test_without_the_option_nothing_is_masked_and_batches_move_whole():
    _, sampler = world_sampler()
    batch = MinibatchProducer(sampler(0), {"x": torch.zeros(120, 1)}, CONFIG, n_layers=2, epoch=0)[0]
    assert not batch.negative_mask.any()
    moved = batch.to("cpu")
    assert torch.equal(moved.blocks.layers[1].neighbour_index, batch.blocks.layers[1].neighbour_index)
    assert torch.equal(moved.hard_index, batch.hard_index) and moved.features["x"].shape[0] == len(
        batch.blocks.input_items
    )
