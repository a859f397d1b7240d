"""The training objective on one minibatch: sampled softmax with logQ correction, or the paper's hinge."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pinsage.training.config import TrainConfig
from pinsage.training.distributed import DistributedContext, gather_rows
from pinsage.training.minibatch import TrainingBatch


def batch_loss(
    model: torch.nn.Module,
    batch: TrainingBatch,
    config: TrainConfig,
    context: DistributedContext = DistributedContext(),
) -> torch.Tensor:
    """The mean loss over this rank's rows. The in-batch candidates are every rank's positives, so N
    ranks compute the loss of the one-process batch of N times the size."""
    embeddings = model(batch.blocks, batch.features)
    q = embeddings[batch.query_index]
    positives = gather_rows(embeddings[batch.positive_index], context)  # [N * B]
    candidates = torch.cat([positives, embeddings[batch.negative_index]])
    candidate_items = torch.cat([batch.batch_positive_items, batch.negative_items])
    B, P = len(q), len(positives)
    rows = torch.arange(B, device=q.device)
    scores = q @ candidates.T  # cosines: embeddings are unit length
    # A candidate equal to the row's own positive (other than its own column) or to the query is an
    # accidental hit, not a negative.
    own = torch.zeros_like(scores, dtype=torch.bool)
    own[rows, batch.own_column] = True
    accidental = (
        (candidate_items.unsqueeze(0) == batch.positive_items.unsqueeze(1))
        | (candidate_items.unsqueeze(0) == batch.query_items.unsqueeze(1))
    ) & ~own
    accidental[:, P:] |= batch.negative_mask
    # Hard negatives are per query, [B, H]; one equal to the positive (a one-item band) is no negative.
    hard = (q.unsqueeze(1) * embeddings[batch.hard_index]).sum(-1)
    hard_hit = batch.hard_items == batch.positive_items.unsqueeze(1)
    if config.loss == "softmax":
        logits = scores / config.temperature
        if config.logq_correction:
            # Only the shared candidates were drawn from a known distribution; hard ones are chosen.
            logits = logits - batch.candidate_log_q.unsqueeze(0)
        logits = torch.cat(
            [
                logits.masked_fill(accidental, float("-inf")),
                (hard / config.temperature).masked_fill(hard_hit, float("-inf")),
            ],
            dim=1,
        )
        return F.cross_entropy(logits, batch.own_column)
    positive = scores[rows, batch.own_column].unsqueeze(1)
    negatives = torch.cat([scores[:, P:], hard], dim=1)
    hit = torch.cat([accidental[:, P:], hard_hit], dim=1)
    hinge = F.relu(negatives - positive + config.margin).masked_fill(hit, 0.0)
    return hinge.mean()
