"""The `neighbourhood` and `pairs` parameters. No DGL here, so the model's saved settings can name them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class NeighbourConfig(BaseModel):
    """PinSage's importance sampling: the T items most visited by short random walks with restart."""

    model_config = ConfigDict(extra="forbid")

    num_neighbors: int = Field(10, ge=1, description="T, neighbours kept per item")
    num_random_walks: int = Field(10, ge=1, description="walks started per item")
    num_traversals: int = Field(3, ge=1, description="maximum item→user→item hops per walk")
    termination_prob: float = Field(0.5, gt=0, lt=1, description="restart probability per hop")
    inference_random_walks: int = Field(
        200, ge=1, description="walks per item for the fixed neighbourhoods of evaluation and export"
    )
    seed: int = 0


class PairConfig(BaseModel):
    """How training pairs (query, positive) are drawn each epoch."""

    model_config = ConfigDict(extra="forbid")

    query_sampling: Literal["interaction", "uniform"] = Field(
        "uniform",
        description="queries drawn per training interaction (∝ popularity) or uniformly over items",
    )
    positive_damping: float = Field(
        0.5, ge=0, description="alpha: walks reach items ∝ deg^-alpha, damping popular positives"
    )
    exclude_co_interacted_negatives: bool = Field(
        False, description="an easy negative sharing a user with the query is not its negative"
    )
    refresh_neighbours: bool = Field(
        False, description="resample the neighbour table every epoch (else train on the fixed one)"
    )
