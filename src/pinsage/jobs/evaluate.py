"""Evaluation: recall on the trained catalogue, and on items held out of training and embedded afterwards,
for PinSage and every baseline under one protocol, with intervals and paired differences."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import dgl
import numpy as np
import pandas as pd
import torch

from pinsage.data.features import encode_items
from pinsage.data.split import split_last
from pinsage.evaluation.comparison import compare_methods
from pinsage.evaluation.metrics import EvaluationConfig, EvaluationQueries, Scorer, metrics_from_ranks, ranks
from pinsage.evaluation.scorers import (
    EmbeddingScorer,
    ItemKnnScorer,
    PopularityScorer,
    ease_scorer,
    feature_scorer,
)
from pinsage.graph.build import item_users
from pinsage.model.inference import embed_added_items, final_chunks, layer_tables
from pinsage.model.pinsage import PinSage
from pinsage.model.scoring import popularity_prior
from pinsage.model.taste import fold_in_taste, users_taste
from pinsage.serving.embeddings import embedding_matrix, prior_vector
from pinsage.serving.new_items import AttachedItems, TrainedItems, attach_new_items, new_item_inputs

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
    training nor validation. EASE's λ is chosen on validation (`ease["val"]["l2"]`); above
    `evaluation.ease_max_items` items EASE is skipped.
    """
    n_items = len(item_embeddings)
    sample = {"max_users": evaluation.max_users, "seed": evaluation.seed}
    before_test = pd.concat([train_interactions, val_interactions], ignore_index=True)
    queries = {
        "val": EvaluationQueries(train_interactions, val_interactions, n_users, n_items, **sample),
        "test": EvaluationQueries(before_test, test_interactions, n_users, n_items, **sample),
    }
    scorers: dict[str, Scorer] = {
        "pinsage": EmbeddingScorer(embedding_matrix(item_embeddings), prior_vector(item_embeddings)),
        "popularity": PopularityScorer(train_interactions, n_items),
        "itemknn": ItemKnnScorer(train_interactions, n_users, n_items),
    }
    ranked = {split: {name: ranks(s, q) for name, s in scorers.items()} for split, q in queries.items()}
    chosen_l2 = None
    if n_items <= evaluation.ease_max_items:
        chosen_l2, ease, ranked["val"]["ease"] = _ease_chosen_on_validation(
            train_interactions, n_users, n_items, queries["val"], evaluation
        )
        ranked["test"]["ease"] = ranks(ease, queries["test"])
    else:
        log.info("EASE skipped: %d items > evaluation.ease_max_items = %d", n_items, evaluation.ease_max_items)
    degree = np.bincount(train_interactions["item"].to_numpy(), minlength=n_items)
    compared = {
        split: compare_methods(ranked[split], degree[q.targets], q.eligible, evaluation) for split, q in queries.items()
    }
    metrics = {name: {split: compared[split][name] for split in queries} for name in ranked["val"]}
    if chosen_l2 is not None:
        metrics["ease"]["val"]["l2"] = chosen_l2
    return metrics


def _ease_chosen_on_validation(
    train: pd.DataFrame, n_users: int, n_items: int, val: EvaluationQueries, evaluation: EvaluationConfig
) -> tuple[float, Scorer, np.ndarray]:
    """EASE with the λ of `evaluation.ease_lambdas` that scores best on validation HITS@k: the λ, the
    scorer and its validation ranks."""
    best: tuple[float, float, Scorer, np.ndarray] | None = None
    for l2 in evaluation.ease_lambdas:
        scorer = ease_scorer(train, n_users, n_items, l2)
        val_ranks = ranks(scorer, val)
        figure = metrics_from_ranks(val_ranks, evaluation.k)[f"hits@{evaluation.k}"]
        log.info("EASE λ = %g: val HITS@%d %.4f", l2, evaluation.k, figure)
        if best is None or figure > best[0]:
            best = (figure, l2, scorer, val_ranks)
    assert best is not None  # ease_lambdas has at least one value
    return best[1], best[2], best[3]


