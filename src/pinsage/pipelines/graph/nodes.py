"""The training graph and the fixed importance neighbourhoods computed on it."""

from __future__ import annotations

import dgl
import pandas as pd
import torch

from pinsage.graph.build import build_graph
from pinsage.graph.config import NeighbourConfig
from pinsage.graph.sampling import fixed_neighbourhoods


def build_training_graph(train_interactions: pd.DataFrame, split_summary: dict) -> dgl.DGLGraph:
    """Every catalogue item and every user a node, the training interactions its edges."""
    return build_graph(train_interactions, n_users=split_summary["users"], n_items=split_summary["items"])


def compute_item_neighbourhoods(graph: dgl.DGLGraph, neighbourhood: NeighbourConfig) -> dict[str, torch.Tensor]:
    neighbours, weights = fixed_neighbourhoods(graph, neighbourhood)
    return {"neighbours": neighbours, "weights": weights}
