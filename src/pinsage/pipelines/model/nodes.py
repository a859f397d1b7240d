"""Training PinSage on the training graph, validated on the validation split."""

from __future__ import annotations

import logging

import dgl
import pandas as pd
import torch

from pinsage.distributed import DistributedContext
from pinsage.evaluation import EvaluationQueries
from pinsage.features import feature_sizes
from pinsage.hard_negatives import HardNegativeConfig
from pinsage.model import ModelConfig, PinSage
from pinsage.publishing import PublishedRun
from pinsage.sampling import NeighbourConfig, PairConfig, WalkEpochSampler
from pinsage.training import TrainConfig, fingerprint, recall_validator, train
from pinsage.warm_start import WarmStart, model_keys, warm_start_state

log = logging.getLogger(__name__)


def train_pinsage(
    training_graph: dgl.DGLGraph,
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    item_neighbourhoods: dict[str, torch.Tensor],
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    catalogue: pd.DataFrame,
    published_run: PublishedRun | None,
    neighbourhood: dict,
    pairs: dict,
    hard_negatives: dict,
    model: dict,
    training: dict,
) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Returns the best epoch's state dict and the per-epoch history (loss, validation metrics).

    With `training.processes` > 1 the same training runs data-parallel under torchrun, which reads
    these inputs from the catalog (they are saved before this node runs) and hands the result back.
    """
    processes = TrainConfig.model_validate(training).processes
    if processes > 1:
        from pinsage.pipelines.model.distributed import launch

        params = {
            "neighbourhood": neighbourhood, "pairs": pairs, "hard_negatives": hard_negatives,
            "model": model, "training": training,
        }
        return launch(processes, params)
    return fit_pinsage(
        training_graph, item_features, feature_vocabulary, item_neighbourhoods, train_interactions,
        val_interactions, catalogue, published_run, neighbourhood, pairs, hard_negatives, model, training,
    )


def fit_pinsage(
    training_graph: dgl.DGLGraph,
    item_features: dict[str, torch.Tensor],
    feature_vocabulary: dict[str, list],
    item_neighbourhoods: dict[str, torch.Tensor],
    train_interactions: pd.DataFrame,
    val_interactions: pd.DataFrame,
    catalogue: pd.DataFrame,
    published_run: PublishedRun | None,
    neighbourhood: dict,
    pairs: dict,
    hard_negatives: dict,
    model: dict,
    training: dict,
    context: DistributedContext = DistributedContext(),
) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """One process's share of training (the whole of it, without data parallelism)."""
    model_config = ModelConfig.model_validate(model)
    train_config = TrainConfig.model_validate(training)
    fixed = (item_neighbourhoods["neighbours"], item_neighbourhoods["weights"])
    sampler = WalkEpochSampler(
        training_graph,
        NeighbourConfig.model_validate(neighbourhood),
        PairConfig.model_validate(pairs),
        pairs_per_epoch=train_config.batches_per_epoch * train_config.batch_size * context.world_size,
        seed=train_config.seed,
        fixed_neighbours=fixed,
        hard_negatives=HardNegativeConfig.model_validate(hard_negatives),
    )
    n_users, n_items = training_graph.num_nodes("user"), training_graph.num_nodes("item")
    validate = recall_validator(
        item_features, *fixed, EvaluationQueries(train_interactions, val_interactions, n_users, n_items),
        device=train_config.device,
    )
    torch.manual_seed(train_config.seed)
    network = PinSage(feature_sizes(item_features, feature_vocabulary), model_config)
    started_from = None
    if train_config.warm_start:
        started_from = warm_start(network, catalogue, feature_vocabulary, published_run, context)
    run_id = fingerprint(
        {
            "neighbourhood": neighbourhood, "pairs": pairs, "hard_negatives": hard_negatives, "model": model,
            "training": train_config.model_dump(exclude={"device", "num_workers", "checkpoint_path"}),
            "warm_start_from": started_from,
        },
        {
            "train": torch.tensor(train_interactions[["user", "item", "timestamp"]].to_numpy()),
            "val": torch.tensor(val_interactions[["user", "item"]].to_numpy()),
            **item_features,
        },
    )
    if started_from is not None:
        train_config = train_config.model_copy(update={"lr": train_config.lr * train_config.warm_start_lr_scale})
    result = train(
        network, item_features, sampler, train_config, validate, fingerprint=run_id, context=context,
        start_is_candidate=started_from is not None,
    )
    return result.state_dict, result.history


def warm_start(
    network: PinSage,
    catalogue: pd.DataFrame,
    vocabulary: dict[str, list],
    published_run: PublishedRun | None,
    context: DistributedContext,
) -> str | None:
    """Load the published model's weights into `network` where they apply; the version used, or None."""
    if published_run is None:
        result = WarmStart(None, "warm start asked for, but nothing is published yet: training from scratch")
    else:
        result = warm_start_state(
            network.state_dict(),
            published_run.load("model_weights"),
            model_keys(catalogue["item_id"].tolist(), vocabulary),
            model_keys(published_run.load("catalogue")["item_id"].tolist(), published_run.load("feature_vocabulary")),
            published_run.version,
        )
    if context.is_main:
        (log.info if result.state_dict is not None else log.warning)(result.message)
    if result.state_dict is None:
        return None
    network.load_state_dict(result.state_dict)
    return published_run.version
