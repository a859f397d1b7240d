"""The time-based split: per user, last = test, second-to-last = validation."""

from __future__ import annotations

import logging

import pandas as pd

from pinsage.split import split_by_time

log = logging.getLogger(__name__)


def split_interactions(interactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train, val, test = split_by_time(interactions)
    log.info("split: %d train, %d validation, %d test interactions", len(train), len(val), len(test))
    return train, val, test
