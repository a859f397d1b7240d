"""Reloading without downtime: a new publication is loaded beside the served one and swapped in whole; a
failed load keeps the old one serving and says so."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from pinsage.serving.index import build_inner_product_index
from pinsage.serving.reloading import PublishedSetHolder, ReloadFailure, publication_key
from pinsage.serving.similar_items import ServedSet, item_details, served_set


def publication(version: str) -> dict:
    return {"version": version, "metric": "hits@10", "value": 0.2, "artifacts": {}, "dataset": {}}


def tagged_set(version: str, n_items: int = 50, seed: int = 0) -> ServedSet:
    """A set whose every title names its version, so an answer mixing two sets shows."""
    vectors = np.random.default_rng(seed).normal(size=(n_items, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"i{i}" for i in range(n_items)]
    table = pd.DataFrame({"item": range(n_items), "item_id": ids, "embedding": list(vectors)})
    details = pd.DataFrame({"item_id": ids, "title": [f"{version}:{i}" for i in ids], "categories": ""})
    return served_set(publication(version), table, build_inner_product_index(vectors), item_details(details))


class Publications:
    """A pointer stand-in: which version is published, and how loading it goes."""

    def __init__(self, version: str):
        self.version = version
        self.broken: set[str] = set()
        self.loads = 0

    def key(self) -> str:
        return publication_key(publication(self.version))

    def load(self) -> ServedSet:
        self.loads += 1
        if self.version in self.broken:
            raise ReloadFailure(f"embedding_index of {self.version} is missing")
        return tagged_set(self.version, seed=int(self.version[1:]))


def test_a_new_publication_is_swapped_in_and_an_unchanged_one_is_not_reloaded():
    published = Publications("v1")
    holder = PublishedSetHolder(published.load, published.key, poll_seconds=60)
    assert holder.status()["ready"] is False
    holder.load_first()
    assert not holder.check() and published.loads == 1
    published.version = "v2"
    assert holder.check() and holder.served.version == "v2" and published.loads == 2


def test_a_failed_load_keeps_the_old_set_serving_and_is_reported_until_a_good_one(caplog):
    published = Publications("v1")
    holder = PublishedSetHolder(published.load, published.key, poll_seconds=60)
    holder.load_first()
    published.version, published.broken = "v2", {"v2"}
    assert not holder.check()
    assert holder.served.version == "v1"
    status = holder.status()
    assert status["ready"] and status["serving"] == "v1"
    assert "embedding_index of v2 is missing" in status["last_reload_error"]
    assert "still serving run v1" in caplog.text
    assert not holder.check() and published.loads == 2  # the same broken publication is not retried
    published.version = "v3"
    assert holder.check() and holder.served.version == "v3" and holder.status()["last_reload_error"] is None


def test_a_reload_error_is_cleared_once_the_served_publication_is_current_again_and_shows_no_paths():
    """After a broken pointer was put back, /healthz kept the old error; a bare exception showed its paths."""
    published = Publications("v1")
    holder = PublishedSetHolder(published.load, published.key, poll_seconds=60)
    holder.load_first()
    published.version, published.broken = "v2", {"v2"}
    assert not holder.check() and "embedding_index of v2 is missing" in holder.status()["last_reload_error"]
    published.version = "v1"  # the pointer put back
    assert not holder.check() and holder.status()["last_reload_error"] is None

    def broken_load():
        raise FileNotFoundError("/srv/project/data/07_model_output/embedding_index.faiss/v3 does not exist")

    other = PublishedSetHolder(broken_load, lambda: "v3", poll_seconds=60)
    other._served = holder.served
    assert not other.check()
    assert other.status()["last_reload_error"] == "loading the new publication failed (FileNotFoundError)"


def test_the_watcher_thread_picks_up_a_publication_by_itself():
    published = Publications("v1")
    holder = PublishedSetHolder(published.load, published.key, poll_seconds=0.01)
    holder.load_first()
    holder.start()
    try:
        published.version = "v2"
        for _ in range(500):
            if holder.served.version == "v2":
                break
            time.sleep(0.01)
    finally:
        holder.stop()
    assert holder.served.version == "v2"
