import math
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import torch

from pinsage.data.features import FeatureConfig, build_item_features, encode_items, feature_sizes


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


def test_words_and_categories_follow_their_definition_on_awkward_text(tmp_path):
    """Words are the lower-cased runs of letters of the title then the text (numbers, underscores and
    punctuation split them), each word once per item, the first `max_tokens` known ones kept; categories
    are the non-empty `|`-separated labels. Vocabularies order by count (items per word, labels per
    label), then by name. The reference below is that definition, one item at a time in Python."""
    rng = np.random.default_rng(0)
    pieces = [
        "Star",
        "WARS",
        "(1977)",
        "café",
        "Café",
        "naïve",
        "e\u0301t\u00e9",
        "x_y",
        "OΔΥΣΣΕΥΣ",
        "İstanbul",
        "Ⅻ",
        "x²",
        "l'été",
        "",
        " ",
        "don't",
        "Ünïcödé",
        "日本語",
        "a1b2",
        "ß",
        "--",
        "tab\tsep",
    ]
    n = 300
    title = [" ".join(rng.choice(pieces, rng.integers(0, 6))) for _ in range(n)]
    text = [" ".join(rng.choice(pieces, rng.integers(0, 6))) for _ in range(n)]
    labels = ["Drama", "drama", "Sci-Fi", "a b", "x"]
    categories = ["|".join(rng.choice(labels + [""], rng.integers(0, 4))) for _ in range(n)]
    items = pd.DataFrame(
        {
            "item": np.arange(n),
            "item_id": [f"i{i}" for i in range(n)],
            "title": title,
            "categories": categories,
            "year": 0,
            "text": text,
        }
    )
    train = pd.DataFrame({"user": 0, "item": np.arange(0, n, 2), "timestamp": 1})  # odd items unseen
    config = FeatureConfig(min_token_count=2, max_tokens=4, max_categories=3)
    features, vocab = build_item_features(items, train, config)

    def words(i):
        return list(dict.fromkeys(w.lower() for w in re.findall(r"[^\W\d_]+", f"{title[i]} {text[i]}")))

    def labels_of(i):
        return [c for c in categories[i].split("|") if c]

    def ranked(counts, min_count):
        return [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]

    seen = range(0, n, 2)
    assert vocab["words"] == ranked(Counter(w for i in seen for w in words(i)), 2)
    assert vocab["categories"] == ranked(Counter(c for i in seen for c in labels_of(i)), 1)

    def padded(bag, vocabulary, width):
        index = {w: j + 1 for j, w in enumerate(vocabulary)}
        ids = [index[w] for w in dict.fromkeys(bag) if w in index][:width]
        return ids + [0] * (width - len(ids))

    # Ids index vocabularies: 32 bits, half the memory of the bags at 10M items.
    assert {features[name].dtype for name in ("words", "categories", "year")} == {torch.int32}
    for i in range(n):
        assert features["words"][i].tolist() == padded(words(i), vocab["words"], 4), (title[i], text[i])
        assert features["categories"][i].tolist() == padded(labels_of(i), vocab["categories"], 3), categories[i]
    # Items encoded later under the fitted vocabularies (as new items are) get the same rows.
    again = encode_items(items.iloc[::-1].reset_index(drop=True), np.zeros(n), vocab, config)
    assert torch_equal(again["words"].flip(0), features["words"])
    assert torch_equal(again["categories"].flip(0), features["categories"])
    # Read back from a file in several parts, the text columns are chunked Arrow arrays: the same rows.
    items.to_parquet(tmp_path / "items.parquet", row_group_size=64)
    from_file, _ = build_item_features(pd.read_parquet(tmp_path / "items.parquet"), train, config)
    assert all(torch_equal(from_file[name], features[name]) for name in ("words", "categories"))


def torch_equal(a, b) -> bool:
    return bool((a == b).all())


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


def test_a_dense_value_near_float32s_largest_still_scales_its_column():
    """A value of 3e38 fits float32 but its square does not: the deviation became inf and the whole column
    was scaled to 0 for every item, silently."""
    items = items_table().assign(dense_0=[1.0, 3.0, 3e38])
    train = pd.DataFrame({"user": [0, 0, 1], "item": [0, 1, 2], "timestamp": [1, 2, 3]})
    features, vocabulary = build_item_features(items, train, FeatureConfig())
    dense = features["dense"][:, 0]
    assert torch.isfinite(dense).all() and dense[2] > dense[0] and dense.abs().max() > 0.5
    assert math.isfinite(vocabulary["dense_std"][0])
