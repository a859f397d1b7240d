import math

import pandas as pd
import pytest

from pinsage.data.features import FeatureConfig, build_item_features, feature_sizes, tokenize


def items_table():
    return pd.DataFrame(
        {
            "item": [0, 1, 2],
            "item_id": ["a", "b", "c"],
            "title": ["Red Chair 1999", "Red Sofa", "Secret Novelty"],
            "categories": ["furniture|red", "furniture", "gadget"],
            "year": [1999, 2001, 2020],
            "text": ["", "comfy", ""],
            "dense_0": [1.0, 3.0, 100.0],
        }
    )


def test_tokenizer_keeps_words_drops_numbers():
    assert tokenize("Star Wars (1977): Café!") == ["star", "wars", "café"]


def test_vocabularies_fitted_on_training_items_only():
    items = items_table()
    train = pd.DataFrame({"user": [0, 0, 1], "item": [0, 1, 1], "timestamp": [1, 2, 3]})
    features, vocab = build_item_features(items, train, FeatureConfig(min_token_count=1))
    # Item 2 has no training interaction: its category, words and year are unknown to the model.
    assert "gadget" not in vocab["categories"] and "secret" not in vocab["words"]
    assert 2020 not in vocab["years"]
    assert features["categories"][2].tolist() == [0] * 8
    assert features["words"][2].sum() == 0 and features["year"][2] == 0
    assert features["log_degree"][:, 0].tolist() == pytest.approx([math.log(2), math.log(3), 0.0])
    # Dense vectors are standardised with the training items' statistics (mean 2, std 1).
    assert features["dense"][:, 0].tolist() == pytest.approx([-1.0, 1.0, 98.0])
    sizes = feature_sizes(features, vocab)
    assert sizes["n_items"] == 3 and sizes["dense_dim"] == 1
    assert sizes["n_categories"] == len(vocab["categories"]) + 1


def test_min_token_count():
    items = items_table()
    train = pd.DataFrame({"user": [0, 0, 0], "item": [0, 1, 2], "timestamp": [1, 2, 3]})
    _, vocab = build_item_features(items, train, FeatureConfig(min_token_count=2))
    assert vocab["words"] == ["red"]
