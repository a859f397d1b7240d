from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.graph.nodes import build_training_graph, compute_item_neighbourhoods


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=build_training_graph,
                inputs=["train_interactions", "split_summary"],
                outputs="training_graph",
                name="build_training_graph",
            ),
            Node(
                func=compute_item_neighbourhoods,
                inputs=["training_graph", "params:neighbourhood"],
                outputs="item_neighbourhoods",
                name="compute_item_neighbourhoods",
            ),
        ]
    )
