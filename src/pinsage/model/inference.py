"""Layer-wise full-graph inference (the paper's "MapReduce" inference).

Instead of sampling a computation tree per item (which recomputes shared neighbours again and again),
compute layer 0 for every item once, then each next layer for every item from the previous layer's
table. Every node is computed exactly once per layer; memory is bounded by the chunk size. Each step
is a pure function of a chunk of rows (`_layer_chunk`), so it maps directly onto a cluster engine:
map = project features, join = gather neighbour rows, group-by = pool per node.
"""

from __future__ import annotations

import torch

from pinsage.model.pinsage import PinSage


@torch.no_grad()
def embed_all_items(
    model: PinSage,
    features: dict[str, torch.Tensor],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    chunk_size: int = 65536,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Embeddings [n_items, dim] for every item, on CPU, from the model on `device`."""
    model.eval()
    n_items = neighbours.shape[0]
    projected = torch.cat(
        [
            model.project(
                {k: v[s : s + chunk_size].to(device) for k, v in features.items()},
                torch.arange(s, min(s + chunk_size, n_items), device=device),
            ).cpu()
            for s in range(0, n_items, chunk_size)
        ]
    )
    h = projected
    for conv in model.convs:
        h = torch.cat(
            [
                _layer_chunk(conv, h, neighbours, weights, s, min(s + chunk_size, n_items), device)
                for s in range(0, n_items, chunk_size)
            ]
        )
    return torch.cat(
        [
            model.finish(h[s : s + chunk_size].to(device), projected[s : s + chunk_size].to(device)).cpu()
            for s in range(0, n_items, chunk_size)
        ]
    )


def _layer_chunk(conv, h_prev, neighbours, weights, start, stop, device) -> torch.Tensor:
    nbr = neighbours[start:stop]
    return conv(h_prev[start:stop].to(device), h_prev[nbr].to(device), weights[start:stop].to(device)).cpu()
