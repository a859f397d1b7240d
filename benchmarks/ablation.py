"""The paper's Table 1 ablation ladder on one dataset, side by side in one run.

    .venv/bin/python benchmarks/ablation.py --source ml-100k --path ../shared/data/ml-100k --seeds 0 1 2

Each rung trains through the project's own job entry points (`prepare`, `fit`, `embed_catalogue`,
`evaluate_trained_items`) from the parameters in conf/base, validated as `kedro run` validates them and
changed only where the rung (or `--set`) says. Popularity, item-kNN and EASE are evaluated on the same split,
and every rung and baseline on the held-out (new) items too (`evaluate_new_items`).
Prints one table (mean ± std over seeds of test HITS@10, NDCG@10, MRR, val HITS@10, new-item HITS@10 with
and without attached interactions, and training time) and writes
it, with a bar chart, to data/08_reporting/ablation.{md,png}. `--smoke` runs a seconds-long version on a
tiny synthetic world (the test suite runs it, so the script cannot rot).
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("TQDM_DISABLE", "1")

from pinsage.data.sources.registry import load_source  # noqa: E402
from pinsage.evaluation.baselines import setting_text  # noqa: E402
from pinsage.inductive.attach import TrainedItems  # noqa: E402
from pinsage.jobs.evaluate import evaluate_new_items, evaluate_trained_items  # noqa: E402
from pinsage.jobs.export import embed_catalogue  # noqa: E402
from pinsage.jobs.prepare import PreparedData, prepare  # noqa: E402
from pinsage.jobs.train import TrainingResult, fit  # noqa: E402
from pinsage.model.inference import projection_cosines  # noqa: E402
from pinsage.parameters import Parameters, validate_parameters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Each rung as changes to conf/base: the default, each of its parts off (the positives, the finish, the
# hard negatives, the convolutions), the ID-only model with the same training, and the paper's Table 1 pooling.
LADDER = {
    "project default (conf/base)": {},
    "walk positives (item→user→item, uniform queries)": {"pairs": {"positives": "walk", "query_sampling": "uniform"}},
    "finish: conv + raw projection (sum)": {"model": {"finish": "sum"}},
    "no hard negatives": {"hard_negatives": {"enabled": False}},
    "no convolutions (n_layers 0)": {"model": {"n_layers": 0}},
    "ID-only embedding (no features, no graph; same pairs, loss and logQ)": {
        "model": {"n_layers": 0, "use_features": False}
    },
    "max-pooling": {"model": {"aggregator": "max"}, "hard_negatives": {"enabled": False}},
    "mean-pooling": {"model": {"aggregator": "mean"}, "hard_negatives": {"enabled": False}},
    "mean-pooling + hard negatives": {"model": {"aggregator": "mean"}, "hard_negatives": {"enabled": True}},
}
DEFAULT_RUNGS = list(LADDER)[:6]
SMOKE = {
    "data": {"synthetic": {"n_pins": 300, "n_boards": 200, "n_topics": 10}},
    "training": {"epochs": 1, "batches_per_epoch": 3, "batch_size": 64, "num_negatives": 20},
    "neighbourhood": {"inference_random_walks": 10},
}


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


def run(raw: dict, seeds: list[int], rungs: list[str]) -> dict:
    raw = merged(raw, {"training": {"checkpoint_path": None}})
    params = validate_parameters(raw)
    dataset = load_source(params.data)
    results: dict[str, list[dict]] = {}
    for seed in seeds:
        prepared = prepare(
            dataset, params.split, params.features, params.neighbourhood.model_copy(update={"seed": seed})
        )
        trained: dict[str, tuple[Parameters, dict]] = {}
        for rung in rungs:
            p = validate_parameters(merged(raw, merged(LADDER[rung], {"training": {"seed": seed}})))
            same = next((r for r, (q, _) in trained.items() if q == p), None)
            if same is not None:  # e.g. the project default is one of the rungs: no second training
                results.setdefault(rung, []).append(trained[same][1])
                logging.info("seed %d, %s: same settings as %s", seed, rung, same)
                continue
            started = time.perf_counter()
            result = fit(prepared.inputs, p.train_settings())
            seconds = time.perf_counter() - started
            metrics, new_items, cosine = evaluate_rung(prepared, result, p)
            new = new_items["methods"]
            row = {
                "val": metrics["pinsage"]["val"],
                "test": metrics["pinsage"]["test"],
                # Without features a model has nothing to embed a new item from: no new-item figures.
                "new": new.get("pinsage") if p.model.use_features else None,
                "new_own": new.get("pinsage_own") if p.model.use_features else None,
                "new_cold": new.get("pinsage_cold") if p.model.use_features else None,
                "seconds": seconds,
                "epochs": len(result.history),
                "cosine": cosine,
            }
            trained[rung] = (p, row)
            results.setdefault(rung, []).append(row)
            if len(trained) == 1:  # the baselines do not depend on the rung
                for baseline in (m for m in dict.fromkeys([*metrics, *new]) if not m.startswith("pinsage")):
                    splits = metrics.get(baseline, {})
                    results.setdefault(baseline, []).append(
                        {
                            "val": splits.get("val"),
                            "test": splits.get("test"),
                            "new": new.get(baseline),
                            "seconds": 0.0,
                            "chosen": (splits.get("val") or {}).get("chosen"),
                            "new_chosen": new_items.get("chosen", {}).get(baseline),
                        }
                    )
            logging.info(
                "seed %d, %s: val %.4f test %.4f new %.4f (%.0f s)",
                seed,
                rung,
                row["val"]["hits@10"],
                row["test"]["hits@10"],
                row["new"]["hits@10"] if row["new"] else float("nan"),
                seconds,
            )
    return results


def evaluate_rung(prepared: PreparedData, result: TrainingResult, p: Parameters) -> tuple[dict, dict, float | None]:
    """The trained-item figures of the rung and the baselines, the new-item evaluation (`methods`: the later
    groups, empty without a hold-out; `chosen`: the baselines' settings), and the median cosine of an item's
    embedding with its own projection (None without convolutions)."""
    inputs = prepared.inputs
    embeddings = embed_catalogue(
        result.state_dict,
        result.trained_with,
        inputs.features,
        inputs.vocabulary,
        inputs.neighbourhoods,
        inputs.catalogue,
        p.export,
    )
    metrics = evaluate_trained_items(
        embeddings, prepared.train, prepared.val, prepared.test, len(prepared.users), p.evaluation
    )
    held = prepared.held
    new = evaluate_new_items(
        result.trained_with.build_network(result.state_dict, inputs.vocabulary),
        held.catalogue,
        prepared.users,
        inputs.graph,
        prepared.train,
        held.held_out_items,
        held.held_out_interactions,
        TrainedItems(inputs.features, inputs.vocabulary, inputs.neighbourhoods, result.trained_with),
        p.evaluation,
    )
    network = result.trained_with.build_network(result.state_dict, inputs.vocabulary)
    cosine = None
    if p.model.n_layers:
        fixed = inputs.neighbourhoods
        cosine = float(projection_cosines(network, inputs.features, fixed["neighbours"], fixed["weights"]).median())
    return metrics, new, cosine


COLUMNS = (
    ("test", "hits@10"),
    ("test", "ndcg@10"),
    ("test", "mrr"),
    ("val", "hits@10"),
    ("new", "hits@10"),
    ("new_own", "hits@10"),
    ("new_cold", "hits@10"),
)


def table(results: dict[str, list[dict]]) -> str:
    names = {
        "new": "new items",
        "new_own": "new items, own vector (no users' taste, no prior)",
        "new_cold": "new items, cold",
    }
    head = (
        "| method | "
        + " | ".join(
            f"{names.get(s, s)} {m.upper() if m == 'mrr' else m.replace('hits', 'HITS').replace('ndcg', 'NDCG')}"
            for s, m in COLUMNS
        )
        + " | median cos(embedding, own projection) | train s |"
    )
    lines = [head, "|" + "---|" * (3 + len(COLUMNS))]
    for name, runs in results.items():
        cells = []
        for split, m in COLUMNS:
            v = np.array([r[split][m] for r in runs if r.get(split)])
            cells.append(f"{v.mean():.4f} ± {v.std():.4f}" if len(v) else "—")
        cosines = [r["cosine"] for r in runs if r.get("cosine") is not None]
        cells.append(f"{np.mean(cosines):.3f}" if cosines else "—")
        cells.append(f"{np.mean([r['seconds'] for r in runs]):.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    chosen = [
        f"- {name}: validation {', '.join(setting_text(r['chosen']) for r in runs)}; new items (earlier groups) "
        f"{', '.join(setting_text(r['new_chosen']) for r in runs if r.get('new_chosen') is not None) or '—'}"
        for name, runs in results.items()
        if any(r.get("chosen") for r in runs)
    ]
    if chosen:
        lines += ["", "Baselines' settings and priors, per seed:", "", *chosen]
    return "\n".join(lines)


def commit() -> str:
    """The commit the rows were measured at, marked when the working tree differs from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    )
    return (head.stdout.strip() or "unknown") + (" + uncommitted changes" if dirty.stdout.strip() else "")


