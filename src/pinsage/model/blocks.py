"""Minibatch computation graphs ("blocks") from a neighbour table, in plain PyTorch.

A block is what one convolution layer needs: for each of its output nodes, where that node's own
previous-layer vector sits (`self_index`) and where its T neighbours' vectors sit (`neighbour_index`),
with their importance weights. Indices point into the previous layer's node list, so the model only
ever does gathers and weighted sums, which run unchanged on a GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import torch


@dataclass
class Block:
    self_index: torch.Tensor  # [n_dst] int64, into the previous layer's nodes
    neighbour_index: torch.Tensor  # [n_dst, T] int64, into the previous layer's nodes
    neighbour_weight: torch.Tensor  # [n_dst, T] float32, 0 for padding or masked edges


@dataclass
class Blocks:
    input_items: torch.Tensor  # [n_0] global item ids whose features enter the model
    layers: list[Block]  # first layer first
    output_items: torch.Tensor  # [n_L] global item ids the last layer computes

    def apply(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> Blocks:
        """The same blocks with `fn` applied to every tensor (a device move, pinning)."""
        return Blocks(
            input_items=fn(self.input_items),
            layers=[Block(*(fn(getattr(b, f.name)) for f in fields(Block))) for b in self.layers],
            output_items=fn(self.output_items),
        )


def build_blocks(
    seeds: torch.Tensor,
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    n_layers: int,
    hidden_pairs: torch.Tensor | None = None,
) -> Blocks:
    """The blocks that compute `seeds` (unique global item ids) through `n_layers` convolutions.

    `hidden_pairs` [P, 2] are (item, item) pairs whose edges must not be seen, in either direction:
    the training pairs, whose neighbourhood link would otherwise give the answer away.
    """
    n_items = neighbours.shape[0]
    hidden = None
    if hidden_pairs is not None and len(hidden_pairs):
        a, b = hidden_pairs[:, 0], hidden_pairs[:, 1]
        hidden = torch.cat([a * n_items + b, b * n_items + a])
    layers: list[Block] = []
    dst = seeds
    for _ in range(n_layers):
        nbr = neighbours[dst]
        w = weights[dst]
        if hidden is not None:
            w = w.masked_fill(torch.isin(dst.unsqueeze(1) * n_items + nbr, hidden), 0.0)
        src, inverse = torch.unique(torch.cat([dst, nbr.reshape(-1)]), return_inverse=True)
        layers.append(
            Block(
                self_index=inverse[: len(dst)],
                neighbour_index=inverse[len(dst) :].view(nbr.shape),
                neighbour_weight=w,
            )
        )
        dst = src
    layers.reverse()
    return Blocks(input_items=dst, layers=layers, output_items=seeds)
