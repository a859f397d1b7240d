"""Retention keeps the newest N runs and the published one, and deletes whole version folders."""

from __future__ import annotations

import pytest

from pinsage.lifecycle.retention import apply_retention, runs_to_keep


def test_newest_runs_and_protected_ones_are_kept():
    versions = {"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"}
    assert runs_to_keep(versions, 2, {"2026-11-01"}) == {"2026-11-01", "2026-11-03", "2026-11-04"}
    assert runs_to_keep(versions, 9, set()) == versions
    with pytest.raises(ValueError, match="keep_runs"):
        runs_to_keep(versions, 0, set())


def test_old_versions_are_deleted_across_datasets(tmp_path):
    weights, embeddings = tmp_path / "06_models/w.pt", tmp_path / "07_model_output/e.parquet"
    for dataset, versions in ((weights, ["v1", "v2", "v3"]), (embeddings, ["v1", "v3", "v4"])):
        for version in versions:
            (dataset / version).mkdir(parents=True)
            (dataset / version / dataset.name).write_text(version)
    deleted = apply_retention([weights, embeddings, tmp_path / "absent"], 2, {"v1"}, tmp_path / ".trash")
    assert sorted(str(p.relative_to(tmp_path)) for p in deleted) == ["06_models/w.pt/v2"]
    assert sorted(p.name for p in weights.iterdir()) == ["v1", "v3"]
    assert sorted(p.name for p in embeddings.iterdir()) == ["v1", "v3", "v4"]
    assert list((tmp_path / ".trash").iterdir()) == []
