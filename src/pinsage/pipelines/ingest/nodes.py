"""Ingestion: any supported source, plus interaction batches dropped since → the canonical tables."""

from __future__ import annotations

import logging
from typing import Callable

import pandas as pd

from pinsage.sources import load_source
from pinsage.sources.batches import BATCH_EVENT_COLUMNS, add_interaction_batches, concat_batches
from pinsage.sources.loading import DataConfig

log = logging.getLogger(__name__)


def ingest_source(
    data: dict, interaction_batches: dict[str, Callable[[], pd.DataFrame]]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    config = DataConfig.model_validate(data)
    source = load_source(config)
    dataset = add_interaction_batches(source, concat_batches(interaction_batches, BATCH_EVENT_COLUMNS))
    log.info(
        "ingested %s: %d interactions (%d new from %d batch files), %d items, %d users",
        config.source, len(dataset.interactions), len(dataset.interactions) - len(source.interactions),
        len(interaction_batches), len(dataset.items), len(dataset.users),
    )
    return dataset.interactions, dataset.items, dataset.users
