"""Data-parallel training on CPU with the gloo backend, two processes against one."""

from __future__ import annotations

import datetime
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pinsage.graph.config import NeighbourConfig
from pinsage.jobs.train import TrainSettings, fit
from pinsage.model.pinsage import ModelConfig
from pinsage.training.config import TrainConfig
from pinsage.training.distributed import DistributedContext
from tests.worlds import planted_world

PER_RANK_BATCH = 32
BASE = {
    "epochs": 4,
    "batches_per_epoch": 10,
    "num_negatives": 30,
    "lr": 0.005,
    "warmup_epochs": 0.5,
    "seed": 0,
}


def run(config: TrainConfig, context: DistributedContext) -> tuple[dict, list[dict]]:
    world = planted_world(
        n_pins=150,
        n_boards=120,
        n_topics=6,
        dense_dim=4,
        seed=5,
        neighbourhood=NeighbourConfig(inference_random_walks=10),
    )
    torch.manual_seed(0)
    result = fit(world.inputs, TrainSettings(model=ModelConfig(hidden_dim=16), training=config), context)
    return result.state_dict, result.history


def _rank(rank: int, world_size: int, port: int, out: str, loss: str) -> None:
    torch.set_num_threads(1)
    # A short timeout turns any mismatch between the ranks' collectives into a failure, not a hang.
    # The process group is not destroyed: with torch 2.2's gloo, destroy_process_group can block
    # both ranks forever after the work is done; the processes' exit releases it.
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=120),
    )
    config = TrainConfig(**BASE, loss=loss, batch_size=PER_RANK_BATCH)
    state, history = run(config, DistributedContext(rank, world_size))
    if rank == 0:
        torch.save({"state": state, "history": history}, out)


def _one_process(_: int, out: str, loss: str) -> None:
    """The reference: one process, twice the batch; the linear scaling rule gives the two ranks lr × 2.
    It runs in a fresh process set up like a rank's, because DGL's random walks are reproducible for a
    seed *and* a thread count, and the test process's own thread state depends on the tests before it."""
    torch.set_num_threads(1)
    config = TrainConfig(**{**BASE, "lr": BASE["lr"] * 2}, loss=loss, batch_size=2 * PER_RANK_BATCH)
    state, history = run(config, DistributedContext())
    torch.save({"state": state, "history": history}, out)


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("loss", ["softmax", "max_margin"])
def test_two_processes_match_one_with_the_same_global_batch(tmp_path, loss):
    """With the default softmax, each query's in-batch candidates are both ranks' positives (gathered),
    as in the one-process batch; the sparse embedding-table updates are all-reduced like dense ones."""
    out = tmp_path / "two.pt"
    mp.spawn(_rank, args=(2, free_loopback_port(), str(out), loss), nprocs=2, join=True)
    two = torch.load(out, weights_only=True)
    mp.spawn(_one_process, args=(str(tmp_path / "one.pt"), loss), nprocs=1, join=True)
    one = torch.load(tmp_path / "one.pt", weights_only=True)
    one_state, one_history = one["state"], one["history"]
    for a, b in zip(two["history"], one_history, strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-4
    for name, tensor in one_state.items():
        torch.testing.assert_close(two["state"][name], tensor, atol=1e-4, rtol=1e-4)
    assert two["history"][-1]["loss"] < two["history"][0]["loss"]
