"""The time-based leave-last-out split that the evaluation protocol is defined on."""

from __future__ import annotations

import numpy as np
import pandas as pd


def split_by_time(interactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per user: last interaction = test, second-to-last = validation, the rest = train.

    Ties in time keep source order (a stable sort), so the split is the same on every run. A user
    with one interaction is train-only (nothing would be left to learn from); a user with two gives
    one to train and one to test, none to validation.
    """
    order = np.lexsort((interactions["timestamp"].to_numpy(), interactions["user"].to_numpy()))
    events = interactions.iloc[order]
    position_from_end = events.groupby("user", sort=False).cumcount(ascending=False).to_numpy()
    per_user = events.groupby("user", sort=False)["item"].transform("size").to_numpy()
    is_test = (position_from_end == 0) & (per_user >= 2)
    is_val = (position_from_end == 1) & (per_user >= 3)
    is_train = ~(is_test | is_val)
    return (
        events[is_train].reset_index(drop=True),
        events[is_val].reset_index(drop=True),
        events[is_test].reset_index(drop=True),
    )
