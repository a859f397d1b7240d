"""Interaction files dropped into a folder one per day: picked up, with repeated pairs dropped."""

from __future__ import annotations

import pandas as pd
import pytest

from pinsage.data.schema import DataError, assemble
from pinsage.data.sources.batches import add_interaction_batches, concat_batches

COLUMNS = ("user_id", "item_id", "timestamp")


def source():
    events = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"], "timestamp": [1, 2, 3]})
    return assemble(events, pd.DataFrame({"item_id": ["a", "b", "c"]}), "test")


def batch_files(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return {
        str(tmp_path / name): (lambda p=tmp_path / name: pd.read_csv(p, dtype={"user_id": str, "item_id": str}))
        for name in files
    }


def test_batches_are_added_in_file_order_and_repeats_keep_the_earliest(tmp_path):
    batches = concat_batches(
        batch_files(
            tmp_path,
            {
                "2026-11-02.csv": "user_id,item_id,timestamp\nu3,c,20\nu1,c,21\n",
                "2026-11-01.csv": "user_id,item_id,timestamp\nu1,a,10\nu3,c,9\n",
            },
        ),
        COLUMNS,
    )
    assert batches["source_file"].str.endswith("2026-11-01.csv").tolist()[:2] == [True, True]
    data = add_interaction_batches(source(), batches)
    assert data.users["user_id"].tolist() == ["u1", "u2", "u3"]
    pairs = {(data.users["user_id"][u], data.items["item_id"][i], t) for u, i, t in data.interactions.to_numpy()}
    # (u1, a) was in the source at t=1; (u3, c) came twice, the earliest (t=9) stays.
    assert pairs == {("u1", "a", 1), ("u1", "b", 2), ("u2", "a", 3), ("u3", "c", 9), ("u1", "c", 21)}


def test_no_batches_change_nothing():
    data = add_interaction_batches(source(), concat_batches({}, COLUMNS))
    assert data.interactions.equals(source().interactions)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "user_id,item_id,timestamp\nu1,a,5\nu1,zz,6\n",
            r"day\.csv, line 3: item 'zz' is not in the source's item table",
        ),
        ("user_id,item_id,timestamp\nu1,a,soon\n", r"day\.csv, line 2: timestamp 'soon' is not whole seconds"),
        ("user,item_id,timestamp\nu1,a,5\n", r"day\.csv: lacks column\(s\) \['user_id'\]"),
    ],
)
def test_bad_batches_name_file_and_line(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        add_interaction_batches(source(), concat_batches(batch_files(tmp_path, {"day.csv": text}), COLUMNS))


@pytest.mark.parametrize(
    "text, named",
    [
        ("user_id,item_id,timestamp\nu1,a,5\n,a,6\n", r"day\.csv, line 3: user_id is empty"),
        ("user_id,item_id,timestamp\nu1,a,5\nu3,,6\n", r"day\.csv, line 3: item_id is empty"),
        ("user_id,item_id,timestamp\nu1,a,5\nu3,a,-6\n", r"day\.csv, line 3: timestamp -6 is negative"),
    ],
)
def test_empty_ids_and_negative_timestamps_in_a_batch_are_rejected(tmp_path, text, named):
    """An empty user_id became a user named "nan"; a negative timestamp was taken as the earliest event."""
    batches = concat_batches(batch_files(tmp_path, {"day.csv": text}), COLUMNS)
    with pytest.raises(DataError, match=named):
        add_interaction_batches(source(), batches)


@pytest.mark.parametrize("value", ["inf", "1e30", "99999999999999999999"])
def test_a_batch_timestamp_beyond_64_bits_names_its_line(tmp_path, value):
    """`1e30` was stored as -9223372036854775808; `inf` raised pandas' IntCastingNaNError with no file or line."""
    batches = concat_batches(batch_files(tmp_path, {"day.csv": f"user_id,item_id,timestamp\nu1,a,{value}\n"}), COLUMNS)
    with pytest.raises(DataError, match=r"day\.csv, line 2: timestamp \S+ is not whole seconds between 0 and"):
        add_interaction_batches(source(), batches)
