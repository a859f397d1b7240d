"""How the pipeline's steps grow with the catalogue: the synthetic world from 100k to 1M pins.

    .venv/bin/python benchmarks/scale.py --pins 100000 1000000

Each size runs in a fresh process (so peak memory is its own): generate the world (about 10 saves per
pin), split, build features and the graph, compute the fixed neighbourhoods (sampling throughput), train
one short epoch (pairs per second) and embed every item layer-wise. Prints seconds per step, peak RSS,
and the growth factor from the first size to the last.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def measure(n_pins: int, batches: int, walks: int) -> dict:
    from pinsage.data.features import FeatureConfig, build_item_features
    from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
    from pinsage.data.split import split_by_time
    from pinsage.graph.build import build_graph
    from pinsage.graph.config import NeighbourConfig
    from pinsage.graph.sampling import fixed_neighbourhoods
    from pinsage.jobs.export import embed_catalogue
    from pinsage.jobs.train import TrainingInputs, TrainSettings, fit
    from pinsage.serving.embeddings import ExportConfig
    from pinsage.training.config import TrainConfig

    times: dict[str, float] = {}

    def step(name, fn):
        started = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - started
        return out

    # The stages of the `train` pipeline, each timed on its own (as its node runs it).
    world = SyntheticWorld(n_pins=n_pins, n_boards=n_pins * 2 // 5, n_topics=max(40, n_pins // 200), saves_per_board=25)
    data = step("generate", lambda: generate_world(world))
    train_events, val_events, _ = step("split", lambda: split_by_time(data.interactions))
    features, vocabulary = step("features", lambda: build_item_features(data.items, train_events, FeatureConfig()))
    graph = step("graph", lambda: build_graph(train_events, len(data.users), len(data.items)))
    config = NeighbourConfig(inference_random_walks=walks)
    neighbours, weights = step("neighbourhoods", lambda: fixed_neighbourhoods(graph, config))
    neighbourhoods = {"neighbours": neighbours, "weights": weights}
    inputs = TrainingInputs(graph, features, vocabulary, neighbourhoods, train_events, val_events, data.items)
    settings = TrainSettings(
        neighbourhood=config,
        training=TrainConfig(epochs=1, batches_per_epoch=batches, checkpoint_path=None, validate_each_epoch=False),
    )
    result = step("train_epoch", lambda: fit(inputs, settings))
    step(
        "inference",
        lambda: embed_catalogue(
            result.state_dict, result.trained_with, features, vocabulary, neighbourhoods, data.items, ExportConfig()
        ),
    )
    return {
        "pins": n_pins,
        "saves": len(data.interactions),
        "seconds": times,
        "pairs_per_s": batches * settings.training.batch_size / times["train_epoch"],
        "neighbourhood_items_per_s": n_pins / times["neighbourhoods"],
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pins", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--batches", type=int, default=100, help="minibatches in the timed epoch")
    parser.add_argument("--walks", type=int, default=50, help="random walks per item for neighbourhoods")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on tiny synthetic worlds")
    args = parser.parse_args()
    if args.smoke:
        args.pins, args.batches, args.walks = [500, 1000], 3, 5
    if args.one:
        print(json.dumps(measure(args.one, args.batches, args.walks)))
        return
    rows = []
    for n in args.pins:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--batches", str(args.batches), "--walks", str(args.walks)],
            check=True,
            capture_output=True,
            text=True,
            env=dict(os.environ, TQDM_DISABLE="1"),
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    steps = list(rows[0]["seconds"])
    print(f"{'pins':>9}{'saves':>12}" + "".join(f"{s:>16}" for s in steps) + f"{'pairs/s':>10}{'peak GB':>9}")
    for r in rows:
        print(
            f"{r['pins']:>9}{r['saves']:>12}"
            + "".join(f"{r['seconds'][s]:>16.2f}" for s in steps)
            + f"{r['pairs_per_s']:>10.0f}{r['peak_rss_gb']:>9.2f}"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"growth x{last['pins'] / first['pins']:.0f} pins: "
            + ", ".join(f"{s} x{last['seconds'][s] / max(first['seconds'][s], 1e-9):.1f}" for s in steps)
            + f", peak memory x{last['peak_rss_gb'] / first['peak_rss_gb']:.1f}"
        )


if __name__ == "__main__":
    main()
