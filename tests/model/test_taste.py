"""A new item's users' taste folded into its embedding: the mean of what its users liked in training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pinsage.model import taste as taste_module
from pinsage.model.inference import embed_all_items, final_chunks, layer_tables
from pinsage.model.pinsage import ModelConfig, PinSage
from pinsage.model.taste import fold_in_taste, users_taste
from tests.worlds import planted_world, trained_with

# Five trained items, four users: user u's training items.
TRAINED_ITEMS_OF = {0: [0, 1], 1: [1, 2, 3], 2: [4], 3: []}


def item_users_csr(n_items: int) -> tuple[torch.Tensor, torch.Tensor]:
    users_of = [[u for u, items in TRAINED_ITEMS_OF.items() if i in items] for i in range(n_items)]
    indptr = torch.tensor(np.cumsum([0] + [len(u) for u in users_of]))
    return indptr, torch.tensor([u for users in users_of for u in users], dtype=torch.int64)


def chunks(table: torch.Tensor, size: int):
    return ((s, table[s : s + size]) for s in range(0, len(table), size))


@pytest.fixture
def trained() -> torch.Tensor:
    torch.manual_seed(0)
    return F.normalize(torch.randn(5, 8), dim=1)


@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_a_users_taste_is_the_mean_of_their_trained_items_however_the_items_are_chunked(trained, chunk):
    taste = users_taste(chunks(trained, chunk), item_users_csr(5), np.array([2, 0, 1, 0, 3, 7]))
    assert taste.users.tolist() == [0, 1, 2, 3, 7]  # 7: seen only with new items
    mean, count = taste.of(torch.tensor([1, 0, 3, 7]))
    torch.testing.assert_close(mean[0], trained[[1, 2, 3]].mean(0), atol=1e-3, rtol=0)  # kept in half precision
    torch.testing.assert_close(mean[1], trained[[0, 1]].mean(0), atol=1e-3, rtol=0)
    assert count.tolist() == [3, 2, 0, 0] and not mean[2:].any()
    with pytest.raises(ValueError, match="not computed for"):
        taste.of(torch.tensor([4]))


def test_a_new_item_moves_towards_its_users_taste_and_one_without_taste_keeps_its_vector(trained):
    torch.manual_seed(1)
    own = F.normalize(torch.randn(3, 8), dim=1)  # new items 0, 1, 2
    users, items = np.array([0, 1, 3, 7]), np.array([0, 0, 1, 0])
    taste = users_taste(chunks(trained, 2), item_users_csr(5), users)
    folded = fold_in_taste(own, users, items, taste, weight=4.0)
    # Item 0: users 0 and 1 have taste (7 has none yet); item 1: only user 3, who has none; item 2: nobody.
    users_mean = F.normalize(trained[[0, 1]].mean(0) + trained[[1, 2, 3]].mean(0), dim=0)
    torch.testing.assert_close(folded[0], F.normalize(own[0] + 4.0 * users_mean, dim=0), atol=2e-3, rtol=0)
    assert torch.equal(folded[1:], own[1:])
    assert torch.allclose(folded.norm(dim=1), torch.ones(3))
    assert torch.equal(fold_in_taste(own, users, items, taste, weight=0.0), own)
    assert torch.equal(fold_in_taste(own, users, items, None, weight=0.0), own)


def test_folding_in_by_chunks_of_interactions_gives_the_same_vectors(trained, monkeypatch):
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 4, 50), rng.integers(0, 6, 50)
    own = F.normalize(torch.randn(6, 8), dim=1)
    taste = users_taste(chunks(trained, 5), item_users_csr(5), users)
    whole = fold_in_taste(own, users, items, taste, weight=2.0)
    monkeypatch.setattr(taste_module, "ROWS_PER_CHUNK", 7)
    torch.testing.assert_close(fold_in_taste(own, users, items, taste, weight=2.0), whole)


def test_final_chunks_are_the_embeddings_and_leave_the_layer_tables_as_they_were():
    world = planted_world(n_pins=120, n_boards=100, n_topics=6, saves_per_board=8, seed=1)
    model_config = ModelConfig(hidden_dim=16)
    torch.manual_seed(0)
    model = PinSage(trained_with(world, model_config).feature_sizes, model_config).eval()
    features, (neighbours, weights) = world.inputs.features, world.inputs.neighbourhoods.values()
    tables = layer_tables(model, features, neighbours, weights, chunk_size=25)
    before = [t.clone() for t in tables]
    rows = list(final_chunks(model, tables, neighbours, weights, chunk_size=25))
    assert [s for s, _ in rows] == list(range(0, 120, 25))
    torch.testing.assert_close(torch.cat([r for _, r in rows]), embed_all_items(model, features, neighbours, weights))
    assert all(torch.equal(a, b) for a, b in zip(tables, before, strict=True))
