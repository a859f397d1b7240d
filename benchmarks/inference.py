"""Layer-wise full-graph inference against per-batch computation-tree inference, for every item.

    .venv/bin/python benchmarks/inference.py --source ml-100k --path ../shared/data/ml-100k

Per-batch inference (the DGL example's way) samples each batch's computation tree and recomputes every
node in it, so shared neighbours are sampled and computed again and again ("per-batch-sampled");
"per-batch" reuses the fixed neighbour table, so it pays only the recomputation (and must give the
layer-wise embeddings exactly). Layer-wise inference computes each item once per layer. All run in fresh
processes, one after the other, with the same untrained model, so wall time and peak memory (max RSS)
are compared side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch


def sample_computation_tree(graph, seeds: torch.Tensor, n_layers: int, seed: int):
    """The DGL example's way: sample importance neighbours for every node of this batch's
    computation tree, layer by layer, as if no other batch existed."""
    from pinsage.graph.config import NeighbourConfig
    from pinsage.graph.sampling import importance_neighbours
    from pinsage.seeding import derive_seed

    n_items = graph.num_nodes("item")
    config = NeighbourConfig()
    table = torch.arange(n_items).unsqueeze(1).repeat(1, config.num_neighbors)
    table_weights = torch.zeros(n_items, config.num_neighbors)
    frontier = seeds
    for layer in range(n_layers):
        nbr, w = importance_neighbours(graph, config, derive_seed(seed, layer), items=frontier)
        table[frontier], table_weights[frontier] = nbr, w
        frontier = torch.unique(torch.cat([frontier, nbr.reshape(-1)]))
    return table, table_weights


def measure(
    mode: str, source: str, path: str | None, batch_size: int, n_layers: int, dim: int, pins: int | None
) -> dict:
    from pinsage.data.features import feature_sizes
    from pinsage.data.sources.registry import DataConfig, load_source
    from pinsage.data.split import SplitConfig
    from pinsage.graph.config import NeighbourConfig
    from pinsage.jobs.prepare import prepare
    from pinsage.model.blocks import build_blocks
    from pinsage.model.inference import embed_all_items
    from pinsage.model.pinsage import ModelConfig, PinSage

    config = DataConfig(source=source, path=path)
    if pins:
        config.synthetic = config.synthetic.model_copy(update={"n_pins": pins, "n_boards": pins // 2})
    prepared = prepare(
        load_source(config),
        SplitConfig(held_out_item_fraction=0),
        neighbourhood=NeighbourConfig(inference_random_walks=50),
    )
    graph, features = prepared.inputs.graph, prepared.inputs.features
    neighbours, weights = prepared.inputs.neighbourhoods["neighbours"], prepared.inputs.neighbourhoods["weights"]
    torch.manual_seed(0)
    sizes = feature_sizes(features, prepared.inputs.vocabulary)
    model = PinSage(sizes, ModelConfig(hidden_dim=dim, n_layers=n_layers)).eval()
    n_items = neighbours.shape[0]
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if mode == "layerwise":
        embeddings = embed_all_items(model, features, neighbours, weights)
    else:
        parts = []
        with torch.no_grad():
            for s in range(0, n_items, batch_size):
                seeds = torch.arange(s, min(s + batch_size, n_items))
                table, table_weights = neighbours, weights
                if mode == "per-batch-sampled":
                    table, table_weights = sample_computation_tree(graph, seeds, n_layers, s)
                blocks = build_blocks(seeds, table, table_weights, n_layers)
                parts.append(model(blocks, {k: v[blocks.input_items] for k, v in features.items()}))
        embeddings = torch.cat(parts)
    seconds = time.perf_counter() - started
    return {
        "mode": mode,
        "items": n_items,
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_rss) / 1024,
        "checksum": float(embeddings.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="synthetic")
    parser.add_argument("--path", default=None)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--mode", choices=["layerwise", "per-batch", "per-batch-sampled"], help=argparse.SUPPRESS)
    parser.add_argument("--pins", type=int, default=None, help="synthetic: number of pins")
    parser.add_argument("--smoke", action="store_true", help="seconds-long run on a tiny synthetic world")
    args = parser.parse_args()
    if args.smoke:
        args.source, args.path, args.pins, args.dim = "synthetic", None, 300, 8
    if args.mode:
        print(json.dumps(measure(args.mode, args.source, args.path, args.batch_size, args.layers, args.dim, args.pins)))
        return
    results = {}
    for mode in ("per-batch-sampled", "per-batch", "layerwise"):
        command = [
            sys.executable,
            __file__,
            "--mode",
            mode,
            "--source",
            args.source,
            "--batch-size",
            str(args.batch_size),
            "--layers",
            str(args.layers),
            "--dim",
            str(args.dim),
        ]
        if args.path:
            command += ["--path", args.path]
        if args.pins:
            command += ["--pins", str(args.pins)]
        out = subprocess.run(
            command, check=True, capture_output=True, text=True, env=dict(os.environ, TQDM_DISABLE="1")
        )
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    b = results["layerwise"]
    print(f"items: {b['items']}, layers: {args.layers}, dim: {args.dim}, per-batch batch size: {args.batch_size}")
    print(f"{'mode':<20}{'seconds':>10}{'peak RSS MB':>14}{'RSS growth MB':>16}{'layer-wise faster':>19}")
    for r in results.values():
        print(
            f"{r['mode']:<20}{r['seconds']:>10.3f}{r['peak_rss_mb']:>14.0f}{r['rss_growth_mb']:>16.0f}"
            f"{r['seconds'] / b['seconds']:>18.1f}x"
        )
    same = abs(results["per-batch"]["checksum"] - b["checksum"]) < 1e-2 * max(1.0, abs(b["checksum"]))
    print(f"per-batch on the fixed neighbourhoods gives the layer-wise embeddings: {same}")


if __name__ == "__main__":
    main()
