"""Evaluation: recall on the trained catalogue, and on items held out of training and embedded afterwards,
for PinSage and every baseline under one protocol."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pinsage.data.features import encode_items
from pinsage.data.split import split_last
from pinsage.evaluation.metrics import EvaluationConfig, EvaluationQueries, evaluate
from pinsage.evaluation.scorers import embedding_scorer, feature_scorer, itemknn_scorer, popularity_scorer
from pinsage.model.pinsage import PinSage
from pinsage.serving.embeddings import embedding_matrix
from pinsage.serving.new_items import AttachedItems, TrainedItems, attach_new_items, embed_with_new_items


def evaluate_trained_items(
    item_embeddings: pd.DataFrame,
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    test_interactions: pd.DataFrame,
    n_users: int,
    evaluation: EvaluationConfig,
) -> dict[str, dict]:
    """Validation and test figures of PinSage, popularity and item-kNN on the trained catalogue, over
    the same (sampled, where there are more than `evaluation.max_users`) users for every method."""
    n_items = len(item_embeddings)
    sample = {"max_users": evaluation.max_users, "seed": evaluation.seed}
    queries = {
        "val": EvaluationQueries(train_interactions, val_interactions, n_users, n_items, **sample),
        "test": EvaluationQueries(train_interactions, test_interactions, n_users, n_items, **sample),
    }
    scorers = {
        "pinsage": embedding_scorer(embedding_matrix(item_embeddings)),
        "popularity": popularity_scorer(train_interactions, n_items),
        "itemknn": itemknn_scorer(train_interactions, n_users, n_items),
    }
    return {
        name: {split: evaluate(scorer, q, evaluation.k) for split, q in queries.items()}
        for name, scorer in scorers.items()
    }


def evaluate_new_items(
    network: PinSage,
    catalogue: pd.DataFrame,
    users: pd.DataFrame,
    train_interactions: pd.DataFrame,
    held_out_items: pd.DataFrame,
    held_out_interactions: pd.DataFrame,
    trained: TrainedItems,
    evaluation: EvaluationConfig,
) -> dict[str, dict]:
    """HITS@k, NDCG@k, MRR for queries and targets among items held out of training entirely.

    Per user, the last interaction with a held-out item is the target; the user's earlier ones are
    the held-out items' "first interactions", attached to the graph before embedding, and the latest
    of them is the query. Candidates are the held-out items minus the user's attached ones. PinSage
    (inductive, and cold: features only, nothing attached) is compared with popularity and item-kNN
    on the attached interactions and with a features-only cosine baseline.
    """
    if held_out_items.empty:
        return {"items": 0, "attached": 0, "methods": {}}
    full = attach_new_items(catalogue, users, train_interactions, held_out_items, held_out_interactions)
    n, n_new = len(catalogue), len(held_out_items)
    first_events, targets = split_last(full.interactions.iloc[len(train_interactions) :])
    attached = replace(full, interactions=pd.concat([full.interactions.iloc[: len(train_interactions)], first_events]))
    cold = replace(full, interactions=full.interactions.iloc[: len(train_interactions)])

    def local(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(item=frame["item"] - n)

    def new_rows(a: AttachedItems) -> np.ndarray:
        return embed_with_new_items(network, a, trained)[n:].numpy()

    queries = EvaluationQueries(
        local(first_events), local(targets), full.n_users, n_new, evaluation.max_users, evaluation.seed
    )
    new_features = encode_items(full.items.iloc[n:], np.zeros(n_new), trained.vocabulary, trained.trained_with.features)
    scorers = {
        "pinsage": embedding_scorer(new_rows(attached)),
        "pinsage_cold": embedding_scorer(new_rows(cold)),
        "popularity": popularity_scorer(local(first_events), n_new),
        "itemknn": itemknn_scorer(local(first_events), full.n_users, n_new),
        "features": feature_scorer(new_features),
    }
    return {
        "items": n_new,
        "attached": len(first_events),
        "methods": {name: evaluate(scorer, queries, evaluation.k) for name, scorer in scorers.items()},
    }
