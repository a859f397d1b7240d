from kedro.pipeline import Node, Pipeline

from pinsage.pipelines.embed_new_items.nodes import embed_new_item_batches
from pinsage.serving.index import build_embedding_index


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=embed_new_item_batches,
                inputs=[
                    "published_run",
                    "new_items",
                    "new_item_interactions",
                    "params:train_settings",
                    "params:export",
                ],
                outputs="item_embeddings",
                name="embed_new_items_inductively",
            ),
            Node(
                func=build_embedding_index,
                inputs=["item_embeddings", "params:index"],
                outputs="embedding_index",
                name="rebuild_faiss_index_with_new_items",
            ),
        ]
    )
