"""Evaluation: recall on the trained catalogue, and on items held out of training and embedded afterwards,
for PinSage and every baseline under one protocol, with intervals and paired differences."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import replace

import dgl
import numpy as np
import pandas as pd

from pinsage.data.features import encode_items
from pinsage.data.split import split_last
from pinsage.evaluation.baselines import (
    Candidate,
    choose,
    option_ranks,
    option_setting,
    prior_weights_for,
    setting_text,
    with_prior,
)
from pinsage.evaluation.comparison import compare_methods
from pinsage.evaluation.metrics import EvaluationConfig, EvaluationQueries, Scorer, ranks
from pinsage.evaluation.scorers import (
    EmbeddingScorer,
    ItemKnnScorer,
    NextItemsScorer,
    PopularityScorer,
    ease_scorer,
    feature_scorer,
)
from pinsage.graph.engagement import EngagementSequence
from pinsage.inductive.attach import AttachedItems, TrainedItems, attach_new_items
from pinsage.inductive.vectors import NewItemVectors, new_item_vectors
from pinsage.model.inference import final_chunks, layer_tables
from pinsage.model.pinsage import PinSage
from pinsage.model.taste import item_users_of
from pinsage.serving.embeddings import embedding_matrix, prior_vector

log = logging.getLogger(__name__)


def evaluate_trained_items(
    item_embeddings: pd.DataFrame,
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    test_interactions: pd.DataFrame,
    n_users: int,
    evaluation: EvaluationConfig,
) -> dict[str, dict]:
    """Validation and test figures of PinSage and the baselines on the trained catalogue, over the same
    (sampled, where there are more than `evaluation.max_users`) users for every method.

    A test target is ranked from the user's validation item, among items the user had in neither
    training nor validation. Each baseline's own setting (EASE's λ, the next-items window) and its
    popularity prior are chosen together on validation (`metrics[m]["val"]["chosen"]`), as PinSage's prior
    was; above `evaluation.ease_max_items` items EASE is skipped, above `evaluation.baseline_prior_max_items`
    the baselines get no prior.
    """
    n_items = len(item_embeddings)
    sample = {"max_users": evaluation.max_users, "seed": evaluation.seed}
    before_test = pd.concat([train_interactions, val_interactions], ignore_index=True)
    queries = {
        "val": EvaluationQueries(train_interactions, val_interactions, n_users, n_items, **sample),
        "test": EvaluationQueries(before_test, test_interactions, n_users, n_items, **sample),
    }
    pinsage = EmbeddingScorer(embedding_matrix(item_embeddings), prior_vector(item_embeddings))
    ranked = {split: {"pinsage": ranks(pinsage, q)} for split, q in queries.items()}
    chosen_settings = {}
    degree = np.bincount(train_interactions["item"].to_numpy(), minlength=n_items)
    for name, candidates in _trained_baselines(train_interactions, n_users, n_items, evaluation).items():
        started = time.perf_counter()
        chosen = choose(
            candidates, queries["val"], evaluation.k, _prior_degree(name, degree, evaluation), evaluation.prior_weights
        )
        ranked["val"][name] = chosen.choosing_ranks
        ranked["test"][name] = ranks(chosen.scorer, queries["test"])
        chosen_settings[name] = chosen.setting
        log.info(
            "%s: %s chosen on validation (%.0f s)",
            name,
            setting_text(chosen.setting) or "no setting",
            time.perf_counter() - started,
        )
    compared = {
        split: compare_methods(ranked[split], degree[q.targets], q.eligible, evaluation) for split, q in queries.items()
    }
    metrics = {name: {split: compared[split][name] for split in queries} for name in ranked["val"]}
    for name, setting in chosen_settings.items():
        metrics[name]["val"]["chosen"] = setting
    metrics["pinsage"]["test"]["tied_with_query"] = queries["test"].tied
    return metrics


def _trained_baselines(
    train: pd.DataFrame, n_users: int, n_items: int, evaluation: EvaluationConfig
) -> dict[str, list[Candidate]]:
    """Each baseline's candidate settings, in the order ties are kept."""
    # One time-ordered sequence for every window (built when first asked for).
    sequence = functools.cache(lambda: EngagementSequence(train, max(evaluation.next_items_windows)))
    baselines = {
        "popularity": [Candidate({}, lambda: PopularityScorer(train, n_items))],
        "itemknn": [Candidate({}, lambda: ItemKnnScorer(train, n_users, n_items))],
        "next_items": [
            Candidate({"window": w}, lambda w=w: NextItemsScorer(sequence(), n_items, w))
            for w in evaluation.next_items_windows
        ],
    }
    if n_items <= evaluation.ease_max_items:
        baselines["ease"] = [
            Candidate({"l2": l2}, lambda l2=l2: ease_scorer(train, n_users, n_items, l2))
            for l2 in evaluation.ease_lambdas
        ]
    else:
        log.info("EASE skipped: %d items > evaluation.ease_max_items = %d", n_items, evaluation.ease_max_items)
    return baselines


