"""Recall of PinSage and of the baselines, on validation and test, under one protocol."""

from __future__ import annotations

import pandas as pd
import torch

from pinsage.evaluation import (
    EvaluationQueries,
    embedding_scorer,
    evaluate,
    itemknn_scorer,
    popularity_scorer,
)
from pinsage.features import FeatureConfig
from pinsage.new_items import TrainedItems, evaluate_new_items
from pinsage.pipelines.export.nodes import embedding_matrix, load_network
from pinsage.report import recall_report
from pinsage.sampling import NeighbourConfig


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


def evaluate_inductive_recall(
    model_weights: dict[str, torch.Tensor],
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    item_neighbourhoods: dict[str, torch.Tensor],
    catalogue: pd.DataFrame,
    users: pd.DataFrame,
    train_interactions: pd.DataFrame,
    held_out_items: pd.DataFrame,
    held_out_interactions: pd.DataFrame,
    model: dict,
    features: dict,
    neighbourhood: dict,
    evaluation: dict,
) -> dict:
    """Recall among the items held out of training, embedded afterwards without retraining."""
    if held_out_items.empty:
        return {"items": 0, "attached": 0, "methods": {}}
    network = load_network(model_weights, item_features, feature_vocabulary, model)
    trained = TrainedItems(
        item_features, feature_vocabulary, item_neighbourhoods, FeatureConfig.model_validate(features),
        NeighbourConfig.model_validate(neighbourhood),
    )
    return evaluate_new_items(
        network, catalogue, users, train_interactions, held_out_items, held_out_interactions, trained,
        k=evaluation["k"],
    )


def write_report(
    metrics: dict[str, dict],
    new_item_metrics: dict,
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    test_interactions: pd.DataFrame,
    catalogue: pd.DataFrame,
    users: pd.DataFrame,
    training_history: list[dict],
    data: dict,
    evaluation: dict,
) -> str:
    summary = {
        "source": data["source"], "items": len(catalogue), "users": len(users),
        "train": len(train_interactions), "val": len(val_interactions), "test": len(test_interactions),
    }
    return recall_report(metrics, new_item_metrics, summary, training_history, evaluation["k"])
