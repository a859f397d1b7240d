"""Every benchmark runs, in a seconds-long smoke mode, through the same entry points as the pipeline,
so none can rot unnoticed. Only that they run and print their figures is checked: speed is never
asserted in a test (these machines are noisy); the scripts' own figures are for people."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

# Each runs a script as a subprocess (scale.py runs Kedro; serve.py a server): the project tier.
pytestmark = pytest.mark.project

EXPECTED = {
    "ablation.py": ["| project default (conf/base) |", "| itemknn |"],
    "throughput.py": ["this project:", "pairs/s"],
    "inference.py": ["gives the layer-wise embeddings: True"],
    "scale.py": ["growth x2 pins:", "train_pinsage", "pairs/s"],
    "faiss_index.py": ["Flat (exact)", "HNSW32"],
    "gpu_check.py": ["device cpu;", "fp32", "bf16"],
    "serve.py": ["exact  on     steady", "ivf    off    reload"],
}


def test_every_benchmark_has_a_smoke_test():
    assert {p.name for p in (PROJECT_ROOT / "benchmarks").glob("*.py")} == set(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_benchmark_runs_in_smoke_mode(script, tmp_path):
    extra = (
        ["--out", str(tmp_path), "--rungs", "max-pooling", "project default (conf/base)"]
        if script == "ablation.py"
        else []
    )
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / script), "--smoke", *extra],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="Agg"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for line in EXPECTED[script]:
        assert line in result.stdout, result.stdout[-3000:]
    if script == "ablation.py":
        assert (tmp_path / "ablation.md").exists() and (tmp_path / "ablation.png").exists()


def test_a_kept_scale_run_runs_again_from_chosen_nodes(tmp_path):
    """`scale.py --keep` keeps the scratch projects; `--resume --nodes` runs some of their nodes again."""
    env = dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="Agg")
    script = [sys.executable, str(PROJECT_ROOT / "benchmarks" / "scale.py"), "--smoke"]
    first = subprocess.run([*script, "--keep", str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    (project,) = tmp_path.glob("scale-600-*")
    again = subprocess.run(
        [*script, "--resume", str(project), "--pins", "600", "--nodes", "build_faiss_index", "evaluate_recall"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"(build_faiss_index, evaluate_recall of {project})" in again.stdout
    assert "evaluate_recall " in again.stdout and "train_pinsage" not in again.stdout
