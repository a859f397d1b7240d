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
    return dgl.heterograph(
        {
            (USER, USER_TO_ITEM, ITEM): (users, items),
            (ITEM, ITEM_TO_USER, USER): (items, users),
        },
        num_nodes_dict={USER: n_users, ITEM: n_items},
    )
