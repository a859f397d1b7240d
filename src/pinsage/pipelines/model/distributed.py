"""Data-parallel training from the command line (torchrun) or from the `model` pipeline.

    torchrun --standalone --nproc_per_node=2 -m pinsage.pipelines.model.distributed --project-path .

Every rank loads the model pipeline's inputs (the newest versions) from the project's catalog and
trains its share; rank 0 saves `model_weights` and `training_history` through the catalog, or, when
the `model` pipeline launched it (`training.processes` > 1), writes them to `--output` for the node
to return.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

INPUTS = (
    "training_graph", "item_features", "feature_vocabulary", "item_neighbourhoods",
    "train_interactions", "val_interactions", "catalogue", "published_run",
)
PARAMETERS = ("neighbourhood", "pairs", "hard_negatives", "model", "training")


def launch(processes: int, params: dict) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Run torchrun with `processes` ranks from the project in the working directory (where `kedro
    run` runs) and return rank 0's result."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "result.pt"
        command = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            "-m", "pinsage.pipelines.model.distributed", "--project-path", os.getcwd(),
            "--output", str(output), "--params-json", json.dumps(params),
        ]
        subprocess.run(command, check=True)
        result = torch.load(output, map_location="cpu", weights_only=True)
    return result["state_dict"], result["history"]


def main() -> None:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from pinsage.distributed import context_from_environment
    from pinsage.pipelines.model.nodes import fit_pinsage

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project-path", default=".")
    parser.add_argument("--output", default=None, help="write rank 0's result here instead of the catalog")
    parser.add_argument("--params-json", default=None, help="parameters to use instead of the project's")
    parser.add_argument("--env", default=None, help="Kedro configuration environment")
    args = parser.parse_args()
    project = Path(args.project_path).resolve()
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=args.env) as session:
        context = session.load_context()
        catalog = context.catalog
        params = json.loads(args.params_json) if args.params_json else {k: context.params[k] for k in PARAMETERS}
        inputs = [catalog.load(name) for name in INPUTS]
        rank = context_from_environment(params["training"].get("device", "cpu"))
        state_dict, history = fit_pinsage(*inputs, *(params[k] for k in PARAMETERS), context=rank)
        if rank.is_main:
            if args.output:
                torch.save({"state_dict": state_dict, "history": history}, args.output)
            else:
                catalog.save("model_weights", state_dict)
                catalog.save("training_history", history)


if __name__ == "__main__":
    main()
