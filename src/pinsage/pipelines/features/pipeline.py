from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.features.nodes import build_features


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=build_features,
                inputs=["catalogue", "train_interactions", "params:features"],
                outputs=["item_features", "feature_vocabulary"],
                name="build_item_features",
            )
        ]
    )
