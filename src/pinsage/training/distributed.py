"""Data-parallel training across processes (torchrun), with no DGL involved.

Each rank samples its own share of every global minibatch (see `MinibatchProducer`), gradients are
all-reduced by DistributedDataParallel, and rank 0 alone validates, checkpoints and returns outputs;
its validation record is broadcast so every rank takes the same early-stopping decision.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


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
