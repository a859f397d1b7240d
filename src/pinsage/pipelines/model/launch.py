"""Starting data-parallel training from the `model` node: its inputs and settings go to torchrun's ranks
as a file, so every rank trains on exactly what the node received, and rank 0's result comes back."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from pinsage.jobs.train import TrainingInputs, TrainingResult, TrainSettings
from pinsage.model.trained_with import TrainedWith

RANK_MODULE = "pinsage.pipelines.model.torchrun"


def launch(inputs: TrainingInputs, settings: TrainSettings) -> TrainingResult:
    """Run `fit` on `settings.training.processes` ranks with torchrun; rank 0's result."""
    with tempfile.TemporaryDirectory() as folder:
        handover, output = Path(folder) / "inputs.pt", Path(folder) / "result.pt"
        torch.save({"inputs": inputs, "settings": settings.model_dump(mode="json")}, handover)
        command = [
            sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={settings.training.processes}", "-m", RANK_MODULE,
            "--inputs", str(handover), "--output", str(output),
        ]  # fmt: skip
        subprocess.run(command, check=True)
        saved = torch.load(output, map_location="cpu", weights_only=True)
    return TrainingResult(
        saved["state_dict"], saved["history"], saved["best_epoch"], TrainedWith.model_validate(saved["trained_with"])
    )


def read_handover(path: str) -> tuple[TrainingInputs, TrainSettings]:
    # `launch` wrote this file a moment ago in a private temporary folder: it holds a DGL graph and
    # data frames, so it is unpickled in full (never do this with a file from elsewhere).
    saved = torch.load(path, map_location="cpu", weights_only=False)
    return saved["inputs"], TrainSettings.model_validate(saved["settings"])


def write_result(result: TrainingResult, path: str) -> None:
    """Rank 0's result as tensors and plain values, so `launch` loads it with `weights_only=True`."""
    torch.save(
        {
            "state_dict": result.state_dict, "history": result.history, "best_epoch": result.best_epoch,
            "trained_with": result.trained_with.model_dump(mode="json"),
        },
        path,
    )  # fmt: skip
