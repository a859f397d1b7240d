"""Recall of PinSage and of the baselines, on validation and test, under one protocol; the report."""

from __future__ import annotations

import dgl
import faiss
import pandas as pd
import torch

from pinsage.data.sources.registry import DataConfig
from pinsage.evaluation.metrics import EvaluationConfig
from pinsage.evaluation.report import recall_by_degree_figure, recall_report, training_curve_figure
from pinsage.inductive.attach import TrainedItems
from pinsage.jobs.evaluate import evaluate_new_items, evaluate_trained_items
from pinsage.model.trained_with import TrainedWith
from pinsage.serving.embeddings import has_prior, index_vectors
from pinsage.serving.index import index_recall


def evaluate_recall(
    item_embeddings: pd.DataFrame,
    embedding_index: faiss.Index,
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    test_interactions: pd.DataFrame,
    users: pd.DataFrame,
    evaluation: EvaluationConfig,
) -> tuple[dict[str, dict], dict]:
    """Every method's validation and test figures, and how well the served index agrees with exact search."""
    metrics = evaluate_trained_items(
        item_embeddings, train_interactions, val_interactions, test_interactions, len(users), evaluation
    )
    agreement = index_recall(
        embedding_index,
        index_vectors(item_embeddings),
        evaluation.k,
        evaluation.index_queries,
        with_prior=has_prior(item_embeddings),
    )
    return metrics, agreement


def evaluate_inductive_recall(
    model_weights: dict[str, torch.Tensor],
    trained_with: dict,
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    item_neighbourhoods: dict[str, torch.Tensor],
    catalogue: pd.DataFrame,
    users: pd.DataFrame,
    training_graph: dgl.DGLGraph,
    train_interactions: pd.DataFrame,
    held_out_items: pd.DataFrame,
    held_out_interactions: pd.DataFrame,
    evaluation: EvaluationConfig,
) -> dict:
    """Recall among the items held out of training, embedded afterwards without retraining."""
    settings = TrainedWith.model_validate(trained_with)
    trained = TrainedItems(item_features, feature_vocabulary, item_neighbourhoods, settings)
    return evaluate_new_items(
        settings.build_network(model_weights, feature_vocabulary),
        catalogue,
        users,
        training_graph,
        train_interactions,
        held_out_items,
        held_out_interactions,
        trained,
        evaluation,
    )


def write_report(
    metrics: dict[str, dict],
    index_recall: dict,
    new_item_metrics: dict,
    split_summary: dict,
    training_history: list[dict],
    data: DataConfig,
    evaluation: EvaluationConfig,
) -> str:
    summary = {"source": data.source, **split_summary}
    return recall_report(metrics, index_recall, new_item_metrics, summary, training_history, evaluation)


def plot_training_curve(training_history: list[dict], evaluation: EvaluationConfig):
    return training_curve_figure(training_history, evaluation.k)


def plot_recall_by_degree(metrics: dict[str, dict], new_item_metrics: dict, evaluation: EvaluationConfig):
    return recall_by_degree_figure(metrics, new_item_metrics, evaluation.k)
