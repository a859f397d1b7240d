"""Hard negatives: items related to the query, but not too related, and never its positives.

The paper ranks items by the visit counts of Pixie random walks from the query and samples hard negatives
from ranks 2000–5000: close enough in the graph to be confusable, far enough not to be true positives.

Ranking. Up to `exact_max_items` items (`ranking: auto`) the ranking is exact: the walks' expected visit
counts, Σ_h (1 − restart)^(h−1) · P^h with P the item→user→item transition, by sparse products, once per
item for the whole training (`exact_bands`). Sampled walks (100 per query) visit most band items once or
twice, so inside the band their order was the item id: ranks meant nothing there. Beyond that size each
epoch's queries get a fixed budget of walks (`walk_band`), so the cost per query does not depend on the
catalogue.

False negatives. Never a negative: the query itself, its importance neighbours (the top of any ranking),
the row's positive, and, where the ranking is exact, every item the query co-occurs with inside the
positives' window anywhere in training (`excluded`): the ranking is taken over what remains, so the band
lies below the positives' mass. Where a query reaches fewer items than the band's start, its band is the
less visited half of what it reached. In the loss, hard negatives get no logQ correction (they are chosen,
not drawn from a known distribution).
"""

from __future__ import annotations

import dgl
import numpy as np
import scipy.sparse as sp
import torch

from pinsage.graph.build import ITEM, ITEM_TO_USER, USER_TO_ITEM
from pinsage.graph.config import HardNegativeConfig
from pinsage.seeding import derive_seed


def curriculum_count(epoch: int, config: HardNegativeConfig) -> int:
    """Hard negatives per query at 0-based `epoch`: none at first, then one more each epoch (the
    paper's curriculum), up to the cap."""
    return min(epoch, config.max_per_query) if config.enabled else 0


