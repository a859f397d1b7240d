"""Data-parallel training across processes (torchrun), with no DGL involved.

Each rank samples its own share of every epoch (its rows of every global minibatch, seeded by rank),
and the ranks exchange only the pairs' ids (`gather_epoch`), so sampling scales with the ranks instead
of one rank walking for all. Gradients are all-reduced by DistributedDataParallel, and rank 0 alone
validates, checkpoints and returns outputs; its validation record is broadcast so every rank takes the
same early-stopping decision.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, replace

import torch
import torch.distributed as dist

from pinsage.graph.epoch import EpochSample


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def context_from_environment(device: str) -> DistributedContext:
    """The context torchrun describes in RANK / WORLD_SIZE, joining its process group if needed
    (NCCL on CUDA, gloo on CPU). Without torchrun: one process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistributedContext()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return DistributedContext(rank=dist.get_rank(), world_size=dist.get_world_size())


def leave_process_group(context: DistributedContext) -> None:
    """End a data-parallel rank's process once everything it writes is written.

    A process that exits with gloo's process group alive can abort (SIGABRT) while the interpreter shuts
    down: gloo's threads still hold work whose tensors reference Python objects (pytorch/pytorch#179291),
    and torchrun then reports the finished run as failed. With torch 2.2's gloo, destroy_process_group can
    instead block both ranks forever. So an active rank flushes its output and exits at once, skipping the
    interpreter's shutdown; a single process returns normally."""
    if not context.active:
        return
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def broadcast_from_main(value: object, context: DistributedContext) -> object:
    if not context.active:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean_across(value: float, context: DistributedContext) -> float:
    if not context.active:
        return value
    total = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(total)
    return float(total.item()) / context.world_size


def gather_epoch(share: EpochSample, context: DistributedContext, batch_size: int) -> EpochSample:
    """The epoch every rank trains on, from each rank's `share`: global batch i is every rank's i-th
    block of `batch_size` rows, rank-major (rank r's rows sit where `MinibatchProducer` slices them for
    r). Every rank gets the same sample. Shares are cut to the shortest one's whole batches, so all
    ranks run the same number of steps."""
    if not context.active:
        return share
    shortest = torch.tensor([len(share.queries)])
    dist.all_reduce(shortest, op=dist.ReduceOp.MIN)
    rows = int(shortest) // batch_size * batch_size

    def whole_epoch(column: torch.Tensor) -> torch.Tensor:
        return interleave_shares(_all_gather(column[:rows], context), batch_size)

    hard = share.hard_negatives
    return replace(
        share,
        queries=whole_epoch(share.queries),
        positives=whole_epoch(share.positives),
        hard_negatives=None if hard is None else whole_epoch(hard),
    )


def interleave_shares(shares: list[torch.Tensor], batch_size: int) -> torch.Tensor:
    """Rank shares of equal length (rows first) in global-batch order: batch 0 of rank 0, of rank 1,
    ..., then batch 1 of each rank, and so on."""
    stacked = torch.stack(shares)  # [N, rows, ...]
    n, rows = stacked.shape[:2]
    blocks = stacked.reshape(n, rows // batch_size, batch_size, *stacked.shape[2:])
    return blocks.transpose(0, 1).reshape(n * rows, *stacked.shape[2:])


def _all_gather(rows: torch.Tensor, context: DistributedContext) -> list[torch.Tensor]:
    gathered = [torch.empty_like(rows) for _ in range(context.world_size)]
    dist.all_gather(gathered, rows.contiguous())
    return gathered


def wrap(model: torch.nn.Module, context: DistributedContext, device: torch.device) -> torch.nn.Module:
    if not context.active:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


class _GatherRows(torch.autograd.Function):
    """all_gather with a gradient: each rank gets its rows' gradient summed over every rank's loss.

    Written here because torch's differentiable all_gather needs reduce-scatter or all-to-all in its
    backward, which gloo (CPU) lacks; an all-reduce of the whole gathered gradient works everywhere.
    """

    @staticmethod
    def forward(ctx, rows: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
        gathered = [torch.empty_like(rows) for _ in range(world_size)]
        dist.all_gather(gathered, rows.contiguous())
        ctx.rank, ctx.n = rank, len(rows)
        return torch.cat(gathered)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.n : (ctx.rank + 1) * ctx.n], None, None


def gather_rows(rows: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Every rank's `rows` (the same count on each), rank-major, differentiable; `rows` alone in one process.

    With DistributedDataParallel averaging parameter gradients over ranks, each rank's loss being the
    mean over its own rows, the gradients equal the one-process batch's exactly."""
    if not context.active:
        return rows
    return _GatherRows.apply(rows, context.rank, context.world_size)
