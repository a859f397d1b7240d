"""Item features as plain tensors, fitted only on items the training graph contains.

Every feature becomes a fixed-width tensor row per item so a minibatch gathers features with one
index_select per tensor, on any device, with no Python per item: bags (categories, words) are padded
id matrices where 0 means "nothing", categorical values are ids where 0 means "unknown".
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import torch
from pydantic import BaseModel, ConfigDict, Field

from pinsage.data.schema import dense_columns

# What separates words: anything but letters and the numerals that are not digits (Python's
# `[^\W\d_]+`, runs of letters, in RE2's terms): numbers say little in titles.
_NOT_A_LETTER = r"[^\p{L}\p{Nl}\p{No}]+"


class FeatureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    min_token_count: int = Field(2, ge=1, description="words on fewer training items are dropped")
    max_tokens: int = Field(16, ge=1, description="words kept per item (title then text)")
    min_year_count: int = Field(1, ge=1, description="years on fewer training items become unknown")
    max_categories: int = Field(8, ge=1, description="category labels kept per item")


class Bags(NamedTuple):
    """Every item's bag of strings (words or labels), flat in item order, with no Python object per entry.

    `item[j]` is the item of entry j (non-decreasing), `code[j]` its index in `names`, the distinct strings."""

    item: np.ndarray
    code: np.ndarray
    names: list[str]

    def first_in_item(self) -> np.ndarray:
        """True at each string's first entry in its item's bag."""
        return ~pd.Series(self.item * max(len(self.names), 1) + self.code).duplicated().to_numpy()


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

    # Each item's bags are built once, for the vocabularies and the encoding alike.
    categories, words = _categories(items), _words(items)
    category_vocab = _vocabulary(categories, seen[categories.item], min_count=1)
    word_vocab = _vocabulary(words, seen[words.item] & words.first_in_item(), min_count=config.min_token_count)
    year_counts = Counter(int(y) for y in items["year"].to_numpy()[seen] if y > 0)
    vocabulary: dict[str, list] = {
        "categories": category_vocab,
        "years": sorted(y for y, c in year_counts.items() if c >= config.min_year_count),
        "words": word_vocab,
    }
    dense = dense_columns(items)
    if dense:
        # Statistics in float64: a value near float32's largest (3e38) fits, but its square does not, and an
        # infinite deviation scaled the whole column to 0.
        values = items[dense].to_numpy(dtype=np.float64)
        fitted = values[seen] if seen.any() else np.zeros((1, len(dense)))
        vocabulary["dense_mean"] = fitted.mean(axis=0).tolist()
        vocabulary["dense_std"] = np.maximum(fitted.std(axis=0), 1e-6).tolist() if seen.any() else [1.0] * len(dense)
    return _encode(items, categories, words, degree, vocabulary, config), vocabulary


def encode_items(
    items: pd.DataFrame, degree: np.ndarray, vocabulary: dict[str, list], config: FeatureConfig
) -> dict[str, torch.Tensor]:
    """Feature tensors for `items` under vocabularies fitted earlier (a trained model's, for new items).

    Labels, words and years outside the vocabulary become "unknown"; dense vectors are scaled with the
    training items' mean and deviation, so a new item lands where the model expects its kind of item.
    """
    return _encode(items, _categories(items), _words(items), degree, vocabulary, config)


def _encode(
    items: pd.DataFrame,
    categories: Bags,
    words: Bags,
    degree: np.ndarray,
    vocabulary: dict[str, list],
    config: FeatureConfig,
) -> dict[str, torch.Tensor]:
    features = {
        "categories": _padded_ids(categories, len(items), vocabulary["categories"], config.max_categories),
        # -1 (not in the vocabulary) + 1 = 0, the "unknown year" id
        "year": torch.as_tensor(
            pd.Index(vocabulary["years"]).get_indexer(items["year"].to_numpy()) + 1, dtype=torch.int32
        ),
        "words": _padded_ids(words, len(items), vocabulary["words"], config.max_tokens),
        "log_degree": torch.as_tensor(np.log1p(np.asarray(degree, dtype=np.float32))[:, None]),
    }
    dense = dense_columns(items)
    if len(dense) != len(vocabulary.get("dense_mean", [])):
        raise ValueError(
            f"items have {len(dense)} dense_* columns but the features were fitted on "
            f"{len(vocabulary.get('dense_mean', []))}"
        )
    if dense:
        values = items[dense].to_numpy(dtype=np.float64)
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


def _categories(items: pd.DataFrame) -> Bags:
    """The non-empty `|`-separated labels of each item, as written."""
    return _bags(pc.split_pattern(_strings(items["categories"]), "|"), lower=False)


def _words(items: pd.DataFrame) -> Bags:
    """The lower-cased runs of letters of each item's title, then its text."""
    text = pc.binary_join_element_wise(_strings(items["title"]), _strings(items["text"]), " ")
    return _bags(pc.split_pattern_regex(text, _NOT_A_LETTER), lower=True)


def _strings(column: pd.Series) -> pa.Array:
    strings = pa.array(column.astype(str), type=pa.string())  # chunked when read from a file in parts
    return strings.combine_chunks() if isinstance(strings, pa.ChunkedArray) else strings


def _bags(split: pa.Array, lower: bool) -> Bags:
    """Bags from split strings: empty pieces dropped, the rest dictionary-encoded by Arrow, so only the
    distinct strings become Python strings (and are lower-cased by Python, whose rules the model's
    vocabularies were always built with)."""
    pieces, item = pc.list_flatten(split), pc.list_parent_indices(split)
    keep = pc.greater(pc.binary_length(pieces), 0)
    encoded = pc.dictionary_encode(pieces.filter(keep))
    code = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = encoded.dictionary.to_pylist()
    if lower:  # strings equal once lower-cased become one
        merged, names = pd.factorize(pd.Series([name.lower() for name in names], dtype=object))
        code, names = merged[code], list(names)
    return Bags(item.filter(keep).to_numpy(zero_copy_only=False).astype(np.int64), code, names)


def _vocabulary(bags: Bags, counted: np.ndarray, min_count: int) -> list[str]:
    """The strings of the `counted` entries with at least `min_count` of them, by descending count then
    name, so the same data always gives the same ids."""
    counts = np.bincount(bags.code[counted], minlength=len(bags.names))
    kept = [(-int(counts[c]), bags.names[c]) for c in np.flatnonzero(counts >= min_count)]
    return [name for _, name in sorted(kept)]


def _padded_ids(bags: Bags, n_items: int, vocab: list[str], width: int) -> torch.Tensor:
    """Each item's first `width` distinct strings that are in `vocab`, as 1-based ids padded with 0."""
    vocab_id = pd.Index(vocab, dtype=object).get_indexer(pd.Index(bags.names, dtype=object)) + 1
    ids = vocab_id[bags.code]
    keep = bags.first_in_item() & (ids > 0)
    item, ids = bags.item[keep], ids[keep]
    # Position of each kept entry within its item: its index minus the index of its item's first entry.
    entry = np.arange(len(item))
    starts = np.flatnonzero(np.r_[True, item[1:] != item[:-1]])
    position = entry - np.repeat(starts, np.diff(np.r_[starts, len(item)]))
    inside = position < width
    # int32: the ids index vocabularies, and at 10M items int64 bags cost 0.9 GB more in every process
    # that holds the features (training, export, evaluation).
    out = np.zeros((n_items, width), dtype=np.int32)
    out[item[inside], position[inside]] = ids[inside]
    return torch.as_tensor(out)
