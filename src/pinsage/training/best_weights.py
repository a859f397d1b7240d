"""The best epoch's weights, kept in a file instead of beside the model in memory.

Training returns the best epoch's weights, not the last one's, so they must outlive the epochs after
them. A copy in memory costs as much as the model: at 10M items the ID table alone is 2.3 GB, and with
per-epoch validation that copy was one of the things that kept training from fitting in 24 GB. A file
costs one write per better epoch (seconds at that size, beside the checkpoint's).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn

from pinsage.atomic import write_atomically


class BestWeights:
    """Files `<checkpoint stem>.best-epoch-<n><suffix>` beside the checkpoint, or in a temporary folder
    when there is none (removed with this object).

    A file is only removed once a checkpoint naming a later best epoch has been written (`forget_all_but`
    after `save_checkpoint`), so a run killed at any point resumes with the file its checkpoint names.
    """

    def __init__(self, checkpoint: Path | None):
        self._temporary = None if checkpoint else tempfile.TemporaryDirectory(prefix="pinsage-best-weights-")
        self._checkpoint = checkpoint or Path(self._temporary.name) / "training.pt"

    def path(self, epoch: int) -> Path:
        c = self._checkpoint
        return c.with_name(f"{c.stem}.best-epoch-{epoch}{c.suffix}")

    def keep(self, model: nn.Module, epoch: int) -> None:
        write_atomically(self.path(epoch), lambda tmp: torch.save(model.state_dict(), tmp))

    def forget_all_but(self, epoch: int) -> None:
        c = self._checkpoint
        for path in c.parent.glob(f"{c.stem}.best-epoch-*{c.suffix}"):
            if path != self.path(epoch):
                path.unlink(missing_ok=True)

    def require(self, epoch: int) -> Path:
        """The file of epoch `epoch`; a resumed checkpoint whose best weights were deleted fails here, before
        any training, rather than after it."""
        path = self.path(epoch)
        if not path.exists():
            raise FileNotFoundError(
                f"the weights of best epoch {epoch} ({path}) are missing beside the checkpoint {self._checkpoint}: "
                "delete the checkpoint to train from scratch"
            )
        return path

    def load_into(self, model: nn.Module, epoch: int) -> None:
        """Copy epoch `epoch`'s weights into `model` (read through a memory map: no second copy in memory)."""
        model.load_state_dict(torch.load(str(self.require(epoch)), map_location="cpu", weights_only=True, mmap=True))
