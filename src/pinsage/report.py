"""The human-readable recall report that goes beside metrics.json."""

from __future__ import annotations

METHOD_NAMES = {
    "pinsage": "PinSage",
    "popularity": "Popularity",
    "itemknn": "Item-kNN (cosine)",
}


def recall_report(metrics: dict[str, dict], summary: dict[str, int | str], history: list[dict], k: int) -> str:
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
    best = {m: s["test"][f"hits@{k}"] for m, s in metrics.items()}
    baseline = max((v for m, v in best.items() if m != "pinsage"), default=0.0)
    if "pinsage" in best and baseline > 0:
        lines += ["", f"PinSage test HITS@{k} is {best['pinsage'] / baseline:.2f}× the best baseline's."]
    if history:
        lines += ["", "## Training", "", "| epoch | loss | val HITS@10 | seconds |", "|---|---|---|---|"]
        for h in history:
            lines.append(
                f"| {h['epoch']} | {h['loss']:.4f} | {h.get('val_hits@10', float('nan')):.4f} | {h['seconds']:.1f} |"
            )
    return "\n".join(lines) + "\n"
