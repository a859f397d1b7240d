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
