"""The baselines, each given the chances PinSage has: its own setting and a popularity prior, chosen on
the data that chooses (validation, or the earlier new-item groups), never on what is reported.

PinSage is served with cosine + β·ln(1 + interactions), β chosen on validation; a baseline compared with it
may add the same kind of prior (`PriorScorer`), its weight chosen by the same rule from
`evaluation.prior_weights` (0 included, so a baseline the prior does not help keeps its raw ranking).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from pinsage.evaluation.metrics import DenseRows, EvaluationQueries, Scorer, metrics_from_ranks, query_batches, ranks
from pinsage.evaluation.scorers import PriorScorer


@dataclass(frozen=True)
class Candidate:
    """One setting of a baseline: what it is called and how its scorer is built (lazily: an EASE matrix is
    an items × items inverse, and only the best one is kept)."""

    setting: dict[str, float]
    build: Callable[[], Scorer]


@dataclass(frozen=True)
class Chosen:
    setting: dict[str, float]  # the baseline's own setting and its prior's weight ("prior")
    scorer: Scorer
    choosing_ranks: np.ndarray  # its ranks on the queries that chose it


def prior_weights_for(log_degree: np.ndarray | None, prior_weights: Iterable[float]) -> list[float]:
    """The prior weights a baseline is tried with: 0 (raw) first, then the grid's; raw alone without
    `log_degree` (ln(1 + interactions) of each candidate item)."""
    return [0.0] + ([w for w in prior_weights if w > 0] if log_degree is not None else [])


def option_setting(setting: dict[str, float], weight: float, log_degree: np.ndarray | None) -> dict[str, float]:
    """A baseline's setting with its prior's weight, where it may have a prior (the report's "chosen")."""
    return {**setting, **({"prior": weight} if log_degree is not None else {})}


def with_prior(base: Scorer, weight: float, log_degree: np.ndarray | None) -> Scorer:
    """`base` plus the prior of `weight` (`base` itself at 0)."""
    return base if weight == 0 else PriorScorer(base, weight * log_degree)


def option_ranks(
    base: Scorer, weights: list[float], log_degree: np.ndarray | None, queries: EvaluationQueries
) -> list[np.ndarray]:
    """Ranks on `queries` of `base` with each of `weights`' priors, in their order. Each batch's base rows
    are computed once for every weight: a next-items or item-kNN row is the costly part and the prior only
    a sum. With the rows computed again for each of 7 weights, the new-item evaluation of 1M pins took 3.0x
    its time before baselines had priors; shared, 2.1x (docs/results.md)."""
    found = {w: ranks(base, queries) for w in weights if w == 0}  # raw: the base's own (sparse) ranking
    priors = [(w, with_prior(base, w, log_degree)) for w in weights if w != 0]
    out = {w: np.empty(len(queries), dtype=np.int64) for w, _ in priors}
    for batch in query_batches(queries, priors[0][1]) if priors else ():
        normalised = PriorScorer.normalised(base.rows(batch.queries))
        for w, scorer in priors:
            summed = DenseRows(lambda _, rows=normalised + scorer.prior: rows, base.n_items)
            out[w][batch.rows] = summed.batch_ranks(batch.queries, batch.targets, batch.seen_rows, batch.seen_items)
    return [found[w] if w == 0 else out[w] for w in weights]


def choose(
    candidates: Iterable[Candidate],
    choosing: EvaluationQueries,
    k: int,
    log_degree: np.ndarray | None,
    prior_weights: Iterable[float],
) -> Chosen:
    """The candidate and prior weight with the highest HITS@k on `choosing`, jointly; ties keep the earlier
    (the grid's order: raw first). Without `log_degree` no prior is tried."""
    weights = prior_weights_for(log_degree, prior_weights)
    best: tuple[float, Chosen] | None = None
    for candidate in candidates:
        base = candidate.build()
        for weight, found in zip(weights, option_ranks(base, weights, log_degree, choosing), strict=True):
            figure = metrics_from_ranks(found, k)[f"hits@{k}"]
            if best is None or figure > best[0]:
                setting = option_setting(candidate.setting, weight, log_degree)
                best = (figure, Chosen(setting, with_prior(base, weight, log_degree), found))
    if best is None:
        raise ValueError("no candidate setting to choose from")
    return best[1]


def setting_text(setting: dict[str, float]) -> str:
    """`{"window": 3, "prior": 0.01}` → `window 3, prior 0.01`."""
    return ", ".join(f"{name} {value:g}" for name, value in setting.items())
