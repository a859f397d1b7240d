"""The training loop: get batch → forward → loss → backward → step → log, and validation per epoch.

The loop is plain PyTorch and never imports DGL: epochs arrive as `EpochSample`s from a sampler
callable (the DGL random walks live in `pinsage.graph.sampling`), and validation is a callable too.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from pinsage.graph.epoch import EpochSample
from pinsage.model.pinsage import PinSage
from pinsage.seeding import derive_seed
from pinsage.training.best_weights import BestWeights
from pinsage.training.checkpoint import resume, save_checkpoint
from pinsage.training.config import TrainConfig
from pinsage.training.distributed import DistributedContext, broadcast_from_main, gather_epoch, mean_across, wrap
from pinsage.training.loss import batch_loss
from pinsage.training.minibatch import MinibatchProducer
from pinsage.training.optimiser import TrainingOptimiser

log = logging.getLogger(__name__)


class TrainingDiverged(RuntimeError):
    """A non-finite loss or gradient: one more step would make every weight NaN, and the model useless."""


def divergence_message(
    epoch: int, step: int, loss: torch.Tensor, gradient_norm: torch.Tensor, features: dict[str, torch.Tensor]
) -> str:
    broken = [name for name, t in features.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    cause = (
        f"non-finite values in feature {', '.join(map(repr, broken))}: check the input data"
        if broken
        else "every input feature is finite, so the optimisation diverged: lower training.lr"
    )
    return (
        f"epoch {epoch + 1}, batch {step + 1}: the loss is {loss.item():.4g} and the gradient norm "
        f"{gradient_norm.item():.4g}; {cause}. Training stopped; nothing of this run is published."
    )


@dataclass
class LoopResult:
    state_dict: dict[str, torch.Tensor]  # the best epoch's weights
    best_epoch: int
    history: list[dict] = field(default_factory=list)


def learning_rate_factor(step: int, warmup_steps: int, steps_per_epoch: int, decay: float) -> float:
    """Linear warm-up from 1/warmup_steps to 1, then exponential decay per epoch."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return decay ** ((step - warmup_steps) / steps_per_epoch)


