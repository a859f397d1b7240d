"""Hard negatives from personalised PageRank: items related to the query, but not too related.

The paper samples hard negatives from items ranked 2000–5000 by personalised PageRank from the query:
close enough in the graph to be confusable, far enough not to be true positives. Here the band is a
fraction of the catalogue, so it scales from MovieLens to Pinterest sizes. PageRank is computed by power
iteration on the sparse item→user→item transition matrix, for a chunk of query items at a time, in plain
PyTorch (no DGL), and cached for an epoch.
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator


class HardNegativeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="add PPR-band hard negatives with a curriculum")
    band_start: float = Field(0.05, ge=0, lt=1, description="band start, as a fraction of the catalogue")
    band_end: float = Field(0.15, gt=0, le=1, description="band end, as a fraction of the catalogue")
    max_per_query: int = Field(3, ge=1, description="curriculum cap: epoch n adds min(n-1, this) per query")
    restart: float = Field(0.15, gt=0, lt=1, description="PageRank restart probability")
    iterations: int = Field(10, ge=1)
    chunk_size: int = Field(512, ge=1, description="queries per power-iteration chunk (memory bound)")
    samples_per_query: int = Field(128, ge=1, description="band items kept per query for an epoch")

    @model_validator(mode="after")
    def _band_is_ordered(self) -> HardNegativeConfig:
        if self.band_end <= self.band_start:
            raise ValueError("hard_negatives.band_end must be greater than band_start")
        return self

    def band(self, n_items: int) -> tuple[int, int]:
        """The band in ranks (0 = the query itself is excluded before ranking), at least one item wide."""
        start = int(self.band_start * n_items)
        return start, max(start + 1, int(self.band_end * n_items))


def curriculum_count(epoch: int, config: HardNegativeConfig) -> int:
    """Hard negatives per query at 0-based `epoch`: none at first, then one more each epoch (the
    paper's curriculum), up to the cap."""
    return min(epoch, config.max_per_query) if config.enabled else 0


class PersonalisedPageRank:
    """Power iteration of PageRank with restart on the item→user→item walk, many queries at once.

    The two sparse steps (item→user, user→item) are kept apart: their product is nearly dense on
    real catalogues, while each factor has one entry per training interaction.
    """

    def __init__(self, users: np.ndarray, items: np.ndarray, n_users: int, n_items: int):
        item_degree = np.bincount(items, minlength=n_items).astype(np.float32)
        user_degree = np.bincount(users, minlength=n_users).astype(np.float32)
        u = torch.as_tensor(users, dtype=torch.long)
        i = torch.as_tensor(items, dtype=torch.long)
        # Transposed transition matrices, so that scores (columns = queries) flow along edges.
        self.user_from_item = torch.sparse_coo_tensor(
            torch.stack([u, i]), torch.as_tensor(1.0 / item_degree[items]), (n_users, n_items)
        ).coalesce()
        self.item_from_user = torch.sparse_coo_tensor(
            torch.stack([i, u]), torch.as_tensor(1.0 / user_degree[users]), (n_items, n_users)
        ).coalesce()
        self.n_items = n_items

    def scores(self, queries: torch.Tensor, restart: float, iterations: int) -> torch.Tensor:
        """[n_items, len(queries)]: column j is the PageRank vector personalised to queries[j]."""
        start = torch.zeros(self.n_items, len(queries))
        start[queries, torch.arange(len(queries))] = 1.0
        scores = start
        for _ in range(iterations):
            walked = torch.sparse.mm(self.item_from_user, torch.sparse.mm(self.user_from_item, scores))
            scores = restart * start + (1 - restart) * walked
        return scores

    def band(self, queries: torch.Tensor, config: HardNegativeConfig) -> torch.Tensor:
        """For each query, the items ranked in the band: [len(queries), width]. The query itself is
        removed before ranking, so it is never in its own band."""
        start, end = config.band(self.n_items - 1)
        out = []
        for s in range(0, len(queries), config.chunk_size):
            seeds = queries[s : s + config.chunk_size]
            scores = self.scores(seeds, config.restart, config.iterations)
            scores[seeds, torch.arange(len(seeds))] = -1.0
            # Ties (unreachable items all score 0) are broken by item index, for determinism.
            order = torch.argsort(-scores.T, dim=1, stable=True)
            out.append(order[:, start:end])
        return torch.cat(out) if out else torch.empty(0, end - start, dtype=torch.long)
