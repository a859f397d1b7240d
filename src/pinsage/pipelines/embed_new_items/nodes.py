"""Embedding items that arrived after training with the published model, as it was trained."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from pinsage.data.sources.batches import BATCH_EVENT_COLUMNS, concat_batches
from pinsage.jobs.export import ExportConfig
from pinsage.jobs.new_items import embed_new_items
from pinsage.jobs.train import TrainSettings
from pinsage.lifecycle.publishing import PublishedRun


def embed_new_item_batches(
    published_run: PublishedRun | None,
    new_items: dict[str, Callable[[], pd.DataFrame]],
    new_item_interactions: dict[str, Callable[[], pd.DataFrame]],
    train_settings: TrainSettings,
    export: ExportConfig,
) -> pd.DataFrame:
    """The embedding table of the published model's catalogue plus every new item dropped since training.

    All batches in the new-item folders are embedded together, so a later batch's interactions with an
    earlier batch's items count. Today's settings are only compared with the published model's own, which
    are the ones used.
    """
    return embed_new_items(
        published_run,
        concat_batches(new_items, ("item_id",)),
        concat_batches(new_item_interactions, BATCH_EVENT_COLUMNS),
        export,
        today=train_settings,
    )
