"""`pinsage serve` (also `kedro serve`): the similar-items service over what the promotion gate published.

Kedro glue: the published set is loaded through the project's catalog, at the versions the pointer
(`publish.pointer`) records, and loaded again whenever the pointer changes (a retraining run or
`embed_new_items` published). The service itself is `pinsage.serving.http`, which knows nothing of Kedro.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from pinsage.data.sources.batches import concat_batches
from pinsage.lifecycle.publishing import read_pointer, without_history
from pinsage.serving.reloading import PublishedSetHolder, ReloadFailure, publication_key
from pinsage.serving.similar_items import ServedSet, item_details, served_set

log = logging.getLogger("pinsage.serve")


class NothingToServe(ReloadFailure):
    """No publication, or one that cannot be loaded; the message says what to run."""


def loaded(what: str, version: str, load: Callable[[], Any]) -> Any:
    """`load()`, or NothingToServe naming `what` of run `version` (no path) and saying what to do."""
    try:
        return load()
    except Exception as err:
        log.error("loading %s%s failed: %s: %s", what, f" of run {version}" if version else "", type(err).__name__, err)
        cause = (
            "permission denied: the service's user cannot read the published files"
            if isinstance(err, PermissionError)
            else type(err).__name__
        )
        of_run = f" of the published run {version}" if version else ""
        raise NothingToServe(
            f"{what}{of_run} cannot be loaded ({cause}); run `kedro run --pipeline=train` to publish a complete "
            "run, or `kedro run --pipeline=rollback` to publish the previous one"
        ) from err


def published_set_holder(catalog, pointer: str, poll_seconds: float) -> PublishedSetHolder:
    """A holder loading the publication `pointer` names through `catalog`, checking it every `poll_seconds`."""

    def load() -> ServedSet:
        # Messages name the run and the artifact, never a file path: they are shown on /healthz. The log
        # (for whoever runs the service) has the whole error.
        run = loaded("the published pointer", "", lambda: catalog.load("published_run"))
        if run is None:
            raise NothingToServe(
                f"nothing is published at {pointer}: run `kedro run --pipeline=train` first (its promotion gate "
                "publishes the run)"
            )
        version = run.record["version"]
        catalogue = loaded("catalogue", version, lambda: run.load("catalogue"))
        details = item_details(catalogue, concat_batches(catalog.load("new_items"), ("item_id",)))
        embeddings = loaded("item_embeddings", version, lambda: run.load("item_embeddings"))
        index = loaded("embedding_index", version, lambda: run.load("embedding_index"))
        return loaded("the served set", version, lambda: served_set(run.record, embeddings, index, details))

    def current_key() -> str | None:
        record = read_pointer(pointer)
        return publication_key(without_history(record)) if record else None

    return PublishedSetHolder(load, current_key, poll_seconds)


def serve(project: Path, env: str | None, host: str | None, port: int | None) -> int:
    try:
        import uvicorn

        from pinsage.serving.http import create_app
    except ImportError:
        print("pinsage serve needs the serve extra: pip install -e '.[serve]'", file=sys.stderr)
        return 2
    project = project.resolve()
    if not (project / "pyproject.toml").is_file():
        print(f"{project} is not a Kedro project (no pyproject.toml); pass --project", file=sys.stderr)
        return 2
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        catalog = session.load_context().catalog
        config = catalog.load("params:serve")
        config = config.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v is not None})
        pointer = catalog.load("params:publish").pointer
        holder = published_set_holder(catalog, pointer, config.poll_seconds)
        try:
            served = holder.load_first()
        except NothingToServe as err:
            print(f"pinsage serve: {err}", file=sys.stderr)
            return 3
        log.info("serving run %s: %d items, index %s", served.version, len(served), type(served.index).__name__)
        uvicorn.run(create_app(holder, config), host=config.host, port=config.port, log_level="info")
    return 0


@click.group(name="pinsage")
def cli() -> None:
    """PinSage project commands (Kedro adds them to `kedro` too: `kedro serve`)."""


@cli.command(name="serve")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=Path.cwd(), help="the project")
@click.option("--env", default=None, help="Kedro configuration environment (default: local)")
@click.option("--host", default=None, help="listen address (default: serve.host)")
@click.option("--port", type=int, default=None, help="TCP port (default: serve.port)")
def serve_command(project: Path, env: str | None, host: str | None, port: int | None) -> None:
    """Serve similar items from the published run over HTTP, reloading when a new run is published."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(serve(project, env, host, port))


main = cli  # the `pinsage` console script
