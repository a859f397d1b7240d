"""Concurrent requests' index searches, run together as one faiss call.

faiss answers a batch of queries far faster than the same queries one at a time: an exact index scores
them all in one matrix product over the catalogue instead of one pass each, and an IVF index scans each
list once for all the queries that probe it. One call at a time also keeps every request's OpenMP threads
from competing for the same cores (measured in `benchmarks/serve.py`). No request waits for a timer: the
searcher takes whatever arrived while the previous search ran, so a lone request is searched at once.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

import faiss
import numpy as np


@dataclass
class _Search:
    index: faiss.Index
    vectors: np.ndarray
    k: int
    done: threading.Event = field(default_factory=threading.Event)
    scores: np.ndarray | None = None
    found: np.ndarray | None = None
    error: BaseException | None = None


class BatchingSearcher:
    """`search(index, vectors, k)` as `index.search` would answer it, batched with concurrent callers'."""

    def __init__(self, max_queries: int = 512):
        self._max_queries = max_queries
        self._waiting: queue.SimpleQueue[_Search] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._serve, name="batching-searcher", daemon=True)
        self._worker.start()

    def search(self, index: faiss.Index, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        request = _Search(index, np.ascontiguousarray(vectors, dtype=np.float32), k)
        self._waiting.put(request)
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.scores, request.found

    def _serve(self) -> None:
        while True:
            batch = [self._waiting.get()]
            queries = len(batch[0].vectors)
            while queries < self._max_queries:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
                queries += len(batch[-1].vectors)
            # Requests answered from different indexes (a reload in between) are searched apart.
            for index in {id(r.index): r.index for r in batch}.values():
                self._search_together([r for r in batch if r.index is index])

    @staticmethod
    def _search_together(requests: list[_Search]) -> None:
        try:
            k = max(r.k for r in requests)
            scores, found = requests[0].index.search(np.concatenate([r.vectors for r in requests]), k)
            start = 0
            for r in requests:
                stop = start + len(r.vectors)
                r.scores, r.found = scores[start:stop, : r.k], found[start:stop, : r.k]
                start = stop
        except BaseException as err:  # noqa: BLE001 - handed to every waiting caller, who raises it
            for r in requests:
                r.error = err
        finally:
            for r in requests:
                r.done.set()
