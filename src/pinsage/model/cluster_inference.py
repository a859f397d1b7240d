"""Layer-wise inference on a dask.distributed cluster: the paper's MapReduce step, past one machine.

The same computation as `pinsage.model.inference.embed_all_items`, with items split into contiguous
partitions that live on the cluster's workers:

- map: each partition projects its items' features (layer 0);
- join: for layer l, each partition of the previous layer hands every other partition only the rows
  its items' neighbours need (at most T rows per item in all, never the whole table);
- reduce: each partition convolves its items from its own rows and the rows it received.

The tables of every layer stay in the workers' memory (Dask spills them to disk under pressure), and
each partition's final embeddings are handed, on the worker that computed them, to a `store` function
the caller gives (the export job's writes a Parquet part): they never pass through the caller. Workers
need this package installed (`pip install pinsage[dask]`) and receive the network once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from distributed import Client, LocalCluster

from pinsage.model.pinsage import PinSage


@contextmanager
def dask_client(scheduler: str | None, local_workers: int) -> Iterator[Client]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster of `local_workers` single-threaded
    worker processes started here and closed on exit."""
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=local_workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


def partition_bounds(n_items: int, partition_size: int) -> list[tuple[int, int]]:
    """The contiguous item ranges [start, stop) the cluster computes as partitions."""
    return [(s, min(s + partition_size, n_items)) for s in range(0, n_items, partition_size)]


def embed_all_items_on_cluster(
    model: PinSage,
    features: dict[str, torch.Tensor],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    client: Client,
    store: Callable[[Any, torch.Tensor], Any],
    payloads: list[Any],
    partition_size: int = 65536,
) -> list[Any]:
    """Every item's embedding, computed on the cluster of `client`: partition i's embeddings [stop -
    start, dim] (see `partition_bounds`) go to `store(payloads[i], embeddings)` on the worker that
    computed them; returns what `store` returned, in partition order. The embeddings equal the local
    layer-wise ones up to float rounding. `store` must be importable on the workers (a module-level
    function)."""
    bounds = partition_bounds(neighbours.shape[0], partition_size)
    if len(payloads) != len(bounds):
        raise ValueError(f"{len(payloads)} payloads for {len(bounds)} partitions")
    model = model.cpu().eval()
    [network] = client.scatter([model], broadcast=True)

    def scatter(value):
        [future] = client.scatter([value])
        return future

    projected = [
        client.submit(_project, network, scatter({k: v[s:e] for k, v in features.items()}), s, e, pure=False)
        for s, e in bounds
    ]
    inputs = [(scatter(neighbours[s:e]), scatter(weights[s:e])) for s, e in bounds]
    requests = _requests(neighbours, bounds)
    h = projected
    for layer in range(len(model.convs)):
        h = [
            client.submit(
                _convolve,
                network,
                layer,
                h[i],
                [client.submit(_take, h[j], rows, start=bounds[j][0], pure=False) for j, rows in requests[i]],
                *inputs[i],
                pure=False,
            )
            for i in range(len(bounds))
        ]
    stored = [
        client.submit(_finish_and_store, network, h[i], projected[i], store, scatter(payloads[i]), pure=False)
        for i in range(len(bounds))
    ]
    return client.gather(stored)  # waits for every partition, and raises the first worker's error


def _requests(neighbours: torch.Tensor, bounds: list[tuple[int, int]]) -> list[list[tuple[int, torch.Tensor]]]:
    """For each partition i: (j, ids) for every partition j holding some of i's neighbours, ids sorted."""
    starts = torch.tensor([s for s, _ in bounds])
    out = []
    for s, e in bounds:
        needed = torch.unique(neighbours[s:e])
        owner = torch.searchsorted(starts, needed, right=True) - 1
        out.append([(int(j), needed[owner == j]) for j in torch.unique(owner).tolist()])
    return out


@torch.no_grad()
def _project(model: PinSage, features: dict[str, torch.Tensor], start: int, stop: int) -> torch.Tensor:
    return model.project(features, torch.arange(start, stop))


def _take(rows: torch.Tensor, ids: torch.Tensor, start: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows of global `ids` from a partition starting at item `start`, with their ids."""
    return ids, rows[ids - start]


@torch.no_grad()
def _convolve(
    model: PinSage,
    layer: int,
    own: torch.Tensor,
    received: list[tuple[torch.Tensor, torch.Tensor]],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
) -> torch.Tensor:
    # Partitions are contiguous and received in order, so the received ids are sorted: a binary search
    # finds each neighbour's row.
    ids = torch.cat([i for i, _ in received])
    table = torch.cat([rows for _, rows in received])
    position = torch.searchsorted(ids, neighbours.reshape(-1)).view_as(neighbours)
    return model.convs[layer](own, table[position], weights)


@torch.no_grad()
def _finish_and_store(
    model: PinSage, h: torch.Tensor, projected: torch.Tensor, store: Callable[[Any, torch.Tensor], Any], payload: Any
) -> Any:
    return store(payload, model.finish(h, projected))
