"""The promotion gate: publish a run's embeddings only if they are sound and validation did not get worse.

The published run is named by a small pointer file (JSON: the run's version, its validation metric,
the version of each artifact it serves and the dataset it was trained on), replaced atomically, so a
reader, or a killed run, never sees a half-written pointer and the published version only ever changes
to a complete run's. Before comparing, the gate checks what it would publish: a NaN model, an index
built from other embeddings, or a metric measured on a handful of users would otherwise be published
and then block every healthy run after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinsage.atomic import write_atomically


class PublishConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    pointer: str = Field("data/09_published/published.json", description="the published-run pointer file")
    metric: str = Field("hits@10", description="validation metric the gate compares")
    artifacts: list[str] = Field(description="datasets whose versions the pointer records (and retention keeps)")
    tolerance: float = Field(
        0.005, description="publish unless the new run is worse than the published one by more than this"
    )
    min_users: int = Field(
        50, ge=1, description="a validation metric measured on fewer users is too noisy to publish on"
    )
    keep_published: int = Field(
        3, ge=1, description="publications kept restorable: retention never deletes them, rollback restores them"
    )
    self_hit_sample: int = Field(
        100, ge=1, description="items whose nearest neighbour in the index must be themselves (index ↔ table)"
    )


@dataclass(frozen=True)
class Decision:
    publish: bool
    reason: str


def read_pointer(path: str | Path) -> dict | None:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else None


def check_publishable(
    value: float, users: int, vectors: np.ndarray, index: Any, config: PublishConfig, with_prior: bool = False
) -> list[str]:
    """What is wrong with publishing this index on this validation figure (empty: nothing); `vectors` are
    what the index should hold (`pinsage.serving.embeddings.index_vectors`: with a prior, its last column)."""
    problems = []
    if not np.isfinite(value):
        problems.append(f"validation {config.metric} is not finite ({value})")
    if users < config.min_users:
        problems.append(
            f"validation {config.metric} was measured on {users} users, fewer than publish.min_users = "
            f"{config.min_users}: too few to trust"
        )
    broken = ~np.isfinite(vectors).all(axis=1)
    if broken.any():
        problems.append(
            f"embeddings: {int(broken.sum())} rows are not finite (first: row {int(np.flatnonzero(broken)[0])})"
        )
    if index.ntotal != len(vectors) or index.d != vectors.shape[1]:
        problems.append(
            f"the index holds {index.ntotal} vectors, the embedding table {len(vectors)} rows "
            f"(dimensions {index.d} and {vectors.shape[1]}): they are not one run's"
        )
    elif not broken.any() and len(vectors):
        rows = np.random.default_rng(0).choice(len(vectors), min(config.self_hit_sample, len(vectors)), False)
        # Asked by cosine alone (a 0 against the prior): then no other unit vector can beat the item itself.
        asked = np.array(vectors[rows])
        if with_prior:
            asked[:, -1] = 0.0
        scores, found = index.search(asked, 1)
        own = (asked * vectors[rows]).sum(axis=1)
        # An exact duplicate may come first; then it scores exactly what the item itself scores.
        missed = (found[:, 0] != rows) & (np.abs(scores[:, 0] - own) > 1e-4)
        if missed.any():
            problems.append(
                f"{int(missed.sum())} of {len(rows)} sampled items do not find themselves first in the index: "
                "the index was built from other embeddings"
            )
    return problems


def dataset_key(dataset: dict | None) -> str:
    """What names a dataset in the pointer's record of the last publication of each."""
    return json.dumps(dataset, sort_keys=True)


def last_of_dataset(record: dict, dataset: dict) -> dict | None:
    """The latest publication (version, value) of `dataset` the pointer remembers: the current one, one in
    its history, or the last of that dataset before publications of others took its place."""
    for publication in (record, *record.get("previous", []), *record.get("withdrawn", [])):
        if publication.get("dataset") == dataset:
            return publication
    return record.get("last_by_dataset", {}).get(dataset_key(dataset))


