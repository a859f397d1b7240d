"""PinSage in plain PyTorch: feature projector → weighted SAGE convolutions → embedding.

No DGL here: the model consumes index tensors (`pinsage.model.blocks`) and feature rows, so it runs on a GPU
machine whose torch DGL cannot load.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from pinsage.model.blocks import Blocks


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

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
    use_features: bool = Field(
        True,
        description="the item's content features (categories, words, year, degree, dense vector) as its input; "
        "false with n_layers 0 is the ID-only embedding baseline, trained with the same loss",
    )
    final_dense: bool = Field(False, description="the paper's G1/G2 dense layers after the convolutions")
    finish: Literal["unit_mix", "conv", "sum"] = Field(
        "unit_mix",
        description="how the embedding is made from the last convolution and the item's own projection: "
        "unit_mix, unit(conv) + a·unit(projection) with a learnt; conv, the convolution alone (the paper's: "
        "it already concatenates the item's own vector); sum, conv + the raw projection (the DGL example's, "
        "whose projection outweighs the unit-length convolution, so the graph barely reaches the embedding)",
    )
    aggregator: str = Field("importance", pattern="^(importance|mean|max)$")

    @model_validator(mode="after")
    def _something_to_embed(self) -> ModelConfig:
        if not (self.use_features or self.use_id_embedding):
            raise ValueError(
                "model.use_features and model.use_id_embedding are both false: nothing to embed an item from"
            )
        return self


# The content features' projections, in the order they are summed.
CONTENT = ("categories", "words", "year", "log_degree", "dense")


class ItemProjector(nn.Module):
    """Sums one projection per feature into the first hidden vector (the paper's feature input), and the
    item's learnt ID vector where it has one."""

    def __init__(self, sizes: dict[str, int], config: ModelConfig):
        super().__init__()
        dim = self.dim = config.hidden_dim
        self.id_dropout = config.id_dropout
        # Attribute names are the state-dict keys of every model published so far: kept as they are.
        content = config.use_features
        self.categories = nn.EmbeddingBag(sizes["n_categories"], dim, mode="mean", padding_idx=0) if content else None
        self.words = nn.EmbeddingBag(sizes["n_words"], dim, mode="mean", padding_idx=0) if content else None
        self.year = nn.Embedding(sizes["n_years"], dim, padding_idx=0) if content else None
        self.log_degree = nn.Linear(1, dim) if content else None
        self.dense = nn.Linear(sizes["dense_dim"], dim) if content and sizes["dense_dim"] else None
        self.item_id = nn.Embedding(sizes["n_items"], dim) if config.use_id_embedding else None
        if self.item_id is not None:
            nn.init.normal_(self.item_id.weight, std=0.01)

    def forward(self, features: dict[str, torch.Tensor], items: torch.Tensor) -> torch.Tensor:
        parts = [getattr(self, n)(features[n]) for n in CONTENT if getattr(self, n) is not None]
        h = sum(parts[1:], start=parts[0]) if parts else torch.zeros(len(items), self.dim, device=items.device)
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
        self.projector = ItemProjector(sizes, config)
        self.convs = nn.ModuleList(WeightedSAGEConv(dim, dim, dim, config.aggregator) for _ in range(config.n_layers))
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim)) if config.final_dense else None
        # The weight of the item's own unit projection beside its unit convolution (`unit_mix`), learnt from 1.
        self.mix = nn.Parameter(torch.ones(())) if config.finish == "unit_mix" and self.convs else None

    def project(self, features: dict[str, torch.Tensor], items: torch.Tensor) -> torch.Tensor:
        return self.projector(features, items)

    def finish(self, h_conv: torch.Tensor, h_projected: torch.Tensor) -> torch.Tensor:
        """The embedding from the last convolution and the item's own projected features (`finish`),
        unit length so dot products are cosines.

        Both inputs enter at unit length under `unit_mix`: the raw projection's norm (about 20 after
        training) against the convolution's 1 made the DGL example's sum a projection with a trace of graph
        (median cosine 0.998 between the two). An item with an empty neighbourhood still has its own vector
        in the convolution, which concatenates it."""
        if not self.convs:
            h = h_projected
        elif self.config.finish == "sum":
            h = h_conv + h_projected
        elif self.config.finish == "conv":
            h = h_conv
        else:
            h = F.normalize(h_conv, dim=1) + self.mix * F.normalize(h_projected, dim=1)
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
