"""The training graph and the fixed importance neighbourhoods computed on it."""

from __future__ import annotations

import dgl
import pandas as pd
import torch

from pinsage.graph import build_graph
from pinsage.sampling import NeighbourConfig, fixed_neighbourhoods


def build_training_graph(
    train_interactions: pd.DataFrame, catalogue: pd.DataFrame, users: pd.DataFrame
) -> dgl.DGLGraph:
    return build_graph(train_interactions, n_users=len(users), n_items=len(catalogue))


def compute_item_neighbourhoods(graph: dgl.DGLGraph, neighbourhood: dict) -> dict[str, torch.Tensor]:
    neighbours, weights = fixed_neighbourhoods(graph, NeighbourConfig.model_validate(neighbourhood))
    return {"neighbours": neighbours, "weights": weights}
