"""The paper's Table 1 ablation ladder on one dataset, side by side in one run.

    .venv/bin/python benchmarks/ablation.py --source ml-100k --path ../shared/data/ml-100k --seeds 0 1 2

Each rung runs the project's own pipeline functions (the Kedro nodes, without the catalog) from the
parameters in conf/base, changed only where the rung says. Popularity and item-kNN are evaluated on the
same split. Prints one table (mean ± std over seeds of val/test HITS@10, NDCG@10, MRR and training time)
and writes it, with a bar chart when matplotlib is installed, to data/08_reporting/ablation.{md,png}.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import time
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("TQDM_DISABLE", "1")

from pinsage.pipelines.evaluate.nodes import evaluate_recall  # noqa: E402
from pinsage.pipelines.export.nodes import embed_items  # noqa: E402
from pinsage.pipelines.features.nodes import build_features  # noqa: E402
from pinsage.pipelines.graph.nodes import build_training_graph, compute_item_neighbourhoods  # noqa: E402
from pinsage.pipelines.ingest.nodes import ingest_source  # noqa: E402
from pinsage.pipelines.model.nodes import train_pinsage  # noqa: E402
from pinsage.pipelines.split.nodes import split_interactions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# The paper's ladder (Table 1), each rung as changes to conf/base.
LADDER = {
    "max-pooling": {"model": {"aggregator": "max"}, "hard_negatives": {"enabled": False}},
    "mean-pooling": {"model": {"aggregator": "mean"}, "hard_negatives": {"enabled": False}},
    "mean-pooling + hard negatives": {"model": {"aggregator": "mean"}, "hard_negatives": {"enabled": True}},
    "PinSage: importance pooling + hard negatives + curriculum": {
        "model": {"aggregator": "importance"}, "hard_negatives": {"enabled": True},
    },
    "project default (conf/base)": {},
}
METRICS = ("hits@10", "ndcg@10", "mrr")


def base_parameters() -> dict:
    params: dict = {}
    for file in sorted((ROOT / "conf" / "base").glob("parameters_*.yml")):
        params.update(yaml.safe_load(file.read_text()))
    return params


def merged(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        out[key] = merged(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def overrides(assignments: list[str]) -> dict:
    """`training.temperature=0.1` → {"training": {"temperature": 0.1}} (values parsed as YAML)."""
    out: dict = {}
    for assignment in assignments:
        key, _, value = assignment.partition("=")
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return out


def run(
    source: str, path: str | None, seeds: list[int], rungs: list[str], epochs: int | None, changes: dict
) -> dict:
    params = merged(base_parameters(), changes)
    params["data"].update(source=source, path=path)
    params["training"]["checkpoint_path"] = None
    if epochs is not None:
        params["training"]["epochs"] = epochs
    interactions, items, users = ingest_source(params["data"])
    train, val, test = split_interactions(interactions)
    features, vocabulary = build_features(items, train, params["features"])
    graph = build_training_graph(train, items, users)
    results: dict[str, list[dict]] = {"popularity": [], "itemknn": []}
    for seed in seeds:
        neighbourhood = dict(params["neighbourhood"], seed=seed)
        neighbourhoods = compute_item_neighbourhoods(graph, neighbourhood)
        trained: dict[str, tuple[dict, dict]] = {}
        for rung in rungs:
            p = merged(params, LADDER[rung])
            p["training"]["seed"] = seed
            same = next((r for r, (q, _) in trained.items() if q == p), None)
            if same is not None:  # e.g. the project default is one of the rungs: no second training
                results.setdefault(rung, []).append(trained[same][1])
                logging.info("seed %d, %s: same settings as %s", seed, rung, same)
                continue
            started = time.perf_counter()
            weights, history = train_pinsage(
                graph, features, vocabulary, neighbourhoods, train, val, neighbourhood, p["pairs"],
                p["hard_negatives"], p["model"], p["training"],
            )
            seconds = time.perf_counter() - started
            embeddings = embed_items(weights, features, vocabulary, neighbourhoods, items, p["model"], p["export"])
            metrics = evaluate_recall(embeddings, train, val, test, users, p["evaluation"])
            row = {**metrics["pinsage"], "seconds": seconds, "epochs": len(history)}
            trained[rung] = (p, row)
            results.setdefault(rung, []).append(row)
            if len(trained) == 1:  # the baselines do not depend on the rung
                for baseline in ("popularity", "itemknn"):
                    results[baseline].append({**metrics[baseline], "seconds": 0.0, "epochs": 0})
            logging.info("seed %d, %s: val %.4f test %.4f (%.0f s)", seed, rung,
                         metrics["pinsage"]["val"]["hits@10"], metrics["pinsage"]["test"]["hits@10"], seconds)
    return results


def table(results: dict[str, list[dict]]) -> str:
    head = "| method | " + " | ".join(f"{s} {m}" for s in ("val", "test") for m in METRICS) + " | train s |"
    lines = [head, "|" + "---|" * (2 + 2 * len(METRICS))]
    for name, runs in results.items():
        cells = []
        for split in ("val", "test"):
            for m in METRICS:
                v = np.array([r[split][m] for r in runs])
                cells.append(f"{v.mean():.4f} ± {v.std():.4f}")
        cells.append(f"{np.mean([r['seconds'] for r in runs]):.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bar_chart(results: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for offset, split in ((-0.2, "val"), (0.2, "test")):
        means = [np.mean([r[split]["hits@10"] for r in results[n]]) for n in names]
        stds = [np.std([r[split]["hits@10"] for r in results[n]]) for n in names]
        ax.bar(x + offset, means, 0.4, yerr=stds, label=f"{split} HITS@10", capsize=3)
    ax.set_xticks(x, [n.replace(": ", ":\n").replace(" + ", "\n+ ").replace(" (", "\n(") for n in names], fontsize=7)
    ax.set_ylabel("HITS@10")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="synthetic")
    parser.add_argument("--path", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--rungs", nargs="+", default=list(LADDER), choices=list(LADDER))
    parser.add_argument("--epochs", type=int, default=None, help="override training.epochs")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="change conf/base parameters for every rung, e.g. training.temperature=0.1")
    parser.add_argument("--out", default=str(ROOT / "data" / "08_reporting"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = run(args.source, args.path, args.seeds, args.rungs, args.epochs, overrides(args.set))
    text = (
        f"# Ablation ladder: {args.source}, seeds {args.seeds}"
        + (f", with {' '.join(args.set)}" if args.set else "") + "\n\n"
        "Mean ± standard deviation over seeds; latest-item protocol (see the recall report).\n\n"
        + table(results) + "\n"
    )
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.md").write_text(text)
    bar_chart(results, out / "ablation.png")


if __name__ == "__main__":
    main()
