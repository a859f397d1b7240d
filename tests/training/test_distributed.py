"""Data-parallel training on CPU with the gloo backend, two processes against one."""

from __future__ import annotations

import datetime
import socket
from dataclasses import replace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import pinsage.jobs.train
from pinsage.graph.config import NeighbourConfig
from pinsage.graph.epoch import EpochSample
from pinsage.graph.sampling import EpochSampler
from pinsage.jobs.train import TrainSettings, fit
from pinsage.model.pinsage import ModelConfig
from pinsage.training.config import TrainConfig
from pinsage.training.distributed import DistributedContext, gather_epoch, interleave_shares, leave_process_group
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


class RecordingSampler(EpochSampler):
    """The project's sampler, keeping every share it hands out."""

    shares: list[EpochSample] = []

    def __call__(self, epoch: int, rank: int = 0) -> EpochSample:
        share = super().__call__(epoch, rank)
        RecordingSampler.shares.append(share)
        return share


def _join(rank: int, world_size: int, port: int) -> None:
    torch.set_num_threads(1)
    # A short timeout turns any mismatch between the ranks' collectives into a failure, not a hang.
    # Each rank ends through leave_process_group, as torchrun's ranks do (see there why).
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=120),
    )


def _rank(rank: int, world_size: int, port: int, folder: str, loss: str) -> None:
    _join(rank, world_size, port)
    pinsage.jobs.train.EpochSampler = RecordingSampler
    config = TrainConfig(**BASE, loss=loss, batch_size=PER_RANK_BATCH)
    state, history = run(config, DistributedContext(rank, world_size))
    torch.save({"state": state, "history": history, "shares": RecordingSampler.shares}, f"{folder}/rank{rank}.pt")
    leave_process_group(DistributedContext(rank, world_size))


def _one_process(_: int, folder: str, loss: str) -> None:
    """The reference: one process, twice the batch, trained on the pairs the two ranks sampled
    (interleaved as the ranks gathered them); the linear scaling rule gives the two ranks lr × 2. It
    runs in a fresh process set up like a rank's, so its thread state does not depend on earlier tests."""
    torch.set_num_threads(1)
    ranks = [torch.load(f"{folder}/rank{r}.pt", weights_only=False)["shares"] for r in range(2)]

    class Replay(EpochSampler):
        def __call__(self, epoch: int, rank: int = 0) -> EpochSample:
            first, second = ranks[0][epoch], ranks[1][epoch]
            hard = None
            if first.hard_negatives is not None:
                hard = interleave_shares([first.hard_negatives, second.hard_negatives], PER_RANK_BATCH)
            return replace(
                first,
                queries=interleave_shares([first.queries, second.queries], PER_RANK_BATCH),
                positives=interleave_shares([first.positives, second.positives], PER_RANK_BATCH),
                hard_negatives=hard,
            )

    pinsage.jobs.train.EpochSampler = Replay
    config = TrainConfig(**{**BASE, "lr": BASE["lr"] * 2}, loss=loss, batch_size=2 * PER_RANK_BATCH)
    state, history = run(config, DistributedContext())
    torch.save({"state": state, "history": history}, f"{folder}/one.pt")


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("loss", ["softmax", "max_margin"])
def test_two_processes_match_one_with_the_same_global_batch(tmp_path, loss):
    """Each rank walks its own share of every epoch (hard negatives from epoch 2 included), and the two
    ranks train exactly as one process does on both shares with twice the batch: with the default
    softmax, each query's in-batch candidates are both ranks' positives (gathered), and the sparse
    embedding-table updates are all-reduced like dense ones."""
    mp.spawn(_rank, args=(2, free_loopback_port(), str(tmp_path), loss), nprocs=2, join=True)
    two = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    assert len(two[0]["shares"]) == BASE["epochs"]
    for first, second in zip(two[0]["shares"], two[1]["shares"], strict=True):
        assert len(first.queries) == len(second.queries) == BASE["batches_per_epoch"] * PER_RANK_BATCH
        assert not torch.equal(first.queries, second.queries)  # each rank sampled its own pairs
    assert two[0]["shares"][-1].hard_negatives is not None
    mp.spawn(_one_process, args=(str(tmp_path), loss), nprocs=1, join=True)
    one = torch.load(tmp_path / "one.pt", weights_only=True)
    for a, b in zip(two[0]["history"], one["history"], strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-4
    for name, tensor in one["state"].items():
        torch.testing.assert_close(two[0]["state"][name], tensor, atol=1e-4, rtol=1e-4)
    if loss == "softmax":
        # The hinge's mean is over more negatives each epoch (the curriculum adds a hard one per epoch), so
        # only the softmax's loss is comparable from the first epoch to the last.
        assert two[0]["history"][-1]["loss"] < two[0]["history"][0]["loss"]


def _gather(rank: int, world_size: int, port: int, folder: str) -> None:
    _join(rank, world_size, port)
    # Rank r's share: rows r*100 + i (rank 1 one row short, as when its walks could not fill the share),
    # each with two hard negatives.
    rows = 10 - rank
    queries = torch.arange(rows) + 100 * rank
    share = EpochSample(
        queries=queries,
        positives=queries + 1000,
        neighbours=torch.zeros(3, 2, dtype=torch.long),
        weights=torch.zeros(3, 2),
        hard_negatives=torch.stack([queries, -queries], dim=1),
    )
    context = DistributedContext(rank, world_size)
    torch.save(gather_epoch(share, context, batch_size=4), f"{folder}/gathered{rank}.pt")
    leave_process_group(context)


def test_ranks_gather_the_same_epoch_in_global_batch_order(tmp_path):
    mp.spawn(_gather, args=(2, free_loopback_port(), str(tmp_path)), nprocs=2, join=True)
    gathered = [torch.load(tmp_path / f"gathered{r}.pt", weights_only=False) for r in range(2)]
    # Cut to the shorter share's whole batches (9 rows: 2 batches of 4), then batch by batch, rank by rank.
    expected = torch.tensor([0, 1, 2, 3, 100, 101, 102, 103, 4, 5, 6, 7, 104, 105, 106, 107])
    for sample in gathered:
        assert torch.equal(sample.queries, expected)
        assert torch.equal(sample.positives, expected + 1000)
        assert torch.equal(sample.hard_negatives, torch.stack([expected, -expected], dim=1))
