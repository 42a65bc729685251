"""Robustness of the bot's first move to noisy typing: ``python -m intents.robustness [--set FILE] [--out DIR]``.

The set is our held-out calibration file (knowledge_base/calibration/heldout.yml:
new phrasings of every knowledge entry and task requests, never training data).
Each message is read clean and with each noise kind of intents/noise.py; a move
is right when a request starts its task, and a question gets the right entry
(answered, or among the clarification choices). Messages that ask for several
things are built from the same rows (intents/several_asks.py) and count as one
more kind. Prints a table, writes ``robustness.json`` and ``robustness.png``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
DEFAULT_SET = Path("knowledge_base/calibration/heldout.yml")


def read_heldout(path: Path) -> list[tuple[str, str, str]]:
    """(text, "faq"|"task", faq id or task intent)."""
    import yaml

    if not path.is_file():
        raise SystemExit(f"error: {path} does not exist; pass --set with a held-out YAML (questions/requests)")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows = [(t, "faq", fid) for fid, texts in (raw.get("questions") or {}).items() for t in texts]
    rows += [(t, "task", intent) for intent, texts in (raw.get("requests") or {}).items() for t in texts]
    if not rows:
        raise SystemExit(f"error: {path} has no questions or requests")
    return rows


def right_move(parse: dict, kind: str, target: str) -> bool:
    from intents.faq_report import bot_outcome

    outcome = bot_outcome(parse, target if kind == "faq" else None)
    if kind == "task":
        return outcome.kind == "task" and outcome.intent == target
    return outcome.kind in ("answered", "clarified") and outcome.correct


def plot(scores: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(scores)
    ax.bar(names, [scores[n] for n in names], color=["#4c72b0" if n == "clean" else "#dd8452" for n in names])
    ax.set_ylim(0, 1)
    ax.set_ylabel("right first move")
    ax.set_title("Robustness to noisy typing (held-out messages)")
    ax.tick_params(axis="x", rotation=30)
    for i, n in enumerate(names):
        ax.annotate(f"{scores[n]:.2f}", (i, scores[n]), ha="center", fontsize=8, xytext=(0, 3),
                    textcoords="offset points")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


async def measure(model: Path, rows: list[tuple[str, str, str]]) -> dict[str, dict]:
    from rasa.core.agent import Agent

    from intents.noise import variants

    agent = Agent.load(str(model))
    texts = [t for t, _, _ in rows]
    results = {}
    for name, variant in variants(texts).items():
        right = []
        for text, (_, kind, target) in zip(variant, rows):
            right.append(right_move(await agent.parse_message(text), kind, target))
        results[name] = {"right": round(sum(right) / len(right), 4), "messages": len(right),
                         "examples": [v for v, o in zip(variant, texts) if v != o][:3]}
    results["several_asks"] = await measure_several(agent, rows)
    return results


async def measure_several(agent: Any, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    from intents.several_asks import composites, handled

    cases = composites(rows)
    right = {"request+question": [], "request+request": []}
    for case in cases:
        right[case["kind"]].append(handled(await agent.parse_message(case["text"]), case))
    every = [r for results in right.values() for r in results]
    return {"right": round(sum(every) / len(every), 4), "messages": len(every),
            **{kind: round(sum(r) / len(r), 4) for kind, r in right.items()},
            "examples": [c["text"] for c in cases[::len(cases) // 3]][:3]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intents.robustness", description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="held-out YAML with questions and requests")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="folder for JSON and plot")
    args = parser.parse_args(argv)
    rows = read_heldout(args.set)
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from bot.train import ensure_model

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    model = ensure_model()
    results = asyncio.run(measure(model, rows))
    for name, result in results.items():
        print(f"{name:<16} {result['right']:.3f}  e.g. {result['examples'][:1]}")
    several = results["several_asks"]
    print(f"{'':<16} request+question {several['request+question']:.3f}, "
          f"request+request {several['request+request']:.3f}")
    noisy_scores = [r["right"] for n, r in results.items() if n != "clean"]
    print(f"{'all noise':<16} {sum(noisy_scores) / len(noisy_scores):.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "robustness.json").write_text(json.dumps({"set": str(args.set), "model": model.name, **results},
                                                         ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    plot({n: r["right"] for n, r in results.items()}, args.out / "robustness.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
