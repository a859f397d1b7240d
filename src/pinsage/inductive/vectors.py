"""A new item's served vector and prior: the one function the new-item evaluation and `embed_new_items` call.

The vector is the trained network's inductive embedding of the item from its features and walked
neighbourhood (`own`), with the taste of the users who interacted with it folded in (`served`,
`pinsage.model.taste`, weight `taste.weight` of the model's record); the prior is the model's
popularity prior of the interactions the item has (`pinsage.model.scoring`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import dgl
import numpy as np
import torch

from pinsage.inductive.attach import AttachedItems, TrainedItems, new_item_inputs
from pinsage.model.inference import embed_added_items
from pinsage.model.pinsage import PinSage
from pinsage.model.scoring import popularity_prior
from pinsage.model.taste import fold_in_taste, users_taste


@dataclass(frozen=True)
class NewItemVectors:
    own: torch.Tensor  # [m, dim] the network's embedding of each new item, nothing folded in
    served: torch.Tensor  # [m, dim] with its users' taste folded in: what the index serves
    prior: np.ndarray  # [m] the served score's popularity prior, from the item's attached interactions


def new_item_vectors(
    network: PinSage,
    trained_layers: list[torch.Tensor],
    attached: AttachedItems,
    trained: TrainedItems,
    training_graph: dgl.DGLGraph,
    trained_embeddings: Callable[[], Iterable[tuple[int, torch.Tensor]]],
    taste_interactions: tuple[torch.Tensor, torch.Tensor],
    chunk_size: int = 65536,
    device: torch.device | str = "cpu",
) -> NewItemVectors:
    """The new items of `attached`, embedded from the trained items' `trained_layers` (`layer_tables`).

    A user's taste is the mean of `trained_embeddings()` (chunks of the trained items' final embeddings)
    over the trained items of their interactions in `taste_interactions` (item → user CSR): all training
    interactions when serving, only those before the query when evaluating."""
    n = attached.n_trained
    inputs = new_item_inputs(attached, trained, training_graph)
    own = embed_added_items(network, trained_layers, *inputs, chunk_size=chunk_size, device=device)
    users, items = attached.added["user"].to_numpy(), attached.added["item"].to_numpy() - n
    weight = trained.trained_with.taste.weight
    taste = users_taste(trained_embeddings(), taste_interactions, users) if weight and len(users) else None
    served = fold_in_taste(own, users, items, taste, weight)
    degree = np.bincount(items, minlength=len(attached.new_items))
    return NewItemVectors(own, served, popularity_prior(np.log1p(degree), trained.trained_with.scoring))
