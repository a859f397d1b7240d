"""Layer-wise full-graph inference (the paper's "MapReduce" inference).

Instead of sampling a computation tree per item (which recomputes shared neighbours again and again),
compute layer 0 for every item once, then each next layer for every item from the previous layer's
table. Every node is computed exactly once per layer; beyond the tables themselves (one [n_items, dim]
float table per layer, written in place chunk by chunk), memory is bounded by the chunk size. Each step
is a pure function of a chunk of rows (`_convolve`), so it maps directly onto a cluster engine:
map = project features, join = gather neighbour rows, group-by = pool per node.

Items added after others (new items) can be embedded from the earlier items' layer tables without
computing those again (`embed_added_items`): an earlier item's neighbourhood never reaches a later one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

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
    h = _by_chunks(
        n_items,
        chunk_size,
        lambda s, e: model.project(
            {k: v[s:e].to(device) for k, v in features.items()}, torch.arange(offset + s, offset + e, device=device)
        ),
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
def projection_cosines(
    model: PinSage,
    features: dict[str, torch.Tensor],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    chunk_size: int = 65536,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """[n_items] each item's cosine between its embedding and its own projection (features and ID vector,
    before any convolution). Near 1 for every item, the graph barely reaches the embedding: what a model
    without convolutions would publish."""
    tables = layer_tables(model, features, neighbours, weights, chunk_size, device)
    return torch.cat(
        [
            torch.nn.functional.cosine_similarity(rows, tables[0][s : s + len(rows)], dim=1)
            for s, rows in final_chunks(model, tables, neighbours, weights, chunk_size, device)
        ]
    )


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


def _final(model, tables: list[torch.Tensor], earlier, neighbours, weights, chunk_size, device) -> torch.Tensor:
    """The embeddings from the layer tables, which it consumes (the list is emptied).

    Each chunk's last convolution and `finish` are computed together and written over the chunk's own
    rows of the projection, which nothing else reads at this step: two tables at the peak instead of
    three (2.3 GB less at 10M items). With one convolution the projection is also what it gathers
    neighbours from, so the result then gets a table of its own."""
    projected, h = tables[0], tables[-1]
    rows = _final_rows(model, projected, h, earlier[-1] if earlier else None, neighbours, weights, device)
    in_place = not model.convs or h is not projected
    tables.clear()
    return _by_chunks(len(projected), chunk_size, rows, out=projected if in_place else None)


@torch.no_grad()
def final_chunks(
    model: PinSage,
    tables: list[torch.Tensor],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    chunk_size: int = 65536,
    device: torch.device | str = "cpu",
) -> Iterator[tuple[int, torch.Tensor]]:
    """(first item, embeddings on CPU) chunk after chunk for the items whose `layer_tables` are `tables`,
    the rows `embed_all_items` gives them, leaving the tables as they are: for a reader that needs every
    item's embedding once but not the whole table (2.3 GB at 10M items) beside the tables it keeps."""
    model.eval()
    rows = _final_rows(model, tables[0], tables[-1], None, neighbours, weights, device)
    for s in range(0, len(tables[0]), chunk_size):
        yield s, rows(s, min(s + chunk_size, len(tables[0]))).cpu()


def _final_rows(model, projected, h, last_earlier, neighbours, weights, device) -> Callable[[int, int], torch.Tensor]:
    """rows(s, e): the embeddings of items s..e-1 from their projection and their last layer table `h`."""
    conv = model.convs[-1] if model.convs else None

    def rows(s: int, e: int) -> torch.Tensor:
        own = projected[s:e].to(device)
        if conv is None:
            return model.finish(own, own)
        return model.finish(
            conv(h[s:e].to(device), _gather(last_earlier, h, neighbours[s:e]).to(device), weights[s:e].to(device)),
            own,
        )

    return rows


def _convolve(conv, h, earlier_rows, neighbours, weights, chunk_size, device) -> torch.Tensor:
    """The next layer of the rows `h`, their neighbours read from `earlier_rows` followed by `h`."""
    return _by_chunks(
        len(h),
        chunk_size,
        lambda s, e: conv(
            h[s:e].to(device), _gather(earlier_rows, h, neighbours[s:e]).to(device), weights[s:e].to(device)
        ),
    )


def _gather(earlier_rows: torch.Tensor | None, rows: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Rows of the table `earlier_rows` followed by `rows` (without building that table: at 10M items the
    concatenation copied gigabytes per layer)."""
    if earlier_rows is None:
        return rows[ids]
    out = torch.empty((*ids.shape, rows.shape[1]), dtype=rows.dtype)
    before = ids < len(earlier_rows)
    out[before] = earlier_rows[ids[before]]
    out[~before] = rows[ids[~before] - len(earlier_rows)]
    return out


def _by_chunks(
    n_rows: int, chunk_size: int, rows: Callable[[int, int], torch.Tensor], out: torch.Tensor | None = None
) -> torch.Tensor:
    """The [n_rows, d] table whose rows s:e are `rows(s, e)`, computed chunk by chunk into one table on
    CPU (`out` when given) instead of a list of chunks and its concatenation, which held it twice."""
    for s in range(0, max(n_rows, 1), chunk_size):  # one empty chunk when there are no rows: its shape
        chunk = rows(s, min(s + chunk_size, n_rows))
        if out is None:
            out = torch.empty((n_rows, *chunk.shape[1:]), dtype=chunk.dtype)
        out[s : s + len(chunk)] = chunk.cpu()
    assert out is not None
    return out
