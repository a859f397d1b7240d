"""Every parameter section of the project and the model that validates it: one place, checked once.

`validate_parameters` runs before the first node (a Kedro hook), so a misspelt section, an unknown key,
a value out of range, a device the machine lacks or a gate metric the evaluation does not compute costs
seconds and writes nothing. The validated sections are what nodes receive; no node reads a raw dict.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Collection
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pinsage.data.features import FeatureConfig
from pinsage.data.sources.registry import DataConfig
from pinsage.data.split import SplitConfig
from pinsage.evaluation.metrics import EvaluationConfig
from pinsage.graph.config import HardNegativeConfig, NeighbourConfig, PairConfig
from pinsage.jobs.export import ExportConfig
from pinsage.jobs.train import TrainSettings
from pinsage.lifecycle.publishing import PublishConfig
from pinsage.lifecycle.retention import RetentionConfig
from pinsage.lifecycle.run_lock import RunsConfig
from pinsage.model.pinsage import ModelConfig
from pinsage.model.scoring import ScoringConfig
from pinsage.model.taste import TasteConfig
from pinsage.serving.config import ServeConfig
from pinsage.serving.index import IndexConfig
from pinsage.training.config import TrainConfig


class ParameterError(ValueError):
    """A parameter that cannot be used; the message names it (`section.key`)."""


class TrackingConfig(BaseModel):
    """The `tracking` parameters: whether a run is logged to MLflow (`pinsage.tracking`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = Field(
        False, description="log this run to MLflow through kedro-mlflow (`.[tracking]`; where: conf/base/mlflow.yml)"
    )
    required: bool = Field(
        False,
        description="a tracking failure (a corrupt or unreachable store) ends the run; by default it is logged "
        "once and the run goes on untracked, published on its merits",
    )


class Parameters(BaseModel):
    """All of `conf/*/parameters*.yml`, after `--params` overrides."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    data: DataConfig = DataConfig()
    split: SplitConfig = SplitConfig()
    features: FeatureConfig = FeatureConfig()
    neighbourhood: NeighbourConfig = NeighbourConfig()
    pairs: PairConfig = PairConfig()
    hard_negatives: HardNegativeConfig = HardNegativeConfig()
    model: ModelConfig = ModelConfig()
    training: TrainConfig = TrainConfig()
    export: ExportConfig = ExportConfig()
    index: IndexConfig = IndexConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    taste: TasteConfig = TasteConfig()
    scoring: ScoringConfig = ScoringConfig()
    publish: PublishConfig
    retention: RetentionConfig = RetentionConfig()
    runs: RunsConfig = RunsConfig()
    serve: ServeConfig = ServeConfig()
    tracking: TrackingConfig = TrackingConfig()

    def train_settings(self) -> TrainSettings:
        """The sections training depends on, as the one settings object `fit` takes."""
        return TrainSettings(**{name: getattr(self, name) for name in TrainSettings.model_fields})

    @model_validator(mode="after")
    def _sections_agree(self) -> Parameters:
        if self.publish.metric not in self.evaluation.metrics:
            raise ValueError(
                f"publish.metric {self.publish.metric!r} is not computed with evaluation.k={self.evaluation.k}; "
                f"choose one of {list(self.evaluation.metrics)}"
            )
        return self


# The parameters that name a file or folder. Relative ones are the project's: Kedro anchors the catalog's
# paths to the project folder but leaves parameters as written, so a session started from another folder
# (a notebook in notebooks/, a script, a scheduler's worker) would take its run lock, write its checkpoint
# and look for the published pointer beside that folder, unseen by runs in the project.
PROJECT_PATHS = (
    ("data", "path"),
    ("data", "raw_dir"),
    ("training", "checkpoint_path"),
    ("export", "dask_staging"),
    ("publish", "pointer"),
    ("retention", "trash"),
    ("runs", "lock"),
)


def validate_parameters(raw: dict, project: Path | None = None) -> Parameters:
    """The validated parameters, or a ParameterError naming every bad one as `section.key`. With
    `project`, the relative paths of `PROJECT_PATHS` are made absolute under it."""
    if isinstance(raw, dict) and "new_items" in raw:
        raise ParameterError(
            "new_items: this section is now `taste` (its `taste_weight` is `taste.weight`); rename it in your "
            "parameters or --params"
        )
    try:
        parameters = Parameters.model_validate(raw)
    except ValidationError as err:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'parameters'}: {e['msg']}" for e in err.errors()]
        raise ParameterError("invalid parameters:\n  " + "\n  ".join(problems)) from None
    for section in ("training", "export"):
        _check_device(section, getattr(parameters, section).device)
    if parameters.export.engine == "dask" and importlib.util.find_spec("distributed") is None:
        raise ParameterError("export.engine: 'dask' needs the dask extra: pip install -e '.[dask]'")
    if parameters.tracking.enabled and importlib.util.find_spec("kedro_mlflow") is None:
        raise ParameterError("tracking.enabled: MLflow tracking needs the tracking extra: pip install -e '.[tracking]'")
    return parameters if project is None else _anchored(parameters, project)


# What the gate loads or serves: a publication without them could not be checked, evaluated or served.
REQUIRED_ARTIFACTS = ("model_weights", "trained_with", "item_embeddings", "embedding_index", "metrics")


def check_publish_artifacts(publish: PublishConfig, datasets: Collection[str]) -> None:
    """`publish.artifacts` must name datasets of the catalog, and what the gate and the service need."""
    unknown = [name for name in publish.artifacts if name not in datasets]
    if unknown:
        raise ParameterError(f"publish.artifacts: {unknown} are not datasets of the catalog")
    missing = [name for name in REQUIRED_ARTIFACTS if name not in publish.artifacts]
    if missing:
        raise ParameterError(f"publish.artifacts: must include {missing}, which the gate checks and the service reads")


def _anchored(parameters: Parameters, project: Path) -> Parameters:
    changed: dict[str, dict[str, str]] = {}
    for section, name in PROJECT_PATHS:
        value = getattr(getattr(parameters, section), name)
        if value is not None and not Path(value).is_absolute():
            changed.setdefault(section, {})[name] = str(Path(project).resolve() / value)
    return parameters.model_copy(
        update={section: getattr(parameters, section).model_copy(update=u) for section, u in changed.items()}
    )


def _check_device(section: str, device: str) -> None:
    try:
        kind = torch.device(device)
    except RuntimeError as err:
        raise ParameterError(f"{section}.device: {device!r} is not a torch device ({err})") from None
    if kind.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"{section}.device: {device!r} asked for, but this machine has no CUDA device")
    if kind.type == "cuda" and kind.index is not None and kind.index >= torch.cuda.device_count():
        raise ParameterError(
            f"{section}.device: {device!r}, but this machine has {torch.cuda.device_count()} CUDA devices"
        )
