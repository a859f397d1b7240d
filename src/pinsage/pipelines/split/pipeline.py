from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.split.nodes import split_interactions


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=split_interactions,
                inputs="interactions",
                outputs=["train_interactions", "val_interactions", "test_interactions"],
                name="split_by_time",
            )
        ]
    )
