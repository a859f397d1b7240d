"""The promotion gate's decision for a finished run, as plain functions: what to publish, or why not.

Kedro only wires it (`pinsage.hooks.PublishGate`): the run's outputs, the versions it read and wrote, and
how to load a dataset at a version come in; a `Verdict` comes out, which the hook writes to the pointer or
turns into exit code 3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pinsage.lifecycle.lineage import inconsistencies, resolve_artifacts
from pinsage.lifecycle.publishing import PublishConfig, check_publishable, decide
from pinsage.serving.embeddings import has_prior, index_vectors


@dataclass(frozen=True)
class FinishedRun:
    """What the gate is told of a run."""

    run_id: str
    outputs: set[str]  # every dataset the run's pipeline writes
    embedded_new_items: bool  # the run embedded new items with the published model (no evaluation of its own)
    versions: dict[str, str]  # versioned dataset → the version the run read or wrote


@dataclass(frozen=True)
class Verdict:
    publish: bool
    reason: str
    artifacts: dict[str, str] = field(default_factory=dict)
    value: float = float("nan")
    dataset: dict | None = None


def verdict(
    run: FinishedRun,
    published: dict | None,
    config: PublishConfig,
    lineage: Path,
    load: Callable[[str, str], Any],
    newest: Callable[[str], str | None],
) -> Verdict | None:
    """Publish the run, or refuse with the reasons; None when it has nothing to publish (it evaluated
    nothing and embedded no new items). `load(name, version)` loads a dataset at a version; `newest(name)`
    names its newest version (None: none yet), for artifacts no lineage leads to."""
    if "metrics" not in run.outputs and not run.embedded_new_items:
        return None
    if run.embedded_new_items:  # the published model's embeddings with the new items: same model, more items
        if published is None:
            return Verdict(False, "nothing is published: new items are embedded with the published model")
        written = [name for name in config.artifacts if name in run.outputs]
        artifacts = {**published["artifacts"], **dict.fromkeys(written, run.run_id)}
        value, users, dataset = float(published["value"]), config.min_users, published.get("dataset")
        problems = inconsistencies(lineage, {name: artifacts[name] for name in written}, artifacts)
    else:
        # The versions the evaluated artifacts were made from, not the newest of each.
        artifacts = resolve_artifacts(
            lineage, config.artifacts, run.versions, {n: newest(n) for n in config.artifacts if n not in run.versions}
        )
        problems = inconsistencies(lineage, artifacts, artifacts)
        validation = load("metrics", artifacts["metrics"])["pinsage"]["val"]
        value, users = float(validation[config.metric]), int(validation["users"])
        identity = run.versions.get("dataset_identity") or newest("dataset_identity")
        dataset = load("dataset_identity", identity) if identity else None
    if problems:
        problems.append("run the whole train pipeline, or evaluate the artifacts of one run")
    table = load("item_embeddings", artifacts["item_embeddings"])
    index = load("embedding_index", artifacts["embedding_index"])
    problems += check_publishable(value, users, index_vectors(table), index, config, has_prior(table))
    if problems:
        return Verdict(False, "; ".join(problems) + "; the published version stays")
    if run.embedded_new_items:
        return Verdict(True, "the published model's embeddings with the new items", artifacts, value, dataset)
    decision = decide(value, published, config, dataset)
    return Verdict(decision.publish, decision.reason, artifacts, value, dataset)
