"""Data-parallel training on CPU with the gloo backend, two processes against one."""

from __future__ import annotations

import datetime
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pinsage.distributed import DistributedContext
from pinsage.features import FeatureConfig, build_item_features, feature_sizes
from pinsage.graph import build_graph
from pinsage.model import ModelConfig, PinSage
from pinsage.sampling import NeighbourConfig, PairConfig, WalkEpochSampler, fixed_neighbourhoods
from pinsage.sources.synthetic import SyntheticWorld, generate_world
from pinsage.split import split_by_time
from pinsage.training import TrainConfig, train

PER_RANK_BATCH = 32
BASE = dict(epochs=4, batches_per_epoch=10, num_negatives=30, loss="max_margin", lr=0.005, warmup_epochs=0.5, seed=0)


def run(config: TrainConfig, context: DistributedContext) -> tuple[dict, list[dict]]:
    data = generate_world(SyntheticWorld(n_pins=150, n_boards=120, n_topics=6, dense_dim=4, seed=5))
    train_events, _, _ = split_by_time(data.interactions)
    features, vocabulary = build_item_features(data.items, train_events, FeatureConfig())
    graph = build_graph(train_events, len(data.users), len(data.items))
    fixed = fixed_neighbourhoods(graph, NeighbourConfig(inference_random_walks=10))
    pairs = config.batches_per_epoch * config.batch_size * context.world_size
    sampler = WalkEpochSampler(graph, NeighbourConfig(), PairConfig(), pairs, config.seed, fixed)
    torch.manual_seed(0)
    model = PinSage(feature_sizes(features, vocabulary), ModelConfig(hidden_dim=16))
    result = train(model, features, sampler, config, context=context)
    return result.state_dict, result.history


def _rank(rank: int, world_size: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    # A short timeout turns any mismatch between the ranks' collectives into a failure, not a hang.
    # The process group is not destroyed: with torch 2.2's gloo, destroy_process_group can block
    # both ranks forever after the work is done; the processes' exit releases it.
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size,
        timeout=datetime.timedelta(seconds=120),
    )
    config = TrainConfig(**BASE, batch_size=PER_RANK_BATCH)
    state, history = run(config, DistributedContext(rank, world_size))
    if rank == 0:
        torch.save({"state": state, "history": history}, out)


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_match_one_with_the_same_global_batch(tmp_path):
    out = tmp_path / "two.pt"
    mp.spawn(_rank, args=(2, free_loopback_port(), str(out)), nprocs=2, join=True)
    two = torch.load(out, weights_only=True)
    # One process, twice the batch; the linear scaling rule gives the two-process run lr × 2.
    single = TrainConfig(**{**BASE, "lr": BASE["lr"] * 2}, batch_size=2 * PER_RANK_BATCH)
    # DGL's random walks are reproducible for a seed *and* a thread count: match the ranks' one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one_state, one_history = run(single, DistributedContext())
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(two["history"], one_history, strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-4
    for name, tensor in one_state.items():
        torch.testing.assert_close(two["state"][name], tensor, atol=1e-4, rtol=1e-4)
    assert two["history"][-1]["loss"] < two["history"][0]["loss"]
