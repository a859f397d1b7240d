"""Embeddings for every item from the trained model, and a faiss index over them."""

from __future__ import annotations

import pandas as pd
import torch

from pinsage.jobs.export import ExportConfig, embed_catalogue
from pinsage.model.trained_with import TrainedWith
from pinsage.serving.embeddings import StagedParts


def embed_catalogue_items(
    model_weights: dict[str, torch.Tensor],
    trained_with: dict,
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    item_neighbourhoods: dict[str, torch.Tensor],
    catalogue: pd.DataFrame,
    export: ExportConfig,
) -> pd.DataFrame | StagedParts:
    """One row per item: `item` (index), `item_id` (source id) and `embedding` (unit-length floats); on
    the dask engine, the parts the workers wrote, which saving `item_embeddings` moves into place."""
    return embed_catalogue(
        model_weights,
        TrainedWith.model_validate(trained_with),
        item_features,
        feature_vocabulary,
        item_neighbourhoods,
        catalogue,
        export,
    )
