"""Embedding items that arrived after training: attach them to the graph, run the trained model."""

from __future__ import annotations

import logging
from typing import Callable

import pandas as pd

from pinsage.features import FeatureConfig
from pinsage.new_items import TrainedItems, attach_new_items, embed_with_new_items
from pinsage.pipelines.export.nodes import embedding_table, load_network
from pinsage.publishing import PublishedRun
from pinsage.sampling import NeighbourConfig
from pinsage.schema import DataError
from pinsage.sources.batches import BATCH_EVENT_COLUMNS, concat_batches

log = logging.getLogger(__name__)


def embed_new_items(
    published_run: PublishedRun | None,
    new_items: dict[str, Callable[[], pd.DataFrame]],
    new_item_interactions: dict[str, Callable[[], pd.DataFrame]],
    model: dict,
    features: dict,
    neighbourhood: dict,
    export: dict,
) -> pd.DataFrame:
    """The embedding table of the published model's catalogue plus every new item dropped since training.

    All batches in the new-item folders are embedded together, so a later batch's interactions with an
    earlier batch's items count, and each run's table holds every item added since the last training.
    """
    if published_run is None:
        raise DataError("nothing is published yet: run `kedro run --pipeline=train` before embedding new items")
    run = published_run
    catalogue, train_interactions = run.load("catalogue"), run.load("train_interactions")
    item_features, vocabulary = run.load("item_features"), run.load("feature_vocabulary")
    attached = attach_new_items(
        catalogue, run.load("users"), train_interactions,
        concat_batches(new_items, ("item_id",)),
        concat_batches(new_item_interactions, BATCH_EVENT_COLUMNS),
    )
    network = load_network(run.load("model_weights"), item_features, vocabulary, model).to(export["device"])
    trained = TrainedItems(
        item_features, vocabulary, run.load("item_neighbourhoods"), FeatureConfig.model_validate(features),
        NeighbourConfig.model_validate(neighbourhood),
    )
    embeddings = embed_with_new_items(
        network, attached, trained, chunk_size=export["chunk_size"], device=export["device"]
    )
    log.info(
        "embedded %d new items (%d interactions attached) beside the %d items of published model %s",
        len(attached.new_items), len(attached.interactions) - len(train_interactions), len(catalogue), run.version,
    )
    return embedding_table(attached.items, embeddings)
