"""Preparing training inputs from canonical tables: the `split`, `features` and `graph` stages of the
`train` pipeline in one call, for notebooks, benchmarks and tests that do not go through Kedro."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pinsage.data.features import FeatureConfig, build_item_features
from pinsage.data.schema import Dataset
from pinsage.data.split import ItemHoldOut, SplitConfig, hold_out_items, split_interactions
from pinsage.graph.build import build_graph
from pinsage.graph.config import NeighbourConfig
from pinsage.graph.sampling import fixed_neighbourhoods
from pinsage.jobs.train import TrainingInputs


@dataclass(frozen=True)
class PreparedData:
    held: ItemHoldOut  # the catalogue, and the items held out of it with their interactions
    users: pd.DataFrame
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    inputs: TrainingInputs  # what `fit` trains on


def prepare(
    dataset: Dataset,
    split: SplitConfig = SplitConfig(),
    features: FeatureConfig = FeatureConfig(),
    neighbourhood: NeighbourConfig = NeighbourConfig(),
) -> PreparedData:
    """Hold items out, split by time, fit features on training items, build the graph and the fixed
    neighbourhoods, exactly as the pipeline's nodes do."""
    held = hold_out_items(dataset.interactions, dataset.items, dataset.users, split.held_out_item_fraction, split.seed)
    train, val, test = split_interactions(held.interactions, split)
    item_features, vocabulary = build_item_features(held.catalogue, train, features)
    graph = build_graph(train, len(dataset.users), len(held.catalogue))
    neighbours, weights = fixed_neighbourhoods(graph, neighbourhood)
    inputs = TrainingInputs(
        graph, item_features, vocabulary, {"neighbours": neighbours, "weights": weights}, train, val, held.catalogue
    )
    return PreparedData(held, dataset.users, train, val, test, inputs)
