"""The `training` parameters: the loop, its loss, its schedule, and where it runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    epochs: int = Field(25, ge=1)
    batches_per_epoch: int = Field(300, ge=1)
    batch_size: int = Field(256, ge=2)
    num_negatives: int = Field(500, ge=1, description="easy negatives shared by a minibatch")
    loss: Literal["softmax", "max_margin"] = "softmax"
    temperature: float = Field(0.05, gt=0, description="softmax: logits are cosines / temperature")
    margin: float = Field(0.1, ge=0, description="max_margin: required gap between positive and negative")
    logq_correction: bool = Field(True, description="softmax: subtract log sampling probability")
    lr: float = Field(0.01, gt=0)
    weight_decay: float = Field(0.01, ge=0, description="AdamW's, on the dense weights")
    sparse_updates: bool = Field(
        True,
        description="update only the embedding-table rows a batch used (row-wise Adam, no weight decay there), "
        "so a step costs the same at any catalogue size",
    )
    warmup_epochs: float = Field(1.0, ge=0, description="linear warm-up length, in epochs")
    lr_decay: float = Field(0.9, gt=0, le=1, description="learning-rate factor per epoch after warm-up")
    grad_clip: float = Field(5.0, gt=0)
    patience: int = Field(10, ge=1, description="epochs without a better validation score before stopping")
    validate_each_epoch: bool = Field(
        True, description="validate after every epoch, for early stopping and the best epoch (off: lowest loss)"
    )
    num_workers: int = Field(0, ge=0, description="CPU producer processes (0 = in the training process)")
    processes: int = Field(1, ge=1, description="data-parallel training processes, launched with torchrun")
    device: str = "cpu"
    precision: Literal["bf16", "fp32"] = Field(
        "bf16", description="on CUDA: bf16 autocast (halves memory traffic) or plain fp32; CPU always runs fp32"
    )
    seed: int = 0
    checkpoint_path: str | None = Field(
        None, description="file keeping the last finished epoch, so a killed run resumes from there"
    )
    warm_start: bool = Field(False, description="start from the published model's weights where they apply")
    warm_start_lr_scale: float = Field(
        0.1, gt=0, le=1, description="learning-rate factor when warm-started: fine-tune, do not retrain"
    )
