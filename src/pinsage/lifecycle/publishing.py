"""The promotion gate: publish a run's embeddings only if validation did not get worse.

The published run is named by a small pointer file (JSON: the run's version and its validation
metric), replaced atomically, so a reader, or a killed run, never sees a half-written pointer and the
published version only ever changes to a complete run's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pinsage.atomic import write_atomically


class PublishConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pointer: str = Field("data/09_published/published.json", description="the published-run pointer file")
    metric: str = Field("hits@10", description="validation metric the gate compares")
    artifacts: list[str] = Field(description="datasets whose versions the pointer records (and retention keeps)")
    tolerance: float = Field(
        0.005, description="publish unless the new run is worse than the published one by more than this"
    )


@dataclass(frozen=True)
class Decision:
    publish: bool
    reason: str


def read_pointer(path: str | Path) -> dict | None:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else None


def decide(new_value: float, published: dict | None, config: PublishConfig) -> Decision:
    if published is None:
        return Decision(True, f"nothing is published yet; publishing with val {config.metric} {new_value:.4f}")
    old_value = float(published["value"])
    if new_value >= old_value - config.tolerance:
        return Decision(
            True,
            f"val {config.metric} {new_value:.4f} vs published {old_value:.4f} "
            f"(run {published['version']}): within tolerance {config.tolerance}",
        )
    return Decision(
        False,
        f"val {config.metric} {new_value:.4f} is worse than the published run {published['version']}'s "
        f"{old_value:.4f} by more than {config.tolerance}; the published version stays",
    )


def write_pointer(path: str | Path, version: str, metric: str, value: float, artifacts: dict[str, str]) -> None:
    """Name `version` as the published run, and the version of each artifact it serves.

    Artifacts are recorded one by one because they need not share the run's version: an evaluation-only
    run scores an earlier run's embeddings, an Airflow task per node saves under its own version, and
    new items embedded later come with a newer embedding table but the same model.
    """
    record = {"version": version, "metric": metric, "value": value, "artifacts": artifacts}
    text = json.dumps(record, indent=2, sort_keys=True)
    write_atomically(path, lambda tmp: Path(tmp).write_text(text))


@dataclass(frozen=True)
class PublishedRun:
    """The published model and what it was trained on, each loaded only when asked for."""

    version: str  # the model's
    loaders: dict[str, Callable[[], Any]]

    def load(self, name: str) -> Any:
        if name not in self.loaders:
            raise KeyError(
                f"the published run {self.version} records no {name!r} (it was published by an earlier version of "
                "this project); run `kedro run --pipeline=train` to publish a run that has it"
            )
        return self.loaders[name]()
