"""What one epoch of training is sampled into: plain tensors, no DGL, so it can be saved and shipped
to a machine (a GPU one) whose torch DGL cannot load."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class EpochSample:
    """The pairs one epoch trains on, the neighbourhoods it convolves over, and its hard negatives."""

    queries: torch.Tensor  # [M] query items
    positives: torch.Tensor  # [M] items reached from them by item→user→item walks
    neighbours: torch.Tensor  # [n_items, T] importance neighbours for this epoch
    weights: torch.Tensor  # [n_items, T] their visit counts
    hard_per_query: int = 0  # the curriculum's hard negatives per query this epoch
    hard_band: torch.Tensor | None = None  # [U, W] band candidates for each distinct query
    band_row: torch.Tensor | None = None  # [M] the hard_band row of each pair's query
    # (indptr, indices) of the item→user CSR matrix of training interactions; when set, an easy
    # negative that shares a user with the query is not used as that query's negative.
    item_users: tuple[torch.Tensor, torch.Tensor] | None = None

    def positive_frequency(self, n_items: int) -> torch.Tensor:
        """How often each item is a positive: the in-batch negatives' sampling distribution."""
        return torch.bincount(self.positives, minlength=n_items).float() / max(len(self.positives), 1)
