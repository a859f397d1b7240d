"""Hard negatives from random walks with restart: items related to the query, but not too related.

The paper ranks items by the visit counts of Pixie random walks from the query and samples hard negatives
from ranks 2000–5000: close enough in the graph to be confusable, far enough not to be true positives.
Here each query of the epoch gets a fixed budget of walks (`walks_per_query` × at most `walk_hops`
item→user→item hops), so the cost per query does not depend on the catalogue: the earlier personalised
PageRank by power iteration touched every item and edge for every query, and was out of reach at 1M items.

False negatives. The top of the ranking (ranks below the band) is skipped: the most visited items are
those sharing the most users with the query, i.e. its likely next picks. A walk budget sees only so many
distinct items; where a query's walks reached fewer than the band's start, its band is the less visited
half of what they reached, never the most visited items. In the loss, a hard negative equal to the row's
positive counts for nothing, and hard negatives get no logQ correction (they are chosen, not drawn from
a known distribution).
"""

from __future__ import annotations

import dgl
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

    Returns (row, item, count), sorted by row, then by count descending, then by item id; `row` indexes
    `queries`. A walk may end after any hop (probability `restart`), so near items are visited more.
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
    # unique() sorted by (row, item); a stable sort by count, then by row, gives the ranking.
    order = torch.argsort(counts, descending=True, stable=True)
    order = order[torch.argsort(row[order], stable=True)]
    return row[order], item[order], counts[order]


def walk_band(
    graph: dgl.DGLGraph, queries: torch.Tensor, config: HardNegativeConfig, seed: int, generator: torch.Generator
) -> torch.Tensor:
    """[len(queries), samples_per_query]: items drawn uniformly from each query's band of the
    visit-count ranking. A query whose walks reached nothing (an item without users) gets uniform items."""
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


def draw_from_band(
    band: torch.Tensor, band_row: torch.Tensor, positives: torch.Tensor, count: int, generator: torch.Generator
) -> torch.Tensor:
    """[M, count] hard negatives: for each pair, `count` items drawn uniformly from its query's band
    (`band[band_row]`), stepping past the pair's positive where the band offers anything else."""
    rows = band[band_row]
    width = rows.shape[1]
    column = torch.randint(0, width, (len(positives), count), generator=generator)
    hard = rows.gather(1, column)
    for shift in range(1, min(width, 4)):
        clash = hard == positives.unsqueeze(1)
        if not clash.any():
            break
        hard = torch.where(clash, rows.gather(1, (column + shift) % width), hard)
    return hard
