"""New items without retraining: the published model's catalogue plus every item added since, embedded
with the published model exactly as it was trained."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pydantic import BaseModel

from pinsage.data.schema import DataError
from pinsage.graph.build import build_graph, item_users
from pinsage.lifecycle.publishing import PublishedRun
from pinsage.model.scoring import popularity_prior
from pinsage.model.taste import fold_in_taste, users_taste
from pinsage.model.trained_with import TrainedWith
from pinsage.serving.embeddings import ExportConfig, embedding_table
from pinsage.serving.new_items import TrainedItems, attach_new_items, embed_with_new_items

log = logging.getLogger(__name__)


def embed_new_items(
    published: PublishedRun | None,
    new_items: pd.DataFrame,
    new_interactions: pd.DataFrame,
    export: ExportConfig,
    today: dict[str, BaseModel],
) -> pd.DataFrame:
    """The embedding table of the published catalogue followed by `new_items`.

    The network, the feature encoding, the neighbourhood sampling, the users' taste folded into a new
    item's vector and the popularity prior (from a new item's attached interactions) are the published
    model's own (`trained_with`); where `today`'s parameters say otherwise, the log lists what differs and
    the published settings are used, since the weights only mean something under them (and the published
    figures were measured under them).
    """
    if published is None:
        raise DataError("nothing is published yet: run `kedro run --pipeline=train` before embedding new items")
    trained_with = TrainedWith.model_validate(published.load("trained_with"))
    changed = trained_with.differences(today)
    if changed:
        log.warning(
            "today's parameters differ from those the published model %s was trained with; its own are used: %s",
            published.version,
            "; ".join(changed),
        )
    catalogue, users = published.load("catalogue"), published.load("users")
    vocabulary = published.load("feature_vocabulary")
    attached = attach_new_items(catalogue, users, new_items, new_interactions)
    network = trained_with.build_network(published.load("model_weights"), vocabulary).to(export.device)
    trained = TrainedItems(
        published.load("item_features"), vocabulary, published.load("item_neighbourhoods"), trained_with
    )
    # The graph the published model was trained on, from its own training interactions.
    graph = build_graph(published.load("train_interactions"), n_users=len(users), n_items=len(catalogue))
    embeddings = embed_with_new_items(
        network, attached, trained, graph, chunk_size=export.chunk_size, device=export.device
    )
    n, weight = len(catalogue), trained_with.new_items.taste_weight
    if weight:
        added_users, added_items = attached.added["user"].to_numpy(), attached.added["item"].to_numpy() - n
        taste = users_taste(
            ((s, embeddings[s : min(s + export.chunk_size, n)]) for s in range(0, n, export.chunk_size)),
            item_users(graph),
            added_users,
        )
        embeddings[n:] = fold_in_taste(embeddings[n:], added_users, added_items, taste, weight)
    log.info(
        "embedded %d new items (%d interactions attached) beside the %d items of published model %s",
        len(attached.new_items),
        len(attached.added),
        len(catalogue),
        published.version,
    )
    trained_prior = popularity_prior(trained.features["log_degree"], trained_with.scoring)
    new_degree = np.bincount(attached.added["item"].to_numpy() - n, minlength=len(attached.new_items))
    new_prior = popularity_prior(np.log1p(new_degree), trained_with.scoring)
    return embedding_table(
        pd.concat([catalogue[["item", "item_id"]], attached.new_rows[["item", "item_id"]]]),
        embeddings,
        np.concatenate([trained_prior, new_prior]),
    )
