"""Where a parse spends its time: latency of the NLU pipeline, one message at a time, per component.

Loads the trained model in-process and parses held-out messages (questions and requests from
knowledge_base/calibration/heldout.yml, never training data) one after another. Every graph
node (tokenizer, featurizers, DIET, the linear intent model, the KB retrieval, …) is timed by
wrapping Rasa's own ``GraphNode.__call__``, so the table shows which component a turn waits for.

    .venv/bin/python benchmarks/parse_profile.py [--messages 200]

Prints parse p50/p95 and each component's mean and p95; writes
benchmarks/results/parse_profile.json and parse_profile.png. For a flame graph of a whole
server under load, run py-spy against the Rasa process (``py-spy record -o flame.svg --pid …``).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HELDOUT = Path("knowledge_base/calibration/heldout.yml")


def sample_messages(count: int, seed: int = 7) -> list[str]:
    from intents.robustness import read_heldout

    rows = [text for text, _, _ in read_heldout(HELDOUT)]
    random.Random(seed).shuffle(rows)
    return (rows * (count // max(len(rows), 1) + 1))[:count]


def time_graph_nodes(sink: dict[str, list[float]]) -> Callable[[], None]:
    """Wrap GraphNode.__call__ so each node's wall time lands in sink[node name]; returns the undo."""
    from rasa.engine.graph import GraphNode

    original = GraphNode.__call__

    def timed(self, *inputs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original(self, *inputs)
        finally:
            sink[self._node_name].append((time.perf_counter() - started) * 1000)

    GraphNode.__call__ = timed
    return lambda: setattr(GraphNode, "__call__", original)


async def profile(model: str, messages: list[str]) -> tuple[list[float], dict[str, list[float]]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    for text in messages[:5]:  # warm-up: lazy loads, first TF graph trace
        await agent.parse_message(text)
    nodes: dict[str, list[float]] = defaultdict(list)
    undo = time_graph_nodes(nodes)
    totals = []
    try:
        for text in messages:
            started = time.perf_counter()
            await agent.parse_message(text)
            totals.append((time.perf_counter() - started) * 1000)
    finally:
        undo()
    return totals, nodes


def plot(components: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(components)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.5))
    ax.barh(names, [components[n]["mean_ms"] for n in names], color="#4c72b0")
    ax.invert_yaxis()
    ax.set_xlabel("mean ms per parse")
    ax.set_title("NLU parse time per component")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="how many messages to parse (default 200)")
    parser.add_argument("--model", help="a trained model (.tar.gz); default: the project's current model")
    args = parser.parse_args()
    if args.messages < 10:
        parser.error("--messages must be at least 10 for a p95")
    from benchmarks.report import RESULTS, latency_ms, publish
    from bot.train import ensure_model

    totals, nodes = asyncio.run(profile(args.model or str(ensure_model()), sample_messages(args.messages)))
    components = {name: {"mean_ms": round(sum(ms) / len(ms), 2), **latency_ms(ms)}
                  for name, ms in sorted(nodes.items(), key=lambda item: -sum(item[1]))}
    publish("parse_profile", {"messages": len(totals), "parse": latency_ms(totals),
                              "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")},
                              "components": components})
    plot(components, RESULTS / "parse_profile.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
