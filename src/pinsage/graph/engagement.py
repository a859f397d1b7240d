"""The paper's positives: pairs of items one user engaged with one shortly after the other.

PinSage trains on pairs (q, i) where a user engaged with i right after q (Ying et al., 2018, §3.3), which
is also the question the evaluation asks (the item after the user's latest). Here a pair is two of one
user's training interactions at most `window` positions apart in that user's time order, used in both
directions: the embedding's score is a cosine, symmetric, so (i, q) teaches what (q, i) does.

Ties in time. A user's interactions are ordered by time, and interactions with the same timestamp keep
their source order: the split's rule (`pinsage.data.split.user_time_order`), so "the next items" here are
the ones the split would have held out after the same item. Because pairs go both ways, the order inside
a tie only decides which items fall inside a window, never which of two is the query.

Everything is a few flat arrays over the training interactions (no DGL, no per-user Python), so an epoch's
pairs are drawn in vectorised steps at any catalogue size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from pinsage.data.split import user_time_order

# Draws per round of rejection sampling beyond what the acceptance rate asks for, and rounds at most: a
# round that accepts nothing at all (no pairs) stops earlier.
_SLACK, _ROUNDS = 1.2, 16


class EngagementSequence:
    """The training interactions as one array of items in (user, time) order, with how far each position
    may look ahead and back within its user's run of interactions (at most `window`)."""

    def __init__(self, interactions: pd.DataFrame, window: int):
        if not 1 <= window <= 255:
            raise ValueError(f"pairs.window must be between 1 and 255, got {window}")
        user = interactions["user"].to_numpy()
        timestamp = interactions["timestamp"].to_numpy()
        order = None
        if len(user) > 1:
            # The split writes training interactions already in this order: a check instead of a sort.
            same = user[1:] == user[:-1]
            in_order = bool(np.all(user[1:] >= user[:-1])) and bool(np.all(timestamp[1:][same] >= timestamp[:-1][same]))
            order = None if in_order else user_time_order(user, timestamp)
        items = interactions["item"].to_numpy()
        if order is not None:
            user, items = user[order], items[order]
        self.window = window
        self.items = torch.from_numpy(items.astype(np.int64))
        starts = np.r_[0, np.flatnonzero(user[1:] != user[:-1]) + 1] if len(user) else np.zeros(0, np.int64)
        run_length = np.diff(np.r_[starts, len(user)])
        position = np.arange(len(user)) - np.repeat(starts, run_length)
        # uint8: one byte per interaction (90 MB at 90M interactions), enough for a window up to 255.
        self.ahead = torch.from_numpy(
            np.minimum(window, np.repeat(run_length, run_length) - 1 - position).astype(np.uint8)
        )
        self.behind = torch.from_numpy(np.minimum(window, position).astype(np.uint8))
        self.pairs = int(self.ahead.sum())  # pairs (t, t + s), 1 <= s <= window, one direction
        self._positions_by_item: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._all_positions: tuple[np.ndarray, np.ndarray] | None = None

    def draw(
        self, n: int, generator: torch.Generator, query_sampling: str = "interaction"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`n` pairs (queries, positives). `interaction`: uniform over every pair of positions at most `window`
        apart, in a random direction, so a query is drawn as often as it was engaged with in pairs (the
        evaluation's queries are engagements too). `uniform`: the query uniform over the items that have a
        pair, then one of its occurrences and a position within the window of it. Fewer than `n` only
        where the sequence has no pair at all."""
        if self.pairs == 0 or n == 0:
            return torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
        if query_sampling == "uniform":
            return self._draw_uniform_queries(n, generator)
        # Rejection sampling of (position, offset) pairs: a draw past its user's last interaction is drawn
        # again. Exactly uniform over pairs, with no cumulative array over the interactions.
        acceptance = self.pairs / (len(self.items) * self.window)
        first, second = [], []
        have = 0
        for _ in range(_ROUNDS):
            m = int((n - have) / acceptance * _SLACK) + 16
            t = torch.randint(0, len(self.items), (m,), generator=generator)
            s = torch.randint(1, self.window + 1, (m,), generator=generator)
            ok = s <= self.ahead[t].long()
            a, b = self.items[t[ok]], self.items[t[ok] + s[ok]]
            keep = a != b  # the same item twice in a user's window (a repeat) says nothing
            first.append(a[keep])
            second.append(b[keep])
            have += int(keep.sum())
            if have >= n:
                break
        a, b = torch.cat(first)[:n], torch.cat(second)[:n]
        flip = torch.rand(len(a), generator=generator) < 0.5
        return torch.where(flip, b, a), torch.where(flip, a, b)

    def _draw_uniform_queries(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        positions, bounds, items = self._positions_with_pairs()
        queries = items[torch.randint(0, len(items), (n,), generator=generator)]
        positives = torch.full((n,), -1, dtype=torch.long)
        open_rows = torch.arange(n)
        # Each query keeps its item while its partner is redrawn: only a repeat of the same item is redrawn.
        for _ in range(_ROUNDS):
            item = queries[open_rows]
            count = bounds[item + 1] - bounds[item]
            t = positions[bounds[item] + (torch.rand(len(item), generator=generator) * count).long()]
            behind, ahead = self.behind[t].long(), self.ahead[t].long()
            k = (torch.rand(len(item), generator=generator) * (behind + ahead)).long()
            partner = self.items[t + torch.where(k < behind, k - behind, k - behind + 1)]
            found = partner != item
            positives[open_rows[found]] = partner[found]
            open_rows = open_rows[~found]
            if not len(open_rows):
                break
        drawn = positives >= 0
        return queries[drawn], positives[drawn]

    def occurrences(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every position of each of `items` in the sequence: (positions, starts), item i's being
        positions[starts[i]:starts[i + 1]]; the index by item is built on first use (8 bytes a position)."""
        if self._all_positions is None:
            order = np.argsort(self.items.numpy(), kind="stable")
            n = int(self.items.max()) + 1 if len(self.items) else 0
            bounds = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.items.numpy(), minlength=n), out=bounds[1:])
            self._all_positions = (order, bounds)
        order, bounds = self._all_positions
        items = np.asarray(items, dtype=np.int64)
        count = np.zeros(len(items), dtype=np.int64)
        first = np.zeros(len(items), dtype=np.int64)
        known = items < len(bounds) - 1  # an item never interacted with has no position
        first[known], count[known] = bounds[items[known]], np.diff(bounds)[items[known]]
        starts = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(count, out=starts[1:])
        positions = order[np.repeat(first - starts[:-1], count) + np.arange(starts[-1])]
        return positions, starts

    def _positions_with_pairs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The positions that have a pair, grouped by item, each item's range of them, and the items that
        have one (built on first use: 8 bytes a position)."""
        if self._positions_by_item is None:
            positions = torch.nonzero((self.ahead > 0) | (self.behind > 0)).squeeze(1)
            positions = positions[torch.argsort(self.items[positions], stable=True)]
            n_items = int(self.items.max()) + 1
            bounds = torch.zeros(n_items + 1, dtype=torch.long)
            bounds[1:] = torch.cumsum(torch.bincount(self.items[positions], minlength=n_items), 0)
            self._positions_by_item = (positions, bounds, torch.unique(self.items[positions]))
        return self._positions_by_item

    def window_counts(self, n_items: int) -> sp.csr_matrix:
        """[n_items, n_items]: how often each pair of distinct items lies at most `window` positions apart
        in one user's sequence, either order (symmetric): the counts the next-items baseline ranks by."""
        items = self.items.numpy()
        ahead = self.ahead.numpy()
        counts = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        # One offset at a time, summed as it goes: memory follows the distinct pairs, not 2·W per interaction.
        for s in range(1, self.window + 1):
            t = np.flatnonzero(ahead >= s)
            a, b = items[t], items[t + s]
            keep = a != b
            r, c = np.concatenate([a[keep], b[keep]]), np.concatenate([b[keep], a[keep]])
            counts = counts + sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(n_items, n_items))
        return counts

    def window_pairs(self, n_items: int) -> tuple[np.ndarray, np.ndarray]:
        """Every pair of distinct items at most `window` positions apart, both directions, once: (rows,
        columns) of the window co-occurrences, for excluding positives from hard negatives."""
        coo = self.window_counts(n_items).tocoo()
        return coo.row.astype(np.int64), coo.col.astype(np.int64)
