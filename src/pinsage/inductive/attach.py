"""Inductive inference: embeddings for items the model never saw, without touching its weights.

This is PinSage's reason to exist. A new item is appended after the trained catalogue (so it has no
learnt ID vector), encoded with the trained feature vocabularies, attached to the training graph
through its first interactions, given an importance neighbourhood by random walks from it, and pushed
through the trained convolutions. Trained items keep their stored features and neighbourhoods, so
their embeddings are the same as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dgl
import numpy as np
import pandas as pd
import torch

from pinsage.data.features import encode_items
from pinsage.data.schema import (
    DataError,
    among,
    canonical_items,
    dense_columns,
    extend_user_index,
    index_events,
    keep_earliest_pairs,
    raise_at_first_bad_row,
    where,
)
from pinsage.data.sources.batches import batch_events
from pinsage.graph.build import extend_graph
from pinsage.graph.sampling import fixed_neighbourhoods
from pinsage.model.trained_with import TrainedWith

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainedItems:
    """What a trained model knows of its catalogue, and the settings that produced it."""

    features: dict[str, torch.Tensor]
    vocabulary: dict[str, list]
    neighbourhoods: dict[str, torch.Tensor]  # "neighbours", "weights"
    trained_with: TrainedWith


@dataclass(frozen=True)
class AttachedItems:
    """New items indexed after the trained catalogue's n items, and their interactions: the edges they add
    to the training graph. The catalogue itself is not copied (at 10M items, with its text, 1.4 GB)."""

    n_trained: int  # items 0..n_trained-1 are the trained catalogue's
    new_rows: pd.DataFrame  # the new items' canonical rows, `item` = n_trained, n_trained + 1, ...
    n_users: int  # known users, then users seen only with new items
    added: pd.DataFrame  # the new items' interactions: user, item, timestamp (indices)

    @property
    def new_items(self) -> np.ndarray:
        return self.new_rows["item"].to_numpy()

    @property
    def n_items(self) -> int:
        return self.n_trained + len(self.new_rows)


def attach_new_items(
    catalogue: pd.DataFrame,
    users: pd.DataFrame,
    new_items: pd.DataFrame,
    new_interactions: pd.DataFrame,
) -> AttachedItems:
    """Validate the new items and their interactions and index them after the trained ones.

    `new_items` has `item_id` and any canonical item columns; `new_interactions` has `user_id`,
    `item_id`, `timestamp`, each row on one of the new items. Users not in `users` become new nodes.
    Items that are already in the trained catalogue (a batch dropped before the last retraining) are
    skipped with a log line: they keep their trained embeddings.
    """
    if "item_id" not in new_items:
        raise DataError("the new item table has no item_id column")
    ids = new_items["item_id"].astype(str)
    raise_at_first_bad_row(
        ids.duplicated(),
        lambda row: f"{where(new_items, row)}: item {ids.iloc[row]!r} is listed as new more than once",
    )
    trained = among(ids, catalogue["item_id"])
    if trained.any():
        log.info("%d of the new items are already in the trained catalogue and are skipped", int(trained.sum()))
    new_items, ids = new_items[~trained].reset_index(drop=True), ids[~trained]
    _check_dense_columns(new_items, dense_columns(catalogue))
    n = len(catalogue)
    appended = canonical_items(new_items)
    appended["item"] += n
    # The catalogue's columns, the dense ones too on a day without new items (checked present otherwise).
    appended = appended.reindex(columns=catalogue.columns.union(appended.columns, sort=False))

    events = batch_events(new_interactions.reset_index(drop=True))
    events = events[~among(events["item_id"], catalogue["item_id"])].reset_index(drop=True)
    raise_at_first_bad_row(
        ~among(events["item_id"], ids),
        lambda row: (
            f"{where(events, row)}: interaction on item {events['item_id'].iloc[row]!r}, "
            "which is neither a new item nor in the trained catalogue"
        ),
    )
    user_index = extend_user_index(users["user_id"], events["user_id"])
    # New items are indexed after the catalogue: the item index is the catalogue's ids, then theirs.
    added = index_events(events, user_index, pd.Index(catalogue["item_id"].astype(str)).append(pd.Index(ids)))
    return AttachedItems(
        n_trained=n,
        new_rows=appended,
        n_users=len(user_index),
        added=keep_earliest_pairs(added)[["user", "item", "timestamp"]].reset_index(drop=True),
    )


def _check_dense_columns(new_items: pd.DataFrame, dense: list[str]) -> None:
    """New items must carry the dense vector the model was trained with, every value a number."""
    if new_items.empty or not dense:  # a day without new items is a normal day
        return
    missing = [c for c in dense if c not in new_items]
    if missing:
        raise DataError(
            f"the new items lack {len(missing)} of the {len(dense)} dense columns the model was trained with "
            f"(first: {missing[0]!r})"
        )
    values = new_items[dense].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    # Missing, text, inf and values beyond float32 would all give the item a NaN embedding.
    bad = ~np.isfinite(values) | (np.abs(values) > np.finfo(np.float32).max)

    def describe(row: int) -> str:
        column = dense[int(np.flatnonzero(bad[row])[0])]
        return f"{where(new_items, row)}: {column} is not a finite number"

    raise_at_first_bad_row(bad.any(axis=1), describe)


def new_item_inputs(
    attached: AttachedItems, trained: TrainedItems, training_graph: dgl.DGLGraph
) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """The new items' feature rows and neighbourhoods (neighbour ids index the catalogue, then the new items).

    Only the new items are walked from (on the training graph with their edges added), exactly as the
    fixed neighbourhoods of export walk from trained items, so a new item is described like a trained one.
    """
    new = torch.tensor(attached.new_items)  # a copy: pandas hands out read-only arrays
    # New items have no training edges: their degree is their attached interactions.
    degree = np.bincount(attached.added["item"].to_numpy(), minlength=attached.n_items)
    features = encode_items(
        attached.new_rows, degree[attached.new_items], trained.vocabulary, trained.trained_with.features
    )
    graph = extend_graph(training_graph, attached.added, n_users=attached.n_users, n_items=attached.n_items)
    neighbours, weights = fixed_neighbourhoods(graph, trained.trained_with.neighbourhood, items=new)
    return features, neighbours, weights
