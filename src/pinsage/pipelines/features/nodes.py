"""Item features, fitted on the training interactions only."""

from __future__ import annotations

import pandas as pd
import torch

from pinsage.features import FeatureConfig, build_item_features


def build_features(
    catalogue: pd.DataFrame, train_interactions: pd.DataFrame, features: dict
) -> tuple[dict[str, torch.Tensor], dict[str, list]]:
    return build_item_features(catalogue, train_interactions, FeatureConfig.model_validate(features))
