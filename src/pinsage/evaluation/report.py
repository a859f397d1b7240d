"""The human-readable recall report that goes beside metrics.json."""

from __future__ import annotations

METHOD_NAMES = {
    "pinsage": "PinSage",
    "pinsage_cold": "PinSage, cold (features only, nothing attached)",
    "popularity": "Popularity",
    "itemknn": "Item-kNN (cosine)",
    "features": "Features-only cosine",
}


def recall_report(
    metrics: dict[str, dict],
    index_recall: dict,
    new_item_metrics: dict,
    summary: dict[str, int | str],
    history: list[dict],
    k: int,
) -> str:
    """Markdown: what was evaluated, on what, and each method's validation and test figures."""
    lines = [
        "# Recall report",
        "",
        f"Data: **{summary['source']}**, {summary['items']} items, {summary['users']} users; "
        f"{summary['train']} training, {summary['val']} validation and {summary['test']} test interactions.",
        "",
        "Protocol: for each user, the query is the user's latest training item; the candidates are all "
        "items minus the user's training items; the target is the user's held-out item (validation: "
        "second-to-last interaction, test: last). Every method is ranked the same way.",
        "",
        f"| method | val HITS@{k} | val NDCG@{k} | val MRR | test HITS@{k} | test NDCG@{k} | test MRR |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, splits in metrics.items():
        v, t = splits["val"], splits["test"]
        lines.append(
            f"| {METHOD_NAMES.get(method, method)} | {v[f'hits@{k}']:.4f} | {v[f'ndcg@{k}']:.4f} | "
            f"{v['mrr']:.4f} | {t[f'hits@{k}']:.4f} | {t[f'ndcg@{k}']:.4f} | {t['mrr']:.4f} |"
        )
    first = next(iter(metrics.values()), {})
    for split, figures in first.items():
        if figures.get("eligible_users", figures["users"]) > figures["users"]:
            lines += [
                "",
                f"{split}: every method is measured on the same fixed, seeded sample of {figures['users']} of the "
                f"{figures['eligible_users']} eligible users (`evaluation.max_users`).",
            ]
    best = {m: s["test"][f"hits@{k}"] for m, s in metrics.items()}
    baseline = max((v for m, v in best.items() if m != "pinsage"), default=0.0)
    if "pinsage" in best and baseline > 0:
        lines += ["", f"PinSage test HITS@{k} is {best['pinsage'] / baseline:.2f}× the best baseline's."]
    lines += [
        "",
        f"Served index: {index_recall['index']} over {index_recall['items']} items; its top {k} agree with exact "
        f"search at recall@{k} {index_recall[f'recall@{k}']:.4f} ({index_recall['queries']} sampled items as queries).",
    ]
    lines += _new_items_section(new_item_metrics, k)
    if history:
        lines += ["", "## Training", "", f"| epoch | loss | val HITS@{k} | seconds |", "|---|---|---|---|"]
        for h in history:
            lines.append(
                f"| {h['epoch']} | {h['loss']:.4f} | {h.get(f'val_hits@{k}', float('nan')):.4f} | {h['seconds']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def _new_items_section(new_item_metrics: dict, k: int) -> list[str]:
    if not new_item_metrics["methods"]:
        return [
            "",
            "## New items (inductive)",
            "",
            "No items were held out of training (split.held_out_item_fraction = 0).",
        ]
    users = next(iter(new_item_metrics["methods"].values()))["users"]
    lines = [
        "",
        "## New items (inductive)",
        "",
        f"{new_item_metrics['items']} items were held out of training entirely (graph, features, ID table) and "
        f"embedded afterwards with the trained model, unchanged. Per user, the last interaction with a held-out "
        f"item is the target; the earlier ones ({new_item_metrics['attached']} in all) are attached to the graph "
        f"first, and the latest of them is the query. Candidates: the held-out items minus the user's attached "
        f"ones; {users} users.",
        "",
        f"| method | HITS@{k} | NDCG@{k} | MRR |",
        "|---|---|---|---|",
    ]
    for method, m in new_item_metrics["methods"].items():
        lines.append(
            f"| {METHOD_NAMES.get(method, method)} | {m[f'hits@{k}']:.4f} | {m[f'ndcg@{k}']:.4f} | {m['mrr']:.4f} |"
        )
    return lines


def training_curve_figure(history: list[dict], k: int):
    """Loss and validation HITS@k per epoch, side by side: the first thing to look at after a run."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a scheduler's worker
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (loss, hits) = plt.subplots(1, 2, figsize=(10, 3.5), constrained_layout=True)
    loss.plot(epochs, [h["loss"] for h in history], marker="o")
    loss.set(title="training loss", xlabel="epoch")
    hits.plot(epochs, [h.get(f"val_hits@{k}", float("nan")) for h in history], marker="o", color="tab:green")
    hits.set(title=f"validation HITS@{k}", xlabel="epoch")
    for ax in (loss, hits):
        ax.grid(alpha=0.3)
    return fig
