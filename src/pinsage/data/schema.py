"""The canonical tables every data source produces and every later step relies on.

`interactions`: one row per (user, item) event, columns `user`, `item` (contiguous int64 indices
into the user and item tables) and `timestamp` (int64 seconds), in source order; duplicates of a
(user, item) pair are dropped at ingestion, keeping the earliest, so one pair can never be in both
train and test.

`items`: one row per item in index order: `item`, `item_id` (the source's id, as text), `title`,
`categories` ("|"-joined labels, "" when none), `year` (int64, 0 when unknown), `text` (free text,
"" when none) and optionally dense vector columns `dense_0 … dense_{k-1}` (float32).

`users`: one row per user in index order: `user`, `user_id` (the source's id, as text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

INTERACTION_COLUMNS = ("user", "item", "timestamp")
ITEM_COLUMNS = ("item", "item_id", "title", "categories", "year", "text")
USER_COLUMNS = ("user", "user_id")
DENSE_PREFIX = "dense_"


class DataError(ValueError):
    """Input data that cannot be used; the message names the file, row or column at fault."""


def raise_at_first_bad_row(bad: np.ndarray | pd.Series, describe: Callable[[int], str]) -> None:
    """Raise DataError with `describe(row)` for the first row where `bad` is true, if any.

    Only the first is named: a user fixes the file from the top, and one clear message beats a
    thousand-line list. `row` is 0-based; `describe` turns it into the file's own line numbering.
    """
    flags = np.asarray(bad, dtype=bool)
    if flags.any():
        raise DataError(describe(int(np.flatnonzero(flags)[0])))


# Timestamps are whole seconds from 0 up to 18 digits, the rule of every reader (MovieLens's integer columns
# too): larger values, or "inf", wrapped to -9223372036854775808 when stored as int64.
LARGEST_TIMESTAMP = 10**18 - 1


def bad_timestamps(seconds: pd.Series) -> np.ndarray:
    """Where parsed numbers (NaN where not a number) are not whole seconds in [0, LARGEST_TIMESTAMP]."""
    values = seconds.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(values) & (values >= 0) & (values <= LARGEST_TIMESTAMP) & (values == np.floor(values)))


def where(frame: pd.DataFrame, row: int) -> str:
    """`file, line n` for a row read from a file (readers record `source_file`, `source_line`), else `row n`."""
    if "source_file" in frame.columns:
        return f"{frame['source_file'].iloc[row]}, line {frame['source_line'].iloc[row]}"
    return f"row {row + 1}"


def id_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each row's position among the distinct ids, and those ids as text in order of first appearance.

    One hashing pass over the rows (none over a categorical column's): at 100M events, turning every id
    into a string first would cost minutes and gigabytes. Ids that differ as values but not as text
    (1 and "1") are one id, as they are in the files."""
    codes, uniques = pd.factorize(ids, use_na_sentinel=False)
    text = pd.Index(uniques).astype(str)
    merged, distinct = pd.factorize(text)
    if len(distinct) < len(text):
        codes = merged[codes]
    return codes.astype(np.int64), pd.Index(distinct)


def index_events(events: pd.DataFrame, user_index: pd.Index, item_index: pd.Index) -> pd.DataFrame:
    """Canonical interactions (`user`, `item`, `timestamp`) from source events (`user_id`, `item_id`,
    `timestamp`) whose ids are all in the given indexes (checked by the caller, who can name the file)."""
    user_codes, user_ids = id_codes(events["user_id"])
    item_codes, item_ids = id_codes(events["item_id"])
    return pd.DataFrame(
        {
            "user": user_index.get_indexer(user_ids)[user_codes].astype(np.int64),
            "item": item_index.get_indexer(item_ids)[item_codes].astype(np.int64),
            "timestamp": events["timestamp"].to_numpy(dtype=np.int64),
        }
    )


@dataclass(frozen=True)
class Dataset:
    """The three canonical tables of one source."""

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame


def dense_columns(items: pd.DataFrame) -> list[str]:
    """The dense-vector columns of an item table, in numeric order."""
    cols = [c for c in items.columns if c.startswith(DENSE_PREFIX)]
    return sorted(cols, key=lambda c: int(c[len(DENSE_PREFIX) :]))


