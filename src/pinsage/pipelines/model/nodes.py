"""Training PinSage on the training graph, validated on the validation split."""

from __future__ import annotations

import dgl
import pandas as pd
import torch

from pinsage.data.features import FeatureConfig
from pinsage.evaluation.metrics import EvaluationConfig
from pinsage.graph.config import HardNegativeConfig, NeighbourConfig, PairConfig
from pinsage.jobs.train import TrainingInputs, TrainSettings, fit, published_model
from pinsage.lifecycle.publishing import PublishedRun
from pinsage.model.pinsage import ModelConfig
from pinsage.model.scoring import ScoringConfig
from pinsage.model.taste import NewItemConfig
from pinsage.pipelines.model.launch import launch
from pinsage.training.config import TrainConfig


def assemble_training(
    training_graph: dgl.DGLGraph,
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    item_neighbourhoods: dict[str, torch.Tensor],
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    catalogue_item_ids: pd.DataFrame,
    published_run: PublishedRun | None,
    features: FeatureConfig,
    neighbourhood: NeighbourConfig,
    pairs: PairConfig,
    hard_negatives: HardNegativeConfig,
    model: ModelConfig,
    training: TrainConfig,
    evaluation: EvaluationConfig,
    new_items: NewItemConfig,
    scoring: ScoringConfig,
) -> tuple[TrainingInputs, TrainSettings]:
    """The `model` node's inputs, in the node's order, as what `fit` takes. The torchrun command line
    calls this too, with the same datasets loaded from the catalog."""
    settings = TrainSettings(
        features=features,
        neighbourhood=neighbourhood,
        pairs=pairs,
        hard_negatives=hard_negatives,
        model=model,
        training=training,
        evaluation=evaluation,
        new_items=new_items,
        scoring=scoring,
    )
    inputs = TrainingInputs(
        training_graph,
        item_features,
        feature_vocabulary,
        item_neighbourhoods,
        train_interactions,
        val_interactions,
        catalogue_item_ids,
        published_model(published_run, settings) if training.warm_start else None,
    )
    return inputs, settings


def train_pinsage(*node_inputs) -> tuple[dict[str, torch.Tensor], list[dict], dict]:
    """The best epoch's state dict, the per-epoch history, and the settings saved beside the weights,
    from `assemble_training`'s inputs. With `training.processes` > 1 the same `fit` runs data-parallel
    under torchrun, on exactly these inputs."""
    inputs, settings = assemble_training(*node_inputs)
    result = launch(inputs, settings) if settings.training.processes > 1 else fit(inputs, settings)
    return result.state_dict, result.history, result.trained_with.model_dump(mode="json")
