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
def test_minibatch_embeddings_equal_layerwise_inference(n_layers):
    """Chunks of 7 rows, so later chunks gather rows that earlier ones computed; the last layer is written
    over the projection in place except with one layer, where the projection is what it gathers from."""
    neighbours, weights, features, sizes = random_world()
    torch.manual_seed(0)
    model = PinSage(sizes, ModelConfig(hidden_dim=8, n_layers=n_layers, final_dense=True)).eval()
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
