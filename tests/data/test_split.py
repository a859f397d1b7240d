import numpy as np
import pandas as pd

from pinsage.data.split import hold_out_items, split_by_time, split_last, user_time_order


def frame(rows):
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"])


def test_last_is_test_second_to_last_is_validation():
    events = frame([(0, 1, 30), (0, 2, 10), (0, 3, 20), (0, 4, 40)])
    train, val, test = split_by_time(events)
    assert train["item"].tolist() == [2, 3]
    assert val["item"].tolist() == [1]
    assert test["item"].tolist() == [4]


def test_equal_timestamps_keep_source_order():
    events = frame([(0, 7, 5), (0, 8, 5), (0, 9, 5), (0, 6, 1)])
    train, val, test = split_by_time(events)
    # All at t=5: the one that came last in the source is the latest.
    assert test["item"].tolist() == [9] and val["item"].tolist() == [8]
    assert train["item"].tolist() == [6, 7]
    again = split_by_time(events)
    assert all(a.equals(b) for a, b in zip((train, val, test), again, strict=True))


def test_one_and_two_interaction_users():
    events = frame([(0, 1, 1), (1, 2, 1), (1, 3, 2), (2, 1, 1), (2, 2, 2), (2, 3, 3)])
    train, val, test = split_by_time(events)
    assert train[train["user"] == 0]["item"].tolist() == [1]  # one event: train only
    assert 0 not in set(val["user"]) | set(test["user"])
    assert train[train["user"] == 1]["item"].tolist() == [2]  # two events: train + test
    assert test[test["user"] == 1]["item"].tolist() == [3] and 1 not in set(val["user"])
    assert len(train) + len(val) + len(test) == len(events)


def test_split_last_keeps_each_users_latest_apart():
    events = frame([(0, 1, 30), (0, 2, 10), (1, 3, 5), (2, 4, 1), (2, 5, 2)])
    earlier, last = split_last(events)
    assert sorted(zip(last["user"], last["item"], strict=True)) == [(0, 1), (2, 5)]
    assert sorted(zip(earlier["user"], earlier["item"], strict=True)) == [(0, 2), (1, 3), (2, 4)]  # user 1: one event


def test_item_hold_out_removes_items_entirely_and_reindexes_the_rest():
    items = pd.DataFrame({"item": range(10), "item_id": [f"i{i}" for i in range(10)]})
    users = pd.DataFrame({"user": range(3), "user_id": ["u0", "u1", "u2"]})
    events = frame([(u, i, 10 * u + i) for u in range(3) for i in range(10)])
    held = hold_out_items(events, items, users, fraction=0.3, seed=0)
    assert len(held.held_out_items) == 3 and len(held.catalogue) == 7
    assert held.catalogue["item"].tolist() == list(range(7))
    gone = set(held.held_out_items["item_id"])
    assert not gone & set(held.catalogue["item_id"])
    # Every event on a held-out item left with it, by source ids; the rest were re-indexed.
    assert len(held.held_out_interactions) == 9 and set(held.held_out_interactions["item_id"]) == gone
    kept_ids = held.catalogue["item_id"].to_numpy()[held.interactions["item"].to_numpy()]
    assert len(held.interactions) == 21 and not gone & set(kept_ids)
    assert list(zip(held.interactions["user"], kept_ids, held.interactions["timestamp"], strict=True)) == [
        (u, f"i{i}", 10 * u + i) for u in range(3) for i in range(10) if f"i{i}" not in gone
    ]
    again = hold_out_items(events, items, users, fraction=0.3, seed=0)
    assert again.held_out_items.equals(held.held_out_items)
    assert hold_out_items(events, items, users, fraction=0.0, seed=0).interactions.equals(events)


def test_the_split_on_many_users_with_ties_matches_its_definition():
    """Per user, by time then source order: last = test (two or more events), second-to-last = validation
    (three or more), the rest train. The reference ranks each user's events one user at a time."""
    rng = np.random.default_rng(0)
    n = 3_000
    events = frame(
        {"user": rng.integers(0, 400, n), "item": np.arange(n), "timestamp": rng.integers(0, 6, n)}  # many ties
    )
    train, val, test = split_by_time(events)
    expected = {"train": set(), "val": set(), "test": set()}
    for _, group in events.groupby("user"):
        latest_first = group.iloc[::-1].sort_values("timestamp", kind="stable", ascending=False)["item"].tolist()
        if len(latest_first) >= 2:
            expected["test"].add(latest_first.pop(0))
        if len(latest_first) >= 2:
            expected["val"].add(latest_first.pop(0))
        expected["train"].update(latest_first)
    assert set(train["item"]) == expected["train"] and len(train) == len(expected["train"])
    assert set(val["item"]) == expected["val"] and len(val) == len(expected["val"])
    assert set(test["item"]) == expected["test"] and len(test) == len(expected["test"])
    earlier, last = split_last(events)
    assert set(last["item"]) == expected["test"] and len(earlier) + len(last) == n


def test_no_events_split_into_empty_tables():
    assert all(part.empty for part in split_by_time(frame([])))
    assert all(part.empty for part in split_last(frame([])))


def test_user_time_order_is_lexsorts_with_ties_negative_times_and_spans_too_wide_to_pack():
    rng = np.random.default_rng(0)
    user = rng.integers(0, 50, 5000)
    for timestamp in (
        rng.integers(0, 20, 5000),  # many ties: source order must survive
        rng.integers(-(10**9), 10**9, 5000),  # negative seconds
        rng.integers(-(2**62), 2**62, 5000),  # a span that cannot be packed beside the user
        rng.integers(0, 20, 5000).astype(np.float64),  # not integers
    ):
        assert np.array_equal(user_time_order(user, timestamp), np.lexsort((timestamp, user)))
    assert len(user_time_order(np.zeros(0, np.int64), np.zeros(0, np.int64))) == 0


def test_global_time_cuts_put_every_training_interaction_before_every_held_out_one():
    from pinsage.data.split import SplitConfig, split_interactions
    from pinsage.evaluation.metrics import EvaluationQueries

    # Ten seconds, two users; the cuts fall at the 60% and 80% quantiles of the timestamps.
    events = frame([(u, 10 * u + t, t) for t in range(10) for u in (0, 1)])
    config = SplitConfig(scheme="global_time", val_fraction=0.2, test_fraction=0.2)
    train, val, test = split_interactions(events, config)
    assert train["timestamp"].max() < val["timestamp"].min() <= val["timestamp"].max() < test["timestamp"].min()
    assert (len(train), len(val), len(test)) == (12, 4, 4)
    assert set(val["timestamp"]) == {6, 7}  # both users' interactions at one second fall on one side
    # The evaluation asks each user for the first interaction after the cut, from the latest before it.
    queries = EvaluationQueries(pd.concat([train, val]), test, n_users=2, n_items=20)
    assert queries.targets.tolist() == [8, 18] and queries.queries.tolist() == [7, 17]
    assert queries.tied == 0


def test_split_fractions_must_leave_something_to_train_on():
    import pytest
    from pydantic import ValidationError

    from pinsage.data.split import SplitConfig

    with pytest.raises(ValidationError, match="val_fraction"):
        SplitConfig(scheme="global_time", val_fraction=0.5, test_fraction=0.5)