def _prior_degree(name: str, degree: np.ndarray, evaluation: EvaluationConfig) -> np.ndarray | None:
    """ln(1 + interactions) of every candidate, for a baseline that may add a prior (popularity is one)."""
    if name == "popularity" or len(degree) > evaluation.baseline_prior_max_items:
        return None
    return np.log1p(degree)


def evaluate_new_items(
    network: PinSage,
    catalogue: pd.DataFrame,
    users: pd.DataFrame,
    training_graph: dgl.DGLGraph,
    train_interactions: pd.DataFrame,
    held_out_items: pd.DataFrame,
    held_out_interactions: pd.DataFrame,
    trained: TrainedItems,
    evaluation: EvaluationConfig,
) -> dict:
    """HITS@k, NDCG@k, MRR for queries and targets among items held out of training entirely, each
    target answered only from what had happened before it, by the served score.

    Per user, the last interaction with a held-out item is the target and the user's latest earlier one
    the query; candidates are the held-out items minus the user's earlier ones. Targets are taken in
    time order in `evaluation.new_item_snapshots` groups; for each group the held-out items carry only
    the interactions (anyone's) from before its earliest target, as a new item would when the query
    comes, and every method (PinSage attached to the graph through them, popularity, item-kNN, next-items)
    uses exactly those. The earlier half of the groups chooses (the baselines' settings and priors here;
    PinSage's taste weight and prior were chosen on such groups too); the later half reports
    (`methods`), and `choosing` holds the earlier half's figures.

    PinSage is its served score: its vector with the taste of the item's users folded in (each user's
    taste from their training interactions before the group's earliest target; `taste.weight` of
    `trained_with`), plus the popularity prior of the interactions it had by then (`scoring`);
    `pinsage_own` is the cosine of its own vector without either, to show what they add. PinSage cold
    (features only, nothing attached) and the features-only cosine use none.
    """
    if held_out_items.empty:
        return {"items": 0, "snapshots": [], "methods": {}, "choosing": {}, "chosen": {}}
    full = attach_new_items(catalogue, users, held_out_items, held_out_interactions)
    n, n_new = len(catalogue), len(held_out_items)
    new_events = full.added.assign(item=lambda f: f["item"] - n)
    earlier, targets = split_last(new_events)
    queries = EvaluationQueries(earlier, targets, full.n_users, n_new, evaluation.max_users, evaluation.seed)

    # The trained items' layers are the same in every snapshot (their neighbourhoods reach only trained
    # items): computed once, each snapshot then computes only the new items' rows.
    neighbourhoods = trained.neighbourhoods
    trained_layers = layer_tables(network, trained.features, neighbourhoods["neighbours"], neighbourhoods["weights"])

    def trained_embeddings():
        return final_chunks(network, trained_layers, neighbourhoods["neighbours"], neighbourhoods["weights"])

    def vectors(a: AttachedItems, before: pd.DataFrame) -> NewItemVectors:
        return new_item_vectors(
            network, trained_layers, a, trained, training_graph, trained_embeddings, item_users_of(before, n)
        )

    new_features = encode_items(full.new_rows, np.zeros(n_new), trained.vocabulary, trained.trained_with.features)
    fixed: dict[str, Scorer] = {
        "pinsage_cold": EmbeddingScorer(vectors(replace(full, added=full.added.iloc[:0]), train_interactions[:0]).own),
        "features": feature_scorer(new_features),
    }
    methods = ["pinsage", "pinsage_own", "pinsage_cold", "popularity", "itemknn", "next_items", "features"]
    ranked = {m: np.empty(len(queries), dtype=np.int64) for m in methods}
    degree = np.empty(len(queries), dtype=np.int64)
    snapshots = []
    order = np.argsort(queries.times, kind="stable")
    groups = [g for g in np.array_split(order, min(evaluation.new_item_snapshots, max(len(order), 1))) if len(g)]
    if not groups:  # no user came back to a second held-out item: nothing to ask
        return {"items": n_new, "snapshots": [], "methods": {}, "choosing": {}, "chosen": {}, "eligible_users": 0}
    n_choosing = len(groups) // 2
    # Each baseline's options' ranks over the choosing groups, then only the chosen option's.
    choosing_ranks: dict[str, list[list[np.ndarray]]] = {}
    chosen: dict[str, int] = {}
    settings: dict[str, list[dict]] = {}
    for group, positions in enumerate(groups, start=1):
        started = time.perf_counter()
        part = queries.subset(positions)
        cutoff = part.times.min()
        known = new_events[new_events["timestamp"].to_numpy() < cutoff]
        attached = replace(full, added=known.assign(item=known["item"] + n))
        # A user's taste only from their training interactions before the group's earliest target.
        new = vectors(attached, train_interactions[train_interactions["timestamp"].to_numpy() < cutoff])
        attached_degree = np.bincount(known["item"].to_numpy(), minlength=n_new)
        scorers = {
            **fixed,
            "pinsage": EmbeddingScorer(new.served.numpy(), new.prior),
            "pinsage_own": EmbeddingScorer(new.own.numpy()),
        }
        for m in scorers:
            ranked[m][positions] = ranks(scorers[m], part)
        for name, candidates in _new_item_baselines(known, full.n_users, n_new, evaluation).items():
            # Options: each setting with each prior weight, in the order ties are kept (raw first).
            log_degree = _prior_degree(name, attached_degree, evaluation)
            weights = prior_weights_for(log_degree, evaluation.prior_weights)
            settings[name] = [option_setting(c.setting, w, log_degree) for c in candidates for w in weights]
            if group <= n_choosing:
                found = [r for c in candidates for r in option_ranks(c.build(), weights, log_degree, part)]
                choosing_ranks.setdefault(name, []).append(found)
                ranked[name][positions] = found[0]
            else:
                if name not in chosen:
                    chosen[name] = _best_option(choosing_ranks.get(name, []), evaluation.k)
                candidate, weight = divmod(chosen[name], len(weights))
                scorer = with_prior(candidates[candidate].build(), weights[weight], log_degree)
                ranked[name][positions] = ranks(scorer, part)
        del scorers, new  # not held while the next group walks: at 10M items, 0.5 GB
        degree[positions] = attached_degree[part.targets]
        snapshots.append(
            {"before": int(cutoff), "targets": len(positions), "attached": len(known), "choosing": group <= n_choosing}
        )
        # At millions of items a group takes minutes: say how far the node has got.
        log.info(
            "New items: group %d of %d (%d targets, %d interactions attached) in %.0f s",
            group,
            len(groups),
            len(positions),
            len(known),
            time.perf_counter() - started,
        )
    choosing_positions = np.concatenate(groups[:n_choosing]) if n_choosing else np.zeros(0, dtype=np.int64)
    reporting_positions = np.concatenate(groups[n_choosing:])
    # In the choosing groups each baseline is shown with the option chosen on them (the figure that chose it).
    for name, per_group in choosing_ranks.items():
        best = chosen.get(name, _best_option(per_group, evaluation.k))
        chosen[name] = best
        for positions, found in zip(groups[:n_choosing], per_group, strict=True):
            ranked[name][positions] = found[best]

    def compared(positions: np.ndarray) -> dict:
        return compare_methods(
            {m: r[positions] for m, r in ranked.items()}, degree[positions], len(positions), evaluation
        )

    return {
        "items": n_new,
        "snapshots": snapshots,
        "methods": compared(reporting_positions),
        "choosing": compared(choosing_positions) if len(choosing_positions) else {},
        "chosen": {name: settings[name][best] for name, best in chosen.items()},
        "eligible_users": queries.eligible,
    }


def _new_item_baselines(
    known: pd.DataFrame, n_users: int, n_new: int, evaluation: EvaluationConfig
) -> dict[str, list[Candidate]]:
    """Each new-item baseline's settings, built from the interactions the new items had by then."""
    sequence = functools.cache(lambda: EngagementSequence(known, max(evaluation.next_items_windows)))
    return {
        "popularity": [Candidate({}, lambda: PopularityScorer(known, n_new))],
        "itemknn": [Candidate({}, lambda: ItemKnnScorer(known, n_users, n_new))],
        "next_items": [
            Candidate({"window": w}, lambda w=w: NextItemsScorer(sequence(), n_new, w))
            for w in evaluation.next_items_windows
        ],
    }


def _best_option(per_group: list[list[np.ndarray]], k: int) -> int:
    """The option with the highest HITS@k over the choosing groups (the first where none chose: raw)."""
    if not per_group:
        return 0
    hits = np.sum([[np.sum(r <= k) for r in found] for found in per_group], axis=0)
    return int(np.argmax(hits))
