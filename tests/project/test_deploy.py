"""The shipped Airflow DAG, run under a real Airflow (`airflow dags test`, SQLite) on tiny data: one DAG run
is one train run that publishes its own artifacts, and a gate refusal ends as a skipped task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.project.runs import TINY, fresh_project, params_arg

DAG = PROJECT_ROOT / "deploy/airflow/pinsage_dag.py"
AIRFLOW = Path(sys.executable).parent / "airflow"


def dag_test(airflow_home: Path, conf: dict) -> str:
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAG.parent),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        DO_NOT_TRACK="1",
        KEDRO_DISABLE_TELEMETRY="true",
        TQDM_DISABLE="1",
    )
    if not (airflow_home / "airflow.db").exists():
        migrated = subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
    result = subprocess.run(
        [str(AIRFLOW), "dags", "test", "pinsage", "-c", json.dumps(conf)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return result.stdout + result.stderr


def task_state(log: str) -> str:
    states = [line.split("new_state=")[1].split()[0] for line in log.splitlines() if "new_state=" in line]
    return states[-1]


@pytest.mark.project
@pytest.mark.skipif(not AIRFLOW.exists(), reason="Airflow is the `deploy` extra (the test extra installs it)")
def test_the_dag_publishes_one_runs_own_artifacts_and_a_refusal_is_a_skip(tmp_path):
    project = fresh_project(tmp_path / "project")
    conf = {
        "project_path": str(project),
        "kedro": str(Path(sys.executable).parent / "kedro"),
        "warm_start": True,  # the cron line's setting: nothing is published yet, so it starts from scratch
        "params": params_arg(TINY).removeprefix("--params="),
    }
    log = dag_test(tmp_path / "airflow", conf)
    assert task_state(log) == "success"
    pointer_file = project / "data/09_published/published.json"
    pointer = json.loads(pointer_file.read_text())
    # One DAG run wrote one version of every artifact, and that is what was published.
    versions = {p.name for p in (project / "data/06_models/pinsage_state_dict.pt").iterdir()}
    assert versions == {pointer["version"]}
    assert set(pointer["artifacts"].values()) == {pointer["version"]}

    refused = dag_test(tmp_path / "airflow", {**conf, "params": conf["params"] + ",publish.tolerance=-1.0"})
    assert task_state(refused) == "skipped"  # not failed, so not retried
    assert "the promotion gate refused this run's model" in refused
    assert json.loads(pointer_file.read_text()) == pointer


def test_a_folder_that_is_no_project_fails_without_retrying(tmp_path):
    pytest.importorskip("airflow")
    import importlib.util

    from airflow.sdk.exceptions import AirflowFailException

    spec = importlib.util.spec_from_file_location("pinsage_dag", DAG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    settings = {"project_path": str(tmp_path), "kedro": "", "env": "prod", "warm_start": True, "params": "a.b=1"}
    with pytest.raises(AirflowFailException, match="is not a Kedro project folder"):
        module.kedro_command(settings)
    (tmp_path / "pyproject.toml").write_text("")
    command, folder = module.kedro_command(settings)
    assert folder == tmp_path
    assert command == [
        str(tmp_path / ".venv/bin/kedro"),
        "run",
        "--pipeline=train",
        "--env=prod",
        "--params=training.warm_start=true,a.b=1",
    ]


def test_a_run_past_its_timeout_is_stopped_and_fails_without_retrying(tmp_path):
    """The DAG had no timeout: a stalled run held its only active DAG run forever."""
    pytest.importorskip("airflow")
    import importlib.util
    import time

    from airflow.sdk.exceptions import AirflowFailException

    spec = importlib.util.spec_from_file_location("pinsage_dag", DAG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    started = time.monotonic()
    stalled = [sys.executable, "-c", "import time; print('working', flush=True); time.sleep(60)"]
    with pytest.raises(AirflowFailException, match="did not finish within"):
        module.run_kedro(stalled, tmp_path, timeout_s=1.0)
    assert time.monotonic() - started < 30
    assert module.run_kedro([sys.executable, "-c", "raise SystemExit(3)"], tmp_path, timeout_s=30) == 3
