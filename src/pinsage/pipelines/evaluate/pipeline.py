from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.evaluate.nodes import evaluate_recall, write_report


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=evaluate_recall,
                inputs=[
                    "item_embeddings", "train_interactions", "val_interactions", "test_interactions",
                    "users", "params:evaluation",
                ],
                outputs="metrics",
                name="evaluate_recall",
            ),
            Node(
                func=write_report,
                inputs=[
                    "metrics", "train_interactions", "val_interactions", "test_interactions", "items",
                    "users", "training_history", "params:data", "params:evaluation",
                ],
                outputs="recall_report",
                name="write_recall_report",
            ),
        ]
    )
