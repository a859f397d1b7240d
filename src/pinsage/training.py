"""The training loop: get batch → forward → loss → backward → step → log, and validation per epoch.

The loop is plain PyTorch and never imports DGL: epochs arrive as `EpochSample`s from a sampler
callable (the DGL random walks live in `pinsage.sampling`), and validation is a callable too.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from pinsage.atomic import write_atomically
from pinsage.distributed import DistributedContext, broadcast_from_main, mean_across, wrap
from pinsage.evaluation import EvaluationQueries, embedding_scorer, evaluate
from pinsage.inference import embed_all_items
from pinsage.minibatch import EpochSample, MinibatchProducer, TrainingBatch
from pinsage.model import PinSage

log = logging.getLogger(__name__)


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epochs: int = Field(25, ge=1)
    batches_per_epoch: int = Field(300, ge=1)
    batch_size: int = Field(256, ge=2)
    num_negatives: int = Field(500, ge=1, description="easy negatives shared by a minibatch")
    loss: Literal["softmax", "max_margin"] = "softmax"
    temperature: float = Field(0.05, gt=0, description="softmax: logits are cosines / temperature")
    margin: float = Field(0.1, ge=0, description="max_margin: required gap between positive and negative")
    logq_correction: bool = Field(True, description="softmax: subtract log sampling probability")
    lr: float = Field(0.01, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_epochs: float = Field(1.0, ge=0, description="linear warm-up length, in epochs")
    lr_decay: float = Field(0.9, gt=0, le=1, description="learning-rate factor per epoch after warm-up")
    grad_clip: float = Field(5.0, gt=0)
    patience: int = Field(10, ge=1, description="epochs without a better validation score before stopping")
    num_workers: int = Field(0, ge=0, description="CPU producer processes (0 = in the training process)")
    processes: int = Field(1, ge=1, description="data-parallel training processes, launched with torchrun")
    device: str = "cpu"
    seed: int = 0
    checkpoint_path: str | None = Field(
        None, description="file keeping the last finished epoch, so a killed run resumes from there"
    )
    warm_start: bool = Field(False, description="start from the published model's weights where they apply")
    warm_start_lr_scale: float = Field(
        0.1, gt=0, le=1, description="learning-rate factor when warm-started: fine-tune, do not retrain"
    )


@dataclass
class TrainingResult:
    state_dict: dict[str, torch.Tensor]  # the best epoch's weights
    best_epoch: int
    history: list[dict] = field(default_factory=list)


def learning_rate_factor(step: int, warmup_steps: int, steps_per_epoch: int, decay: float) -> float:
    """Linear warm-up from 1/warmup_steps to 1, then exponential decay per epoch."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return decay ** ((step - warmup_steps) / steps_per_epoch)


def batch_loss(model: torch.nn.Module, batch: TrainingBatch, config: TrainConfig) -> torch.Tensor:
    embeddings = model(batch.blocks, batch.features)
    q = embeddings[batch.query_index]
    candidates = embeddings[torch.cat([batch.positive_index, batch.negative_index])]
    candidate_items = torch.cat([batch.positive_items, batch.negative_items])
    B = len(q)
    scores = q @ candidates.T  # cosines: embeddings are unit length
    # A candidate equal to the row's own positive (other than its own column) or to the query is an
    # accidental hit, not a negative.
    own = torch.zeros_like(scores, dtype=torch.bool)
    own[torch.arange(B), torch.arange(B)] = True
    accidental = (
        (candidate_items.unsqueeze(0) == batch.positive_items.unsqueeze(1))
        | (candidate_items.unsqueeze(0) == batch.query_items.unsqueeze(1))
    ) & ~own
    accidental[:, B:] |= batch.negative_mask
    # Hard negatives are per query, [B, H]; one equal to the positive (a one-item band) is no negative.
    hard = (q.unsqueeze(1) * embeddings[batch.hard_index]).sum(-1)
    hard_hit = batch.hard_items == batch.positive_items.unsqueeze(1)
    if config.loss == "softmax":
        logits = scores / config.temperature
        if config.logq_correction:
            # Only the shared candidates were drawn from a known distribution; hard ones are chosen.
            logits = logits - batch.candidate_log_q.unsqueeze(0)
        logits = torch.cat(
            [logits.masked_fill(accidental, float("-inf")), (hard / config.temperature).masked_fill(hard_hit, float("-inf"))],
            dim=1,
        )
        return F.cross_entropy(logits, torch.arange(B, device=logits.device))
    positive = scores[torch.arange(B), torch.arange(B)].unsqueeze(1)
    negatives = torch.cat([scores[:, B:], hard], dim=1)
    hit = torch.cat([accidental[:, B:], hard_hit], dim=1)
    hinge = F.relu(negatives - positive + config.margin).masked_fill(hit, 0.0)
    return hinge.mean()


