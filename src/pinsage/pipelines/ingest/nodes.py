"""Ingestion: any supported source, plus interaction batches dropped since → the canonical tables."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from pinsage.data.sources.batches import BATCH_EVENT_COLUMNS, add_interaction_batches, concat_batches
from pinsage.data.sources.registry import DataConfig, dataset_identity, load_source

log = logging.getLogger(__name__)


def ingest_source(
    data: DataConfig, interaction_batches: dict[str, Callable[[], pd.DataFrame]]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """The source's interactions, items and users, with every batch file's interactions added, and the
    dataset's identity (what the promotion gate compares runs by)."""
    source = load_source(data)
    dataset = add_interaction_batches(source, concat_batches(interaction_batches, BATCH_EVENT_COLUMNS))
    log.info(
        "ingested %s: %d interactions (%d new from %d batch files), %d items, %d users",
        data.source,
        len(dataset.interactions),
        len(dataset.interactions) - len(source.interactions),
        len(interaction_batches),
        len(dataset.items),
        len(dataset.users),
    )
    return dataset.interactions, dataset.items, dataset.users, dataset_identity(data)
