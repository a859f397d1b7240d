"""Ingestion: any supported source → the canonical interactions, items and users tables."""

from __future__ import annotations

import logging

import pandas as pd

from pinsage.sources import load_source
from pinsage.sources.loading import DataConfig

log = logging.getLogger(__name__)


def ingest_source(data: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    config = DataConfig.model_validate(data)
    dataset = load_source(config)
    log.info(
        "ingested %s: %d interactions, %d items, %d users",
        config.source, len(dataset.interactions), len(dataset.items), len(dataset.users),
    )
    return dataset.interactions, dataset.items, dataset.users
