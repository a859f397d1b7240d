import pytest
import torch

from pinsage.model.blocks import build_blocks
from pinsage.model.inference import embed_all_items
from pinsage.model.pinsage import ModelConfig, PinSage, WeightedSAGEConv


def random_world(n_items=40, T=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    neighbours = torch.randint(0, n_items, (n_items, T), generator=g)
    weights = torch.randint(0, 5, (n_items, T), generator=g).float()
    features = {
        "categories": torch.randint(0, 5, (n_items, 3), generator=g),
        "words": torch.randint(0, 9, (n_items, 4), generator=g),
        "year": torch.randint(0, 6, (n_items,), generator=g),
        "log_degree": torch.rand(n_items, 1, generator=g),
        "dense": torch.randn(n_items, 3, generator=g),
    }
    sizes = {"n_items": n_items, "n_categories": 5, "n_words": 9, "n_years": 6, "dense_dim": 3}
    return neighbours, weights, features, sizes


def test_hidden_pairs_are_masked_in_both_directions_at_every_layer():
    neighbours = torch.tensor([[1, 2], [0, 2], [0, 1]])
    weights = torch.ones(3, 2)
    blocks = build_blocks(torch.tensor([0, 1]), neighbours, weights, 2, hidden_pairs=torch.tensor([[0, 1]]))
    # Resolve each layer's global (dst, neighbour) ids and check the hidden edge has weight 0.
    nodes = [blocks.input_items]
    for layer in blocks.layers:
        nodes.append(nodes[-1][layer.self_index])
    for layer, src, dst in zip(blocks.layers, nodes[:-1], nodes[1:], strict=True):
        nbr = src[layer.neighbour_index]
        for i, d in enumerate(dst.tolist()):
            for j, n in enumerate(nbr[i].tolist()):
                hidden = {d, n} == {0, 1}
                assert (layer.neighbour_weight[i, j] == 0) == hidden
    assert torch.equal(nodes[-1], blocks.output_items)


@pytest.mark.parametrize("n_layers", [0, 1, 2, 3])
@pytest.mark.parametrize("finish", ["unit_mix", "conv", "sum"])
def test_minibatch_embeddings_equal_layerwise_inference(n_layers, finish):
    """Chunks of 7 rows, so later chunks gather rows that earlier ones computed; the last layer is written
    over the projection in place except with one layer, where the projection is what it gathers from."""
    neighbours, weights, features, sizes = random_world()
    torch.manual_seed(0)
    model = PinSage(sizes, ModelConfig(hidden_dim=8, n_layers=n_layers, final_dense=True, finish=finish)).eval()
    full = embed_all_items(model, features, neighbours, weights, chunk_size=7)
    seeds = torch.tensor([3, 5, 11, 39])
    blocks = build_blocks(seeds, neighbours, weights, n_layers=n_layers)
    with torch.no_grad():
        batch = model(blocks, {k: v[blocks.input_items] for k, v in features.items()})
    torch.testing.assert_close(batch, full[seeds], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(full.norm(dim=1), torch.ones(40), atol=1e-5, rtol=0)


def test_aggregators_ignore_padding():
    conv = WeightedSAGEConv(4, 4, 4, aggregator="mean")
    h_self = torch.randn(1, 4)
    real = torch.randn(1, 1, 4)
    padded = torch.cat([real, torch.randn(1, 2, 4) * 100], dim=1)
    for aggregator in ("importance", "mean", "max"):
        conv.aggregator = aggregator
        a = conv(h_self, real, torch.tensor([[2.0]]))
        b = conv(h_self, padded, torch.tensor([[2.0, 0.0, 0.0]]))
        torch.testing.assert_close(a, b)


def test_new_items_beyond_the_id_table_use_features_only():
    _, _, features, sizes = random_world()
    model = PinSage(sizes, ModelConfig(hidden_dim=8, n_layers=0))
    row = {k: v[:1] for k, v in features.items()}
    with torch.no_grad():
        as_new = model.project(row, torch.tensor([sizes["n_items"] + 5]))
        model.projector.item_id.weight.zero_()
        as_known_without_id = model.project(row, torch.tensor([0]))
    torch.testing.assert_close(as_new, as_known_without_id)


def test_id_dropout_trains_some_items_without_their_id_and_never_applies_at_inference():
    _, _, features, sizes = random_world()
    model = PinSage(sizes, ModelConfig(hidden_dim=8, n_layers=0, id_dropout=0.5))
    items = torch.arange(40)
    with torch.no_grad():
        model.projector.item_id.weight.fill_(100.0)  # an ID vector that cannot be missed
        without_ids = PinSage(sizes, ModelConfig(hidden_dim=8, n_layers=0, use_id_embedding=False))
        without_ids.projector.load_state_dict(model.projector.state_dict(), strict=False)
        base = without_ids.project(features, items)
        model.train()
        dropped = (model.project(features, items) - base).abs().amax(dim=1) < 1e-4
        model.eval()
        kept_at_inference = (model.project(features, items) - base).abs().amax(dim=1) > 1.0
    assert 5 < int(dropped.sum()) < 35  # about half, at random
    assert bool(kept_at_inference.all())


def test_a_model_recorded_before_the_finish_setting_is_rebuilt_as_it_was_trained():
    """Published models summed the convolution and the raw projection; their record names no finish."""
    from pinsage.model.trained_with import TrainedWith

    recorded = {
        "model": {"hidden_dim": 8, "n_layers": 1},
        "features": {},
        "neighbourhood": {},
        "feature_sizes": {"n_categories": 5, "n_words": 7, "n_years": 4, "dense_dim": 0, "n_items": 30},
        "vocabulary_digest": "x",
    }
    assert TrainedWith.model_validate(recorded).model.finish == "sum"
    assert ModelConfig().finish == "unit_mix"


def test_the_unit_mix_lets_the_neighbourhood_move_the_embedding():
    """With the raw projection added to a unit convolution (`sum`), an item's embedding is its projection
    once the projection's norm grows, as training makes it: the graph barely reaches what is published."""
    from pinsage.model.inference import projection_cosines

    sizes = {"n_categories": 5, "n_words": 7, "n_years": 4, "dense_dim": 0, "n_items": 30}
    generator = torch.Generator().manual_seed(0)
    features = {
        "categories": torch.randint(1, 5, (30, 2), generator=generator),
        "words": torch.randint(1, 7, (30, 3), generator=generator),
        "year": torch.randint(1, 4, (30,), generator=generator),
        "log_degree": torch.rand(30, 1, generator=generator),
    }
    neighbours = torch.randint(0, 30, (30, 4), generator=generator)
    weights = torch.rand(30, 4, generator=generator)
    median = {}
    for finish in ("sum", "unit_mix"):
        torch.manual_seed(0)
        model = PinSage(sizes, ModelConfig(hidden_dim=8, finish=finish)).eval()
        with torch.no_grad():
            model.projector.item_id.weight.mul_(2000)  # ID vectors of norm ~ 20, as after training
        median[finish] = projection_cosines(model, features, neighbours, weights).median().item()
    assert median["sum"] > 0.99
    assert median["unit_mix"] < 0.9
