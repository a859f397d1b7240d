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

from pinsage.schema import dense_columns

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
    """Feature tensors for every item, and the vocabularies they index.

    Vocabularies, dense-vector scaling and degrees come from the items with training interactions
    only, so an item held out of training is described exactly as a new item would be.
    """
    n = len(items)
    seen = np.zeros(n, dtype=bool)
    seen[train["item"].to_numpy()] = True
    degree = np.bincount(train["item"].to_numpy(), minlength=n).astype(np.float32)

    category_lists = [[c for c in s.split("|") if c] for s in items["categories"]]
    category_vocab = _vocabulary((category_lists[i] for i in np.flatnonzero(seen)), min_count=1)
    words = [tokenize(f"{t} {x}") for t, x in zip(items["title"], items["text"])]
    word_vocab = _vocabulary(
        (set(words[i]) for i in np.flatnonzero(seen)), min_count=config.min_token_count
    )
    years = items["year"].to_numpy()
    year_counts = Counter(int(y) for y in years[seen] if y > 0)
    year_vocab = sorted(y for y, c in year_counts.items() if c >= config.min_year_count)

    features = {
        "categories": _padded_ids(category_lists, category_vocab, config.max_categories),
        "year": torch.as_tensor(
            pd.Index(year_vocab).get_indexer(years) + 1, dtype=torch.long
        ),  # -1 (unknown) + 1 = 0
        "words": _padded_ids(words, word_vocab, config.max_tokens),
        "log_degree": torch.as_tensor(np.log1p(degree)[:, None]),
    }
    dense = dense_columns(items)
    if dense:
        values = items[dense].to_numpy(dtype=np.float32)
        mean = values[seen].mean(axis=0) if seen.any() else np.zeros(len(dense), np.float32)
        std = values[seen].std(axis=0) if seen.any() else np.ones(len(dense), np.float32)
        features["dense"] = torch.as_tensor((values - mean) / np.maximum(std, 1e-6))
    vocabulary = {"categories": category_vocab, "years": year_vocab, "words": word_vocab}
    return features, vocabulary


def feature_sizes(features: dict[str, torch.Tensor], vocabulary: dict[str, list]) -> dict[str, int]:
    """Input sizes the projector needs; ids are 1-based, so each vocabulary gets one extra slot."""
    return {
        "n_items": int(features["year"].shape[0]),
        "n_categories": len(vocabulary["categories"]) + 1,
        "n_years": len(vocabulary["years"]) + 1,
        "n_words": len(vocabulary["words"]) + 1,
        "dense_dim": int(features["dense"].shape[1]) if "dense" in features else 0,
    }


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
