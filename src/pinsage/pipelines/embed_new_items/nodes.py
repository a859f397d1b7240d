"""Embedding items that arrived after training with the published model, as it was trained."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from pinsage.data.features import FeatureConfig
from pinsage.data.sources.batches import BATCH_EVENT_COLUMNS, concat_batches
from pinsage.graph.config import NeighbourConfig
from pinsage.jobs.new_items import embed_new_items
from pinsage.lifecycle.publishing import PublishedRun
from pinsage.model.pinsage import ModelConfig
from pinsage.model.scoring import ScoringConfig
from pinsage.model.taste import NewItemConfig
from pinsage.serving.embeddings import ExportConfig


def embed_new_item_batches(
    published_run: PublishedRun | None,
    new_items: dict[str, Callable[[], pd.DataFrame]],
    new_item_interactions: dict[str, Callable[[], pd.DataFrame]],
    model: ModelConfig,
    features: FeatureConfig,
    neighbourhood: NeighbourConfig,
    new_items_config: NewItemConfig,
    scoring: ScoringConfig,
    export: ExportConfig,
) -> pd.DataFrame:
    """The embedding table of the published model's catalogue plus every new item dropped since training.

    All batches in the new-item folders are embedded together, so a later batch's interactions with an
    earlier batch's items count. Today's model, features, neighbourhood, new_items and scoring parameters are only
    compared with the published model's own settings, which are the ones used.
    """
    return embed_new_items(
        published_run,
        concat_batches(new_items, ("item_id",)),
        concat_batches(new_item_interactions, BATCH_EVENT_COLUMNS),
        export,
        today={
            "model": model,
            "features": features,
            "neighbourhood": neighbourhood,
            "new_items": new_items_config,
            "scoring": scoring,
        },
    )
