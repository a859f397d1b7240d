from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.ingest.nodes import ingest_source


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=ingest_source,
                inputs=["params:data", "interaction_batches"],
                outputs=["interactions", "items", "users", "dataset_identity"],
                name="ingest_source",
            )
        ]
    )
