"""A GPU check, ready for the day a GPU is lent: training pairs/s and layer-wise inference items/s on a
device, in bf16 and fp32, and the device's losses against the CPU's on the same batches.

    # where DGL runs (CPU): sample one epoch of pairs, neighbourhoods and hard negatives, save plain tensors
    .venv/bin/python benchmarks/gpu_check.py prepare --out gpu_check.pt --source ml-100k --path ../shared/data/ml-100k
    # on the GPU machine: plain PyTorch only, DGL not needed (its torch may be one DGL cannot load)
    python benchmarks/gpu_check.py run --batches gpu_check.pt --device cuda

`run` trains the saved model from the same starting weights on the saved epoch (the project's own
training loop and minibatch producer) on the CPU in fp32 and on the device in fp32 and bf16, and embeds
every item layer-wise on each; it prints pairs/s, items/s, each device loss's relative difference to the
CPU's over the same steps, and the largest embedding difference. `--smoke` does both steps on a tiny
synthetic world with `--device cpu` (the test suite runs it, so it cannot rot).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402

from pinsage.model.inference import embed_all_items  # noqa: E402
from pinsage.model.pinsage import ModelConfig, PinSage  # noqa: E402
from pinsage.training.config import TrainConfig  # noqa: E402
from pinsage.training.loop import train_loop  # noqa: E402


def prepare(out: str, source: str, path: str | None, batches: int, smoke: bool) -> None:
    """Sample epoch 2 (the first with hard negatives) with the default settings and save it as tensors."""
    from pinsage.data.features import feature_sizes
    from pinsage.data.sources.registry import DataConfig, load_source
    from pinsage.data.sources.synthetic import SyntheticWorld
    from pinsage.graph.config import HardNegativeConfig, NeighbourConfig, PairConfig
    from pinsage.graph.sampling import EpochSampler
    from pinsage.jobs.prepare import prepare as prepare_data

    synthetic = SyntheticWorld(n_pins=400, n_boards=300, n_topics=10) if smoke else SyntheticWorld()
    neighbourhood = NeighbourConfig(inference_random_walks=10) if smoke else NeighbourConfig()
    data = prepare_data(
        load_source(DataConfig(source=source, path=path, synthetic=synthetic)), neighbourhood=neighbourhood
    )
    training = TrainConfig(epochs=1, batches_per_epoch=batches, checkpoint_path=None, validate_each_epoch=False)
    if smoke:
        training = training.model_copy(update={"batch_size": 32, "num_negatives": 20})
    inputs = data.inputs
    fixed = (inputs.neighbourhoods["neighbours"], inputs.neighbourhoods["weights"])
    sampler = EpochSampler(
        inputs.graph,
        neighbourhood,
        PairConfig(),
        training.batches_per_epoch * training.batch_size,
        training.seed,
        fixed,
        HardNegativeConfig(),
        interactions=inputs.train_interactions,
    )
    sizes = feature_sizes(inputs.features, inputs.vocabulary)
    torch.manual_seed(0)
    model = PinSage(sizes, ModelConfig())
    torch.save(
        {
            "sample": sampler(1),
            "features": inputs.features,
            "neighbourhoods": inputs.neighbourhoods,
            "sizes": sizes,
            "model": ModelConfig().model_dump(),
            "training": training.model_dump(),
            "state": model.state_dict(),
        },
        out,
    )
    print(f"saved {batches} batches of {training.batch_size} pairs over {len(inputs.catalogue)} items to {out}")


def train_on(saved: dict, device: str, precision: str, steps: int | None = None) -> tuple[float, float]:
    """(mean loss, pairs/s) of one pass over the saved epoch (or its first `steps` batches)."""
    config = TrainConfig.model_validate(saved["training"]).model_copy(update={"device": device, "precision": precision})
    if steps is not None:
        config = config.model_copy(update={"batches_per_epoch": steps})
    model = PinSage(saved["sizes"], ModelConfig.model_validate(saved["model"]))
    model.load_state_dict(saved["state"])
    history = train_loop(model, saved["features"], lambda epoch, rank: saved["sample"], config).history[0]
    return history["loss"], config.batches_per_epoch * config.batch_size / history["seconds"]


def embed_on(saved: dict, device: str, precision: str) -> tuple[torch.Tensor, float]:
    """(embeddings, items/s) of layer-wise inference over every item."""
    model = PinSage(saved["sizes"], ModelConfig.model_validate(saved["model"])).to(device)
    model.load_state_dict(saved["state"])
    n = saved["neighbourhoods"]
    autocast = torch.device(device).type == "cuda" and precision == "bf16"
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    with torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16, enabled=autocast):
        embeddings = embed_all_items(model, saved["features"], n["neighbours"], n["weights"], device=device)
    return embeddings.float(), len(embeddings) / (time.perf_counter() - started)


def run(batches: str, device: str, steps: int) -> None:
    # Files this script wrote itself (EpochSample is a dataclass, so not weights-only).
    saved = torch.load(batches, weights_only=False)
    cpu_loss, _ = train_on(saved, "cpu", "fp32", steps)
    reference, _ = embed_on(saved, "cpu", "fp32")
    print(f"device {device}; CPU fp32 loss over the first {steps} batches: {cpu_loss:.5f}")
    print(f"{'precision':<10}{'pairs/s':>10}{'items/s':>12}{'loss vs CPU':>13}{'max |Δ embedding|':>19}")
    for precision in ("fp32", "bf16"):
        loss, _ = train_on(saved, device, precision, steps)
        _, pairs_per_s = train_on(saved, device, precision)
        embeddings, items_per_s = embed_on(saved, device, precision)
        print(
            f"{precision:<10}{pairs_per_s:>10,.0f}{items_per_s:>12,.0f}{abs(loss - cpu_loss) / cpu_loss:>13.2e}"
            f"{(embeddings - reference).abs().max().item():>19.2e}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", choices=["prepare", "run"])
    parser.add_argument("--out", default="gpu_check.pt")
    parser.add_argument("--batches", default="gpu_check.pt", help="run: the file `prepare` wrote")
    parser.add_argument("--source", default="synthetic")
    parser.add_argument("--path", default=None)
    parser.add_argument("--n-batches", type=int, default=100, help="prepare: minibatches saved")
    parser.add_argument("--steps", type=int, default=5, help="run: batches whose loss is compared with the CPU's")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--smoke", action="store_true", help="prepare and run a tiny world on the CPU")
    args = parser.parse_args()
    if args.smoke:
        prepare(args.out, "synthetic", None, 4, smoke=True)
        step = [__file__, "run", "--batches", args.out, "--device", "cpu", "--steps", "2"]
        subprocess.run([sys.executable, *step], check=True)
    elif args.step == "prepare":
        prepare(args.out, args.source, args.path, args.n_batches, smoke=False)
    elif args.step == "run":
        # What a GPU machine without DGL has: importing it here fails, so the run step can never need it.
        sys.modules["dgl"] = None
        run(args.batches, args.device, args.steps)
    else:
        parser.error("choose a step: prepare or run (or --smoke)")


if __name__ == "__main__":
    main()
