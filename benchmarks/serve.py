"""Load test of the similar-items service (`pinsage serve`'s app, on uvicorn) on loopback.

    .venv/bin/python benchmarks/serve.py --items 100000 1000000 --seconds 60 --clients 8

For each catalogue size, index kind (exact, IVF, built as the project builds them) and `serve.batch_searches`
(concurrent requests searched together, or each on its own), a server process
serves a synthetic publication of clustered unit vectors (64 dimensions, the default model's width) with
popularity priors, indexed as export indexes them (cosine + prior, one more coordinate), and
`--clients` concurrent clients ask `GET /items/{id}/similar?k=10` for random items for `--seconds`: requests/s
and p50/p99 latency. Then the same while a new publication is loaded beside the served one and swapped in:
failed requests, mixed answers (every title names its publication, so an answer mixing two shows) and how
long the reload took (pointer changed → first answer from the new publication). Clients and server share
this machine's cores, so the figures are a floor for a separate client.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from faiss_index import clustered_unit_vectors
from pinsage.model.scoring import ScoringConfig, popularity_prior
from pinsage.serving.index import IndexConfig, build_embedding_index
from pinsage.serving.reloading import PublishedSetHolder, publication_key
from pinsage.serving.similar_items import ServedSet, item_details, served_set


def publication(version: int) -> dict:
    return {"version": f"v{version}", "metric": "hits@10", "value": 0.0, "artifacts": {}, "dataset": {}}


def synthetic_set(version: int, n_items: int, dim: int, kind: str) -> ServedSet:
    """Publication `version`: its own vectors and priors (as export writes them: β·ln(1 + interactions),
    interactions Zipf-distributed), its index, every title starting with `v<version> `."""
    rng = np.random.default_rng(version)
    vectors = clustered_unit_vectors(n_items, dim, rng)
    ids = [f"item{i}" for i in range(n_items)]
    prior = popularity_prior(np.log1p(rng.zipf(1.5, n_items) - 1), ScoringConfig())
    table = pd.DataFrame({"item": np.arange(n_items), "item_id": ids, "embedding": list(vectors), "prior": prior})
    details = pd.DataFrame(
        {"item_id": ids, "title": [f"v{version} item {i}" for i in range(n_items)], "categories": ""}
    )
    index = build_embedding_index(table, IndexConfig(kind=kind))
    return served_set(publication(version), table, index, item_details(details))


def serve(n_items: int, dim: int, kind: str, batch: bool, pointer: str, ports: multiprocessing.Queue) -> None:
    """The server process: the service over the publication `pointer` names, watching it for changes."""
    import uvicorn

    from pinsage.serving.config import ServeConfig
    from pinsage.serving.http import create_app

    def version() -> int:
        return int(Path(pointer).read_text())

    holder = PublishedSetHolder(
        lambda: synthetic_set(version(), n_items, dim, kind),
        lambda: publication_key(publication(version())),
        poll_seconds=0.5,
    )
    holder.load_first()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(holder, ServeConfig(batch_searches=batch)),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
        )
    )

    def report_port() -> None:
        while not server.started:
            time.sleep(0.05)
        ports.put(server.servers[0].sockets[0].getsockname()[1])

    threading.Thread(target=report_port, daemon=True).start()
    server.run()


async def load(base: str, n_items: int, clients: int, seconds: float, until_version: str | None = None) -> dict:
    """`clients` concurrent clients for `seconds` (and, with `until_version`, until it has answered)."""
    latencies, failed, mixed, versions = [], 0, 0, set()
    first_new: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds

    async def client(http: httpx.AsyncClient, seed: int) -> None:
        nonlocal failed, mixed
        pick = random.Random(seed)
        # With `until_version`, past the deadline until the new publication answers (at most 5 more minutes).
        while time.perf_counter() < deadline or (
            until_version and not first_new and time.perf_counter() < deadline + 300
        ):
            sent = time.perf_counter()
            try:
                response = await http.get(f"/items/item{pick.randrange(n_items)}/similar", params={"k": 10})
            except httpx.HTTPError:
                failed += 1
                continue
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200:
                failed += 1
                continue
            answer = response.json()
            versions.add(answer["version"])
            titles = [answer["item"]["title"], *(n["title"] for n in answer["similar"])]
            mixed += not all(t.startswith(answer["version"] + " ") for t in titles)
            if answer["version"] == until_version and not first_new:
                first_new.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        await asyncio.gather(*(client(http, seed) for seed in range(clients)))
    elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "requests/s": len(latencies) / elapsed,
        "p50 ms": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
        "p99 ms": float(np.percentile(ms, 99)) if len(ms) else float("nan"),
        "failed": failed,
        "mixed": mixed,
        "reload s": first_new[0] if first_new else None,
        "versions": sorted(versions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="+", default=[100_000])
    parser.add_argument("--kinds", nargs="+", default=["exact", "ivf"], choices=["exact", "ivf", "hnsw"])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--batching", nargs="+", default=["on", "off"], choices=["on", "off"], help="serve.batch_searches, side by side"
    )
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on a few thousand items")
    args = parser.parse_args()
    if args.smoke:
        args.items, args.seconds, args.clients = [3000], 1.5, 4
    spawn = multiprocessing.get_context("spawn")
    print(f"{args.clients} concurrent clients, {args.seconds:.0f} s per phase, GET /items/{{id}}/similar?k=10")
    columns = ("req/s", 8), ("p50 ms", 9), ("p99 ms", 9), ("failed", 8), ("mixed", 7), ("reload s", 10)
    print(f"{'items':>9} {'index':<6} {'batch':<6} {'phase':<8}" + "".join(f"{n:>{w}}" for n, w in columns))
    for n_items in args.items:
        for kind, batching in [(kind, b) for kind in args.kinds for b in args.batching]:
            with tempfile.TemporaryDirectory() as scratch:
                pointer = Path(scratch) / "published"
                pointer.write_text("1")
                ports = spawn.Queue()
                started = time.perf_counter()
                server = spawn.Process(
                    target=serve, args=(n_items, args.dim, kind, batching == "on", str(pointer), ports)
                )
                server.start()
                try:
                    base = f"http://127.0.0.1:{ports.get(timeout=900)}"
                    print(f"{n_items:>9} {kind:<6} {batching:<6} started in {time.perf_counter() - started:.1f} s")
                    asyncio.run(load(base, n_items, args.clients, min(2.0, args.seconds)))  # warm-up
                    steady = asyncio.run(load(base, n_items, args.clients, args.seconds))
                    pointer.write_text("2")  # a new publication: loaded beside the served one, then swapped in
                    reload = asyncio.run(load(base, n_items, args.clients, args.seconds, until_version="v2"))
                finally:
                    server.terminate()
                    server.join()
            for phase, figures in (("steady", steady), ("reload", reload)):
                took = figures["reload s"]
                print(
                    f"{n_items:>9} {kind:<6} {batching:<6} {phase:<8}{figures['requests/s']:>8.0f}"
                    f"{figures['p50 ms']:>9.1f}{figures['p99 ms']:>9.1f}{figures['failed']:>8}{figures['mixed']:>7}"
                    f"{'' if took is None else f'{took:.1f}':>10}"
                )
            if reload["reload s"] is None:
                print(f"  the reload did not finish within the phase: answers came from {reload['versions']}")


if __name__ == "__main__":
    main()
