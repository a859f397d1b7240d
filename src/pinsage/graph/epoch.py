"""What one epoch of training is sampled into: plain tensors, no DGL, so it can be saved and shipped
to a machine (a GPU one) whose torch DGL cannot load."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class EpochSample:
    """The pairs one epoch trains on, the neighbourhoods it convolves over, and its hard negatives.

    Under data parallelism each rank samples a share of the epoch's rows; the loop gathers every
    rank's rows (`pinsage.training.distributed.gather_epoch`) so all ranks then hold the same sample.
    """

    queries: torch.Tensor  # [M] query items
    positives: torch.Tensor  # [M] items engaged with next to them (or reached by item→user→item walks)
    neighbours: torch.Tensor  # [n_items, T] importance neighbours for this epoch
    weights: torch.Tensor  # [n_items, T] their visit counts
    hard_negatives: torch.Tensor | None = None  # [M, H] each pair's hard negatives (the curriculum's H); None: none
    # (indptr, indices) of the item→user CSR matrix of training interactions; when set, an easy
    # negative that shares a user with the query is not used as that query's negative.
    item_users: tuple[torch.Tensor, torch.Tensor] | None = None

    def positive_frequency(self, n_items: int) -> torch.Tensor:
        """How often each item is a positive: the in-batch negatives' sampling distribution."""
        return torch.bincount(self.positives, minlength=n_items).float() / max(len(self.positives), 1)
