"""The human-readable recall report that goes beside metrics.json."""

from __future__ import annotations

from pinsage.evaluation.baselines import setting_text
from pinsage.evaluation.metrics import EvaluationConfig

METHOD_NAMES = {
    "pinsage": "PinSage",
    "pinsage_own": "PinSage, its own vector (no users' taste folded in, no popularity prior)",
    "pinsage_cold": "PinSage, cold (features only, nothing attached)",
    "popularity": "Popularity",
    "itemknn": "Item-kNN (cosine)",
    "next_items": "Next-items co-occurrence",
    "ease": "EASE",
    "features": "Features-only cosine",
}
# Each baseline setting's grid in `evaluation`, for saying when a choice lies at its edge.
GRIDS = {"l2": "ease_lambdas", "window": "next_items_windows", "prior": "prior_weights"}


def _targets_text(scheme: str) -> str:
    """Which interaction is each user's target and which their query, under the split's scheme."""
    if scheme == "global_time":
        return (
            "per user, the target is the first interaction after a cut in time for everyone (validation: the "
            "first cut, test: the second); the query is the user's latest item before it (validation: the latest "
            "training item; test: the latest training or validation item); users without one are not asked"
        )
    return (
        "per user, the target is the held-out item (validation: the second-to-last interaction, test: the last); "
        "the query is the user's latest item before it (validation: the latest training item; test: the "
        "validation item where the user has one)"
    )


