"""Scheduled retraining on Airflow: one DAG run is one `kedro run --pipeline=train`, one logical run.

Why a single task. A Kedro session is the unit everything that keeps a published model sound is built
on: every dataset of one session shares one version, the run lock is held for the session, the
promotion gate checks and publishes that version's artifacts together, and retention counts sessions.
The per-node DAG that kedro-airflow generates makes every node its own session: its tasks read whatever
version was newest, one DAG run wrote a dozen versions that retention counted as runs, and a retried
task read another run's data. Here the whole pipeline runs in the project's own environment, as a
subprocess (so Airflow's dependencies and the project's torch/DGL pins never meet), and:

- exit 0: trained, evaluated and published;
- exit 3: the promotion gate refused the model (worse than, or not as sound as, the published one):
  the task ends *skipped*, not failed, and is not retried; the published model is unchanged;
- exit 4: another run holds the project's run lock: failed, retried after `retry_delay`;
- anything else: failed (bad data or parameters, a crash); retried once: a retry is a new run that
  reads only its own outputs;
- still running after `timeout_minutes`: the run (and everything it started) is killed and the task fails
  without a retry: a stalled run would otherwise hold the DAG's only active run forever.

Settings are the DAG's params (set them in the trigger form, `airflow dags trigger -c`, or their
defaults from the scheduler's environment): `project_path` (the project folder; default
$PINSAGE_PROJECT_PATH), `kedro` (the project's kedro executable; default <project>/.venv/bin/kedro),
`env` (the Kedro configuration environment, e.g. `prod` for conf/prod), `warm_start` (fine-tune the
published model), `params` (more `--params`, e.g. "training.epochs=5") and `timeout_minutes`.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

GATE_REFUSED, RUN_LOCKED = 3, 4
log = logging.getLogger(__name__)


def kedro_command(params: dict) -> tuple[list[str], Path]:
    """The `kedro run` command line and the folder to run it in, from the DAG run's params."""
    project = Path(params["project_path"] or ".").resolve()
    if not params["project_path"] or not (project / "pyproject.toml").exists():
        raise AirflowFailException(
            f"project_path {params['project_path']!r} is not a Kedro project folder: set the DAG param "
            "project_path or PINSAGE_PROJECT_PATH"
        )
    kedro = params["kedro"] or str(project / ".venv" / "bin" / "kedro")
    warm_start = f"training.warm_start={str(params['warm_start']).lower()}"
    overrides = ",".join(p for p in (warm_start, params["params"]) if p)
    return [kedro, "run", "--pipeline=train", f"--env={params['env']}", f"--params={overrides}"], project


def run_kedro(command: list[str], project: Path, timeout_s: float) -> int:
    """Run `command` in `project`, its output in the task log; its exit code, or AirflowFailException
    once it has run `timeout_s` seconds (the whole process group killed: torchrun's ranks too)."""
    process = subprocess.Popen(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )

    def relay() -> None:
        for line in process.stdout:
            log.info("%s", line.rstrip())

    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AirflowFailException(
            f"kedro run did not finish within {timeout_s / 60:g} minutes (timeout_minutes) and was stopped; "
            "the run lock is released and the published model is unchanged"
        ) from None
    reader.join()
    return code


@dag(
    dag_id="pinsage",
    start_date=datetime(2026, 11, 1),
    schedule="0 3 * * *",  # nightly retraining at 03:00
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "airflow", "retries": 1, "retry_delay": timedelta(minutes=5)},
    params={
        "project_path": Param(os.environ.get("PINSAGE_PROJECT_PATH", ""), type="string"),
        "kedro": Param("", type="string", description="kedro executable (empty: <project>/.venv/bin/kedro)"),
        "env": Param("local", type="string", description="Kedro configuration environment, read over conf/base"),
        "warm_start": Param(True, type="boolean", description="fine-tune the published model"),
        "params": Param("", type="string", description="more --params, comma-separated key=value"),
        "timeout_minutes": Param(
            360, type="integer", minimum=1, description="a run still going after this long is stopped and fails"
        ),
    },
)
def pinsage():
    @task(task_id="train")
    def train() -> None:
        params = get_current_context()["params"]
        command, project = kedro_command(params)
        log.info("running %s in %s", " ".join(command), project)
        code = run_kedro(command, project, 60.0 * params["timeout_minutes"])
        if code == GATE_REFUSED:
            raise AirflowSkipException("the promotion gate refused this run's model; the published model is unchanged")
        if code == RUN_LOCKED:
            raise RuntimeError("another run holds the project's run lock; retrying later")
        if code != 0:
            raise RuntimeError(f"kedro run exited with {code}; see the log above")

    train()


pinsage()
