from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.evaluate.nodes import (
    evaluate_inductive_recall,
    evaluate_recall,
    plot_recall_by_degree,
    plot_training_curve,
    write_report,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=evaluate_recall,
                inputs=[
                    "item_embeddings",
                    "embedding_index",
                    "train_interactions",
                    "val_interactions",
                    "test_interactions",
                    "users",
                    "params:evaluation",
                ],
                outputs=["metrics", "index_recall"],
                name="evaluate_recall",
            ),
            Node(
                func=evaluate_inductive_recall,
                inputs=[
                    "model_weights",
                    "trained_with",
                    "item_features",
                    "feature_vocabulary",
                    "item_neighbourhoods",
                    "catalogue",
                    "users",
                    "training_graph",
                    "train_interactions",
                    "held_out_items",
                    "held_out_interactions",
                    "params:evaluation",
                ],
                outputs="new_item_metrics",
                name="evaluate_recall_on_held_out_items",
            ),
            Node(
                func=write_report,
                inputs=[
                    "metrics",
                    "index_recall",
                    "new_item_metrics",
                    "split_summary",
                    "training_history",
                    "params:data",
                    "params:evaluation",
                ],
                outputs="recall_report",
                name="write_recall_report",
            ),
            Node(
                func=plot_training_curve,
                inputs=["training_history", "params:evaluation"],
                outputs="training_curve",
                name="plot_training_curve",
            ),
            Node(
                func=plot_recall_by_degree,
                inputs=["metrics", "new_item_metrics", "params:evaluation"],
                outputs="recall_by_degree",
                name="plot_recall_by_degree",
            ),
        ]
    )
