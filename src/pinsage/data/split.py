"""The time-based leave-last-out split that the evaluation protocol is defined on, and the item
hold-out that the inductive (new-item) evaluation is defined on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator


class SplitConfig(BaseModel):
    """The `split` parameters."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    held_out_item_fraction: float = Field(
        0.1, ge=0, lt=1, description="items removed from training entirely, embedded inductively afterwards"
    )
    seed: int = 0
    scheme: Literal["per_user_last", "global_time"] = Field(
        "per_user_last",
        description="per_user_last: each user's last interaction is test, the one before validation; "
        "global_time: two cuts in time for everyone (a robustness check: no training interaction is later than "
        "any validation or test one), each user asked for their first interaction after a cut",
    )
    val_fraction: float = Field(
        0.1, gt=0, lt=1, description="global_time: the share of interactions after the first cut"
    )
    test_fraction: float = Field(0.1, gt=0, lt=1, description="global_time: the share after the second cut")

    @model_validator(mode="after")
    def _room_to_train(self) -> SplitConfig:
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError("split.val_fraction + split.test_fraction must leave interactions to train on (< 1)")
        return self


def split_interactions(
    interactions: pd.DataFrame, config: SplitConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train, validation and test interactions by `config.scheme`."""
    if config.scheme == "global_time":
        return split_by_global_time(interactions, config.val_fraction, config.test_fraction)
    return split_by_time(interactions)


def split_by_global_time(
    interactions: pd.DataFrame, val_fraction: float, test_fraction: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two cuts in time: interactions before the first train, between the cuts validation, after the
    second test, each in (user, time) order. The cuts are the timestamps below which 1 − val − test and
    1 − test of the interactions lie; interactions at one second fall on one side. The evaluation asks each
    user for their first validation (test) interaction, from their latest one before it."""
    events = interactions.iloc[user_time_order(interactions["user"].to_numpy(), interactions["timestamp"].to_numpy())]
    timestamp = events["timestamp"].to_numpy()
    if not len(events):
        return events, events, events
    val_cut, test_cut = np.quantile(timestamp, [1 - val_fraction - test_fraction, 1 - test_fraction], method="higher")
    parts = (timestamp < val_cut, (timestamp >= val_cut) & (timestamp < test_cut), timestamp >= test_cut)
    return tuple(events[part].reset_index(drop=True) for part in parts)


def split_by_time(interactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per user: last interaction = test, second-to-last = validation, the rest = train.

    Ties in time keep source order (a stable sort), so the split is the same on every run. A user
    with one interaction is train-only (nothing would be left to learn from); a user with two gives
    one to train and one to test, none to validation.
    """
    events, position_from_end, per_user = _positions_from_end(interactions)
    is_test = (position_from_end == 0) & (per_user >= 2)
    is_val = (position_from_end == 1) & (per_user >= 3)
    is_train = ~(is_test | is_val)
    return (
        events[is_train].reset_index(drop=True),
        events[is_val].reset_index(drop=True),
        events[is_test].reset_index(drop=True),
    )


def split_last(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user: every interaction but the last, and the last (for users with two or more)."""
    events, position_from_end, per_user = _positions_from_end(events)
    is_last = (position_from_end == 0) & (per_user >= 2)
    return events[~is_last].reset_index(drop=True), events[is_last].reset_index(drop=True)


def _positions_from_end(events: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Events sorted by user then time (stable: ties keep source order), each event's position from
    its user's latest (0 = latest), and its user's event count."""
    events = events.iloc[user_time_order(events["user"].to_numpy(), events["timestamp"].to_numpy())]
    # Each user's events are now one run: counted from the run's boundaries, without a hash per event.
    user = events["user"].to_numpy()
    bounds = np.r_[0, np.flatnonzero(user[1:] != user[:-1]) + 1, len(user)] if len(user) else np.zeros(1, np.int64)
    per_user = np.repeat(np.diff(bounds), np.diff(bounds))
    position_from_end = np.repeat(bounds[1:], np.diff(bounds)) - 1 - np.arange(len(user))
    return events, position_from_end, per_user


def user_time_order(user: np.ndarray, timestamp: np.ndarray) -> np.ndarray:
    """The stable order by user, then time: `np.lexsort((timestamp, user))`.

    Where user and time offset fit in 63 bits together (seconds over any real span do), as one stable
    sort of a packed int64 key: 9x faster than lexsort's two passes on 100M synthetic interactions
    (4.4 s against 40 s), 2.3x on shuffled ones.
    """
    integers = np.issubdtype(user.dtype, np.integer) and np.issubdtype(timestamp.dtype, np.integer)
    if not (len(user) and integers):
        return np.lexsort((timestamp, user))
    first, last = int(timestamp.min()), int(timestamp.max())
    time_bits = (last - first).bit_length()
    if user.min() < 0 or int(user.max()).bit_length() + time_bits > 63:
        return np.lexsort((timestamp, user))
    # (user << bits) + (timestamp - first), built in place: one int64 array beside the inputs.
    key = user.astype(np.int64)
    np.left_shift(key, time_bits, out=key)
    key += timestamp.astype(np.int64, copy=False)
    key -= first
    return np.argsort(key, kind="stable")


@dataclass(frozen=True)
class ItemHoldOut:
    """A catalogue without a random share of its items, and those items with their interactions.

    The kept items are re-indexed 0..n-1 in their original order, so the held-out items are exactly
    what a new item is to a trained model: beyond its item table, with no learnt ID vector, absent
    from its graph, features fitted without them.
    """

    catalogue: pd.DataFrame
    interactions: pd.DataFrame
    held_out_items: pd.DataFrame
    held_out_interactions: pd.DataFrame


def hold_out_items(
    interactions: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame, fraction: float, seed: int
) -> ItemHoldOut:
    """Remove `fraction` of the items, chosen at random, with every interaction that touches them.

    Held-out interactions keep source ids (`user_id`, `item_id`, `timestamp`): that is how new items'
    first interactions arrive in production, and what `pinsage.inductive.attach.attach_new_items` reads.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"split.held_out_item_fraction must be in [0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    held = np.zeros(len(items), dtype=bool)
    held[rng.choice(len(items), size=int(round(fraction * len(items))), replace=False)] = True
    new_index = np.full(len(items), -1, dtype=np.int64)
    new_index[~held] = np.arange(int((~held).sum()))
    touches = held[interactions["item"].to_numpy()]
    kept_rows = ~touches
    # Column by column, uncopied and unconsolidated: selecting the frame, copying it and writing a column
    # copied the kept rows (90M at 10M items) three times. Ids are taken from their own (Arrow) arrays:
    # going through NumPy object arrays built 10M Python strings and then inferred their type again.
    columns = {name: interactions[name].to_numpy()[kept_rows] for name in interactions.columns}
    columns["item"] = new_index[columns["item"]]
    kept = pd.DataFrame(columns, copy=False)
    catalogue = items[~held]
    catalogue = catalogue.assign(item=np.arange(len(catalogue), dtype=np.int64)).reset_index(drop=True)
    held_events = interactions[touches]
    return ItemHoldOut(
        catalogue=catalogue,
        interactions=kept,
        held_out_items=items[held].drop(columns="item").reset_index(drop=True),
        held_out_interactions=pd.DataFrame(
            {
                "user_id": users["user_id"].array.take(held_events["user"].to_numpy()),
                "item_id": items["item_id"].array.take(held_events["item"].to_numpy()),
                "timestamp": held_events["timestamp"].to_numpy(),
            }
        ),
    )
