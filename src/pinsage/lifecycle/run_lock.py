"""One run at a time in a project folder.

Kedro loads the newest version of every input, so two overlapping runs in one folder read each other's
outputs and can publish a mixed set (one run's model with another's metric or index), and one run's
retention can delete the other's in-flight versions. The lock is an OS file lock (flock): the kernel
releases it when its process ends, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class RunsConfig(BaseModel):
    """The `runs` parameters."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    lock: str = Field("data/.run.lock", description="lock file: one run at a time writes in this project's data")


class RunLockHeld(RuntimeError):
    """Another run holds the lock; the message names it."""


class RunLock:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = None

    def acquire(self, run_id: str) -> None:
        """Take the lock at once, or raise RunLockHeld naming the run that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the run's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise RunLockHeld(f"another run ({_describe(holder)}) holds {self.path}: wait for it to end") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "run": run_id, "since": time.strftime("%Y-%m-%dT%H:%M:%S")}))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is None:
            return
        self._file.seek(0)
        self._file.truncate()
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None


def _describe(holder: str) -> str:
    try:
        record = json.loads(holder)
    except json.JSONDecodeError:
        return "unknown"
    return f"pid {record['pid']}, run {record['run']}, since {record['since']}"
