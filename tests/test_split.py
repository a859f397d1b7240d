import pandas as pd

from pinsage.split import split_by_time


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
    assert all(a.equals(b) for a, b in zip((train, val, test), again))


def test_one_and_two_interaction_users():
    events = frame([(0, 1, 1), (1, 2, 1), (1, 3, 2), (2, 1, 1), (2, 2, 2), (2, 3, 3)])
    train, val, test = split_by_time(events)
    assert train[train["user"] == 0]["item"].tolist() == [1]  # one event: train only
    assert 0 not in set(val["user"]) | set(test["user"])
    assert train[train["user"] == 1]["item"].tolist() == [2]  # two events: train + test
    assert test[test["user"] == 1]["item"].tolist() == [3] and 1 not in set(val["user"])
    assert len(train) + len(val) + len(test) == len(events)
