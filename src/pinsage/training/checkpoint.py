"""A per-epoch checkpoint, resumed only by the same run (same data, settings and code, by fingerprint)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch

from pinsage.atomic import write_atomically

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parents[1]


def code_digest(package: Path = PACKAGE) -> str:
    """A digest of every source file of the package (paths and contents).

    A run killed before a deploy and retried after it has the same data and settings but other code:
    resuming the old code's weights would publish a model no single version of the code trained. Any
    change to the package counts, not only to training: which modules shape the weights (sampling,
    features, the model, the loop) is too easy to get wrong, and the cost is one retraining."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(settings: dict, arrays: dict[str, torch.Tensor | np.ndarray]) -> str:
    """A digest of what a training run depends on, so a checkpoint is only resumed by the same run.

    Settings that do not change the result (device, workers, the checkpoint's own path) are left out
    by the caller; the package's code and torch's version are always in. Arrays are hashed in place
    (a copy of 90M interactions' columns would cost gigabytes at 10M items), with their type and shape."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(code_digest().encode())
    digest.update(torch.__version__.encode())
    for name in sorted(arrays):
        array = arrays[name]
        values = np.ascontiguousarray(array.numpy() if isinstance(array, torch.Tensor) else array)
        digest.update(f"{name} {values.dtype} {values.shape}".encode())
        digest.update(values.reshape(-1).view(np.uint8))
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
        log.info("checkpoint %s is for other data, settings or code: training from scratch", path)
        return fresh
    model.load_state_dict(saved["model"])
    optimiser.load_state_dict(saved["optimiser"])
    log.info("resuming from %s after epoch %d", path, saved["epoch"])
    return {key: saved[key] for key in fresh}
