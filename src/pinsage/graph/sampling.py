"""Sampling on the training graph: importance neighbourhoods, each epoch's pairs and hard negatives.

With `graph.build` and `graph.hard_negatives` the only DGL users. What it returns are plain tensors — a
padded neighbour table and pair arrays — so everything downstream (minibatch assembly, the model, training,
inference) runs with PyTorch alone, on any device, without DGL installed.
"""

from __future__ import annotations

import dgl
import pandas as pd
import torch

from pinsage.graph.build import ITEM, ITEM_TO_USER, USER, USER_TO_ITEM, edges_by_id
from pinsage.graph.config import HardNegativeConfig, NeighbourConfig, PairConfig
from pinsage.graph.engagement import EngagementSequence
from pinsage.graph.epoch import EpochSample
from pinsage.graph.hard_negatives import curriculum_count, draw_from_band, exact_bands, excluded_pairs, walk_band
from pinsage.seeding import derive_seed

# The pair walks are seeded by attempts 0–7 (see `_pairs`); the hard-negative walks come after them.
_HARD_NEGATIVE_WALKS = 8


def importance_neighbours(
    graph: dgl.DGLGraph,
    config: NeighbourConfig,
    seed: int,
    items: torch.Tensor | None = None,
    chunk_size: int = 65536,
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each of `items` (default: every item), its top-T neighbours by random-walk visit count.

    Returns `neighbours` [len(items), T] (int64) and `weights` [len(items), T] (float32); an item with
    fewer than T distinct visited items is padded with itself at weight 0, so padded slots drop out of
    any weighted mean. An item never counts as its own neighbour.
    """
    n_items = graph.num_nodes(ITEM)
    items = torch.arange(n_items) if items is None else items
    T = config.num_neighbors
    # DGL's sampler counts the item itself among the visited (walks return to it), and often ranks it in
    # its top T; it is asked for T + 1 so that dropping the item still leaves T real neighbours.
    sampler = dgl.sampling.PinSAGESampler(
        graph,
        ITEM,
        USER,
        config.num_traversals,
        config.termination_prob,
        config.num_random_walks,
        T + 1,
    )
    neighbours = items.unsqueeze(1).repeat(1, T)
    weights = torch.zeros(len(items), T)
    row_of = torch.full((n_items,), -1, dtype=torch.long)
    dgl.seed(seed)
    for start in range(0, len(items), chunk_size):
        seeds = items[start : start + chunk_size]
        row_of[seeds] = torch.arange(start, start + len(seeds))
        frontier = sampler(seeds)
        src, dst = frontier.edges()
        w = frontier.edata["weights"].float()
        keep = src != dst
        src, row, w = src[keep], row_of[dst[keep]], w[keep]
        # Rank each item's neighbours by visit count (ties by id, for determinism) and keep T.
        order = torch.argsort(src, stable=True)
        order = order[torch.argsort(w[order], descending=True, stable=True)]
        order = order[torch.argsort(row[order], stable=True)]
        src, row, w = src[order], row[order], w[order]
        counts = torch.bincount(row - start, minlength=len(seeds))
        first = torch.cumsum(counts, 0) - counts
        slot = torch.arange(len(row)) - first[row - start]
        fits = slot < T
        neighbours[row[fits], slot[fits]] = src[fits]
        weights[row[fits], slot[fits]] = w[fits]
    return neighbours, weights


def fixed_neighbourhoods(
    graph: dgl.DGLGraph, config: NeighbourConfig, items: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The neighbourhoods used for evaluation, export and serving: seeded, and with many walks per
    item so the importance ranking reflects the graph rather than sampling noise."""
    many = config.model_copy(update={"num_random_walks": config.inference_random_walks})
    return importance_neighbours(graph, many, config.seed, items=items)


def item_to_user_to_item(
    graph: dgl.DGLGraph, queries: torch.Tensor, seed: int, prob: str | None = None
) -> torch.Tensor:
    """One item→user→item walk per query: the item reached, or -1 where the walk could not move.

    `prob` names an edge feature on user→item edges that biases the second step (e.g. against
    popular items).
    """
    dgl.seed(seed)
    traces, _ = dgl.sampling.random_walk(graph, queries, metapath=[ITEM_TO_USER, USER_TO_ITEM], prob=prob)
    return traces[:, 2]


def item_popularity_damping(graph: dgl.DGLGraph, alpha: float) -> torch.Tensor:
    """Edge weights deg(item)^-alpha on user→item edges, for walks that favour less popular items."""
    degree = graph.out_degrees(etype=ITEM_TO_USER).float().clamp(min=1)  # its users: the edges are symmetric
    _, items = edges_by_id(graph, USER_TO_ITEM)
    return degree[items].pow(-alpha)


class EpochSampler:
    """Samples each epoch's training pairs, their hard negatives and the neighbourhoods, seeded by epoch.

    Positives (`pairs.positives`) are the paper's next-engaged pairs from `interactions` (the training
    interactions with timestamps, `pinsage.graph.engagement`) or item→user→item walks on the graph."""

    def __init__(
        self,
        graph: dgl.DGLGraph,
        neighbours: NeighbourConfig,
        pairs: PairConfig,
        pairs_per_share: int,
        seed: int,
        fixed_neighbours: tuple[torch.Tensor, torch.Tensor],
        hard_negatives: HardNegativeConfig | None = None,
        interactions: pd.DataFrame | None = None,
    ):
        self.graph = graph
        self.neighbour_config = neighbours
        self.pair_config = pairs
        self.pairs_per_share = pairs_per_share  # per rank; one process: the whole epoch
        self.seed = seed
        self.sequence = None
        if pairs.positives == "next_engaged":
            if interactions is None:
                raise ValueError("pairs.positives = next_engaged needs the training interactions with their timestamps")
            self.sequence = EngagementSequence(interactions, pairs.window)
            if self.sequence.pairs == 0:
                raise ValueError("no user has two training interactions: there are no pairs to learn from")
        # Only items sharing a user with another item can have a positive; the others would only
        # ever walk back to themselves.
        users, items = edges_by_id(graph, USER_TO_ITEM)
        shared = graph.out_degrees(users, etype=USER_TO_ITEM) > 1
        self._edge_items = items[shared]
        self._walkable_items = torch.unique(self._edge_items)
        if len(self._edge_items) == 0:
            raise ValueError("no two items of the training graph share a user: there are no pairs to learn from")
        self._prob = None
        if pairs.positives == "walk" and pairs.positive_damping > 0:
            graph.edges[USER_TO_ITEM].data["damped"] = item_popularity_damping(graph, pairs.positive_damping)
            self._prob = "damped"
        self.fixed_neighbours = fixed_neighbours
        self._item_users: tuple[torch.Tensor, torch.Tensor] | None = None
        if pairs.exclude_co_interacted_negatives:
            indptr, indices, _ = graph.adj_tensors("csr", etype=ITEM_TO_USER)
            self._item_users = (indptr, indices)
        self.hard_config = hard_negatives or HardNegativeConfig()
        self._exact_bands: tuple[torch.Tensor, torch.Tensor] | None = None  # computed when first needed

    def __call__(self, epoch: int, rank: int = 0) -> EpochSample:
        """Rank `rank`'s share of epoch `epoch`: `pairs_per_share` pairs, their hard negatives, and the
        neighbourhoods. Each rank's share is seeded by (seed, epoch, rank), so N ranks walk N shares
        at once, each from its own queries, instead of one process walking the whole epoch for all."""
        seed = derive_seed(self.seed, epoch, rank)
        generator = torch.Generator().manual_seed(seed)
        queries, positives = self._pairs(generator, seed)
        if self.pair_config.refresh_neighbours:
            neighbours, weights = importance_neighbours(
                self.graph, self.neighbour_config, derive_seed(self.seed, epoch)
            )
        else:
            neighbours, weights = self.fixed_neighbours
        hard_per_query = curriculum_count(epoch, self.hard_config)
        hard_negatives = None
        if hard_per_query:
            distinct, band_row = torch.unique(queries, return_inverse=True)
            if self._ranks_exactly():
                band, band_count = (t[distinct] for t in self._bands())
            else:
                # Only the share's own queries are walked from: the cost follows the epoch, not the catalogue.
                walk_seed = derive_seed(seed, _HARD_NEGATIVE_WALKS)
                band = walk_band(self.graph, distinct, self.hard_config, walk_seed, generator)
                band_count = torch.full((len(distinct),), band.shape[1])
            forbidden = torch.cat([positives.unsqueeze(1), self.fixed_neighbours[0][queries]], dim=1)
            n_items = self.graph.num_nodes(ITEM)
            hard_negatives = draw_from_band(band, band_count, band_row, forbidden, hard_per_query, n_items, generator)
        return EpochSample(
            queries=queries,
            positives=positives,
            neighbours=neighbours,
            weights=weights,
            hard_negatives=hard_negatives,
            item_users=self._item_users,
        )

    def _ranks_exactly(self) -> bool:
        ranking = self.hard_config.ranking
        return ranking == "exact" or (
            ranking == "auto" and self.graph.num_nodes(ITEM) <= self.hard_config.exact_max_items
        )

    def _bands(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every item's exact band, with its positives' window co-occurrences and neighbours left out."""
        if self._exact_bands is None:
            n_items = self.graph.num_nodes(ITEM)
            window = self.sequence.window_pairs(n_items) if self.sequence is not None else None
            excluded = excluded_pairs(n_items, self.fixed_neighbours[0], window)
            self._exact_bands = exact_bands(self.graph, self.hard_config, excluded)
        return self._exact_bands

    def _pairs(self, generator: torch.Generator, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.pairs_per_share
        if self.sequence is not None:
            return self.sequence.draw(n, generator, self.pair_config.query_sampling)
        queries = torch.empty(0, dtype=torch.long)
        positives = torch.empty(0, dtype=torch.long)
        for attempt in range(8):  # a walk may come back to its query: redraw those
            draw = self._draw_queries(n - len(queries), generator)
            reached = item_to_user_to_item(self.graph, draw, derive_seed(seed, attempt), self._prob)
            ok = (reached >= 0) & (reached != draw)
            queries = torch.cat([queries, draw[ok]])
            positives = torch.cat([positives, reached[ok]])
            if len(queries) >= n:
                break
        return queries[:n], positives[:n]

    def _draw_queries(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self.pair_config.query_sampling == "interaction":
            pool = self._edge_items
        else:
            pool = self._walkable_items
        return pool[torch.randint(0, len(pool), (n,), generator=generator)]
