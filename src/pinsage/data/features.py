"""Item features as plain tensors, fitted only on items the training graph contains.

Every feature becomes a fixed-width tensor row per item so a minibatch gathers features with one
index_select per tensor, on any device, with no Python per item: bags (categories, words) are padded
id matrices where 0 means "nothing", categorical values are ids where 0 means "unknown".
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field

from pinsage.data.schema import dense_columns

_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)  # runs of letters: numbers say little in titles


class FeatureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_token_count: int = Field(2, ge=1, description="words on fewer training items are dropped")
    max_tokens: int = Field(16, ge=1, description="words kept per item (title then text)")
    min_year_count: int = Field(1, ge=1, description="years on fewer training items become unknown")
    max_categories: int = Field(8, ge=1, description="category labels kept per item")


def tokenize(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def build_item_features(
    items: pd.DataFrame, train: pd.DataFrame, config: FeatureConfig
) -> tuple[dict[str, torch.Tensor], dict[str, list]]:
    """Feature tensors for every item, and the vocabularies (and dense scaling) they were encoded with.

    Vocabularies, dense-vector scaling and degrees come from the items with training interactions
    only, so an item held out of training is described exactly as a new item would be.
    """
    n = len(items)
    seen = np.zeros(n, dtype=bool)
    seen[train["item"].to_numpy()] = True
    degree = np.bincount(train["item"].to_numpy(), minlength=n)

    # Each item's bags are built once: rebuilding the list per item made this step quadratic.
    categories, words = _categories(items), _words(items)
    category_vocab = _vocabulary((categories[i] for i in np.flatnonzero(seen)), min_count=1)
    word_vocab = _vocabulary((set(words[i]) for i in np.flatnonzero(seen)), min_count=config.min_token_count)
    year_counts = Counter(int(y) for y in items["year"].to_numpy()[seen] if y > 0)
    vocabulary: dict[str, list] = {
        "categories": category_vocab,
        "years": sorted(y for y, c in year_counts.items() if c >= config.min_year_count),
        "words": word_vocab,
    }
    dense = dense_columns(items)
    if dense:
        values = items[dense].to_numpy(dtype=np.float32)
        fitted = values[seen] if seen.any() else np.zeros((1, len(dense)), np.float32)
        vocabulary["dense_mean"] = fitted.mean(axis=0).tolist()
        vocabulary["dense_std"] = np.maximum(fitted.std(axis=0), 1e-6).tolist() if seen.any() else [1.0] * len(dense)
    return encode_items(items, degree, vocabulary, config), vocabulary


def encode_items(
    items: pd.DataFrame, degree: np.ndarray, vocabulary: dict[str, list], config: FeatureConfig
) -> dict[str, torch.Tensor]:
    """Feature tensors for `items` under vocabularies fitted earlier (a trained model's, for new items).

    Labels, words and years outside the vocabulary become "unknown"; dense vectors are scaled with the
    training items' mean and deviation, so a new item lands where the model expects its kind of item.
    """
    features = {
        "categories": _padded_ids(_categories(items), vocabulary["categories"], config.max_categories),
        # -1 (not in the vocabulary) + 1 = 0, the "unknown year" id
        "year": torch.as_tensor(
            pd.Index(vocabulary["years"]).get_indexer(items["year"].to_numpy()) + 1, dtype=torch.long
        ),
        "words": _padded_ids(_words(items), vocabulary["words"], config.max_tokens),
        "log_degree": torch.as_tensor(np.log1p(np.asarray(degree, dtype=np.float32))[:, None]),
    }
    dense = dense_columns(items)
    if len(dense) != len(vocabulary.get("dense_mean", [])):
        raise ValueError(
            f"items have {len(dense)} dense_* columns but the features were fitted on "
            f"{len(vocabulary.get('dense_mean', []))}"
        )
    if dense:
        values = items[dense].to_numpy(dtype=np.float32)
        mean, std = np.asarray(vocabulary["dense_mean"]), np.asarray(vocabulary["dense_std"])
        features["dense"] = torch.as_tensor(((values - mean) / std).astype(np.float32))
    return features


def feature_sizes(features: dict[str, torch.Tensor], vocabulary: dict[str, list]) -> dict[str, int]:
    """Input sizes the projector needs; ids are 1-based, so each vocabulary gets one extra slot."""
    return {
        "n_items": int(features["year"].shape[0]),
        "n_categories": len(vocabulary["categories"]) + 1,
        "n_years": len(vocabulary["years"]) + 1,
        "n_words": len(vocabulary["words"]) + 1,
        "dense_dim": int(features["dense"].shape[1]) if "dense" in features else 0,
    }


def _categories(items: pd.DataFrame) -> list[list[str]]:
    return [[c for c in s.split("|") if c] for s in items["categories"]]


def _words(items: pd.DataFrame) -> list[list[str]]:
    return [tokenize(f"{t} {x}") for t, x in zip(items["title"], items["text"], strict=True)]


def _vocabulary(bags, min_count: int) -> list[str]:
    counts: Counter[str] = Counter()
    for bag in bags:
        counts.update(bag)
    # Sorted by descending count then name, so the same data always gives the same ids.
    return [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]


def _padded_ids(bags: list[list[str]], vocab: list[str], width: int) -> torch.Tensor:
    index = {w: i + 1 for i, w in enumerate(vocab)}
    out = np.zeros((len(bags), width), dtype=np.int64)
    for row, bag in enumerate(bags):
        ids = [index[w] for w in dict.fromkeys(bag) if w in index][:width]
        out[row, : len(ids)] = ids
    return torch.as_tensor(out)
