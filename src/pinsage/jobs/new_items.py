"""New items without retraining: the published model's catalogue, served as it was evaluated, plus every
item added since, embedded with the published model exactly as it was trained."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from pinsage.data.schema import DataError
from pinsage.graph.build import build_graph, item_users
from pinsage.inductive.attach import TrainedItems, attach_new_items
from pinsage.inductive.vectors import new_item_vectors
from pinsage.jobs.export import ExportConfig
from pinsage.jobs.train import TrainSettings
from pinsage.lifecycle.publishing import PublishedRun
from pinsage.model.inference import layer_tables
from pinsage.model.scoring import popularity_prior
from pinsage.model.trained_with import TrainedWith
from pinsage.serving.embeddings import embedding_matrix, embedding_table, prior_vector

log = logging.getLogger(__name__)


def embed_new_items(
    published: PublishedRun | None,
    new_items: pd.DataFrame,
    new_interactions: pd.DataFrame,
    export: ExportConfig,
    today: TrainSettings,
) -> pd.DataFrame:
    """The embedding table of the published catalogue followed by `new_items`.

    The trained items keep the published table's rows exactly (what was evaluated and gated); only the new
    items are computed (`new_item_vectors`, as the evaluation computes them), from the published model's
    layer tables. The network, the feature encoding, the neighbourhood sampling, the users' taste folded
    into a new item's vector and the popularity prior (from a new item's attached interactions) are the
    published model's own (`trained_with`); where `today`'s parameters say otherwise, the log lists what differs and
    the published settings are used, since the weights only mean something under them (and the published
    figures were measured under them).
    """
    if published is None:
        raise DataError("nothing is published yet: run `kedro run --pipeline=train` before embedding new items")
    trained_with = TrainedWith.model_validate(published.load("trained_with"))
    changed = trained_with.differences(dict(today))
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
    n = len(catalogue)
    served = published.load("item_embeddings")
    served_ids = served.sort_values("item")["item_id"].astype(str).to_numpy()[:n]
    if len(served_ids) < n or (served_ids != catalogue["item_id"].astype(str).to_numpy()).any():
        raise DataError(
            f"the published embeddings (run {published.record['artifacts'].get('item_embeddings')}) do not list the "
            f"published catalogue's items first: they are not one run's; publish a whole train run first"
        )
    trained_vectors = torch.from_numpy(embedding_matrix(served)[:n])
    neighbourhoods = trained.neighbourhoods
    layers = layer_tables(
        network,
        trained.features,
        neighbourhoods["neighbours"],
        neighbourhoods["weights"],
        export.chunk_size,
        export.device,
    )
    new = new_item_vectors(
        network,
        layers,
        attached,
        trained,
        graph,
        lambda: ((s, trained_vectors[s : s + export.chunk_size]) for s in range(0, n, export.chunk_size)),
        item_users(graph),
        export.chunk_size,
        export.device,
    )
    del layers
    log.info(
        "embedded %d new items (%d interactions attached) beside the %d items of published model %s",
        len(attached.new_items),
        len(attached.added),
        len(catalogue),
        published.version,
    )
    served_prior = prior_vector(served)
    trained_prior = (
        served_prior[:n]
        if served_prior is not None
        else popularity_prior(trained.features["log_degree"], trained_with.scoring)
    )
    return embedding_table(
        pd.concat([catalogue[["item", "item_id"]], attached.new_rows[["item", "item_id"]]]),
        torch.cat([trained_vectors, new.served]),
        np.concatenate([trained_prior, new.prior]),
    )
