"""The settings a model was trained with, saved and published beside its weights.

A state dict alone cannot be loaded: the network's shape comes from the model settings and the feature
vocabularies' sizes, and a new item must be encoded and walked from the way the training items were.
Every reader of published weights (export, the inductive evaluation, new items, warm start) builds the
network from this record, never from today's parameters, which may have changed since.
"""

from __future__ import annotations

import hashlib
import json

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pinsage.data.features import FeatureConfig, feature_sizes
from pinsage.graph.config import NeighbourConfig
from pinsage.model.pinsage import ModelConfig, PinSage
from pinsage.model.scoring import ScoringConfig
from pinsage.model.taste import TasteConfig

SECTIONS = ("model", "features", "neighbourhood", "taste", "scoring")


class TrainedWith(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: ModelConfig
    features: FeatureConfig = Field(description="how item features were encoded (new items get the same)")
    neighbourhood: NeighbourConfig = Field(description="how neighbourhoods were sampled (new items get the same)")
    # A model recorded before this setting existed was evaluated, and is served, without the fold-in.
    taste: TasteConfig = Field(
        default_factory=lambda: TasteConfig(weight=0.0),
        description="how a new item's embedding is completed from its users' taste (evaluated so, served so)",
    )
    # Likewise a model recorded before the popularity prior existed is scored by the cosine alone.
    scoring: ScoringConfig = Field(
        default_factory=lambda: ScoringConfig(popularity_prior=0.0),
        description="what the served score adds to the cosine (validated so, evaluated so, served so)",
    )
    feature_sizes: dict[str, int] = Field(description="input sizes of the projector: items, vocabularies, dense width")
    vocabulary_digest: str = Field(description="SHA-256 of the feature vocabulary the weights' rows belong to")

    @model_validator(mode="before")
    @classmethod
    def _recorded_before_finish(cls, recorded: dict) -> dict:
        """Records written by earlier versions: before `model.finish` existed the convolution and the raw
        projection were summed; the taste weight was `new_items.taste_weight`."""
        if not isinstance(recorded, dict):
            return recorded
        model = recorded.get("model")
        if isinstance(model, dict) and "finish" not in model:
            recorded = {**recorded, "model": {**model, "finish": "sum"}}
        if "new_items" in recorded and "taste" not in recorded:
            rest = {key: value for key, value in recorded.items() if key != "new_items"}
            recorded = {**rest, "taste": {"weight": recorded["new_items"]["taste_weight"]}}
        return recorded

    @classmethod
    def record(
        cls,
        model: ModelConfig,
        features: FeatureConfig,
        neighbourhood: NeighbourConfig,
        taste: TasteConfig,
        scoring: ScoringConfig,
        item_features: dict[str, torch.Tensor],
        vocabulary: dict[str, list],
    ) -> TrainedWith:
        """What a network of `model`'s settings over these item features and vocabulary is trained with."""
        return cls(
            model=model,
            features=features,
            neighbourhood=neighbourhood,
            taste=taste,
            scoring=scoring,
            feature_sizes=feature_sizes(item_features, vocabulary),
            vocabulary_digest=vocabulary_digest(vocabulary),
        )

    def build_network(self, state_dict: dict[str, torch.Tensor], vocabulary: dict[str, list]) -> PinSage:
        """The trained network, in evaluation mode, whose weights are `state_dict`'s tensors (shared, not
        copied: for inference); refuses a feature vocabulary other than the one the weights were trained on,
        whose rows would mean other words."""
        self.check_vocabulary(vocabulary)
        # Built without storage and given the saved tensors themselves, not copies of them: at 10M items a
        # freshly initialised ID table and the loaded one beside it were 4.6 GB where 2.3 do.
        with torch.device("meta"):
            network = PinSage(self.feature_sizes, self.model)
        network.load_state_dict(state_dict, assign=True)
        return network.eval()

    def check_vocabulary(self, vocabulary: dict[str, list]) -> None:
        """Refuse a vocabulary other than the one the weights were trained on."""
        if vocabulary_digest(vocabulary) != self.vocabulary_digest:
            raise ValueError(
                "the feature vocabulary is not the one these weights were trained with "
                "(artifacts of different runs were mixed)"
            )

    def differences(self, today: dict[str, BaseModel], sections: tuple[str, ...] = SECTIONS) -> list[str]:
        """`section.key: trained X, today Y` for each setting of `sections` today's parameters would change."""
        changed = []
        for section in sections:
            trained, now = getattr(self, section).model_dump(), today[section].model_dump()
            changed += [
                f"{section}.{key}: trained {trained[key]!r}, today {now[key]!r}"
                for key in trained
                if trained[key] != now[key]
            ]
        return changed


def vocabulary_digest(vocabulary: dict[str, list]) -> str:
    return hashlib.sha256(json.dumps(vocabulary, sort_keys=True).encode()).hexdigest()
