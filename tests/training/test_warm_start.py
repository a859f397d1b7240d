"""Warm start carries learnt rows over by what they stand for, and refuses when shapes changed."""

from __future__ import annotations

import torch

from pinsage.model.pinsage import ModelConfig, PinSage
from pinsage.training.warm_start import model_keys, warm_start_state


def model(n_items: int, vocabulary: dict, hidden: int = 8, seed: int = 0, **config) -> PinSage:
    torch.manual_seed(seed)
    sizes = {
        "n_items": n_items,
        "n_categories": len(vocabulary["categories"]) + 1,
        "n_years": len(vocabulary["years"]) + 1,
        "n_words": len(vocabulary["words"]) + 1,
        "dense_dim": 2,
    }
    return PinSage(sizes, ModelConfig(hidden_dim=hidden, **config))


OLD_VOCAB = {"categories": ["art", "food"], "years": [1999, 2000], "words": ["red", "blue", "cat"]}
NEW_VOCAB = {"categories": ["food", "travel"], "years": [2000, 2001], "words": ["cat", "red", "dog"]}


def test_rows_follow_their_keys_and_new_keys_keep_fresh_weights():
    old, new = model(3, OLD_VOCAB, seed=1), model(3, NEW_VOCAB, seed=2)
    old_state, fresh = old.state_dict(), new.state_dict()
    result = warm_start_state(
        fresh, old_state, model_keys(["b", "c", "d"], NEW_VOCAB), model_keys(["a", "b", "c"], OLD_VOCAB), "v1"
    )
    state = result.state_dict
    assert "1/2 categories" in result.message and "2/3 words" in result.message and "2/3 items" in result.message
    ids, words = state["projector.item_id.weight"], state["projector.words.weight"]
    torch.testing.assert_close(ids[0], old_state["projector.item_id.weight"][1])  # "b"
    torch.testing.assert_close(ids[1], old_state["projector.item_id.weight"][2])  # "c"
    torch.testing.assert_close(ids[2], fresh["projector.item_id.weight"][2])  # "d" is new
    torch.testing.assert_close(words[1], old_state["projector.words.weight"][3])  # "cat": row 0 is padding
    torch.testing.assert_close(words[2], old_state["projector.words.weight"][1])  # "red"
    torch.testing.assert_close(words[3], fresh["projector.words.weight"][3])  # "dog" is new
    torch.testing.assert_close(state["projector.categories.weight"][1], old_state["projector.categories.weight"][2])
    torch.testing.assert_close(state["convs.0.W.weight"], old_state["convs.0.W.weight"])
    new.load_state_dict(state)  # the result fits the new model exactly


def test_changed_model_shape_trains_from_scratch_and_says_why():
    old, wider = model(3, OLD_VOCAB, hidden=8), model(3, OLD_VOCAB, hidden=16)
    keys = model_keys(["a", "b", "c"], OLD_VOCAB)
    result = warm_start_state(wider.state_dict(), old.state_dict(), keys, keys, "v1")
    assert result.state_dict is None and "hidden size" in result.message and "from scratch" in result.message
    deeper = model(3, OLD_VOCAB, final_dense=True)
    result = warm_start_state(deeper.state_dict(), old.state_dict(), keys, keys, "v1")
    assert result.state_dict is None and "other layers" in result.message
