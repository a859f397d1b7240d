from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.model.nodes import train_pinsage


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=train_pinsage,
                inputs=[
                    "training_graph",
                    "item_features",
                    "feature_vocabulary",
                    "item_neighbourhoods",
                    "train_interactions",
                    "val_interactions",
                    "catalogue_item_ids",
                    "published_run",
                    "params:train_settings",
                ],
                outputs=["model_weights", "training_history", "trained_with"],
                name="train_pinsage",
            )
        ]
    )
