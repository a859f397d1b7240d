"""Training throughput in training pairs per second, optionally side by side with another command.

    .venv/bin/python benchmarks/throughput.py --source ml-100k --path ../shared/data/ml-100k \\
        --external "python model.py DATA --num-epochs 1 --batches-per-epoch 300 --num-workers 2" \\
        --external-cwd /path/to/dgl/examples/pytorch/pinsage

The defaults mirror the DGL PinSAGE example's default model: batches of 32 pairs, hidden size 16, 3
neighbours, 2 layers, 10 walks of at most 2 hops with restart probability 0.5. This project's run
goes through `fit`, the one training entry point, and includes each epoch's sampling (walk positives
and a fresh neighbourhood table); validation is off.
`--external` runs a command after this project's run and reads its tqdm rate (batches per second)
from its output, so both figures come from the same machine in the same run; the example's code is
not part of this project and must be checked out separately.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import time

os.environ.setdefault("TQDM_DISABLE", "1")


def project_pairs_per_second(args) -> float:
    from pinsage.data.sources.registry import DataConfig, load_source
    from pinsage.data.split import SplitConfig
    from pinsage.graph.config import HardNegativeConfig, NeighbourConfig, PairConfig
    from pinsage.jobs.prepare import prepare
    from pinsage.jobs.train import TrainSettings, fit
    from pinsage.model.pinsage import ModelConfig
    from pinsage.training.config import TrainConfig

    data = DataConfig(source=args.source, path=args.path)
    if args.smoke:
        data = data.model_copy(update={"synthetic": data.synthetic.model_copy(update={"n_pins": 300, "n_boards": 200})})
    neighbours = NeighbourConfig(
        num_neighbors=args.neighbors,
        num_random_walks=10,
        num_traversals=2,
        termination_prob=0.5,
        inference_random_walks=10,
    )
    prepared = prepare(load_source(data), SplitConfig(held_out_item_fraction=0), neighbourhood=neighbours)
    settings = TrainSettings(
        neighbourhood=neighbours,
        # The DGL example's sampling, like for like: walk positives, neighbourhoods walked afresh.
        pairs=PairConfig(positives="walk", query_sampling="uniform", refresh_neighbours=True),
        hard_negatives=HardNegativeConfig(enabled=False),
        model=ModelConfig(hidden_dim=args.hidden, n_layers=args.layers),
        training=TrainConfig(
            epochs=1,
            batches_per_epoch=args.batches,
            batch_size=args.batch_size,
            num_negatives=args.negatives,
            num_workers=args.workers,
            checkpoint_path=None,
            validate_each_epoch=False,
        ),
    )
    started = time.perf_counter()
    fit(prepared.inputs, settings)
    return args.batches * args.batch_size / (time.perf_counter() - started)


def external_pairs_per_second(command: str, cwd: str | None, batch_size: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}  # its progress bar is the reading
    result = subprocess.run(shlex.split(command), cwd=cwd, env=env, capture_output=True, text=True, check=True)
    rates = re.findall(r"([0-9.]+)it/s", result.stderr + result.stdout)
    if not rates:
        raise SystemExit(f"no tqdm rate (it/s) in the output of: {command}")
    return float(rates[-1]) * batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="synthetic")
    parser.add_argument("--path", default=None)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--neighbors", type=int, default=3)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--negatives", type=int, default=32, help="easy negatives shared by a batch")
    parser.add_argument("--workers", type=int, default=2, help="producer processes")
    parser.add_argument("--external", default=None, help="a command whose tqdm rate to compare")
    parser.add_argument("--external-cwd", default=None)
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on a tiny synthetic world")
    args = parser.parse_args()
    if args.smoke:
        args.batches, args.workers = 5, 0
    ours = project_pairs_per_second(args)
    print(f"this project: {ours:,.0f} pairs/s ({ours / args.batch_size:.1f} batches of {args.batch_size}/s)")
    if args.external:
        theirs = external_pairs_per_second(args.external, args.external_cwd, args.batch_size)
        print(f"external:     {theirs:,.0f} pairs/s ({theirs / args.batch_size:.1f} batches of {args.batch_size}/s)")
        print(f"ratio: {ours / theirs:.1f}x")


if __name__ == "__main__":
    main()
