from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.rollback.nodes import roll_back_publication


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=roll_back_publication,
                inputs=["published_run", "params:publish"],
                outputs=None,
                name="roll_back_publication",
            )
        ]
    )
