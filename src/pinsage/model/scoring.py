"""How an item is scored against a query item: the cosine of their embeddings plus a popularity prior.

Training with logQ correction (Yi et al., RecSys 2019) removes popularity from the embeddings on purpose:
the softmax no longer punishes an item for being a frequent in-batch negative. What a user is likely to
pick next still depends on it, so the served score puts part of it back, cosine + β·ln(1 + interactions),
an item bias in the ranking that the index serves as one more coordinate (item: the bias, query: 1). Its
weight matters most for new items, whose few attached interactions otherwise say nothing of how many people
will want them; for trained items validation is flat around it (docs/results.md).
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field


class ScoringConfig(BaseModel):
    """The `scoring` parameters: what the served score adds to the cosine. Saved beside the weights
    (`trained_with`): validation picked the epoch with it, and a published model's new items are scored
    with its own."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    popularity_prior: float = Field(
        0.0025,
        ge=0,
        description="β in cosine + β·ln(1 + the item's interactions: training ones, or a new item's attached "
        "ones); 0: the cosine alone. Chosen on validation and the earlier half of the held-out items' targets for "
        "an earlier model; for the current one validation is flat from 0 to 0.02 (docs/results.md)",
    )


def popularity_prior(log_degree: torch.Tensor | np.ndarray, config: ScoringConfig) -> np.ndarray:
    """Each item's term of the served score, from its `log_degree` feature (ln(1 + interactions), [n] or
    [n, 1], as `pinsage.data.features` encodes it): float32 [n]."""
    return (config.popularity_prior * np.asarray(log_degree, dtype=np.float32).reshape(-1)).astype(np.float32)
