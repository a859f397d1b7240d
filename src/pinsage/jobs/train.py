"""Training PinSage: `fit` is the one entry point the Kedro node, the torchrun ranks, the benchmarks
and the tests call. It assembles the graph's sampler, the validator and the network, and runs the loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dgl
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict

from pinsage.data.features import FeatureConfig, feature_sizes
from pinsage.evaluation.metrics import EvaluationConfig, EvaluationQueries
from pinsage.evaluation.validation import recall_validator
from pinsage.graph.build import ITEM, USER
from pinsage.graph.config import HardNegativeConfig, NeighbourConfig, PairConfig
from pinsage.graph.sampling import EpochSampler
from pinsage.lifecycle.publishing import PublishedRun
from pinsage.model.pinsage import ModelConfig, PinSage
from pinsage.model.scoring import ScoringConfig, popularity_prior
from pinsage.model.taste import TasteConfig
from pinsage.model.trained_with import TrainedWith
from pinsage.training.checkpoint import fingerprint
from pinsage.training.config import TrainConfig
from pinsage.training.distributed import DistributedContext
from pinsage.training.loop import train_loop
from pinsage.training.warm_start import PublishedModel, model_keys, warm_start_from

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingInputs:
    """The data one training run reads: the graph's outputs, the split, and optionally a model to start from."""

    graph: dgl.DGLGraph
    features: dict[str, torch.Tensor]
    vocabulary: dict[str, list]
    neighbourhoods: dict[str, torch.Tensor]  # "neighbours", "weights": fixed, for validation
    train_interactions: pd.DataFrame
    val_interactions: pd.DataFrame
    catalogue: pd.DataFrame  # at least `item_id`, in row order (the `model` node reads only that column)
    warm_start: PublishedModel | None = None


class TrainSettings(BaseModel):
    """Every parameter section training depends on, each validated by its own model."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    features: FeatureConfig = FeatureConfig()
    neighbourhood: NeighbourConfig = NeighbourConfig()
    pairs: PairConfig = PairConfig()
    hard_negatives: HardNegativeConfig = HardNegativeConfig()
    model: ModelConfig = ModelConfig()
    training: TrainConfig = TrainConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    taste: TasteConfig = TasteConfig()  # not used in training: recorded beside the weights
    scoring: ScoringConfig = ScoringConfig()  # validation (the epoch chosen) scores as serving does


@dataclass(frozen=True)
class TrainingResult:
    state_dict: dict[str, torch.Tensor]  # the best epoch's weights
    history: list[dict]  # per epoch: loss, validation metrics, seconds
    best_epoch: int  # 0: a warm start's starting weights were never beaten
    trained_with: TrainedWith  # saved and published beside the weights


def fit(
    inputs: TrainingInputs, settings: TrainSettings, context: DistributedContext = DistributedContext()
) -> TrainingResult:
    """Train on `inputs` with `settings`; under torchrun, this process's share of data-parallel training."""
    config = settings.training
    fixed = (inputs.neighbourhoods["neighbours"], inputs.neighbourhoods["weights"])
    sampler = EpochSampler(
        inputs.graph,
        settings.neighbourhood,
        settings.pairs,
        pairs_per_share=config.batches_per_epoch * config.batch_size,
        seed=config.seed,
        fixed_neighbours=fixed,
        hard_negatives=settings.hard_negatives,
        interactions=inputs.train_interactions,
    )
    validate = None
    if config.validate_each_epoch:
        n_users, n_items = inputs.graph.num_nodes(USER), inputs.graph.num_nodes(ITEM)
        evaluation = settings.evaluation
        queries = EvaluationQueries(
            inputs.train_interactions,
            inputs.val_interactions,
            n_users,
            n_items,
            max_users=evaluation.validation_users,
            seed=evaluation.seed,
        )
        validate = recall_validator(
            inputs.features,
            *fixed,
            queries,
            k=settings.evaluation.k,
            prior=popularity_prior(inputs.features["log_degree"], settings.scoring),
            device=config.device,
        )
    torch.manual_seed(config.seed)
    network = PinSage(feature_sizes(inputs.features, inputs.vocabulary), settings.model)
    started_from = _warm_start(network, inputs, context) if config.warm_start else None
    run_fingerprint = fingerprint(
        {
            **settings.model_dump(
                exclude={"training": {"device", "num_workers", "processes", "checkpoint_path"}, "taste": True}
            ),
            "warm_start_from": started_from,
        },
        {
            **{f"train_{c}": inputs.train_interactions[c].to_numpy() for c in ("user", "item", "timestamp")},
            **{f"val_{c}": inputs.val_interactions[c].to_numpy() for c in ("user", "item")},
            **inputs.features,
        },
    )
    if started_from is not None:
        config = config.model_copy(update={"lr": config.lr * config.warm_start_lr_scale})
    result = train_loop(
        network,
        inputs.features,
        sampler,
        config,
        validate,
        monitor=settings.evaluation.metrics[0],
        fingerprint=run_fingerprint,
        context=context,
        start_is_candidate=started_from is not None,
    )
    trained_with = TrainedWith.record(
        settings.model,
        settings.features,
        settings.neighbourhood,
        settings.taste,
        settings.scoring,
        inputs.features,
        inputs.vocabulary,
    )
    return TrainingResult(result.state_dict, result.history, result.best_epoch, trained_with)


def published_model(run: PublishedRun | None, settings: TrainSettings) -> PublishedModel | None:
    """The published model as a warm start reads it, or None when nothing is published."""
    if run is None:
        return None
    trained_with = TrainedWith.model_validate(run.load("trained_with"))
    return PublishedModel(
        version=run.version,
        state_dict=run.load("model_weights"),
        keys=model_keys(run.load("catalogue")["item_id"].tolist(), run.load("feature_vocabulary")),
        model_settings_changed=trained_with.differences(dict(settings), sections=("model",)),
    )


def _warm_start(network: PinSage, inputs: TrainingInputs, context: DistributedContext) -> str | None:
    """Load the published weights into `network` where they apply; the version used, or None."""
    keys = model_keys(inputs.catalogue["item_id"].tolist(), inputs.vocabulary)
    result = warm_start_from(inputs.warm_start, network.state_dict(), keys)
    if context.is_main:
        (log.info if result.state_dict is not None else log.warning)(result.message)
    if result.state_dict is None:
        return None
    network.load_state_dict(result.state_dict)
    return inputs.warm_start.version
