"""PinSage in plain PyTorch: feature projector → weighted SAGE convolutions → embedding.

No DGL here: the model consumes index tensors (`pinsage.model.blocks`) and feature rows, so it runs on a GPU
machine whose torch DGL cannot load.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from pinsage.model.blocks import Blocks


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hidden_dim: int = Field(64, ge=1, description="width of every layer and of the embedding")
    n_layers: int = Field(2, ge=0, description="SAGE convolutions (0 = features only)")
    use_id_embedding: bool = Field(
        True, description="a learnt vector per training item beside its features; new items get none"
    )
    id_dropout: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="share of items trained without their ID vector each step, so the model also learns to "
        "embed items that have none (new items)",
    )
    final_dense: bool = Field(False, description="the paper's G1/G2 dense layers after the convolutions")
    aggregator: str = Field("importance", pattern="^(importance|mean|max)$")


class ItemProjector(nn.Module):
    """Sums one projection per feature into the first hidden vector (the paper's feature input)."""

    def __init__(self, sizes: dict[str, int], dim: int, use_id_embedding: bool, id_dropout: float = 0.0):
        super().__init__()
        self.id_dropout = id_dropout
        self.categories = nn.EmbeddingBag(sizes["n_categories"], dim, mode="mean", padding_idx=0)
        self.words = nn.EmbeddingBag(sizes["n_words"], dim, mode="mean", padding_idx=0)
        self.year = nn.Embedding(sizes["n_years"], dim, padding_idx=0)
        self.log_degree = nn.Linear(1, dim)
        self.dense = nn.Linear(sizes["dense_dim"], dim) if sizes["dense_dim"] else None
        self.item_id = nn.Embedding(sizes["n_items"], dim) if use_id_embedding else None
        if self.item_id is not None:
            nn.init.normal_(self.item_id.weight, std=0.01)

    def forward(self, features: dict[str, torch.Tensor], items: torch.Tensor) -> torch.Tensor:
        h = (
            self.categories(features["categories"])
            + self.words(features["words"])
            + self.year(features["year"])
            + self.log_degree(features["log_degree"])
        )
        if self.dense is not None:
            h = h + self.dense(features["dense"])
        if self.item_id is not None:
            # Items beyond the trained table (added after training) have no learnt vector.
            known = items < self.item_id.num_embeddings
            if self.training and self.id_dropout > 0:
                known = known & (torch.rand(items.shape, device=items.device) >= self.id_dropout)
            h = h + self.item_id(items.clamp(max=self.item_id.num_embeddings - 1)) * known.unsqueeze(1)
        return h


class WeightedSAGEConv(nn.Module):
    """Q-transform neighbours, pool them by importance, concatenate self, W, ReLU, L2-normalise."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, aggregator: str = "importance"):
        super().__init__()
        self.Q = nn.Linear(in_dim, hidden_dim)
        self.W = nn.Linear(in_dim + hidden_dim, out_dim)
        self.aggregator = aggregator
        gain = nn.init.calculate_gain("relu")
        nn.init.xavier_uniform_(self.Q.weight, gain=gain)
        nn.init.xavier_uniform_(self.W.weight, gain=gain)
        nn.init.zeros_(self.Q.bias)
        nn.init.zeros_(self.W.bias)

    def forward(self, h_self: torch.Tensor, h_neighbours: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """h_self [n, d], h_neighbours [n, T, d], weight [n, T] → [n, out_dim]."""
        q = F.relu(self.Q(h_neighbours))
        present = (weight > 0).to(q.dtype)
        if self.aggregator == "max":
            pooled = (q * present.unsqueeze(-1)).amax(dim=1)  # q ≥ 0, so absent slots cannot win
        else:
            w = weight if self.aggregator == "importance" else present
            pooled = (q * w.unsqueeze(-1)).sum(1) / w.sum(1, keepdim=True).clamp(min=1e-6)
        z = F.relu(self.W(torch.cat([pooled, h_self], dim=1)))
        # An all-zero z (possible after ReLU) stays zero instead of dividing by zero.
        return z / z.norm(dim=1, keepdim=True).clamp(min=1e-6)


class PinSage(nn.Module):
    def __init__(self, sizes: dict[str, int], config: ModelConfig):
        super().__init__()
        dim = config.hidden_dim
        self.config = config
        self.projector = ItemProjector(sizes, dim, config.use_id_embedding, config.id_dropout)
        self.convs = nn.ModuleList(WeightedSAGEConv(dim, dim, dim, config.aggregator) for _ in range(config.n_layers))
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim)) if config.final_dense else None

    def project(self, features: dict[str, torch.Tensor], items: torch.Tensor) -> torch.Tensor:
        return self.projector(features, items)

    def finish(self, h_conv: torch.Tensor, h_projected: torch.Tensor) -> torch.Tensor:
        """The embedding from the last convolution and the item's own projected features.

        The projection is added back (as in the DGL example) so an item with an empty neighbourhood
        still gets a meaningful vector; the result is unit length so dot products are cosines.
        """
        h = h_conv + h_projected if self.convs else h_projected
        if self.head is not None:
            h = self.head(h)
        return F.normalize(h, dim=1)

    def forward(self, blocks: Blocks, input_features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Embeddings of `blocks.output_items`, from the features of `blocks.input_items`."""
        h0 = self.project(input_features, blocks.input_items)
        h = h0
        for conv, block in zip(self.convs, blocks.layers, strict=True):
            h = conv(h[block.self_index], h[block.neighbour_index], block.neighbour_weight)
        where = torch.arange(len(blocks.output_items), device=h0.device)
        for block in reversed(blocks.layers):
            where = block.self_index[where]
        return self.finish(h, h0[where])
