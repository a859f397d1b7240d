"""Tiny planted-topic worlds the unit tests share, carried from ingestion to `TrainingInputs` by the
library itself, so no test assembles training by hand."""

from __future__ import annotations

from pinsage.data.features import FeatureConfig
from pinsage.data.sources.synthetic import SyntheticWorld, generate_world
from pinsage.data.split import SplitConfig
from pinsage.graph.config import NeighbourConfig
from pinsage.jobs.prepare import PreparedData, prepare
from pinsage.model.pinsage import ModelConfig
from pinsage.model.scoring import ScoringConfig
from pinsage.model.taste import TasteConfig
from pinsage.model.trained_with import TrainedWith


def planted_world(
    held_out: float = 0.0, neighbourhood: NeighbourConfig = NeighbourConfig(inference_random_walks=50), **world
) -> PreparedData:
    """A synthetic world (`SyntheticWorld` fields as keywords), split, featurised and graphed."""
    return prepare(
        generate_world(SyntheticWorld(**world)),
        SplitConfig(held_out_item_fraction=held_out),
        neighbourhood=neighbourhood,
    )


def trained_with(world: PreparedData, model: ModelConfig) -> TrainedWith:
    """What `fit` would record for a model of `model`'s settings on `world` (for untrained networks)."""
    return TrainedWith.record(
        model,
        FeatureConfig(),
        NeighbourConfig(inference_random_walks=50),
        TasteConfig(),
        ScoringConfig(),
        world.inputs.features,
        world.inputs.vocabulary,
    )
