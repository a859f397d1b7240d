"""Serving the newest publication without downtime: load it beside the one being served, then swap.

The service holds one `ServedSet` at a time behind a single reference. A watcher thread polls the
publication (the promotion gate's pointer) and, when it changes, loads the new set completely while the
old one keeps answering, then replaces the reference in one assignment. A request reads the reference
once and answers from that set alone, so no answer mixes two publications. A load that fails leaves the
old set serving and is reported (`status`, the log) until a later publication loads.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from pinsage.serving.similar_items import ServedSet

log = logging.getLogger(__name__)


class ReloadFailure(RuntimeError):
    """A load that failed, said in words fit for `/healthz` (the run and the artifact, no file paths)."""


def publication_key(record: dict | None) -> str | None:
    """What identifies a publication: its whole record (without the earlier publications it remembers)."""
    return None if record is None else json.dumps(record, sort_keys=True)


class PublishedSetHolder:
    """The set being served, and the watcher that replaces it when the publication changes.

    `load` loads the set of the publication current when it is called; `current_key` says which
    publication is current (`publication_key` of the pointer's record), cheaply, for polling.
    """

    def __init__(self, load: Callable[[], ServedSet], current_key: Callable[[], str | None], poll_seconds: float):
        self._load = load
        self._current_key = current_key
        self._poll_seconds = poll_seconds
        self._served: ServedSet | None = None
        self._failed_key: str | None = None
        self.last_error: str | None = None
        self.loaded_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def served(self) -> ServedSet | None:
        """The set to answer from; read it once per answer."""
        return self._served

    def load_first(self) -> ServedSet:
        """Load the current publication; its errors propagate, so a service without one does not start."""
        self._swap(self._load())
        return self._served

    def check(self) -> bool:
        """Load and swap in the current publication if it is not the one served; True if swapped."""
        key = self._current_key()
        served = self._served
        if key is None or key == self._failed_key:
            return False
        if served is not None and key == publication_key(served.publication):
            # The served publication is current again (a broken pointer was put back): nothing is wrong now.
            self._failed_key, self.last_error = None, None
            return False
        started = time.perf_counter()
        try:
            fresh = self._load()
        except Exception as err:  # noqa: BLE001 - any failure keeps the old set serving, and is reported
            self._failed_key = key
            # The loader's message names the run and the artifact; a bare exception's text may hold paths.
            cause = str(err) if isinstance(err, ReloadFailure) else type(err).__name__
            self.last_error = f"loading the new publication failed ({cause})"
            log.error("%s; still serving run %s", self.last_error, served.version if served is not None else "(none)")
            return False
        self._swap(fresh)
        log.info(
            "reloaded in %.2f s: now serving run %s (%d items), was run %s",
            time.perf_counter() - started,
            fresh.version,
            len(fresh),
            served.version if served is not None else "(none)",
        )
        return True

    def start(self) -> None:
        """Poll for new publications every `poll_seconds` in a daemon thread, until `stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="publication-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def status(self) -> dict:
        served = self._served
        return {
            "ready": served is not None,
            "serving": served.version if served is not None else None,
            "last_reload_error": self.last_error,
        }

    def _swap(self, fresh: ServedSet) -> None:
        self._served = fresh  # one reference assignment: atomic for every reader
        self._failed_key = None
        self.last_error = None
        self.loaded_at = time.time()

    def _watch(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            try:
                self.check()
            except Exception as err:  # noqa: BLE001 - reading the pointer failed; the watcher must outlive it
                self.last_error = f"reading the publication failed ({type(err).__name__})"
                log.exception("checking for a new publication failed; still serving the current one")
