"""Export: every catalogue item's embedding by layer-wise inference, with the network it was trained as."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Literal

import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field

from pinsage.atomic import ordinary_mode
from pinsage.model.inference import embed_all_items
from pinsage.model.scoring import popularity_prior
from pinsage.model.trained_with import TrainedWith
from pinsage.serving.embeddings import StagedParts, embedding_table, part_name, write_embedding_part


class ExportConfig(BaseModel):
    """The `export` parameters: how layer-wise inference runs over the whole catalogue."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    chunk_size: int = Field(
        65536, ge=1, description="items per chunk (dask: per partition) in layer-wise inference; bounds memory"
    )
    device: str = Field("cpu", description="torch device of local inference (cpu, cuda, cuda:1 …)")
    engine: Literal["local", "dask"] = Field(
        "local", description="local: this process; dask: partitions on a dask.distributed cluster (`.[dask]`)"
    )
    dask_scheduler: str | None = Field(
        None, description="dask: the scheduler's address (tcp://host:8786); null: a LocalCluster started and closed"
    )
    dask_local_workers: int = Field(2, ge=1, description="dask without a scheduler: the LocalCluster's workers")
    dask_staging: str = Field(
        "data/07_model_output/staging",
        description="dask: a folder the workers and this process can all reach (a shared file system on a "
        "real cluster); the workers write the parts there, and saving item_embeddings moves them in",
    )


def embed_catalogue(
    state_dict: dict[str, torch.Tensor],
    trained_with: TrainedWith,
    features: dict[str, torch.Tensor],
    vocabulary: dict[str, list],
    neighbourhoods: dict[str, torch.Tensor],
    catalogue: pd.DataFrame,
    export: ExportConfig,
) -> pd.DataFrame | StagedParts:
    """The embedding table of `catalogue` (`item`, `item_id`, `embedding`, `prior`: the served score's
    popularity term, `trained_with.scoring`'s); refuses features encoded with another vocabulary than the
    weights were trained on. On the dask engine the workers write the table's parts into a new folder under
    `export.dask_staging`, and that folder is returned."""
    network = trained_with.build_network(state_dict, vocabulary)
    neighbours, weights = neighbourhoods["neighbours"], neighbourhoods["weights"]
    prior = popularity_prior(features["log_degree"], trained_with.scoring)
    if export.engine == "dask":
        # Imported here: dask is an optional extra, needed only by this engine.
        from pinsage.model.cluster_inference import dask_client, embed_all_items_on_cluster, partition_bounds

        staging = Path(export.dask_staging).resolve()
        staging.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="item_embeddings.", dir=staging))
        ordinary_mode(folder)  # it becomes the published version's folder
        parts = [
            (
                str(folder / part_name(i)),
                catalogue.iloc[start:stop][["item", "item_id"]].assign(prior=prior[start:stop]),
            )
            for i, (start, stop) in enumerate(partition_bounds(len(catalogue), export.chunk_size))
        ]
        try:
            with dask_client(export.dask_scheduler, export.dask_local_workers) as client:
                files = embed_all_items_on_cluster(
                    network, features, neighbours, weights, client, write_embedding_part, parts, export.chunk_size
                )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return StagedParts(folder, files)
    embeddings = embed_all_items(
        network.to(export.device), features, neighbours, weights, export.chunk_size, export.device
    )
    return embedding_table(catalogue, embeddings, prior)
