"""Embeddings for every item from the trained model, and a faiss index over them."""

from __future__ import annotations

import faiss
import numpy as np
import pandas as pd
import torch

from pinsage.features import feature_sizes
from pinsage.index import build_inner_product_index
from pinsage.inference import embed_all_items
from pinsage.model import ModelConfig, PinSage


def embed_items(
    model_weights: dict[str, torch.Tensor],
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    item_neighbourhoods: dict[str, torch.Tensor],
    catalogue: pd.DataFrame,
    model: dict,
    export: dict,
) -> pd.DataFrame:
    """One row per item: `item` (index), `item_id` (source id) and `embedding` (unit-length floats)."""
    network = load_network(model_weights, item_features, feature_vocabulary, model).to(export["device"])
    embeddings = embed_all_items(
        network, item_features, item_neighbourhoods["neighbours"], item_neighbourhoods["weights"],
        chunk_size=export["chunk_size"], device=export["device"],
    )
    return embedding_table(catalogue, embeddings)


def load_network(
    model_weights: dict[str, torch.Tensor],
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    model: dict,
) -> PinSage:
    """The trained model, rebuilt from its state dict and the feature sizes it was trained with."""
    network = PinSage(feature_sizes(item_features, feature_vocabulary), ModelConfig.model_validate(model))
    network.load_state_dict(model_weights)
    return network


def embedding_table(items: pd.DataFrame, embeddings: torch.Tensor) -> pd.DataFrame:
    return pd.DataFrame(
        {"item": items["item"].to_numpy(), "item_id": items["item_id"].to_numpy(), "embedding": list(embeddings.numpy())}
    )


def build_embedding_index(item_embeddings: pd.DataFrame) -> faiss.Index:
    return build_inner_product_index(embedding_matrix(item_embeddings))


def embedding_matrix(item_embeddings: pd.DataFrame) -> np.ndarray:
    """The embedding table as a float32 matrix whose row i is item i."""
    order = np.argsort(item_embeddings["item"].to_numpy())
    return np.stack(item_embeddings["embedding"].to_numpy()[order]).astype(np.float32)