def visit_counts(
    graph: dgl.DGLGraph, queries: torch.Tensor, config: HardNegativeConfig, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Items visited by the walks from each query, with their counts, the query itself left out.

    Returns (row, item, count), sorted by row, then by count descending, items visited equally often in
    a random (seeded) order; `row` indexes `queries`. A walk may end after any hop (probability
    `restart`), so near items are visited more.
    """
    hops = config.walk_hops
    metapath = [ITEM_TO_USER, USER_TO_ITEM] * hops
    # The walk may only end on an item: never between the item→user and user→item steps. No end
    # before the first hop, so every walk reaches at least one item.
    ends = torch.tensor([0.0, 0.0] + [config.restart, 0.0] * (hops - 1))
    dgl.seed(seed)
    starts = queries.repeat_interleave(config.walks_per_query)
    traces, _ = dgl.sampling.random_walk(graph, starts, metapath=metapath, restart_prob=ends)
    items = traces[:, 2::2]
    rows = torch.arange(len(queries)).repeat_interleave(config.walks_per_query).unsqueeze(1).expand_as(items)
    keep = (items >= 0) & (items != starts.unsqueeze(1))
    n_items = graph.num_nodes(ITEM)
    keys, counts = torch.unique(rows[keep] * n_items + items[keep], return_counts=True)
    row, item = keys // n_items, keys % n_items
    # A random order first, then stable sorts by count and by row: ties are not ranked by item id.
    order = torch.randperm(len(keys), generator=torch.Generator().manual_seed(seed))
    order = order[torch.argsort(counts[order], descending=True, stable=True)]
    order = order[torch.argsort(row[order], stable=True)]
    return row[order], item[order], counts[order]


def walk_band(
    graph: dgl.DGLGraph, queries: torch.Tensor, config: HardNegativeConfig, seed: int, generator: torch.Generator
) -> torch.Tensor:
    """[len(queries), samples_per_query]: items drawn uniformly from each query's band of the
    visit-count ranking (items visited equally often in random order, not by id). A query whose walks
    reached nothing (an item without users) gets uniform items."""
    n_items = graph.num_nodes(ITEM)
    band_start, band_end = config.band(n_items - 1)
    width = config.samples_per_query
    out = []
    for chunk, s in enumerate(range(0, len(queries), config.chunk_size)):
        seeds = queries[s : s + config.chunk_size]
        row, item, _ = visit_counts(graph, seeds, config, derive_seed(seed, chunk))
        visited = torch.bincount(row, minlength=len(seeds))
        first = torch.cumsum(visited, 0) - visited
        # Ranks [band_start, band_end) where the walks reached that far, else the less visited half.
        reached = visited > band_start
        low = torch.where(reached, torch.full_like(visited, band_start), visited // 2)
        high = torch.where(reached, visited.clamp(max=band_end), visited)
        rank = (
            low.unsqueeze(1) + (torch.rand(len(seeds), width, generator=generator) * (high - low).unsqueeze(1)).long()
        )
        uniform = torch.randint(0, n_items, (len(seeds), width), generator=generator)
        if len(item) == 0:  # no query of the chunk reached anything
            out.append(uniform)
            continue
        drawn = item[(first.unsqueeze(1) + rank).clamp(max=len(item) - 1)]
        out.append(torch.where((visited > 0).unsqueeze(1), drawn, uniform))
    return torch.cat(out) if out else torch.empty(0, width, dtype=torch.long)


def excluded_pairs(
    n_items: int, neighbours: torch.Tensor, window_pairs: tuple[np.ndarray, np.ndarray] | None
) -> sp.csr_matrix:
    """[n_items, n_items] boolean: what is never a hard negative of each item (row): itself, its importance
    neighbours, and the items it co-occurs with inside the positives' window (`window_pairs`, rows and
    columns), where given."""
    rows = [np.arange(n_items), np.repeat(np.arange(n_items), neighbours.shape[1])]
    columns = [np.arange(n_items), neighbours.reshape(-1).numpy()]
    if window_pairs is not None:
        rows.append(window_pairs[0])
        columns.append(window_pairs[1])
    r, c = np.concatenate(rows), np.concatenate(columns)
    matrix = sp.csr_matrix((np.ones(len(r), dtype=bool), (r, c)), shape=(n_items, n_items))
    matrix.sum_duplicates()
    return matrix


def exact_bands(
    graph: dgl.DGLGraph, config: HardNegativeConfig, excluded: sp.csr_matrix, rows_per_chunk: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every item's band of its exact ranking: (band [n_items, width] items, count [n_items] how many of
    each row are its band; the rest is padding), for `draw_from_band`.

    The ranking is by the expected visit count of the walks `visit_counts` samples (at most `walk_hops`
    item→user→item hops, ending after each with probability `restart`), over the items not `excluded`
    for the row; ties keep item order, but exact counts rarely tie. A row that reaches fewer items than the
    band's start gets the less visited half of what it reaches; one that reaches nothing gets count 0."""
    n_items = graph.num_nodes(ITEM)
    indptr, users, _ = (t.numpy() for t in graph.adj_tensors("csr", etype=ITEM_TO_USER))
    n_users = graph.num_nodes("user")
    item_user = sp.csr_matrix((np.ones(len(users), np.float32), users, indptr), shape=(n_items, n_users))
    # One step each way, uniform over the edges (as DGL's walks step), row-normalised.
    to_user = sp.diags(1.0 / np.maximum(item_user.sum(axis=1).A1, 1)).astype(np.float32) @ item_user
    user_item = item_user.T.tocsr()
    to_item = sp.diags(1.0 / np.maximum(user_item.sum(axis=1).A1, 1)).astype(np.float32) @ user_item
    # Products as sparse @ dense on the transposes: scipy multiplies a sparse left factor fastest.
    to_user_t, to_item_t = to_user.T.tocsr(), to_item.T.tocsr()
    band_start, band_end = config.band(n_items - 1)
    width = band_end - band_start
    band = torch.zeros(n_items, width, dtype=torch.long)
    count = torch.zeros(n_items, dtype=torch.long)
    chunk = rows_per_chunk or max(1, 2**24 // max(n_items, n_users, 1))  # dense blocks of about 64 MB
    for start in range(0, n_items, chunk):
        stop = min(start + chunk, n_items)
        position = np.zeros((n_items, stop - start), dtype=np.float32)  # column j: walker of item start + j
        position[np.arange(start, stop), np.arange(stop - start)] = 1.0
        visits = np.zeros_like(position)
        alive = 1.0
        for _ in range(config.walk_hops):
            position = to_item_t @ (to_user_t @ position)
            visits += alive * position
            alive *= 1.0 - config.restart
        scores = torch.from_numpy(visits.T.copy())
        block = excluded[start:stop].tocoo()
        scores[block.row, block.col] = 0.0
        reached = (scores > 0).sum(1)
        top = min(band_end, n_items)
        _, ranked = torch.topk(scores, top, dim=1, sorted=True)
        low = torch.where(reached > band_start, torch.full_like(reached, band_start), reached // 2)
        high = torch.where(reached > band_start, reached.clamp(max=band_end), reached)
        column = low.unsqueeze(1) + torch.arange(width)
        valid = column < high.unsqueeze(1)
        band[start:stop] = torch.where(valid, ranked.gather(1, column.clamp(max=top - 1)), 0)
        count[start:stop] = high - low
    return band, count


def draw_from_band(
    band: torch.Tensor,
    band_count: torch.Tensor,
    band_row: torch.Tensor,
    forbidden: torch.Tensor,
    count: int,
    n_items: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """[M, count] hard negatives: for each pair, `count` items drawn uniformly from its query's band
    (the first `band_count[r]` items of `band[r]`, r = `band_row[i]`), stepping past the row's `forbidden`
    items ([M, F]: its positive, its query's neighbours) where the band offers anything else. A query
    with an empty band gets uniform items."""
    rows, available = band[band_row], band_count[band_row]
    column = (torch.rand(len(band_row), count, generator=generator) * available.unsqueeze(1)).long()
    hard = rows.gather(1, column)
    for shift in range(1, 4):
        clash = (hard.unsqueeze(2) == forbidden.unsqueeze(1)).any(2) & (available.unsqueeze(1) > shift)
        if not clash.any():
            break
        hard = torch.where(clash, rows.gather(1, (column + shift) % available.clamp(min=1).unsqueeze(1)), hard)
    uniform = torch.randint(0, n_items, hard.shape, generator=generator)
    return torch.where((available > 0).unsqueeze(1), hard, uniform)
