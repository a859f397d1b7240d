"""The user–item (board–pin) bipartite graph, built from training interactions only."""

from __future__ import annotations

import dgl
import numpy as np
import pandas as pd
import torch

USER, ITEM = "user", "item"
USER_TO_ITEM, ITEM_TO_USER = "interacts", "interacted_by"


def build_graph(train: pd.DataFrame, n_users: int, n_items: int) -> dgl.DGLGraph:
    """Both edge directions, so random walks can go item→user→item.

    Every item of the catalogue is a node, also one with no training interaction: it then has no
    edges, and its embedding comes from its features alone, as a new item's would.
    """
    users = torch.tensor(train["user"].to_numpy(dtype=np.int64))
    items = torch.tensor(train["item"].to_numpy(dtype=np.int64))
    graph = dgl.heterograph(
        {
            (USER, USER_TO_ITEM, ITEM): (users, items),
            (ITEM, ITEM_TO_USER, USER): (items, users),
        },
        num_nodes_dict={USER: n_users, ITEM: n_items},
    )
    # Random walks read only out-edges (CSR), so only that form is kept (and saved): DGL would otherwise
    # hold the COO form and build CSC for degrees beside it, each 16 bytes per edge and edge type
    # (2.9 GB apiece at 90M interactions). Degrees and edge lists come from the CSR (`edges_by_id`).
    return graph.formats("csr")


def edges_by_id(graph: dgl.DGLGraph, etype: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Source and destination of every `etype` edge in edge-id order (`graph.edges(etype=...)`), read
    from the CSR form, the only one `build_graph` keeps."""
    indptr, indices, ids = graph.adj_tensors("csr", etype=etype)
    src, dst = torch.empty_like(indices), torch.empty_like(indices)
    src[ids] = torch.repeat_interleave(torch.arange(len(indptr) - 1, dtype=indices.dtype), indptr.diff())
    dst[ids] = indices
    return src, dst


def item_users(graph: dgl.DGLGraph) -> tuple[torch.Tensor, torch.Tensor]:
    """The users of each item as CSR (row pointers over items, user indices): the form `build_graph` keeps,
    so no copy of the edges is made."""
    indptr, users, _ = graph.adj_tensors("csr", etype=ITEM_TO_USER)
    return indptr, users


def extend_graph(graph: dgl.DGLGraph, added: pd.DataFrame, n_users: int, n_items: int) -> dgl.DGLGraph:
    """`graph` grown to `n_users` and `n_items` nodes (new ones after its own) with the `added`
    interactions' edges in both directions, for walks from the new items: the rows `build_graph` gives
    for the graph's interactions followed by `added`, with the same neighbours in the same order.

    Built from the graph's CSR form rather than from every interaction again: at 10M items, rebuilding
    from the 92M interactions (their copies, DGL's COO form and its conversion) took more memory than
    the new-item evaluation had, once per group of targets. Edge ids are left implicit (their CSR
    positions): the walks read neither ids nor edge data, and storing them would cost 8 bytes an edge.
    """
    users = added["user"].to_numpy(dtype=np.int64)
    items = added["item"].to_numpy(dtype=np.int64)
    data = {}
    for relation, src, dst, n_rows in (
        ((USER, USER_TO_ITEM, ITEM), users, items, n_users),
        ((ITEM, ITEM_TO_USER, USER), items, users, n_items),
    ):
        indptr, indices, _ = (t.numpy() for t in graph.adj_tensors("csr", etype=relation[1]))
        rows, columns = _with_edges_added(indptr, indices, src, dst, n_rows)
        data[relation] = ("csr", (torch.from_numpy(rows), torch.from_numpy(columns), torch.empty(0, dtype=torch.int64)))
    return dgl.heterograph(data, num_nodes_dict={USER: n_users, ITEM: n_items}).formats("csr")


def _with_edges_added(
    indptr: np.ndarray, indices: np.ndarray, src: np.ndarray, dst: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """A CSR matrix (row pointers, column indices) with `n_rows` rows and the edges src→dst added, each
    row's added edges after its own, in their given order."""
    n_old_rows = len(indptr) - 1
    old_counts = np.zeros(n_rows, dtype=np.int64)
    old_counts[:n_old_rows] = np.diff(indptr)
    added_counts = np.bincount(src, minlength=n_rows)
    new_indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(old_counts + added_counts, out=new_indptr[1:])
    new_indices = np.empty(new_indptr[-1], dtype=indices.dtype)
    # An existing edge moves down by the edges added to the rows before its own (in slices: a whole
    # `arange` over 82M edges would be 0.7 GB more at the peak).
    position = np.repeat(new_indptr[:n_old_rows] - indptr[:-1], old_counts[:n_old_rows])
    for start in range(0, len(position), 1 << 22):
        part = position[start : start + (1 << 22)]
        part += np.arange(start, start + len(part))
    new_indices[position] = indices
    del position
    order = np.argsort(src, kind="stable")
    rows = src[order]
    within = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    new_indices[new_indptr[rows] + old_counts[rows] + within] = dst[order]
    return new_indptr, new_indices