def train_loop(
    model: PinSage,
    features: dict[str, torch.Tensor],
    sample_epoch: Callable[[int, int], EpochSample],
    config: TrainConfig,
    validate: Callable[[PinSage], dict[str, float]] | None = None,
    monitor: str = "hits@10",
    fingerprint: str = "",
    context: DistributedContext = DistributedContext(),
    start_is_candidate: bool = False,
) -> LoopResult:
    """Train `model` in place and return the best epoch's weights (by `validate()[monitor]`).

    With `start_is_candidate` (a warm start), the starting weights are validated first and kept if no
    epoch beats them (best epoch 0), so fine-tuning can never hand back a worse model than it began with.

    With `config.checkpoint_path`, each finished epoch is saved, and a later call with the same
    `fingerprint` (a digest of the data, configuration and code) resumes after the last saved epoch. Every
    epoch's sampling and every minibatch are seeded by (seed, epoch, batch), so on CPU a resumed run
    ends with exactly the weights of an uninterrupted one.

    `sample_epoch(epoch, rank)` gives rank `rank`'s share of the epoch. With several processes
    (`context`), each samples and computes its share of every global batch; the learning rate follows
    the linear scaling rule (lr × number of processes) with the same warm-up.
    """
    torch.manual_seed(config.seed)
    device = torch.device(config.device)
    model.to(device)
    steps = config.batches_per_epoch
    warmup = max(1, round(config.warmup_epochs * steps))
    # NCCL cannot all-reduce sparse gradients: data-parallel CUDA training updates the tables densely.
    optimiser = TrainingOptimiser(
        model,
        lr=config.lr * context.world_size,
        weight_decay=config.weight_decay,
        lr_factor=lambda s: learning_rate_factor(s, warmup, steps, config.lr_decay),
        sparse=config.sparse_updates and not (context.active and device.type == "cuda"),
    )
    network = wrap(model, context, device)
    state = {"epoch": 0, "best_score": -math.inf, "best_epoch": -1, "history": [], "stopped": False}
    checkpoint = Path(config.checkpoint_path) if config.checkpoint_path else None
    if checkpoint is not None:
        state = resume(checkpoint, fingerprint, model, optimiser, state)
    # On disk, not in memory (only the main process writes them; the others' results are not used).
    best = BestWeights(checkpoint)
    if context.is_main and state["best_epoch"] >= 0:
        best.require(state["best_epoch"])
    if start_is_candidate and validate is not None and state["epoch"] == 0:
        score = broadcast_from_main(validate(model)[monitor] if context.is_main else None, context)
        log.info("starting weights: val %s %.4f", monitor, score)
        state.update(best_score=score, best_epoch=0)
        if context.is_main:
            best.keep(model, 0)
    for epoch in range(state["epoch"], config.epochs):
        if state["stopped"]:
            break
        started = time.perf_counter()
        # Each rank walks its own share of the epoch; the ranks then exchange the sampled ids, so all
        # slice the same global batches and run the same number of steps.
        sample = gather_epoch(sample_epoch(epoch, context.rank), context, config.batch_size)
        sampled = time.perf_counter()
        producer = MinibatchProducer(sample, features, config, model.config.n_layers, epoch, context)
        loader = torch.utils.data.DataLoader(
            producer,
            batch_size=None,
            shuffle=False,
            num_workers=config.num_workers,
            pin_memory=device.type == "cuda",
            prefetch_factor=4 if config.num_workers else None,
        )
        model.train()
        # The model's own randomness (ID dropout) is seeded per epoch, so a resumed run matches an
        # uninterrupted one, and differs across ranks, so each drops different items.
        torch.manual_seed(derive_seed(config.seed, epoch, context.rank))
        total, count = 0.0, 0
        progress = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False, mininterval=1.0)
        for step, batch in enumerate(progress):
            # bf16 autocast on CUDA halves memory traffic; on CPU nothing changes.
            autocast = device.type == "cuda" and config.precision == "bf16"
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=autocast):
                loss = batch_loss(network, batch.to(device), config, context)
            optimiser.zero_grad()
            loss.backward()
            # The norm is of the all-reduced gradients, the same on every rank, so all ranks stop together.
            gradient_norm = optimiser.clip_gradients(config.grad_clip)
            if not (torch.isfinite(loss) and torch.isfinite(gradient_norm)):
                raise TrainingDiverged(divergence_message(epoch, step, loss, gradient_norm, batch.features))
            optimiser.step()
            total, count = total + loss.item(), count + 1
            progress.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        loss_mean = mean_across(total / max(count, 1), context)
        record = {
            "epoch": epoch + 1,
            "loss": loss_mean,
            "seconds": time.perf_counter() - started,  # sampling and training, not validation
            "sample_seconds": sampled - started,
        }
        if validate is not None and context.is_main:
            record.update({f"val_{k}": v for k, v in validate(model).items()})
        record = broadcast_from_main(record, context)
        state["history"].append(record)
        log.info(
            "epoch %d/%d: loss %.4f, val %s %.4f, %.1f s",
            epoch + 1,
            config.epochs,
            record["loss"],
            monitor,
            record.get(f"val_{monitor}", float("nan")),
            record["seconds"],
        )
        score = record.get(f"val_{monitor}", -record["loss"])
        if state["best_epoch"] < 0 or score > state["best_score"]:
            if context.is_main:
                best.keep(model, epoch + 1)
            state.update(best_score=score, best_epoch=epoch + 1)
        elif epoch + 1 - state["best_epoch"] >= config.patience:
            log.info("early stop: no better validation %s for %d epochs", monitor, config.patience)
            state["stopped"] = True
        state["epoch"] = epoch + 1
        if context.is_main:
            if checkpoint is not None:
                save_checkpoint(checkpoint, fingerprint, model, optimiser, state)
            best.forget_all_but(state["best_epoch"])
    optimiser.clear_state()  # the moments (a table's size) are not needed while the best weights are read back
    # The model holds the last epoch's weights: read back only when an earlier epoch was better.
    if context.is_main and state["best_epoch"] != state["epoch"]:
        best.load_into(model, state["best_epoch"])
    return LoopResult(state_dict=model.state_dict(), best_epoch=state["best_epoch"], history=state["history"])
