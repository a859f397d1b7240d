"""Training PinSage on the training graph, validated on the validation split."""

from __future__ import annotations

import dgl
import pandas as pd
import torch

from pinsage.jobs.train import TrainingInputs, TrainSettings, fit, published_model
from pinsage.lifecycle.publishing import PublishedRun
from pinsage.pipelines.model.launch import launch


def assemble_training(
    training_graph: dgl.DGLGraph,
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    item_neighbourhoods: dict[str, torch.Tensor],
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    catalogue_item_ids: pd.DataFrame,
    published_run: PublishedRun | None,
    train_settings: TrainSettings,
) -> tuple[TrainingInputs, TrainSettings]:
    """The `model` node's inputs, in the node's order, as what `fit` takes. The torchrun command line
    calls this too, with the same datasets loaded from the catalog."""
    inputs = TrainingInputs(
        training_graph,
        item_features,
        feature_vocabulary,
        item_neighbourhoods,
        train_interactions,
        val_interactions,
        catalogue_item_ids,
        published_model(published_run, train_settings) if train_settings.training.warm_start else None,
    )
    return inputs, train_settings


def train_pinsage(*node_inputs) -> tuple[dict[str, torch.Tensor], list[dict], dict]:
    """The best epoch's state dict, the per-epoch history, and the settings saved beside the weights,
    from `assemble_training`'s inputs. With `training.processes` > 1 the same `fit` runs data-parallel
    under torchrun, on exactly these inputs."""
    inputs, settings = assemble_training(*node_inputs)
    result = launch(inputs, settings) if settings.training.processes > 1 else fit(inputs, settings)
    return result.state_dict, result.history, result.trained_with.model_dump(mode="json")
