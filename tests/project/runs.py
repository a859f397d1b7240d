"""Running the project as a user does, in scratch copies: `kedro run` as a subprocess on tiny data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT

TINY = {
    "data.synthetic.n_pins": 300,
    "data.synthetic.n_boards": 200,
    "data.synthetic.n_topics": 10,
    "training.epochs": 2,
    "training.batches_per_epoch": 10,
    "training.batch_size": 64,
    "training.num_negatives": 50,
    "neighbourhood.inference_random_walks": 20,
}


def fresh_project(root: Path) -> Path:
    """A copy of the project's configuration in a scratch folder, so runs write only there."""
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # the package itself is imported from its installed (editable) copy
    (root / "conf" / "local").mkdir(exist_ok=True)
    return root


def kedro_run(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true", TQDM_DISABLE="1", COLUMNS="2000")
    return subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def params_arg(values: dict) -> str:
    return "--params=" + ",".join(f"{k}={v}" for k, v in values.items())


def latest(path: Path) -> Path:
    """The newest version of a versioned dataset."""
    return sorted(path.iterdir())[-1] / path.name


# Headless Chromium, as CI installs it (Debian's), for the tests that open a page.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=20000",
    "--window-size=1300,1700",
)
