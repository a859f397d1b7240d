"""Which versions of which datasets each run read and wrote, so a publication is provably one model's.

Kedro loads the newest version of a dataset a run does not write. A run that evaluates (`--pipeline=evaluate`)
after partial runs (`--to-nodes=train_pinsage`) can therefore score one run's embeddings beside another
run's model: publishing "the newest of each" served a model that was never evaluated. Each run records
what it made each output from (the versions of every versioned dataset upstream of it in the run); the
gate publishes the versions the evaluated artifacts were made from, followed back through the runs that
made them, and refuses a set in which one artifact was made from another version of an artifact
published beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

from pinsage.atomic import write_atomically


def lineage_folder(pointer: str | Path) -> Path:
    """Where runs record their lineage: beside the published pointer."""
    return Path(pointer).parent / "lineage"


def record_lineage(folder: str | Path, run_id: str, made_from: dict[str, dict[str, str]]) -> None:
    """Save what run `run_id` made each of its outputs from: output → {versioned dataset → version}, every
    dataset upstream of the output's node in the run (transitively), at the version the run read or wrote."""
    text = json.dumps({"run": run_id, "made_from": made_from}, indent=2, sort_keys=True)
    write_atomically(Path(folder) / f"{run_id}.json", lambda tmp: Path(tmp).write_text(text))


def made_from(folder: str | Path, name: str, version: str) -> dict[str, str] | None:
    """What `name` of run `version` was made from; None where that run recorded nothing (an older project)."""
    path = Path(folder) / f"{version}.json"
    return json.loads(path.read_text())["made_from"].get(name) if path.exists() else None


def resolve_artifacts(
    folder: str | Path, names: list[str], run_versions: dict[str, str], newest: dict[str, str | None]
) -> dict[str, str]:
    """The version of each of `names` to publish: the one this run read or wrote (`run_versions`); else the
    one those were made from (followed back through the runs that made them); else, where the makers
    recorded nothing, the newest (`newest`)."""
    chosen = {name: run_versions[name] for name in names if name in run_versions}
    frontier = list(chosen.items())
    while frontier and len(chosen) < len(names):
        name, version = frontier.pop()
        for source, source_version in (made_from(folder, name, version) or {}).items():
            if source in names and source not in chosen:
                chosen[source] = source_version
                frontier.append((source, source_version))
    missing = {name: newest.get(name) for name in names if name not in chosen}
    unresolved = [name for name, version in missing.items() if version is None]
    if unresolved:
        raise FileNotFoundError(f"no version of {', '.join(unresolved)} exists to publish")
    return {name: chosen.get(name) or missing[name] for name in names}


def inconsistencies(folder: str | Path, checked: dict[str, str], artifacts: dict[str, str]) -> list[str]:
    """Where `checked` (name → version, among `artifacts`) are not one model's with `artifacts`: an artifact
    made from another version of an artifact published beside it."""
    problems = []
    for name, version in sorted(checked.items()):
        for source, source_version in sorted((made_from(folder, name, version) or {}).items()):
            if source in artifacts and artifacts[source] != source_version:
                problems.append(
                    f"{name} of run {version} was made with {source} of run {source_version}, but {source} of run "
                    f"{artifacts[source]} would be published beside it"
                )
    return problems
