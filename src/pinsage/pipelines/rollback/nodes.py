"""Putting the previous publication back, after a published model turned out bad in production."""

from __future__ import annotations

import logging

from pinsage.lifecycle.lineage import inconsistencies, lineage_folder
from pinsage.lifecycle.publishing import PublishConfig, PublishedRun, roll_back

log = logging.getLogger(__name__)


def roll_back_publication(published_run: PublishedRun | None, publish: PublishConfig) -> None:
    """Rewrite the pointer (atomically) to the publication before the current one, once every artifact it
    serves has loaded and they are all one run's; otherwise refuse, and the current publication stays."""
    earlier = {run.record["version"]: run for run in (published_run.previous if published_run else ())}

    def problems(record: dict) -> list[str]:
        run = earlier[record["version"]]
        found = []
        for name, version in sorted(record["artifacts"].items()):
            try:
                run.load(name)
            except Exception as err:  # noqa: BLE001 - any failure to load makes the set unservable: reported
                found.append(f"{name} of run {version} does not load ({type(err).__name__}: {err})")
        return found + inconsistencies(lineage_folder(publish.pointer), record["artifacts"], record["artifacts"])

    restored = roll_back(publish.pointer, problems)
    log.info(
        "rolled back from run %s to run %s (val %s %.4f); %d earlier publications remain restorable, %d withdrawn",
        restored["rolled_back_from"], restored["version"], restored["metric"], restored["value"],
        len(restored["previous"]), len(restored["withdrawn"]),
    )  # fmt: skip