def decide(new_value: float, published: dict | None, config: PublishConfig, dataset: dict) -> Decision:
    """Publish, unless the new run is worse by more than the tolerance than the last publication of the same
    dataset, wherever it sits in the history: a publication on another dataset in between does not reset
    the bar."""
    if published is None:
        return Decision(True, f"nothing is published yet; publishing with val {config.metric} {new_value:.4f}")
    reference = last_of_dataset(published, dataset)
    if reference is None:
        return Decision(
            True,
            f"no published run of this dataset (run {published['version']} was trained on "
            f"{published.get('dataset')}); publishing with val {config.metric} {new_value:.4f}",
        )
    published = reference
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


def write_pointer(
    path: str | Path,
    version: str,
    metric: str,
    value: float,
    artifacts: dict[str, str],
    dataset: dict,
    keep: int = 3,
) -> None:
    """Name `version` as the published run, and the version of each artifact it serves.

    Artifacts are recorded one by one because they need not share the run's version: an evaluation-only
    run scores an earlier run's embeddings, an Airflow task per node saves under its own version, and
    new items embedded later come with a newer embedding table but the same model. The `keep - 1`
    publications before this one are remembered, so retention keeps them and `roll_back` can restore them.
    """
    current = read_pointer(path)
    earlier = [without_history(current), *current.get("previous", [])] if current else []
    record = {
        "version": version,
        "metric": metric,
        "value": value,
        "artifacts": artifacts,
        "dataset": dataset,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    last = {**(current or {}).get("last_by_dataset", {}), dataset_key(dataset): without_history(record)}
    _write(
        path,
        {
            **record,
            "previous": earlier[: keep - 1],
            "withdrawn": (current or {}).get("withdrawn", [])[: keep - 1],
            "last_by_dataset": last,
        },
    )


def published_versions(record: dict | None) -> set[str]:
    """Every version the pointer's publications serve: what retention must never delete."""
    if record is None:
        return set()
    return {
        version
        for publication in (record, *record.get("previous", []), *record.get("withdrawn", []))
        for version in (publication["version"], *publication["artifacts"].values())
    }


def roll_back(path: str | Path, problems_of: Callable[[dict], list[str]]) -> dict:
    """Publish again the publication before the current one, if `problems_of(it)` finds nothing wrong with
    it (every artifact loads, all of one run's); the record now published. The publication it replaces is
    kept as withdrawn: retention keeps its artifacts, so it can be published again."""
    current = read_pointer(path)
    if not current or not current.get("previous"):
        raise ValueError(f"{path}: there is no earlier publication to roll back to")
    restored, *older = current["previous"]
    problems = problems_of(restored)
    if problems:
        raise ValueError(
            f"not rolled back to run {restored['version']}: " + "; ".join(problems) + f"; run {current['version']} "
            "stays published"
        )
    withdrawn = [without_history(current), *current.get("withdrawn", [])][: len(current["previous"])]
    record = {
        **restored,
        "previous": older,
        "withdrawn": withdrawn,
        "last_by_dataset": current.get("last_by_dataset", {}),
    }
    _write(path, record)
    return {**record, "rolled_back_from": current["version"]}


HISTORY = ("previous", "withdrawn", "last_by_dataset")


def without_history(record: dict) -> dict:
    """A publication's own record, without the other publications the pointer remembers."""
    return {key: value for key, value in record.items() if key not in HISTORY}


def _write(path: str | Path, record: dict) -> None:
    text = json.dumps(record, indent=2, sort_keys=True)
    write_atomically(path, lambda tmp: Path(tmp).write_text(text))


@dataclass(frozen=True)
class PublishedRun:
    """The published model and what it was trained on, each loaded only when asked for."""

    version: str  # the model's
    loaders: dict[str, Callable[[], Any]]
    record: dict  # the pointer's record of this publication, without the earlier ones
    previous: tuple[PublishedRun, ...] = ()  # the earlier publications the pointer remembers, newest first

    def load(self, name: str) -> Any:
        if name not in self.loaders:
            raise KeyError(
                f"the published run {self.version} records no {name!r} (it was published by an earlier version of "
                "this project); run `kedro run --pipeline=train` to publish a run that has it"
            )
        return self.loaders[name]()
