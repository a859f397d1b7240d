"""The producer side of training: turning an epoch's sampled pairs into ready-to-compute minibatches.

The paper's producer–consumer design: CPU workers (a DataLoader's) assemble each minibatch — blocks,
re-indexing, feature rows, negatives — as plain tensors, so the consumer only moves them to the
device and computes. Nothing here needs DGL: the random walks were done when the epoch was sampled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp
import torch

from pinsage.graph.epoch import EpochSample
from pinsage.model.blocks import Blocks, build_blocks
from pinsage.seeding import derive_seed
from pinsage.training.config import TrainConfig
from pinsage.training.distributed import DistributedContext


@dataclass
class TrainingBatch:
    blocks: Blocks
    features: dict[str, torch.Tensor]  # rows of blocks.input_items
    query_index: torch.Tensor  # [B] rows of the model's output
    positive_index: torch.Tensor  # [B]
    negative_index: torch.Tensor  # [S] shared negatives
    query_items: torch.Tensor  # [B] global ids, to mask accidental hits
    positive_items: torch.Tensor  # [B]
    negative_items: torch.Tensor  # [S]
    # Under data parallelism the softmax's in-batch candidates are every rank's positives: [N * B],
    # rank-major, and this rank's rows are columns own_column [B] of them (N = 1: arange(B)).
    batch_positive_items: torch.Tensor  # [N * B]
    own_column: torch.Tensor  # [B]
    hard_index: torch.Tensor  # [B, H] rows of the output: each query's hard negatives (H may be 0)
    hard_items: torch.Tensor  # [B, H]
    negative_mask: torch.Tensor  # [B, S] bool: shared negative j is co-interacted with query i
    candidate_log_q: torch.Tensor  # [N * B + S] log expected count of each candidate in the global batch

    def apply(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> TrainingBatch:
        """The same batch with `fn` applied to every tensor."""
        return TrainingBatch(
            blocks=self.blocks.apply(fn),
            features={k: fn(v) for k, v in self.features.items()},
            **{f.name: fn(getattr(self, f.name)) for f in fields(self) if f.name not in ("blocks", "features")},
        )

    def to(self, device: torch.device | str) -> TrainingBatch:
        # Non-blocking copies overlap with compute when the batch sits in pinned memory.
        non_blocking = torch.device(device).type == "cuda"
        return self.apply(lambda t: t.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> TrainingBatch:
        """Called by the DataLoader's pinning thread so host→device copies can overlap compute."""
        return self.apply(torch.Tensor.pin_memory)


class MinibatchProducer(torch.utils.data.Dataset):
    """Minibatch i of an epoch; the same (seed, epoch, i) always gives the same batch, whatever the
    number of workers, because each batch draws from its own generator.

    Under data parallelism `sample` is the gathered epoch (`gather_epoch`): global batch i has
    `batch_size * world_size` rows and rank r gets rows [r * batch_size, (r + 1) * batch_size) of it,
    the rows it sampled itself, with the negatives every rank shares and the ids of every rank's
    positives: the loss gathers their embeddings across ranks (`gather_rows`), so each query's softmax
    has the N * B in-batch candidates of the one-process batch. N ranks compute exactly the one-process
    batch of N times the size on the same pairs, split N ways.
    """

    def __init__(
        self,
        sample: EpochSample,
        features: dict[str, torch.Tensor],
        config: TrainConfig,
        n_layers: int,
        epoch: int,
        context: DistributedContext = DistributedContext(),
    ):
        self.sample = sample
        self.features = features
        self.batch_size = config.batch_size
        self.num_negatives = config.num_negatives
        self.n_layers = n_layers
        self.seed = config.seed
        self.epoch = epoch
        self.rank = context.rank
        self.world_size = context.world_size
        self.n_items = sample.neighbours.shape[0]
        self.positive_frequency = sample.positive_frequency(self.n_items)
        self._item_users = None
        if sample.item_users is not None:
            indptr, indices = (t.numpy() for t in sample.item_users)
            n_users = int(indices.max()) + 1 if len(indices) else 0
            self._item_users = sp.csr_matrix(
                (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(self.n_items, n_users)
            )

    def __len__(self) -> int:
        return len(self.sample.queries) // (self.batch_size * self.world_size)

    def __getitem__(self, i: int) -> TrainingBatch:
        global_size = self.batch_size * self.world_size
        global_rows = slice(i * global_size, (i + 1) * global_size)
        mine = slice(self.rank * self.batch_size, (self.rank + 1) * self.batch_size)
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch, i))
        # Easy negatives shared by the whole minibatch (the paper's 500), uniform over the catalogue.
        negatives = torch.randint(0, self.n_items, (self.num_negatives,), generator=generator)
        hard = self._hard_negatives(global_rows)[mine]
        queries = self.sample.queries[global_rows][mine]
        positives = self.sample.positives[global_rows][mine]
        seeds, inverse = torch.unique(torch.cat([queries, positives, negatives, hard.reshape(-1)]), return_inverse=True)
        blocks = build_blocks(
            seeds,
            self.sample.neighbours,
            self.sample.weights,
            self.n_layers,
            # Every pair of the global batch is hidden on every rank, as in the one-process batch.
            hidden_pairs=torch.stack([self.sample.queries[global_rows], self.sample.positives[global_rows]], dim=1),
        )
        B = len(queries)
        batch_positives = self.sample.positives[global_rows]
        candidates = torch.cat([batch_positives, negatives])
        # Expected occurrences of each candidate: N * B draws from the positive distribution plus S
        # uniform draws. Subtracting its log from the logits (logQ correction, Yi et al. 2019) stops
        # the softmax from punishing items for being popular.
        expected = global_size * self.positive_frequency[candidates] + self.num_negatives / self.n_items
        return TrainingBatch(
            blocks=blocks,
            features={k: v[blocks.input_items] for k, v in self.features.items()},
            query_index=inverse[:B],
            positive_index=inverse[B : 2 * B],
            negative_index=inverse[2 * B : 2 * B + self.num_negatives],
            query_items=queries,
            positive_items=positives,
            negative_items=negatives,
            batch_positive_items=batch_positives,
            own_column=torch.arange(self.rank * B, (self.rank + 1) * B),
            hard_index=inverse[2 * B + self.num_negatives :].view(hard.shape),
            hard_items=hard,
            negative_mask=self._co_interacted(queries, negatives),
            candidate_log_q=expected.log(),
        )

    def _co_interacted(self, queries: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        if self._item_users is None:
            return torch.zeros(len(queries), len(negatives), dtype=torch.bool)
        shared = self._item_users[queries.numpy()] @ self._item_users[negatives.numpy()].T
        return torch.from_numpy(shared.toarray() > 0)

    def _hard_negatives(self, rows: slice) -> torch.Tensor:
        """[rows, H] the rows' hard negatives, drawn when the epoch was sampled (H may be 0)."""
        if self.sample.hard_negatives is None:
            return torch.empty(len(self.sample.queries[rows]), 0, dtype=torch.long)
        return self.sample.hard_negatives[rows]
