"""The `neighbourhood` and `pairs` parameters. No DGL here, so the model's saved settings can name them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class NeighbourConfig(BaseModel):
    """PinSage's importance sampling: the T items most visited by short random walks with restart."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

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

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    positives: Literal["next_engaged", "walk"] = Field(
        "next_engaged",
        description="next_engaged: the paper's pairs, two items one user engaged with at most `window` "
        "interactions apart in time order (`pinsage.graph.engagement`); walk: one item→user→item hop anywhere "
        "in a user's history (the DGL example's)",
    )
    window: int = Field(5, ge=1, le=255, description="next_engaged: W, how many interactions ahead a positive may be")
    query_sampling: Literal["interaction", "uniform"] = Field(
        "interaction",
        description="queries drawn per training interaction (∝ engagement, as the evaluation's queries are) or "
        "uniformly over items",
    )
    positive_damping: float = Field(
        0.5, ge=0, description="walk positives only: walks reach items ∝ deg^-alpha, damping popular positives"
    )
    exclude_co_interacted_negatives: bool = Field(
        False, description="an easy negative sharing a user with the query is not its negative"
    )
    refresh_neighbours: bool = Field(
        False,
        description="resample the neighbour table every epoch (else train on the fixed one); data-parallel "
        "ranks each resample the whole table (DGL's walks differ across processes), so theirs may differ",
    )


class HardNegativeConfig(BaseModel):
    """Hard negatives: items ranked in a band of random-walk visit counts from the query (the paper's
    ranks 2000–5000 of its Pixie walks), added by a curriculum."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = Field(True, description="add band hard negatives with a curriculum")
    ranking: Literal["auto", "exact", "walks"] = Field(
        "auto",
        description="how items are ranked from the query: exact, the walks' expected visits by sparse products "
        "(personalised PageRank truncated at walk_hops; computed once per item, ties are rare, so ranks mean "
        "something); walks, visit counts of walks_per_query sampled walks per query and epoch (cost follows the "
        "epoch, not the catalogue); auto, exact up to exact_max_items items",
    )
    exact_max_items: int = Field(
        20_000, ge=0, description="ranking auto: exact ranking up to this many items (its cost grows as items × edges)"
    )
    band_ranks: tuple[int, int] = Field((2000, 5000), description="the band in visit-count ranks (the paper's)")
    band_fractions: tuple[float, float] = Field(
        (0.05, 0.15), description="the band as fractions of the catalogue, used where smaller than band_ranks"
    )
    max_per_query: int = Field(3, ge=1, description="curriculum cap: epoch n adds min(n-1, this) per query")
    walks_per_query: int = Field(100, ge=1, description="random walks with restart from each query, per epoch")
    walk_hops: int = Field(3, ge=1, description="maximum item→user→item hops per walk")
    restart: float = Field(0.15, ge=0, lt=1, description="probability that a walk ends after each hop")
    chunk_size: int = Field(4096, ge=1, description="queries walked at once (memory bound)")
    samples_per_query: int = Field(128, ge=1, description="band items drawn per query for an epoch")

    @model_validator(mode="after")
    def _band_is_ordered(self) -> HardNegativeConfig:
        for name, (start, end) in (("band_ranks", self.band_ranks), ("band_fractions", self.band_fractions)):
            if not 0 <= start < end:
                raise ValueError(f"hard_negatives.{name} must be [start, end] with 0 <= start < end")
        if self.band_fractions[1] > 1:
            raise ValueError("hard_negatives.band_fractions must lie within [0, 1]")
        return self

    def band(self, n_items: int) -> tuple[int, int]:
        """The band in ranks for a catalogue of `n_items` (0 = the most visited item other than the
        query), at least one rank wide: the paper's ranks, or the fractions where those are smaller."""
        start = min(self.band_ranks[0], int(self.band_fractions[0] * n_items))
        end = min(self.band_ranks[1], int(self.band_fractions[1] * n_items))
        return start, max(start + 1, end)
