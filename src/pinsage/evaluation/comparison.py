"""How sure the figures are: bootstrap intervals over users, PinSage's paired difference to each
baseline, and the split by how many training interactions the target item had.

Every method is ranked on the same users, so the differences are paired: one resample of the users
is applied to every method at once, and the interval of a difference is far narrower than the two
figures' intervals side by side would suggest.
"""

from __future__ import annotations

import numpy as np

from pinsage.evaluation.metrics import EvaluationConfig, metrics_from_ranks, per_user_figures


def degree_bucket_labels(edges: list[int]) -> list[str]:
    """`[5, 20, 100]` → `["< 5", "5–19", "20–99", "≥ 100"]`."""
    labels = [f"< {edges[0]}"]
    labels += [f"{lo}–{hi - 1}" for lo, hi in zip(edges, edges[1:], strict=False)]
    return labels + [f"≥ {edges[-1]}"]


def bootstrap_means(values: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """Means of `values` [n_series, n_users] over `samples` resamples of the users: [samples, n_series].

    A resample is a multinomial count per user (the same draw for every series, so differences of the
    results are paired differences), applied as a matrix product, never as an index array per resample.
    """
    n = values.shape[1]
    rng = np.random.default_rng(seed)
    out = np.empty((samples, values.shape[0]))
    chunk = max(1, 2**22 // max(n, 1))  # counts matrices of about 32 MB
    for start in range(0, samples, chunk):
        rows = min(chunk, samples - start)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=rows).astype(np.float64)
        out[start : start + rows] = counts @ values.T / n
    return out


def compare_methods(
    ranks: dict[str, np.ndarray],
    target_degree: np.ndarray,
    eligible: int,
    config: EvaluationConfig,
    reference: str = "pinsage",
) -> dict[str, dict]:
    """Per method: the figures, their intervals (`interval`), the split by target degree
    (`by_degree`), and on the reference method its paired difference to every other method
    (`difference`: figure → [difference, low, high])."""
    k = config.k
    methods = list(ranks)
    names = config.metrics
    per_user = {m: per_user_figures(ranks[m], k) for m in methods}
    series = [(m, name) for m in methods for name in names]
    n_users = len(target_degree)
    if n_users:
        boot = bootstrap_means(
            np.stack([per_user[m][name] for m, name in series]), config.bootstrap_samples, config.seed
        )
    else:
        boot = np.zeros((1, len(series)))
    column = {key: i for i, key in enumerate(series)}
    tail = (1 - config.confidence) / 2

    def interval(draws: np.ndarray) -> list[float]:
        low, high = np.quantile(draws, [tail, 1 - tail])
        return [float(low), float(high)]

    bucket = np.searchsorted(np.asarray(config.degree_buckets), target_degree, side="right")
    labels = degree_bucket_labels(config.degree_buckets)
    out: dict[str, dict] = {}
    for m in methods:
        figures = {**metrics_from_ranks(ranks[m], k), "eligible_users": eligible}
        figures["interval"] = {name: interval(boot[:, column[m, name]]) for name in names}
        figures["by_degree"] = [
            {"bucket": label, **metrics_from_ranks(ranks[m][bucket == b], k)} for b, label in enumerate(labels)
        ]
        out[m] = figures
    if reference in ranks:
        out[reference]["difference"] = {
            other: {
                name: [
                    out[reference][name] - out[other][name],
                    *interval(boot[:, column[reference, name]] - boot[:, column[other, name]]),
                ]
                for name in names
            }
            for other in methods
            if other != reference
        }
    return out
