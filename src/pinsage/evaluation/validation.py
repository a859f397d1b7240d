"""Validation during training, measured exactly as the report measures it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from pinsage.evaluation.metrics import EvaluationQueries, evaluate
from pinsage.evaluation.scorers import EmbeddingScorer
from pinsage.model.inference import embed_all_items
from pinsage.model.pinsage import PinSage


def recall_validator(
    features: dict[str, torch.Tensor],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    queries: EvaluationQueries,
    k: int,
    prior: np.ndarray | None = None,
    device: str = "cpu",
) -> Callable[[PinSage], dict[str, float]]:
    """Validation as the report measures it: layer-wise embeddings of all items on the fixed
    neighbourhoods, ranked under the latest-item protocol by the served score (cosine + `prior`)."""

    def validate(model: PinSage) -> dict[str, float]:
        embeddings = embed_all_items(model, features, neighbours, weights, device=device)
        return evaluate(EmbeddingScorer(embeddings, prior), queries, k)

    return validate
