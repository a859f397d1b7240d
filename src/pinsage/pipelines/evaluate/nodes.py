"""Recall of PinSage and of the baselines, on validation and test, under one protocol."""

from __future__ import annotations

import pandas as pd

from pinsage.evaluation import (
    EvaluationQueries,
    embedding_scorer,
    evaluate,
    itemknn_scorer,
    popularity_scorer,
)
from pinsage.pipelines.export.nodes import embedding_matrix
from pinsage.report import recall_report


def evaluate_recall(
    item_embeddings: pd.DataFrame,
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    test_interactions: pd.DataFrame,
    users: pd.DataFrame,
    evaluation: dict,
) -> dict[str, dict]:
    n_users, n_items = len(users), len(item_embeddings)
    k = evaluation["k"]
    queries = {
        "val": EvaluationQueries(train_interactions, val_interactions, n_users, n_items),
        "test": EvaluationQueries(train_interactions, test_interactions, n_users, n_items),
    }
    scorers = {
        "pinsage": embedding_scorer(embedding_matrix(item_embeddings)),
        "popularity": popularity_scorer(train_interactions, n_items),
        "itemknn": itemknn_scorer(train_interactions, n_users, n_items),
    }
    return {
        name: {split: evaluate(scorer, q, k) for split, q in queries.items()}
        for name, scorer in scorers.items()
    }


def write_report(
    metrics: dict[str, dict],
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    test_interactions: pd.DataFrame,
    items: pd.DataFrame,
    users: pd.DataFrame,
    training_history: list[dict],
    data: dict,
    evaluation: dict,
) -> str:
    summary = {
        "source": data["source"], "items": len(items), "users": len(users),
        "train": len(train_interactions), "val": len(val_interactions), "test": len(test_interactions),
    }
    return recall_report(metrics, summary, training_history, evaluation["k"])