def assemble(
    events: pd.DataFrame,
    items: pd.DataFrame,
    source: str,
    users: pd.DataFrame | None = None,
) -> Dataset:
    """Index raw events and items into the canonical tables.

    `events` has columns `user_id`, `item_id`, `timestamp` (already validated as numbers where the
    source has numeric ids); `items` has `item_id` plus any of the optional item columns. Every event's
    item must be in `items`: an unknown item is an error naming the first offending event, because
    silently dropping it would change the split.
    """
    items = items.reset_index(drop=True)
    items["item_id"] = items["item_id"].astype(str)
    raise_at_first_bad_row(
        items["item_id"].duplicated(),
        lambda row: (
            f"{source}: {where(items, row)}: item id {items['item_id'].iloc[row]!r} appears more than once "
            "in the item table"
        ),
    )
    events = events.reset_index(drop=True)
    item_codes, item_ids = id_codes(events["item_id"])
    item_of_id = pd.Index(items["item_id"]).get_indexer(item_ids)
    raise_at_first_bad_row(
        item_of_id[item_codes] < 0,
        lambda row: f"{source}: {where(events, row)}: item {item_ids[item_codes[row]]!r} is not in the item table",
    )
    user_codes, user_ids = id_codes(events["user_id"])
    if users is None:
        users = pd.DataFrame({"user_id": user_ids})
        user_of_id = np.arange(len(user_ids))
    else:
        users = users.copy()
        users["user_id"] = users["user_id"].astype(str)
        user_of_id = pd.Index(users["user_id"]).get_indexer(user_ids)
        raise_at_first_bad_row(
            user_of_id[user_codes] < 0,
            lambda row: f"{source}: {where(events, row)}: user {user_ids[user_codes[row]]!r} is not in the user table",
        )
    users = users.reset_index(drop=True)
    interactions = pd.DataFrame(
        {
            "user": user_of_id[user_codes].astype(np.int64),
            "item": item_of_id[item_codes].astype(np.int64),
            "timestamp": events["timestamp"].to_numpy(dtype=np.int64),
        }
    )
    return Dataset(
        interactions=keep_earliest_pairs(interactions),
        items=canonical_items(items),
        users=pd.DataFrame({"user": np.arange(len(users), dtype=np.int64), "user_id": users["user_id"].astype(str)}),
    )


def among(ids: pd.Series, known: pd.Series | pd.Index) -> np.ndarray:
    """Whether each id, as text, is one of the `known` ids: one hash lookup per id, where `isin` on
    pandas' Arrow-backed strings walks them in Python (11 s against 1.3 s for 1M ids)."""
    return pd.Index(known).astype(str).unique().get_indexer(ids.astype(str)) >= 0


def extend_user_index(known_user_ids: pd.Series, event_user_ids: pd.Series) -> pd.Index:
    """The known users, then users first seen in the events, in order of first appearance."""
    known = pd.Index(known_user_ids.astype(str))
    ids = event_user_ids.astype(str)
    return known.append(pd.Index(pd.unique(ids[~among(ids, known)])))


def keep_earliest_pairs(interactions: pd.DataFrame) -> pd.DataFrame:
    """The earliest event of each (user, item) pair, in source order; ties in time keep file order."""
    order = np.argsort(interactions["timestamp"].to_numpy(), kind="stable")
    item = interactions["item"].to_numpy(dtype=np.int64)
    pair = interactions["user"].to_numpy(dtype=np.int64) * (int(item.max(initial=0)) + 1) + item  # one hashed key
    first = ~pd.Series(pair[order]).duplicated(keep="first").to_numpy()
    return interactions.iloc[np.sort(order[first])].reset_index(drop=True)


def canonical_items(items: pd.DataFrame) -> pd.DataFrame:
    """The canonical item table, indexed 0..n-1 in the given order, from any subset of its columns."""
    out = pd.DataFrame({"item": np.arange(len(items), dtype=np.int64)})
    out["item_id"] = items["item_id"].astype(str).to_numpy()
    out["title"] = _text_column(items, "title")
    out["categories"] = _text_column(items, "categories")
    year = items["year"] if "year" in items else pd.Series(0, index=items.index)
    out["year"] = pd.to_numeric(year, errors="coerce").fillna(0).astype(np.int64).to_numpy()
    out["text"] = _text_column(items, "text")
    for col in dense_columns(items):
        out[col] = items[col].to_numpy(dtype=np.float32)
    return out


def _text_column(items: pd.DataFrame, name: str) -> np.ndarray:
    if name not in items:
        return np.full(len(items), "", dtype=object)
    return items[name].fillna("").astype(str).to_numpy(dtype=object)


def validate(dataset: Dataset) -> None:
    """Check the canonical contract; raises DataError naming the broken column."""
    for name, frame, cols in (
        ("interactions", dataset.interactions, INTERACTION_COLUMNS),
        ("items", dataset.items, ITEM_COLUMNS),
        ("users", dataset.users, USER_COLUMNS),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"{name} table lacks column(s) {missing}")
    inter = dataset.interactions
    if len(inter) == 0:
        raise DataError("interactions table is empty")
    if inter["item"].min() < 0 or inter["item"].max() >= len(dataset.items):
        raise DataError("interactions.item holds an index outside the item table")
    if inter["user"].min() < 0 or inter["user"].max() >= len(dataset.users):
        raise DataError("interactions.user holds an index outside the user table")
