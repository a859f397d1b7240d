"""A per-epoch checkpoint, resumed only by the same run (same data and settings, by fingerprint)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import torch

from pinsage.atomic import write_atomically

log = logging.getLogger(__name__)


def fingerprint(settings: dict, tensors: dict[str, torch.Tensor]) -> str:
    """A digest of what a training run depends on, so a checkpoint is only resumed by the same run.

    Settings that do not change the result (device, workers, the checkpoint's own path) are left out
    by the caller."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(path: Path, fingerprint: str, model, optimiser, state: dict) -> None:
    """`optimiser` is a `TrainingOptimiser`: its state includes the learning-rate schedules."""
    payload = {"fingerprint": fingerprint, "model": model.state_dict(), "optimiser": optimiser.state_dict(), **state}
    write_atomically(path, lambda tmp: torch.save(payload, tmp))


def resume(path: Path, fingerprint: str, model, optimiser, fresh: dict) -> dict:
    if not path.exists():
        return fresh
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("fingerprint") != fingerprint:
        log.info("checkpoint %s is for other data or settings: training from scratch", path)
        return fresh
    model.load_state_dict(saved["model"])
    optimiser.load_state_dict(saved["optimiser"])
    log.info("resuming from %s after epoch %d", path, saved["epoch"])
    return {key: saved[key] for key in fresh}
