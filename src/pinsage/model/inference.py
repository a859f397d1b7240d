"""Layer-wise full-graph inference (the paper's "MapReduce" inference).

Instead of sampling a computation tree per item (which recomputes shared neighbours again and again),
compute layer 0 for every item once, then each next layer for every item from the previous layer's
table. Every node is computed exactly once per layer; memory is bounded by the chunk size. Each step
is a pure function of a chunk of rows (`_convolve`), so it maps directly onto a cluster engine:
map = project features, join = gather neighbour rows, group-by = pool per node.

Items added after others (new items) can be embedded from the earlier items' layer tables without
computing those again (`embed_added_items`): an earlier item's neighbourhood never reaches a later one.
"""

from __future__ import annotations

import torch

from pinsage.model.pinsage import PinSage


@torch.no_grad()
def layer_tables(
    model: PinSage,
    features: dict[str, torch.Tensor],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    chunk_size: int = 65536,
    device: torch.device | str = "cpu",
    earlier: list[torch.Tensor] | None = None,
) -> list[torch.Tensor]:
    """Every given item's representation after the projection and after each convolution but the last,
    [layer 0, ..., layer L-1], on CPU: what the next items' convolutions read from these items.

    With `earlier` (those tables of the items before these), the given rows are the items that follow
    them, and their neighbour ids index the earlier items and then these."""
    model.eval()
    offset = len(earlier[0]) if earlier else 0
    n_items = neighbours.shape[0]
    h = torch.cat(
        [
            model.project(
                {k: v[s : s + chunk_size].to(device) for k, v in features.items()},
                torch.arange(offset + s, offset + min(s + chunk_size, n_items), device=device),
            ).cpu()
            for s in range(0, n_items, chunk_size)
        ]
    )
    tables = [h]
    for layer, conv in enumerate(model.convs[:-1]):
        h = _convolve(conv, h, earlier[layer] if earlier else None, neighbours, weights, chunk_size, device)
        tables.append(h)
    return tables


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
    tables = layer_tables(model, features, neighbours, weights, chunk_size, device)
    return _final(model, tables, None, neighbours, weights, chunk_size, device)


@torch.no_grad()
def embed_added_items(
    model: PinSage,
    earlier: list[torch.Tensor],
    features: dict[str, torch.Tensor],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    chunk_size: int = 65536,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Embeddings [m, dim] of m items added after those whose `layer_tables` are `earlier`, from the
    added items' own features and neighbourhoods (whose ids index earlier items, then added ones):
    the rows `embed_all_items` gives them over all items, for the cost of the added items alone."""
    tables = layer_tables(model, features, neighbours, weights, chunk_size, device, earlier)
    return _final(model, tables, earlier, neighbours, weights, chunk_size, device)


def _final(model, tables, earlier, neighbours, weights, chunk_size, device) -> torch.Tensor:
    projected = tables[0]
    h = projected
    if model.convs:
        last = earlier[-1] if earlier else None
        h = _convolve(model.convs[-1], tables[-1], last, neighbours, weights, chunk_size, device)
    return torch.cat(
        [
            model.finish(h[s : s + chunk_size].to(device), projected[s : s + chunk_size].to(device)).cpu()
            for s in range(0, len(projected), chunk_size)
        ]
    )


def _convolve(conv, h, earlier_rows, neighbours, weights, chunk_size, device) -> torch.Tensor:
    """The next layer of the rows `h`, their neighbours read from `earlier_rows` followed by `h`."""
    table = h if earlier_rows is None else torch.cat([earlier_rows, h])
    return torch.cat(
        [
            conv(
                h[s : s + chunk_size].to(device),
                table[neighbours[s : s + chunk_size]].to(device),
                weights[s : s + chunk_size].to(device),
            ).cpu()
            for s in range(0, len(h), chunk_size)
        ]
    )