def bar_chart(results: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, runs in results.items() if runs[0].get("test")]
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
    parser.add_argument("--rungs", nargs="+", default=DEFAULT_RUNGS, choices=list(LADDER))
    parser.add_argument("--epochs", type=int, default=None, help="override training.epochs")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="change conf/base parameters for every rung, e.g. training.temperature=0.1",
    )
    parser.add_argument("--out", default=str(ROOT / "data" / "08_reporting"))
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on a tiny synthetic world")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    changes = merged({"data": {"source": args.source, "path": args.path}}, overrides(args.set))
    if args.epochs is not None:
        changes = merged(changes, {"training": {"epochs": args.epochs}})
    if args.smoke:
        changes = merged(changes, SMOKE)
    results = run(merged(base_parameters(), changes), args.seeds, args.rungs)
    text = (
        f"# Ablation ladder: {args.source}, seeds {args.seeds}"
        + (f", with {' '.join(args.set)}" if args.set else "")
        + f" (commit {commit()})\n\n"
        "Mean ± standard deviation over seeds; the recall report's protocols (test: from the validation item; "
        "new items: from the interactions before each query, on the later half of the groups, which chose "
        "nothing). Settings are chosen on validation (new items: the earlier groups); test is shown first.\n\n"
        + table(results)
        + "\n"
    )
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.md").write_text(text)
    bar_chart(results, out / "ablation.png")


if __name__ == "__main__":
    main()
