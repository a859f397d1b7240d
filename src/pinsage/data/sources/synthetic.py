"""A seeded pin–board world with planted topics, so a fresh offline machine has data worth learning.

Every pin belongs to one hidden topic. Its observable features are noisy views of that topic:
categories are coarser than topics (two topics share a category, plus a random extra label), the
year-like category is drawn around a per-topic era, text mixes topic words with common words, and the
dense "visual" vector is the topic centroid plus noise. Boards save pins mostly from their current
topic, chosen by popularity within it, and drift to a new topic now and then, so a board's latest
save predicts its next one the way a user's latest movie does. Sizes scale to millions of saves
because every step is vectorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from pinsage.data.schema import Dataset, assemble


class SyntheticWorld(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    n_pins: int = Field(3000, ge=10)
    n_boards: int = Field(1500, ge=2)
    n_topics: int = Field(40, ge=2)
    saves_per_board: float = Field(25.0, gt=2, description="mean saves per board")
    topic_focus: float = Field(0.8, ge=0, le=1, description="chance a save is from the board's topic")
    topic_drift: float = Field(0.05, ge=0, le=1, description="chance per save of moving to a new topic")
    popularity_skew: float = Field(1.0, ge=0, description="sigma of the log-normal pin popularity")
    dense_dim: int = Field(16, ge=0)
    dense_noise: float = Field(1.5, ge=0)
    words_per_topic: int = Field(12, ge=1)
    common_words: int = Field(200, ge=1)
    seed: int = 0


def generate_world(world: SyntheticWorld) -> Dataset:
    rng = np.random.default_rng(world.seed)
    topic = rng.integers(0, world.n_topics, world.n_pins)
    popularity = rng.lognormal(0.0, world.popularity_skew, world.n_pins)
    items = _pin_table(world, topic, rng)
    events = _saves(world, topic, popularity, rng)
    return assemble(events, items, source="synthetic world")


def _pin_table(world: SyntheticWorld, topic: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = world.n_pins
    n_categories = max(1, world.n_topics // 2)
    primary = topic % n_categories
    extra = rng.integers(0, n_categories, n)
    has_extra = rng.random(n) < 0.3
    # Text is assembled from small vocabularies by index (labels, words), never per pin in Python.
    label = np.array([f"cat{c}" for c in range(n_categories)], dtype=object)
    pair = np.array([[f"cat{p}|cat{e}" for e in range(n_categories)] for p in range(n_categories)], dtype=object)
    categories = np.where(has_extra & (extra != primary), pair[primary, extra], label[primary])
    era = rng.integers(1950, 2020, world.n_topics)
    year = np.clip(np.round(era[topic] + rng.normal(0, 6, n)), 1900, 2025).astype(np.int64)
    n_words = rng.integers(3, 8, n)
    total = int(n_words.sum())
    owner = np.repeat(np.arange(n), n_words)
    from_topic = rng.random(total) < 0.6
    topic_word = topic[owner] * world.words_per_topic + rng.integers(0, world.words_per_topic, total)
    common_word = rng.integers(0, world.common_words, total)
    n_topic_words = world.n_topics * world.words_per_topic
    vocabulary = pa.array([f"t{i}" for i in range(n_topic_words)] + [f"w{i}" for i in range(world.common_words)])
    words = vocabulary.take(np.where(from_topic, topic_word, n_topic_words + common_word))
    starts = np.concatenate([[0], np.cumsum(n_words)]).astype(np.int64)
    text = pc.binary_join(pa.LargeListArray.from_arrays(starts, words), " ")
    first_two = pa.LargeListArray.from_arrays(
        np.arange(n + 1) * 2, words.take(np.stack([starts[:-1], starts[:-1] + 1], 1).ravel())
    )
    title = pc.utf8_title(pc.binary_join(first_two, " "))
    table = pd.DataFrame(
        {
            "item_id": _numbered("pin", n),
            "title": title.to_numpy(zero_copy_only=False),
            "categories": categories,
            "year": year,
            "text": text.to_numpy(zero_copy_only=False),
        }
    )
    if world.dense_dim:
        centroids = rng.normal(0, 1, (world.n_topics, world.dense_dim))
        dense = centroids[topic] + rng.normal(0, world.dense_noise, (n, world.dense_dim))
        for j in range(world.dense_dim):
            table[f"dense_{j}"] = dense[:, j].astype(np.float32)
    return table


def _search_by_topic(
    cumulative: np.ndarray, sorted_topic: np.ndarray, key: np.ndarray, topic: np.ndarray
) -> np.ndarray:
    """`np.searchsorted(cumulative, key, side="right")` for keys in [t, t + 1) of their topic t, one topic
    at a time: the same positions, since a key lands in its topic's segment or at its end (a key within
    rounding of t stays in its topic, where one search of all pins could give topic t - 1's last pin)."""
    n_topics = int(sorted_topic.max()) + 1
    segment = np.searchsorted(sorted_topic, np.arange(n_topics + 1))
    # A small integer type sorts by radix: linear in the number of saves.
    by_topic = np.argsort(topic.astype(np.min_scalar_type(n_topics)), kind="stable")
    share = np.searchsorted(topic[by_topic], np.arange(n_topics + 1))
    pick = np.empty(len(key), dtype=np.int64)
    for t in range(n_topics):
        saves = by_topic[share[t] : share[t + 1]]
        pick[saves] = segment[t] + np.searchsorted(cumulative[segment[t] : segment[t + 1]], key[saves], side="right")
    return pick


