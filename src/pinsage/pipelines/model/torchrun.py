"""A torchrun rank of data-parallel training, started by the `model` node or from the command line.

From the node (`training.processes` > 1, see `launch`): the node's own inputs arrive as a file.

From the command line, after the pipelines before `model` have run:

    torchrun --standalone --nproc_per_node=2 -m pinsage.pipelines.model.torchrun --project-path . [--env ENV]

every rank loads the newest versions of the `model` node's inputs from the project's catalog (in
environment ENV), by the node's own input names, and rank 0 saves `model_weights`, `training_history`
and `trained_with` through it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from pinsage.jobs.train import TrainingInputs, TrainSettings, fit
from pinsage.pipelines.model.launch import read_handover, write_result
from pinsage.pipelines.model.nodes import assemble_training
from pinsage.training.distributed import context_from_environment, leave_process_group


def _from_catalog(catalog, pipelines) -> tuple[TrainingInputs, TrainSettings]:
    """What the `model` node would receive, loaded from the catalog by the node's own input names."""
    (node,) = pipelines["model"].nodes
    return assemble_training(*(catalog.load(name) for name in node.inputs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project-path", default=".", help="the Kedro project (command-line use)")
    parser.add_argument("--env", default=None, help="Kedro configuration environment (command-line use)")
    parser.add_argument("--inputs", default=None, help="inputs handed over by the model node")
    parser.add_argument("--output", default=None, help="where rank 0 writes its result for the model node")
    args = parser.parse_args()
    catalog = None
    if args.inputs:
        inputs, settings = read_handover(args.inputs)
    else:
        project = Path(args.project_path).resolve()
        bootstrap_project(project)
        catalog = KedroSession.create(project_path=project, env=args.env).load_context().catalog
        inputs, settings = _from_catalog(catalog, pipelines)
    rank = context_from_environment(settings.training.device)
    result = fit(inputs, settings, rank)
    if rank.is_main:
        if catalog is None:
            write_result(result, args.output)
        else:
            catalog.save("model_weights", result.state_dict)
            catalog.save("training_history", result.history)
            catalog.save("trained_with", result.trained_with.model_dump(mode="json"))
    leave_process_group(rank)


if __name__ == "__main__":
    main()
