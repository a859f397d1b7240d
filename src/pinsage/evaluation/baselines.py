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

from pinsage.evaluation.metrics import EvaluationQueries, Scorer, metrics_from_ranks, ranks
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


def choose(
    candidates: Iterable[Candidate],
    choosing: EvaluationQueries,
    k: int,
    log_degree: np.ndarray | None,
    prior_weights: Iterable[float],
) -> Chosen:
    """The candidate and prior weight with the highest HITS@k on `choosing`, jointly; ties keep the earlier
    (the grid's order: raw first). Without `log_degree` (ln(1 + interactions) of each candidate item),
    no prior is tried."""
    weights = [w for w in prior_weights if w > 0] if log_degree is not None else []
    best: tuple[float, Chosen] | None = None
    for candidate in candidates:
        base = candidate.build()
        options = [(0.0, base)] + [(w, PriorScorer(base, w * log_degree)) for w in weights]
        for weight, scorer in options:
            found = ranks(scorer, choosing)
            figure = metrics_from_ranks(found, k)[f"hits@{k}"]
            if best is None or figure > best[0]:
                prior = {"prior": weight} if log_degree is not None else {}
                best = (figure, Chosen({**candidate.setting, **prior}, scorer, found))
    if best is None:
        raise ValueError("no candidate setting to choose from")
    return best[1]


def setting_text(setting: dict[str, float]) -> str:
    """`{"window": 3, "prior": 0.01}` → `window 3, prior 0.01`."""
    return ", ".join(f"{name} {value:g}" for name, value in setting.items())