def _numbered(prefix: str, n: int) -> np.ndarray:
    """`prefix0 … prefix{n-1}`, built by Arrow rather than one Python string at a time."""
    numbers = pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, numbers, "").to_numpy(zero_copy_only=False)


def _saves(world: SyntheticWorld, topic: np.ndarray, popularity: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    counts = np.maximum(3, rng.poisson(world.saves_per_board - 3, world.n_boards) + 3)
    total = int(counts.sum())
    board = np.repeat(np.arange(world.n_boards), counts)
    first_of_board = np.zeros(total, dtype=bool)
    first_of_board[np.concatenate([[0], np.cumsum(counts)[:-1]])] = True
    # A board's current topic changes at its first save and at each drift; forward-fill from there.
    change = first_of_board | (rng.random(total) < world.topic_drift)
    new_topic = rng.integers(0, world.n_topics, total)
    last_change = np.maximum.accumulate(np.where(change, np.arange(total), 0))
    current = new_topic[last_change]
    save_topic = np.where(rng.random(total) < world.topic_focus, current, rng.integers(0, world.n_topics, total))
    # Draw a pin of the save's topic in proportion to popularity: pins sorted by topic, each topic's
    # cumulative weights normalised to (t, t + 1], each topic's saves searched in its own segment (one
    # search of all pins for every save misses the cache at every step: 5x slower at 10M pins).
    order = np.argsort(topic, kind="stable")
    weights = popularity[order]
    sorted_topic = topic[order]
    mass = np.bincount(sorted_topic, weights=weights, minlength=world.n_topics)
    present = mass > 0
    save_topic = np.where(present[save_topic], save_topic, rng.choice(np.flatnonzero(present), total))
    within = np.cumsum(weights) - np.concatenate([[0], np.cumsum(mass)])[sorted_topic]
    cumulative = sorted_topic + within / mass[sorted_topic]
    key = save_topic + rng.random(total) * (1 - 1e-12)
    pin = order[np.minimum(_search_by_topic(cumulative, sorted_topic, key, save_topic), world.n_pins - 1)]
    start = rng.integers(1_500_000_000, 1_600_000_000, world.n_boards)
    gaps = rng.exponential(86_400.0, total).astype(np.int64) + 1
    gaps[first_of_board] = 0
    offsets = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first_of_board], counts)
    timestamp = start[board] + offsets
    # Ids as categoricals over the boards' and pins' names: 100M saves never become 100M strings.
    return pd.DataFrame(
        {
            "user_id": pd.Categorical.from_codes(board, categories=_numbered("board", world.n_boards)),
            "item_id": pd.Categorical.from_codes(pin, categories=_numbered("pin", world.n_pins)),
            "timestamp": timestamp,
        }
    )
