from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.split.nodes import hold_out_and_split


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=hold_out_and_split,
                inputs=["interactions", "items", "users", "params:split"],
                outputs=[
                    "catalogue",
                    "catalogue_item_ids",
                    "train_interactions",
                    "val_interactions",
                    "test_interactions",
                    "held_out_items",
                    "held_out_interactions",
                    "split_summary",
                ],
                name="hold_out_and_split",
            )
        ]
    )
