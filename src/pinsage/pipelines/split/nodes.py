"""The item hold-out (for the inductive evaluation), then the time-based split of the rest."""

from __future__ import annotations

import logging

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from pinsage.split import hold_out_items, split_by_time

log = logging.getLogger(__name__)


class SplitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_out_item_fraction: float = Field(
        0.1, ge=0, lt=1, description="items removed from training entirely, embedded inductively afterwards"
    )
    seed: int = 0


def split_interactions(
    interactions: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame, split: dict
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Returns catalogue, train, validation, test, held-out items and their interactions."""
    config = SplitConfig.model_validate(split)
    held = hold_out_items(interactions, items, users, config.held_out_item_fraction, config.seed)
    train, val, test = split_by_time(held.interactions)
    log.info(
        "split: %d catalogue items (%d held out, with %d interactions); %d train, %d validation, %d test",
        len(held.catalogue), len(held.held_out_items), len(held.held_out_interactions),
        len(train), len(val), len(test),
    )
    return held.catalogue, train, val, test, held.held_out_items, held.held_out_interactions
