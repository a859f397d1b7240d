from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.export.nodes import build_embedding_index, embed_items


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=embed_items,
                inputs=[
                    "model_weights", "item_features", "feature_vocabulary", "item_neighbourhoods",
                    "catalogue", "params:model", "params:export",
                ],
                outputs="item_embeddings",
                name="embed_all_items",
            ),
            Node(
                func=build_embedding_index,
                inputs="item_embeddings",
                outputs="embedding_index",
                name="build_faiss_index",
            ),
        ]
    )
