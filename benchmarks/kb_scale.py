"""Knowledge-base index at scale: build time, memory, single-query latency, recall@10.

Synthetic 384-d unit vectors shaped like sentence embeddings (points around
cluster centres, queries are perturbed copies of stored points), indexed with
the project's own ``build_ann_index`` (exact below 100 k vectors, HNSW above).
Recall@10 is measured against exact search over the same vectors.

    .venv/bin/python benchmarks/kb_scale.py [--sizes 10000 100000 1000000] [--queries 500]

Writes benchmarks/results/kb_scale.json and kb_scale.png.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from knowledge_base.ann import build_ann_index, index_type  # noqa: E402

DIM = 384
RESULTS = Path(__file__).with_name("results")


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic(n: int, n_queries: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centres = unit(rng.standard_normal((max(n // 100, 10), DIM), dtype=np.float32))
    data = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        owners = rng.integers(0, len(centres), stop - start)
        data[start:stop] = unit(centres[owners] + 0.06 * rng.standard_normal((stop - start, DIM), dtype=np.float32))
    picks = rng.integers(0, n, n_queries)
    queries = unit(data[picks] + 0.03 * rng.standard_normal((n_queries, DIM), dtype=np.float32))
    return data, queries


def index_bytes(index) -> int:
    import faiss

    return int(faiss.serialize_index(index).size)


def measure(n: int, n_queries: int, seed: int = 0) -> dict:
    import faiss

    data, queries = synthetic(n, n_queries, np.random.default_rng(seed))
    started = time.perf_counter()
    index = build_ann_index(data)
    build_s = time.perf_counter() - started

    exact = faiss.IndexFlatIP(DIM)
    exact.add(data)
    _, truth = exact.search(queries, 10)

    latencies, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = index.search(q[None, :], 10)
        latencies.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0])
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
    return {"vectors": n, "index": index_type(index), "build_s": round(build_s, 2),
            "index_mb": round(index_bytes(index) / 2**20, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)), 3),
            "p99_ms": round(float(np.percentile(latencies, 99)), 3),
            "recall_at_10": round(recall, 4), "queries": n_queries}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["vectors"] for r in rows]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(sizes, [r["p50_ms"] for r in rows], "o-", label="p50 latency (ms)")
    left.plot(sizes, [r["p99_ms"] for r in rows], "s--", label="p99 latency (ms)")
    left.set_xscale("log")
    left.set_xlabel("vectors (384-d)")
    left.set_ylabel("single-query latency (ms)")
    right = left.twinx()
    right.plot(sizes, [r["recall_at_10"] for r in rows], "^-", color="green", label="recall@10")
    right.set_ylim(0.9, 1.001)
    right.set_ylabel("recall@10 vs exact")
    for r in rows:
        left.annotate(r["index"], (r["vectors"], r["p50_ms"]), fontsize=8)
    fig.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    rows = []
    print(f"{'vectors':>9} {'index':>14} {'build s':>8} {'MB':>7} {'p50 ms':>7} {'p99 ms':>7} {'R@10':>6}")
    for n in args.sizes:
        row = measure(n, args.queries)
        rows.append(row)
        print(f"{row['vectors']:>9} {row['index']:>14} {row['build_s']:>8} {row['index_mb']:>7} "
              f"{row['p50_ms']:>7} {row['p99_ms']:>7} {row['recall_at_10']:>6}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb_scale.json").write_text(json.dumps(rows, indent=2))
    plot(rows, RESULTS / "kb_scale.png")
    print(f"wrote {RESULTS / 'kb_scale.json'} and {RESULTS / 'kb_scale.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
