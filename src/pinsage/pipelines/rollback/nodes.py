"""Putting the previous publication back, after a published model turned out bad in production."""

from __future__ import annotations

import logging

from pinsage.lifecycle.publishing import PublishConfig, roll_back

log = logging.getLogger(__name__)


def roll_back_publication(publish: PublishConfig) -> None:
    """Rewrite the pointer (atomically) to the publication before the current one."""
    restored = roll_back(publish.pointer)
    log.info(
        "rolled back from run %s to run %s (val %s %.4f); %d earlier publications remain restorable",
        restored["rolled_back_from"], restored["version"], restored["metric"], restored["value"],
        len(restored["previous"]),
    )  # fmt: skip
