"""The item hold-out (for the inductive evaluation), then the time-based split of the rest."""

from __future__ import annotations

import logging

import pandas as pd

from pinsage.data.split import SplitConfig, hold_out_items, split_interactions

log = logging.getLogger(__name__)


def hold_out_and_split(
    interactions: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame, split: SplitConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Returns catalogue, its item ids alone, train, validation, test, held-out items and their interactions,
    and the split's counts.

    The ids alone are what training needs of the catalogue (to match a published model's rows when it
    warm-starts): at 10M items the whole catalogue, with its text, holds 1.3 GiB for the whole of training.
    The counts are what the graph and the report need of the tables (90M training rows at 10M items).
    """
    held = hold_out_items(interactions, items, users, split.held_out_item_fraction, split.seed)
    train, val, test = split_interactions(held.interactions, split)
    log.info(
        "split: %d catalogue items (%d held out, with %d interactions); %d train, %d validation, %d test",
        len(held.catalogue),
        len(held.held_out_items),
        len(held.held_out_interactions),
        len(train),
        len(val),
        len(test),
    )
    ids = held.catalogue[["item_id"]]
    summary = {
        "items": len(held.catalogue),
        "users": len(users),
        "held_out_items": len(held.held_out_items),
        "train": len(train),
        "val": len(val),
        "test": len(test),
        "scheme": split.scheme,
    }
    return held.catalogue, ids, train, val, test, held.held_out_items, held.held_out_interactions, summary
