"""Item features, fitted on the training interactions only."""

from __future__ import annotations

import pandas as pd
import torch

from pinsage.data.features import FeatureConfig, build_item_features


def build_features(
    catalogue: pd.DataFrame, train_interactions: pd.DataFrame, features: FeatureConfig
) -> tuple[dict[str, torch.Tensor], dict[str, list]]:
    """Feature tensors per catalogue item, and the vocabularies they were encoded with."""
    return build_item_features(catalogue, train_interactions, features)
