"""Layer-wise inference on a 2-worker dask LocalCluster equals the local layer-wise inference."""

import torch

from pinsage.data.features import feature_sizes
from pinsage.jobs.export import embed_catalogue
from pinsage.model.inference import embed_all_items
from pinsage.model.pinsage import ModelConfig, PinSage
from pinsage.serving.embeddings import ExportConfig, embedding_matrix
from tests.worlds import planted_world, trained_with


def test_a_two_worker_cluster_gives_the_local_embeddings():
    world = planted_world(n_pins=400, n_boards=250, n_topics=8, dense_dim=4, seed=3)
    inputs = world.inputs
    model = ModelConfig(hidden_dim=16, n_layers=2)
    torch.manual_seed(0)
    network = PinSage(feature_sizes(inputs.features, inputs.vocabulary), model)
    state = network.state_dict()
    local = embed_all_items(network, inputs.features, *inputs.neighbourhoods.values(), chunk_size=64)
    # 7 partitions of 64 items (the last one shorter), spread over 2 worker processes, through the
    # export job's own entry point, as the Kedro node calls it with export.engine=dask.
    table = embed_catalogue(
        state,
        trained_with(world, model),
        inputs.features,
        inputs.vocabulary,
        inputs.neighbourhoods,
        inputs.catalogue,
        ExportConfig(engine="dask", chunk_size=64, dask_local_workers=2),
    )
    on_cluster = torch.from_numpy(embedding_matrix(table))
    assert on_cluster.shape == local.shape == (len(inputs.catalogue), 16)
    torch.testing.assert_close(on_cluster, local, atol=1e-5, rtol=1e-5)