def evaluate_new_items(
    network: PinSage,
    catalogue: pd.DataFrame,
    users: pd.DataFrame,
    training_graph: dgl.DGLGraph,
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
    comes, and every method (PinSage attached to the graph through them, popularity, item-kNN) uses
    exactly those. PinSage is its served score: its vector with the taste of the item's users by then
    folded in (`new_items.taste_weight` of `trained_with`), plus the popularity prior of the interactions it
    had by then (`scoring`); `pinsage_own` is the cosine of its own vector without either, to show what
    they add. PinSage cold (features only, nothing attached) and the features-only cosine use none.
    """
    if held_out_items.empty:
        return {"items": 0, "snapshots": [], "methods": {}}
    full = attach_new_items(catalogue, users, held_out_items, held_out_interactions)
    n, n_new = len(catalogue), len(held_out_items)
    new_events = full.added.assign(item=lambda f: f["item"] - n)
    earlier, targets = split_last(new_events)
    queries = EvaluationQueries(earlier, targets, full.n_users, n_new, evaluation.max_users, evaluation.seed)

    # The trained items' layers are the same in every snapshot (their neighbourhoods reach only trained
    # items): computed once, each snapshot then computes only the new items' rows.
    neighbourhoods = trained.neighbourhoods
    trained_layers = layer_tables(network, trained.features, neighbourhoods["neighbours"], neighbourhoods["weights"])

    def embed(a: AttachedItems) -> torch.Tensor:
        return embed_added_items(network, trained_layers, *new_item_inputs(a, trained, training_graph))

    weight, scoring = trained.trained_with.new_items.taste_weight, trained.trained_with.scoring
    # Every user of a held-out item, once: each group's items are folded in from those it had by then.
    taste = (
        users_taste(
            final_chunks(network, trained_layers, neighbourhoods["neighbours"], neighbourhoods["weights"]),
            item_users(training_graph),
            full.added["user"].to_numpy(),
        )
        if weight
        else None
    )
    new_features = encode_items(full.new_rows, np.zeros(n_new), trained.vocabulary, trained.trained_with.features)
    fixed: dict[str, Scorer] = {
        "pinsage_cold": EmbeddingScorer(embed(replace(full, added=full.added.iloc[:0])).numpy()),
        "features": feature_scorer(new_features),
    }
    methods = ["pinsage", "pinsage_own", "pinsage_cold", "popularity", "itemknn", "features"]
    ranked = {m: np.empty(len(queries), dtype=np.int64) for m in methods}
    degree = np.empty(len(queries), dtype=np.int64)
    snapshots = []
    order = np.argsort(queries.times, kind="stable")
    groups = np.array_split(order, min(evaluation.new_item_snapshots, max(len(order), 1)))
    for group, positions in enumerate(groups, start=1):
        if not len(positions):
            continue
        started = time.perf_counter()
        part = queries.subset(positions)
        cutoff = part.times.min()
        known = new_events[new_events["timestamp"].to_numpy() < cutoff]
        attached = replace(full, added=known.assign(item=known["item"] + n))
        own = embed(attached)
        folded = fold_in_taste(own, known["user"].to_numpy(), known["item"].to_numpy(), taste, weight)
        attached_degree = np.bincount(known["item"].to_numpy(), minlength=n_new)
        scorers = {
            **fixed,
            "pinsage": EmbeddingScorer(folded.numpy(), popularity_prior(np.log1p(attached_degree), scoring)),
            "pinsage_own": EmbeddingScorer(own.numpy()),
            "popularity": PopularityScorer(known, n_new),
            "itemknn": ItemKnnScorer(known, full.n_users, n_new),
        }
        for m in methods:
            ranked[m][positions] = ranks(scorers[m], part)
        del scorers, own, folded  # not held while the next group walks: at 10M items, 0.5 GB
        degree[positions] = attached_degree[part.targets]
        snapshots.append({"before": int(cutoff), "targets": len(positions), "attached": len(known)})
        # At millions of items a group takes minutes: say how far the node has got.
        log.info(
            "New items: group %d of %d (%d targets, %d interactions attached) in %.0f s",
            group,
            len(groups),
            len(positions),
            len(known),
            time.perf_counter() - started,
        )
    return {
        "items": n_new,
        "snapshots": snapshots,
        "methods": compare_methods(ranked, degree, queries.eligible, evaluation),
    }
