"""Retention for scheduled retraining: keep the newest N runs' artifacts, and never the published run's.

A run is a version folder name (Kedro's save version, a timestamp) under a versioned dataset's path;
one run writes the same version under many datasets. A folder is first moved into a trash folder (one
rename, atomic), then deleted, so a run killed while cleaning up never leaves a half-deleted version
where Kedro would look for the newest one; leftover trash is emptied by the next cleanup.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class RetentionConfig(BaseModel):
    """The `retention` parameters."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    keep_runs: int | None = Field(None, ge=1, description="newest runs whose artifacts are kept (null: all)")
    trash: str = Field("data/.trash", description="where deleted versions go for the moment they are deleted")


def runs_to_keep(versions: set[str], keep_runs: int, protected: set[str]) -> set[str]:
    if keep_runs < 1:
        raise ValueError(f"retention.keep_runs must be at least 1, got {keep_runs}")
    return set(sorted(versions)[-keep_runs:]) | (protected & versions)


def apply_retention(dataset_paths: list[Path], keep_runs: int, protected: set[str], trash: Path) -> list[Path]:
    """Delete every version folder of the given versioned datasets whose run is not kept; returns them."""
    present = {path: [v.name for v in path.iterdir() if v.is_dir()] for path in dataset_paths if path.is_dir()}
    keep = runs_to_keep({v for versions in present.values() for v in versions}, keep_runs, protected)
    trash.mkdir(parents=True, exist_ok=True)
    deleted = []
    for path, versions in present.items():
        for version in sorted(set(versions) - keep):
            folder = path / version
            os.replace(folder, trash / f"{path.name}--{version}")
            deleted.append(folder)
    for leftover in trash.iterdir():
        shutil.rmtree(leftover)
    return deleted
