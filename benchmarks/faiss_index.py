"""faiss: exact inner-product search against HNSW and IVF indexes, build and query time and recall@10.

    .venv/bin/python benchmarks/faiss_index.py --items 100000 1000000

Vectors are unit-length and clustered (like trained embeddings, unlike uniform noise, where
approximate indexes look worse than they are in practice). Recall@10 is the share of the exact top 10
that the approximate index returns.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pinsage.serving.index import IndexConfig, build_inner_product_index


def clustered_unit_vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(size=(max(1, n // 1000), dim)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on a few thousand vectors")
    args = parser.parse_args()
    if args.smoke:
        args.items, args.queries = [3000], 100
    rng = np.random.default_rng(0)
    defaults = IndexConfig()
    print(f"{'items':>9} {'index':<22}{'build s':>9}{'query ms/q':>12}{'recall@10':>11}")
    for n in args.items:
        x = clustered_unit_vectors(n, args.dim, rng)
        q = x[rng.choice(n, args.queries, replace=False)]
        truth = None
        # Each kind as the project builds it (`index` parameters at their defaults).
        for kind in ("exact", "ivf", "hnsw"):
            index, build = timed(build_inner_product_index, x, defaults.model_copy(update={"kind": kind}))
            (_, found), search = timed(index.search, q, 10)
            truth = found if truth is None else truth
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
            name = {
                "exact": "Flat (exact)",
                "ivf": f"IVF{index.nlist} nprobe={index.nprobe}" if kind == "ivf" else "",
                "hnsw": f"HNSW{defaults.hnsw_neighbours} efSearch={defaults.hnsw_ef_search}",
            }[kind]
            print(f"{n:>9} {name:<22}{build:>9.2f}{1000 * search / len(q):>12.3f}{recall:>11.3f}")


if __name__ == "__main__":
    main()
