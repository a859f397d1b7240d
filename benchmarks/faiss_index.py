"""faiss: exact inner-product search against HNSW and IVF indexes, build and query time and recall@10.

    .venv/bin/python benchmarks/faiss_index.py --items 100000 1000000

Vectors are unit-length and clustered (like trained embeddings, unlike uniform noise, where
approximate indexes look worse than they are in practice). Recall@10 is the share of the exact top 10
that the approximate index returns.
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np


def clustered_unit_vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(size=(max(1, n // 1000), dim)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def build_index(index: faiss.Index, sample: np.ndarray, vectors: np.ndarray) -> None:
    if not index.is_trained:
        index.train(sample)
    index.add(vectors)


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
    print(f"{'items':>9} {'index':<22}{'build s':>9}{'query ms/q':>12}{'recall@10':>11}")
    for n in args.items:
        x = clustered_unit_vectors(n, args.dim, rng)
        q = x[rng.choice(n, args.queries, replace=False)]
        exact = faiss.IndexFlatIP(args.dim)
        _, build = timed(exact.add, x)
        (_, truth), search = timed(exact.search, q, 10)
        print(f"{n:>9} {'Flat (exact)':<22}{build:>9.2f}{1000 * search / len(q):>12.3f}{1.0:>11.3f}")
        nlist = int(4 * np.sqrt(n))
        candidates = {
            "HNSW32 efSearch=64": faiss.IndexHNSWFlat(args.dim, 32, faiss.METRIC_INNER_PRODUCT),
            f"IVF{nlist} nprobe=16": faiss.IndexIVFFlat(
                faiss.IndexFlatIP(args.dim), args.dim, nlist, faiss.METRIC_INNER_PRODUCT
            ),
        }
        for name, index in candidates.items():
            sample = x[rng.choice(n, min(n, 50 * nlist), replace=False)]
            _, build = timed(build_index, index, sample, x)
            if "HNSW" in name:
                index.hnsw.efSearch = 64
            else:
                index.nprobe = 16
            (_, found), search = timed(index.search, q, 10)
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
            print(f"{n:>9} {name:<22}{build:>9.2f}{1000 * search / len(q):>12.3f}{recall:>11.3f}")


if __name__ == "__main__":
    main()
