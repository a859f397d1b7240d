from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import dag, task

from kedro.framework.session import KedroSession
from kedro.framework.project import configure_project

# Kedro settings required to run your pipeline
env = "base"
pipeline_name = "train"
project_path = Path.cwd()
package_name = "pinsage"
conf_source = "" or Path.cwd() / "conf"


def _run_kedro_node(node_names=None, namespaces=None):
    """Run a Kedro pipeline slice. Pass node_names for regular node groups or namespaces for namespace groups."""
    configure_project(package_name)
    with KedroSession.create(project_path=project_path, env=env, conf_source=conf_source) as session:
        if namespaces is not None:
            session.run(pipeline_names=[pipeline_name], namespaces=namespaces)
        else:
            session.run(pipeline_names=[pipeline_name], node_names=node_names)


@dag(
    dag_id="pinsage",
    start_date=datetime(2026,11,1),
    max_active_runs=1,
    schedule="0 3 * * *",
    catchup=False,
    default_args=dict(
        owner="airflow",
        depends_on_past=False,
        email_on_failure=False,
        email_on_retry=False,
        retries=1,
        retry_delay=timedelta(minutes=5)
    ),
)
def pinsage():

    @task(task_id="ingest-source")
    def ingest_source():
        _run_kedro_node(node_names=["ingest_source"])

    @task(task_id="hold-out-items-and-split-by-time")
    def hold_out_items_and_split_by_time():
        _run_kedro_node(node_names=["hold_out_items_and_split_by_time"])

    @task(task_id="build-item-features")
    def build_item_features():
        _run_kedro_node(node_names=["build_item_features"])

    @task(task_id="build-training-graph")
    def build_training_graph():
        _run_kedro_node(node_names=["build_training_graph"])

    @task(task_id="compute-item-neighbourhoods")
    def compute_item_neighbourhoods():
        _run_kedro_node(node_names=["compute_item_neighbourhoods"])

    @task(task_id="train-pinsage")
    def train_pinsage():
        _run_kedro_node(node_names=["train_pinsage"])

    @task(task_id="embed-all-items")
    def embed_all_items():
        _run_kedro_node(node_names=["embed_all_items"])

    @task(task_id="evaluate-recall-on-held-out-items")
    def evaluate_recall_on_held_out_items():
        _run_kedro_node(node_names=["evaluate_recall_on_held_out_items"])

    @task(task_id="plot-training-curve")
    def plot_training_curve():
        _run_kedro_node(node_names=["plot_training_curve"])

    @task(task_id="build-faiss-index")
    def build_faiss_index():
        _run_kedro_node(node_names=["build_faiss_index"])

    @task(task_id="evaluate-recall")
    def evaluate_recall():
        _run_kedro_node(node_names=["evaluate_recall"])

    @task(task_id="write-recall-report")
    def write_recall_report():
        _run_kedro_node(node_names=["write_recall_report"])

    tasks = {
        "ingest-source": ingest_source(),
        "hold-out-items-and-split-by-time": hold_out_items_and_split_by_time(),
        "build-item-features": build_item_features(),
        "build-training-graph": build_training_graph(),
        "compute-item-neighbourhoods": compute_item_neighbourhoods(),
        "train-pinsage": train_pinsage(),
        "embed-all-items": embed_all_items(),
        "evaluate-recall-on-held-out-items": evaluate_recall_on_held_out_items(),
        "plot-training-curve": plot_training_curve(),
        "build-faiss-index": build_faiss_index(),
        "evaluate-recall": evaluate_recall(),
        "write-recall-report": write_recall_report(),
    }
    tasks["ingest-source"] >> tasks["hold-out-items-and-split-by-time"]
    tasks["hold-out-items-and-split-by-time"] >> tasks["build-item-features"]
    tasks["hold-out-items-and-split-by-time"] >> tasks["build-training-graph"]
    tasks["ingest-source"] >> tasks["build-training-graph"]
    tasks["build-training-graph"] >> tasks["compute-item-neighbourhoods"]
    tasks["build-item-features"] >> tasks["train-pinsage"]
    tasks["build-training-graph"] >> tasks["train-pinsage"]
    tasks["compute-item-neighbourhoods"] >> tasks["train-pinsage"]
    tasks["hold-out-items-and-split-by-time"] >> tasks["train-pinsage"]
    tasks["build-item-features"] >> tasks["embed-all-items"]
    tasks["compute-item-neighbourhoods"] >> tasks["embed-all-items"]
    tasks["hold-out-items-and-split-by-time"] >> tasks["embed-all-items"]
    tasks["train-pinsage"] >> tasks["embed-all-items"]
    tasks["build-item-features"] >> tasks["evaluate-recall-on-held-out-items"]
    tasks["compute-item-neighbourhoods"] >> tasks["evaluate-recall-on-held-out-items"]
    tasks["hold-out-items-and-split-by-time"] >> tasks["evaluate-recall-on-held-out-items"]
    tasks["ingest-source"] >> tasks["evaluate-recall-on-held-out-items"]
    tasks["train-pinsage"] >> tasks["evaluate-recall-on-held-out-items"]
    tasks["train-pinsage"] >> tasks["plot-training-curve"]
    tasks["embed-all-items"] >> tasks["build-faiss-index"]
    tasks["build-faiss-index"] >> tasks["evaluate-recall"]
    tasks["embed-all-items"] >> tasks["evaluate-recall"]
    tasks["hold-out-items-and-split-by-time"] >> tasks["evaluate-recall"]
    tasks["ingest-source"] >> tasks["evaluate-recall"]
    tasks["evaluate-recall"] >> tasks["write-recall-report"]
    tasks["evaluate-recall-on-held-out-items"] >> tasks["write-recall-report"]
    tasks["hold-out-items-and-split-by-time"] >> tasks["write-recall-report"]
    tasks["ingest-source"] >> tasks["write-recall-report"]
    tasks["train-pinsage"] >> tasks["write-recall-report"]


pinsage()