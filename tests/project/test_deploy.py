"""The checked-in Airflow DAG is the one kedro-airflow generates for today's `train` pipeline."""

from __future__ import annotations

import ast

from kedro.framework.project import configure_project

from pinsage.pipeline_registry import register_pipelines
from tests.conftest import PROJECT_ROOT

DAG = PROJECT_ROOT / "deploy/airflow/pinsage_base_train_dag.py"


def task_id(node_name: str) -> str:
    return node_name.replace("_", "-").replace(".", "--")  # kedro-airflow's naming


def test_airflow_dag_parses_and_matches_the_train_pipeline():
    tree = ast.parse(DAG.read_text(), filename=str(DAG))
    tasks, edges = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "task":
            tasks |= {kw.value.value for kw in node.keywords if kw.arg == "task_id"}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            edges.add((node.left.slice.value, node.right.slice.value))
    configure_project("pinsage")
    pipeline = register_pipelines()["train"]
    assert tasks == {task_id(n.name) for n in pipeline.nodes}, "regenerate: kedro airflow create (see README)"
    expected = {
        (task_id(parent.name), task_id(child.name))
        for child, parents in pipeline.node_dependencies.items()
        for parent in parents
    }
    assert edges == expected, "regenerate: kedro airflow create (see README)"
    assert "max_active_runs=1" in DAG.read_text()  # tasks hand data over through the newest versions
