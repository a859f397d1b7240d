from kedro.pipeline import Pipeline

from pinsage.pipelines import evaluate, export, features, graph, ingest, model, split


def create_pipeline(**kwargs) -> Pipeline:
    """Raw data → split → features → graph → trained model → embeddings and index → metrics."""
    stages = (ingest, split, features, graph, model, export, evaluate)
    return sum((stage.create_pipeline() for stage in stages), Pipeline([]))
