"""Layer-wise inference on a 2-worker dask LocalCluster equals the local layer-wise inference, and the
workers write the embeddings as Parquet parts that saving item_embeddings moves into place."""

import numpy as np
import torch
from kedro.io import Version

from pinsage.catalog_datasets import PartitionedParquetDataset
from pinsage.data.features import feature_sizes
from pinsage.jobs.export import ExportConfig, embed_catalogue
from pinsage.model.inference import embed_all_items
from pinsage.model.pinsage import ModelConfig, PinSage
from pinsage.model.scoring import ScoringConfig, popularity_prior
from pinsage.serving.embeddings import StagedParts, embedding_matrix, prior_vector, read_embedding_table
from tests.worlds import planted_world, trained_with


def test_a_two_worker_cluster_writes_the_local_embeddings_as_parts(tmp_path):
    world = planted_world(n_pins=400, n_boards=250, n_topics=8, dense_dim=4, seed=3)
    inputs = world.inputs
    model = ModelConfig(hidden_dim=16, n_layers=2)
    torch.manual_seed(0)
    network = PinSage(feature_sizes(inputs.features, inputs.vocabulary), model)
    state = network.state_dict()
    local = embed_all_items(network, inputs.features, *inputs.neighbourhoods.values(), chunk_size=64)
    # 7 partitions of 64 items (the last one shorter), spread over 2 worker processes, through the
    # export job's own entry point, as the Kedro node calls it with export.engine=dask.
    staged = embed_catalogue(
        state,
        trained_with(world, model),
        inputs.features,
        inputs.vocabulary,
        inputs.neighbourhoods,
        inputs.catalogue,
        ExportConfig(engine="dask", chunk_size=64, dask_local_workers=2, dask_staging=str(tmp_path / "staging")),
    )
    assert isinstance(staged, StagedParts)
    n_items = len(inputs.catalogue)
    assert staged.files == [f"part-{i:05d}.parquet" for i in range(7)]
    first_part = read_embedding_table(staged.folder / staged.files[0])
    assert first_part["item"].tolist() == list(range(64))
    assert first_part["item_id"].tolist() == inputs.catalogue["item_id"].iloc[:64].tolist()

    # Saving moves the workers' parts into the version folder; nothing is left in staging.
    dataset = PartitionedParquetDataset(str(tmp_path / "item_embeddings.parquet"), version=Version(None, None))
    dataset.save(staged)
    assert not staged.folder.exists()
    table = PartitionedParquetDataset(str(tmp_path / "item_embeddings.parquet"), version=Version(None, None)).load()
    on_cluster = torch.from_numpy(embedding_matrix(table))
    assert on_cluster.shape == local.shape == (n_items, 16)
    torch.testing.assert_close(on_cluster, local, atol=1e-5, rtol=1e-5)
    # Each part carries its items' priors, as the local export's table does.
    expected = popularity_prior(inputs.features["log_degree"], ScoringConfig())
    np.testing.assert_array_equal(prior_vector(table), expected)
    assert expected.max() > 0
