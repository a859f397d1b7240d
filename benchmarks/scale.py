"""How the real `train` pipeline grows with the catalogue: the synthetic world at 100k, 1M and 10M pins.

    .venv/bin/python benchmarks/scale.py --pins 100000 1000000 10000000

Each size is one `kedro run --pipeline=train` (through a KedroSession, with the project's own hooks:
validation, run lock, promotion gate, retention) in a fresh scratch copy of this project's `conf/`, in
its own process, with the default parameters except the world's size (10 saves per pin), `--epochs`
and `--batches` per epoch. A profiling hook records every node's seconds and its peak resident memory
(sampled every 20 ms while it runs). Printed per size: each node's seconds and peak GiB, each epoch's
training pairs/s and the share of it spent sampling (pairs and hard negatives); then each node's growth
in time from one size to the next. `--smoke` runs two tiny worlds in seconds (the test suite runs it).

A 10M run takes hours: `--keep DIR` keeps each size's scratch project in DIR, and `--resume PROJECT
--nodes NODE [NODE ...] --pins N` runs those nodes of a kept project's `train` pipeline again (after a
failure, or after a change to their code), profiling them only. `--set KEY=VALUE` changes a
parameter for every size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


class NodeProfiler:
    """A Kedro hook: seconds and peak resident memory of each node."""

    def __init__(self):
        self.nodes: dict[str, dict] = {}
        self._peak = 0
        self._running = False

    @staticmethod
    def resident_bytes() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while self._running:
            self._peak = max(self._peak, self.resident_bytes())
            time.sleep(0.02)

    def before_node_run(self, node) -> None:
        self._peak, self._running = self.resident_bytes(), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._started = time.perf_counter()
        self._thread.start()

    def after_node_run(self, node) -> None:
        seconds = time.perf_counter() - self._started
        self._running = False
        self._thread.join()
        self.nodes[node.name] = {"seconds": seconds, "peak_gib": max(self._peak, self.resident_bytes()) / 2**30}


def run_one(args: argparse.Namespace, n_pins: int) -> dict:
    """One train run at `n_pins` (in a scratch project, or `--nodes` of `--resume`'s project); returns the
    profile as a dict."""
    from kedro.framework.hooks import hook_impl
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from pinsage.training.config import TrainConfig

    class Hook(NodeProfiler):
        before_node_run = hook_impl(NodeProfiler.before_node_run)
        after_node_run = hook_impl(NodeProfiler.after_node_run)

    if args.resume:
        project = Path(args.resume)
    else:
        project = Path(tempfile.mkdtemp(prefix=f"scale-{n_pins}-", dir=args.keep))
        shutil.copytree(ROOT / "conf" / "base", project / "conf" / "base")
        (project / "conf" / "local").mkdir()
        shutil.copy(ROOT / "pyproject.toml", project)
        (project / "src").mkdir()
    print(f"project: {project}", file=sys.stderr, flush=True)
    try:
        params = {
            "data": {"synthetic": {"n_pins": n_pins, "n_boards": n_pins * 2 // 5, "saves_per_board": 25.0}},
            "training": {"epochs": args.epochs, "batches_per_epoch": args.batches},
        }
        if args.smoke:
            params["training"].update(batch_size=32, num_negatives=20)
            params["neighbourhood"] = {"inference_random_walks": 10}
        for setting in args.set:
            key, value = setting.split("=", 1)
            *sections, name = key.split(".")
            target = params
            for section in sections:
                target = target.setdefault(section, {})
            target[name] = yaml.safe_load(value)
        bootstrap_project(project)
        profiler = Hook()
        started = time.perf_counter()
        with KedroSession.create(project_path=project, runtime_params=params) as session:
            # The project's own hooks (settings.HOOKS) stay; the profiler is added beside them.
            session._hook_manager.register(profiler)
            session.run(pipeline_name="train", node_names=args.nodes)
            context = session.load_context()
            history = context.catalog.load("training_history")
            # The run's own training settings (a dict or the validated model, whichever the context holds).
            training = TrainConfig.model_validate(dict(context.params["training"]))
        pairs_per_epoch = training.batches_per_epoch * training.batch_size
        return {
            "pins": n_pins,
            "total_seconds": time.perf_counter() - started,
            "nodes": profiler.nodes,
            "epochs": [
                {
                    "pairs_per_s": pairs_per_epoch / h["seconds"],
                    "sampling_share": h["sample_seconds"] / h["seconds"],
                }
                for h in history
            ],
        }
    finally:
        if not (args.keep or args.resume):
            shutil.rmtree(project, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pins", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batches", type=int, default=300, help="minibatches per epoch")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="e.g. training.processes=2")
    parser.add_argument("--keep", metavar="DIR", help="make the scratch projects in DIR and keep them")
    parser.add_argument("--resume", metavar="PROJECT", help="a kept project: run --nodes of its train pipeline")
    parser.add_argument("--nodes", nargs="+", metavar="NODE", help="with --resume: the nodes to run again")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on two tiny synthetic worlds")
    args = parser.parse_args()
    if bool(args.resume) != bool(args.nodes) or (args.resume and not args.one and len(args.pins) != 1):
        parser.error("--resume and --nodes go together, with the one size the project was made with (--pins N)")
    if args.smoke:
        args.pins, args.epochs, args.batches = ([600] if args.resume else [300, 600]), 2, 2
    if args.one:
        print(json.dumps(run_one(args, args.one)))
        return
    rows = []
    passed = [f"--{name}={value}" for name, value in vars(args).items() if name in OPTIONS and value]
    for n in args.pins:
        command = [
            sys.executable,
            __file__,
            "--one",
            str(n),
            "--epochs",
            str(args.epochs),
            "--batches",
            str(args.batches),
        ]
        command += (
            passed + (["--nodes", *args.nodes] if args.nodes else []) + (["--set", *args.set] if args.set else [])
        )
        command += ["--smoke"] if args.smoke else []
        out = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="Agg"),
        )
        if out.returncode != 0:
            sys.exit(f"the run at {n:,} pins failed:\n{out.stderr[-5000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        resumed = f" ({', '.join(args.nodes)} of {args.resume})" if args.resume else ""
        print(f"\n{n:,} pins: the train pipeline{resumed} took {r['total_seconds']:.0f} s")
        print(f"  {'node':<34}{'seconds':>10}{'peak GiB':>10}")
        for name, node in r["nodes"].items():
            print(f"  {name:<34}{node['seconds']:>10.2f}{node['peak_gib']:>10.2f}")
        for i, epoch in enumerate(r["epochs"], 1):
            print(
                f"  epoch {i}: {epoch['pairs_per_s']:,.0f} pairs/s, "
                f"sampling (pairs + hard negatives) {100 * epoch['sampling_share']:.0f}% of it"
            )
    for smaller, larger in zip(rows, rows[1:], strict=False):
        growth = {
            name: larger["nodes"][name]["seconds"] / max(smaller["nodes"][name]["seconds"], 1e-3)
            for name in larger["nodes"]
            if name in smaller["nodes"]
        }
        print(
            f"\ngrowth x{larger['pins'] / smaller['pins']:.0f} pins: "
            + ", ".join(f"{name} x{g:.1f}" for name, g in sorted(growth.items(), key=lambda kv: -kv[1]))
        )


# Options handed on to each size's process.
OPTIONS = ("keep", "resume")


if __name__ == "__main__":
    main()
