from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.export.nodes import embed_catalogue_items
from pinsage.serving.index import build_embedding_index


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=embed_catalogue_items,
                inputs=[
                    "model_weights",
                    "trained_with",
                    "item_features",
                    "feature_vocabulary",
                    "item_neighbourhoods",
                    "catalogue",
                    "params:export",
                ],
                outputs="item_embeddings",
                name="embed_catalogue_items",
            ),
            Node(
                func=build_embedding_index,
                inputs=["item_embeddings", "params:index"],
                outputs="embedding_index",
                name="build_faiss_index",
            ),
        ]
    )