def recall_report(
    metrics: dict[str, dict],
    index_recall: dict,
    new_item_metrics: dict,
    summary: dict[str, int | str],
    history: list[dict],
    config: EvaluationConfig,
) -> str:
    """Markdown: what was evaluated, on what, and each method's test figures with their intervals, paired
    differences and split by target degree, then validation (what the settings were chosen on)."""
    k = config.k
    test = {m: splits["test"] for m, splits in metrics.items()}
    val = {m: splits["val"] for m, splits in metrics.items()}
    lines = [
        "# Recall report",
        "",
        f"Data: **{summary['source']}**, {summary['items']} items, {summary['users']} users; "
        f"{summary['train']} training, {summary['val']} validation and {summary['test']} test interactions"
        f" (split: `{summary.get('scheme', 'per_user_last')}`).",
        "",
        "## Trained items",
        "",
        "Protocol: " + _targets_text(summary.get("scheme", "per_user_last")) + "; the candidates are all items "
        "minus everything the user had before the target. Every method is ranked the same way, on the same "
        "users. PinSage ranks by the score it is served with: the cosine plus the candidate's popularity prior, "
        "β·ln(1 + its training interactions) (`scoring.popularity_prior`, recorded in `trained_with`). Each "
        "baseline may add the same kind of prior to its scores (divided by the query's best), its weight chosen "
        "on validation together with the baseline's own setting, by the same rule as PinSage's.",
        "",
        *_intervals_note(config),
        "",
        *_method_table(test, k, val=val),
        *_sample_note(test),
        *_headline(test, val, k),
        "",
        *_chosen_note({m: splits["val"].get("chosen") for m, splits in metrics.items()}, "validation", config),
        *_ties_note(test.get("pinsage", {})),
    ]
    if "ease" not in metrics:
        lines += ["", f"EASE was skipped: {summary['items']} items > `evaluation.ease_max_items`."]
    lines += [
        "",
        f"### Test HITS@{k} by the target's training interactions",
        "",
        *_degree_table(test, k),
        "",
        f"Served index: {index_recall['index']} over {index_recall['items']} items; its top {k} agree with exact "
        f"search at recall@{k} {index_recall[f'recall@{k}']:.4f} ({index_recall['queries']} sampled items as queries).",
    ]
    lines += _new_items_section(new_item_metrics, config)
    if history:
        lines += ["", "## Training", "", f"| epoch | loss | val HITS@{k} | seconds |", "|---|---|---|---|"]
        for h in history:
            lines.append(
                f"| {h['epoch']} | {h['loss']:.4f} | {h.get(f'val_hits@{k}', float('nan')):.4f} | {h['seconds']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def _chosen_note(chosen: dict[str, dict | None], where: str, config: EvaluationConfig) -> list[str]:
    """What each baseline's setting and prior were chosen to be, and which choices lie at their grid's edge."""
    parts, edges = [], []
    for method, setting in chosen.items():
        if not setting:
            continue
        parts.append(f"{METHOD_NAMES.get(method, method)}: {setting_text(setting)}")
        for name, value in setting.items():
            grid = [0.0, *getattr(config, GRIDS[name])] if name == "prior" else list(getattr(config, GRIDS[name]))
            if len(grid) > 1 and (value == max(grid) or (name != "prior" and value == min(grid))):
                edges.append(f"`evaluation.{GRIDS[name]}` ({METHOD_NAMES.get(method, method)})")
    if not parts:
        return []
    lines = [f"Chosen on {where}: " + "; ".join(parts) + "."]
    if edges:
        lines += ["", "At the top of its grid, so the grid may be too narrow: " + ", ".join(edges) + "."]
    return lines


def _ties_note(pinsage: dict) -> list[str]:
    tied = pinsage.get("tied_with_query")
    if tied is None:
        return []
    users = pinsage.get("users", 0)
    share = 100 * tied / users if users else 0.0
    return [
        "",
        f"{tied} of the {users} test targets ({share:.0f}%) have the same timestamp as their query: which of the "
        "two counts as later is the source's row order (the split keeps it).",
    ]


def _intervals_note(config: EvaluationConfig) -> list[str]:
    share = round(100 * config.confidence)
    return [
        f"Test is the headline. Brackets are {share}% bootstrap intervals over users ({config.bootstrap_samples} "
        "resamples); a difference is paired (the same resampled users for both methods). Validation figures are "
        "what settings were chosen on (the epoch, the defaults, EASE's λ), so they flatter those choices."
    ]


def _method_table(figures: dict[str, dict], k: int, val: dict[str, dict] | None = None) -> list[str]:
    reference = figures.get("pinsage", {}).get("difference", {})
    prefix = "test " if val is not None else ""
    head = (
        f"| method | {prefix}HITS@{k} [interval] | {prefix}NDCG@{k} | {prefix}MRR | "
        f"PinSage − method, {prefix}HITS@{k} [interval] |" + (f" val HITS@{k} |" if val is not None else "")
    )
    rule = "|---|---|---|---|---|" + ("---|" if val is not None else "")
    lines = [head, rule]
    for method, f in figures.items():
        low, high = f["interval"][f"hits@{k}"]
        diff = reference.get(method)
        difference = (
            f"{diff[f'hits@{k}'][0]:+.4f} [{diff[f'hits@{k}'][1]:+.4f}, {diff[f'hits@{k}'][2]:+.4f}]" if diff else "—"
        )
        row = (
            f"| {METHOD_NAMES.get(method, method)} | {f[f'hits@{k}']:.4f} [{low:.4f}, {high:.4f}] | "
            f"{f[f'ndcg@{k}']:.4f} | {f['mrr']:.4f} | {difference} |"
        )
        if val is not None:
            row += f" {val[method][f'hits@{k}']:.4f} |"
        lines.append(row)
    return lines


def _sample_note(figures: dict[str, dict]) -> list[str]:
    first = next(iter(figures.values()), {})
    if first.get("eligible_users", first.get("users", 0)) > first.get("users", 0):
        return [
            "",
            f"Every method is measured on the same fixed, seeded sample of {first['users']} of the "
            f"{first['eligible_users']} eligible users (`evaluation.max_users`).",
        ]
    return ["", f"{first.get('users', 0)} users."]


def _headline(
    reported: dict[str, dict], chose: dict[str, dict], k: int, chose_on: str = "validation", figure: str = "test "
) -> list[str]:
    """PinSage against the baseline that was best on the choosing data: choosing it on the reported data
    would flatter it. PinSage's own variants (its own vector, cold) are no baselines."""
    baselines = [m for m in reported if not m.startswith("pinsage") and m in chose]
    if "pinsage" not in reported or not baselines:
        return []
    best = max(baselines, key=lambda m: chose[m][f"hits@{k}"])
    d, low, high = reported["pinsage"]["difference"][best][f"hits@{k}"]
    verdict = "above zero" if low > 0 else "below zero" if high < 0 else "includes zero: no difference shown"
    ratio = (
        reported["pinsage"][f"hits@{k}"] / reported[best][f"hits@{k}"]
        if reported[best][f"hits@{k}"] > 0
        else float("inf")
    )
    return [
        "",
        f"Against the best baseline on {chose_on} ({METHOD_NAMES.get(best, best)}), PinSage's {figure}HITS@{k} is "
        f"{ratio:.2f}×, a paired difference of {d:+.4f} [{low:+.4f}, {high:+.4f}]: the interval {verdict}.",
    ]


def _degree_table(figures: dict[str, dict], k: int) -> list[str]:
    first = next(iter(figures.values()))["by_degree"]
    lines = [
        "| method | " + " | ".join(f"{b['bucket']} ({b['users']} users)" for b in first) + " |",
        "|---|" + "---|" * len(first),
    ]
    for method, f in figures.items():
        cells = " | ".join(f"{b[f'hits@{k}']:.4f}" if b["users"] else "—" for b in f["by_degree"])
        lines.append(f"| {METHOD_NAMES.get(method, method)} | {cells} |")
    return lines


def _new_items_section(new_item_metrics: dict, config: EvaluationConfig) -> list[str]:
    k = config.k
    if not new_item_metrics["methods"]:
        reason = (
            f"{new_item_metrics['items']} items were held out, but no user interacted with two of them: there is "
            "no query to answer (hold more out, or use more data)."
            if new_item_metrics["items"]
            else "No items were held out of training (split.held_out_item_fraction = 0)."
        )
        return ["", "## New items (inductive)", "", reason]
    snapshots = new_item_metrics["snapshots"]
    lines = [
        "",
        "## New items (inductive)",
        "",
        f"{new_item_metrics['items']} items were held out of training entirely (graph, features, ID table) and "
        "embedded afterwards with the trained model, unchanged. Per user, the last interaction with a held-out "
        "item is the target and the user's latest earlier one the query; candidates are the held-out items minus "
        "the user's earlier ones. Nothing from after a query is used: targets are taken in time order in "
        f"{len(snapshots)} groups, and for each group the held-out items carry only the interactions (anyone's) "
        f"from before its earliest target ({min(s['attached'] for s in snapshots)}–"
        f"{max(s['attached'] for s in snapshots)} interactions), for every method alike; PinSage cold and the "
        "features-only cosine use none. PinSage is served with the taste of the item's users by then folded in "
        "(from their training interactions before the group's earliest target) and the popularity prior of the "
        "interactions it had by then.",
        "",
        f"The earlier {sum(s.get('choosing', False) for s in snapshots)} groups choose (the baselines' settings "
        "and priors below; PinSage's taste weight and prior were chosen on such groups); the table reports the "
        f"later {sum(not s.get('choosing', False) for s in snapshots)}, which chose nothing.",
        "",
        *_method_table(new_item_metrics["methods"], k),
        *_sample_note(new_item_metrics["methods"]),
        *_headline(
            new_item_metrics["methods"],
            new_item_metrics.get("choosing") or new_item_metrics["methods"],
            k,
            chose_on="the earlier groups",
            figure="",
        ),
        "",
        *_chosen_note(new_item_metrics.get("chosen", {}), "the earlier groups", config),
        "",
        f"### New items: HITS@{k} by the interactions the target had by then (later groups)",
        "",
        *_degree_table(new_item_metrics["methods"], k),
    ]
    choosing = new_item_metrics.get("choosing")
    if choosing:
        lines += ["", "### New items: the earlier groups (what chose the settings)", "", *_method_table(choosing, k)]
    return lines


def recall_by_degree_figure(metrics: dict[str, dict], new_item_metrics: dict, k: int):
    """Test HITS@k per method by how many interactions the target item had, trained and new items side by
    side: where each method wins, at a glance in kedro-viz."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("trained items, test", {m: s["test"] for m, s in metrics.items()})]
    if new_item_metrics["methods"]:
        panels.append(("new items (interactions by the query time)", new_item_metrics["methods"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.8), constrained_layout=True, squeeze=False)
    for ax, (title, figures) in zip(axes[0], panels, strict=True):
        buckets = [f"{b['bucket']}\n({b['users']})" for b in next(iter(figures.values()))["by_degree"]]
        width = 0.8 / len(figures)
        for i, (method, f) in enumerate(figures.items()):
            x = [j + (i - (len(figures) - 1) / 2) * width for j in range(len(buckets))]
            ax.bar(x, [b[f"hits@{k}"] for b in f["by_degree"]], width, label=METHOD_NAMES.get(method, method))
        ax.set_xticks(range(len(buckets)), buckets)
        ax.set(title=title, xlabel="interactions of the target item (users)", ylabel=f"HITS@{k}")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize="small")
    return fig


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
