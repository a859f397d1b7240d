"""Export: every catalogue item's embedding by layer-wise inference, with the network it was trained as."""

from __future__ import annotations

import pandas as pd
import torch

from pinsage.model.inference import embed_all_items
from pinsage.model.trained_with import TrainedWith
from pinsage.serving.embeddings import ExportConfig, embedding_table


def embed_catalogue(
    state_dict: dict[str, torch.Tensor],
    trained_with: TrainedWith,
    features: dict[str, torch.Tensor],
    vocabulary: dict[str, list],
    neighbourhoods: dict[str, torch.Tensor],
    catalogue: pd.DataFrame,
    export: ExportConfig,
) -> pd.DataFrame:
    """The embedding table of `catalogue` (`item`, `item_id`, `embedding`); refuses features encoded
    with another vocabulary than the weights were trained on."""
    network = trained_with.build_network(state_dict, vocabulary).to(export.device)
    embeddings = embed_all_items(
        network,
        features,
        neighbourhoods["neighbours"],
        neighbourhoods["weights"],
        chunk_size=export.chunk_size,
        device=export.device,
    )
    return embedding_table(catalogue, embeddings)