def train(
    model: PinSage,
    features: dict[str, torch.Tensor],
    sample_epoch: Callable[[int], EpochSample],
    config: TrainConfig,
    validate: Callable[[PinSage], dict[str, float]] | None = None,
    monitor: str = "hits@10",
    fingerprint: str = "",
    context: DistributedContext = DistributedContext(),
    start_is_candidate: bool = False,
) -> TrainingResult:
    """Train `model` in place and return the best epoch's weights (by `validate()[monitor]`).

    With `start_is_candidate` (a warm start), the starting weights are validated first and kept if no
    epoch beats them (best epoch 0), so fine-tuning can never hand back a worse model than it began with.

    With `config.checkpoint_path`, each finished epoch is saved, and a later call with the same
    `fingerprint` (a digest of the data and configuration) resumes after the last saved epoch. Every
    epoch's sampling and every minibatch are seeded by (seed, epoch, batch), so on CPU a resumed run
    ends with exactly the weights of an uninterrupted one.

    With several processes (`context`), each computes its share of every global batch; the learning
    rate follows the linear scaling rule (lr × number of processes) with the same warm-up.
    """
    torch.manual_seed(config.seed)
    device = torch.device(config.device)
    model.to(device)
    network = wrap(model, context, device)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr * context.world_size, weight_decay=config.weight_decay
    )
    steps = config.batches_per_epoch
    warmup = max(1, round(config.warmup_epochs * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: learning_rate_factor(s, warmup, steps, config.lr_decay)
    )
    state = {
        "epoch": 0, "best_score": -math.inf, "best_epoch": -1,
        "best_state": copy.deepcopy(model.state_dict()), "history": [], "stopped": False,
    }
    checkpoint = Path(config.checkpoint_path) if config.checkpoint_path else None
    if checkpoint is not None:
        state = _resume(checkpoint, fingerprint, model, optimiser, schedule, state)
    if start_is_candidate and validate is not None and state["epoch"] == 0:
        score = broadcast_from_main(validate(model)[monitor] if context.is_main else None, context)
        log.info("starting weights: val %s %.4f", monitor, score)
        state.update(best_score=score, best_epoch=0)
    for epoch in range(state["epoch"], config.epochs):
        if state["stopped"]:
            break
        started = time.perf_counter()
        # Rank 0 samples the epoch and every rank receives it: all ranks then slice the same global
        # batches, and run the same number of steps, even where random walks are not reproducible
        # across processes (DGL's depend on the thread count).
        sample = broadcast_from_main(sample_epoch(epoch) if context.is_main else None, context)
        producer = MinibatchProducer(
            sample, features, config.batch_size, config.num_negatives,
            model.config.n_layers, config.seed, epoch, context.rank, context.world_size,
        )
        loader = torch.utils.data.DataLoader(
            producer, batch_size=None, shuffle=False, num_workers=config.num_workers,
            pin_memory=device.type == "cuda", prefetch_factor=4 if config.num_workers else None,
        )
        model.train()
        # The model's own randomness (ID dropout) is seeded per epoch, so a resumed run matches an
        # uninterrupted one, and differs across ranks, so each drops different items.
        torch.manual_seed((config.seed * 1_000_003 + epoch) * 1_000_003 + context.rank)
        total, count = 0.0, 0
        progress = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False, mininterval=1.0)
        for batch in progress:
            # bf16 autocast on CUDA halves memory traffic; on CPU nothing changes.
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                loss = batch_loss(network, batch.to(device), config)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimiser.step()
            schedule.step()
            total, count = total + loss.item(), count + 1
            progress.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        loss_mean = mean_across(total / max(count, 1), context)
        record = {"epoch": epoch + 1, "loss": loss_mean, "seconds": time.perf_counter() - started}
        if validate is not None and context.is_main:
            record.update({f"val_{k}": v for k, v in validate(model).items()})
        record = broadcast_from_main(record, context)
        state["history"].append(record)
        log.info(
            "epoch %d/%d: loss %.4f, val %s %.4f, %.1f s", epoch + 1, config.epochs, record["loss"],
            monitor, record.get(f"val_{monitor}", float("nan")), record["seconds"],
        )
        score = record.get(f"val_{monitor}", -record["loss"])
        if score > state["best_score"]:
            state.update(best_score=score, best_epoch=epoch + 1, best_state=copy.deepcopy(model.state_dict()))
        elif epoch + 1 - state["best_epoch"] >= config.patience:
            log.info("early stop: no better validation %s for %d epochs", monitor, config.patience)
            state["stopped"] = True
        state["epoch"] = epoch + 1
        if checkpoint is not None and context.is_main:
            _save_checkpoint(checkpoint, fingerprint, model, optimiser, schedule, state)
    model.load_state_dict(state["best_state"])
    return TrainingResult(state_dict=state["best_state"], best_epoch=state["best_epoch"], history=state["history"])


def fingerprint(settings: dict, tensors: dict[str, torch.Tensor]) -> str:
    """A digest of what a training run depends on, so a checkpoint is only resumed by the same run.

    Settings that do not change the result (device, workers, the checkpoint's own path) are left out
    by the caller."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].contiguous().numpy().tobytes())
    return digest.hexdigest()


def _save_checkpoint(path: Path, fingerprint: str, model, optimiser, schedule, state: dict) -> None:
    payload = {
        "fingerprint": fingerprint, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
        "schedule": schedule.state_dict(), **state,
    }
    write_atomically(path, lambda tmp: torch.save(payload, tmp))


def _resume(path: Path, fingerprint: str, model, optimiser, schedule, fresh: dict) -> dict:
    if not path.exists():
        return fresh
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("fingerprint") != fingerprint:
        log.info("checkpoint %s is for other data or settings: training from scratch", path)
        return fresh
    model.load_state_dict(saved["model"])
    optimiser.load_state_dict(saved["optimiser"])
    schedule.load_state_dict(saved["schedule"])
    log.info("resuming from %s after epoch %d", path, saved["epoch"])
    return {key: saved[key] for key in fresh}

def recall_validator(
    features: dict[str, torch.Tensor],
    neighbours: torch.Tensor,
    weights: torch.Tensor,
    queries: EvaluationQueries,
    k: int = 10,
    device: str = "cpu",
) -> Callable[[PinSage], dict[str, float]]:
    """Validation as the report measures it: layer-wise embeddings of all items on the fixed
    neighbourhoods, ranked under the latest-item protocol."""

    def validate(model: PinSage) -> dict[str, float]:
        embeddings = embed_all_items(model, features, neighbours, weights, device=device)
        return evaluate(embedding_scorer(embeddings), queries, k)

    return validate
