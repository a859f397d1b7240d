import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import torch

from pinsage.graph.engagement import EngagementSequence


def interactions(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"])


# User 0 engages 1, 2, 3, 4 in time order; user 1 engages 5 and 6 at the same second (source order 6, 5),
# then 1. Rows are deliberately not in (user, time) order.
EVENTS = interactions([(0, 3, 30), (1, 6, 5), (0, 1, 10), (1, 5, 5), (0, 4, 40), (0, 2, 20), (1, 1, 9)])


def brute_force_pairs(events: pd.DataFrame, window: int) -> Counter:
    """Ordered pairs (earlier, later) at most `window` apart per user, in (time, source order)."""
    ordered = events.reset_index().sort_values(["user", "timestamp", "index"], kind="stable")
    pairs: Counter = Counter()
    for _, items in ordered.groupby("user")["item"]:
        items = items.tolist()
        for t, s in itertools.product(range(len(items)), range(1, window + 1)):
            if t + s < len(items) and items[t] != items[t + s]:
                pairs[(items[t], items[t + s])] += 1
    return pairs


def test_pairs_are_one_users_items_at_most_window_apart_in_time_order_ties_in_source_order():
    sequence = EngagementSequence(EVENTS, window=2)
    assert sequence.items.tolist() == [1, 2, 3, 4, 6, 5, 1]
    assert sequence.pairs == sum(brute_force_pairs(EVENTS, 2).values()) == 5 + 3
    queries, positives = sequence.draw(4000, torch.Generator().manual_seed(0))
    allowed = brute_force_pairs(EVENTS, 2)
    drawn = Counter(zip(queries.tolist(), positives.tolist(), strict=True))
    assert set(drawn) == set(allowed) | {(b, a) for a, b in allowed}  # both directions, nothing else
    assert len(queries) == 4000


def test_pairs_are_drawn_uniformly_over_pairs_so_queries_follow_engagement():
    sequence = EngagementSequence(EVENTS, window=2)
    queries, positives = sequence.draw(40_000, torch.Generator().manual_seed(1))
    undirected = Counter(tuple(sorted(p)) for p in zip(queries.tolist(), positives.tolist(), strict=True))
    expected = Counter()
    for (a, b), n in brute_force_pairs(EVENTS, 2).items():
        expected[tuple(sorted((a, b)))] += n
    total = sum(expected.values())
    for pair, n in expected.items():
        assert undirected[pair] / 40_000 == pytest.approx(n / total, abs=0.012)


def test_uniform_query_sampling_draws_every_item_with_a_pair_equally_often():
    sequence = EngagementSequence(EVENTS, window=1)
    queries, positives = sequence.draw(30_000, torch.Generator().manual_seed(2), query_sampling="uniform")
    allowed = brute_force_pairs(EVENTS, 1)
    assert set(zip(queries.tolist(), positives.tolist(), strict=True)) <= set(allowed) | {(b, a) for a, b in allowed}
    share = np.bincount(queries.numpy(), minlength=7)[1:] / len(queries)
    assert share == pytest.approx(np.full(6, 1 / 6), abs=0.015)


def test_same_generator_same_pairs_and_a_sequence_without_pairs_draws_none():
    sequence = EngagementSequence(EVENTS, window=3)
    a = sequence.draw(100, torch.Generator().manual_seed(5))
    b = sequence.draw(100, torch.Generator().manual_seed(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    lonely = EngagementSequence(interactions([(0, 1, 1), (1, 2, 1), (2, 2, 3), (2, 2, 4)]), window=3)
    assert lonely.pairs == 1 and len(lonely.draw(10, torch.Generator())[0]) == 0  # only repeats of one item


def test_window_pairs_are_the_window_cooccurrences_both_ways():
    sequence = EngagementSequence(EVENTS, window=2)
    rows, columns = sequence.window_pairs(n_items=7)
    allowed = brute_force_pairs(EVENTS, 2)
    assert set(zip(rows.tolist(), columns.tolist(), strict=True)) == set(allowed) | {(b, a) for a, b in allowed}


def test_a_window_beyond_one_byte_is_refused():
    with pytest.raises(ValueError, match="pairs.window"):
        EngagementSequence(EVENTS, window=256)
