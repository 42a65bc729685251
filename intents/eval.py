"""Intent classification on a labelled set: ``python -m intents.eval --set FILE.jsonl [--model M]``.

Prints accuracy, macro-F1, per-intent F1 and the most frequent confusion
pairs of the trained Rasa model (the newest for the current training inputs,
trained if needed). The classifier's top intent is scored; how often the
FallbackClassifier would have stepped in is reported beside it.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
FALLBACK = "nlu_fallback"


def read_set(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        raise SystemExit(f"error: {path} does not exist; pass --set with a JSONL file of {{text, intent}}")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            rows.append((str(item["text"]), str(item["intent"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"error: {path}:{number}: expected a JSON object with text and intent ({exc})")
    if not rows:
        raise SystemExit(f"error: {path} holds no examples")
    return rows


async def predict(model: Path, texts: list[str]) -> list[tuple[str, bool]]:
    """(top non-fallback intent, whether the fallback classifier fired) per text."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        ranking = [r["name"] for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
        out.append((ranking[0] if ranking else FALLBACK, parsed["intent"]["name"] == FALLBACK))
    return out


def report(gold: list[str], predicted: list[str], fell_back: list[bool]) -> str:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(gold))
    per_intent = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    lines = [f"examples: {len(gold)}",
             f"accuracy: {accuracy_score(gold, predicted):.4f}",
             f"macro-F1: {f1_score(gold, predicted, labels=labels, average='macro', zero_division=0):.4f}",
             f"fallback would fire: {sum(fell_back) / len(gold):.1%}", "", "per-intent F1:"]
    support = collections.Counter(gold)
    lines += [f"  {label:<20} {score:.3f}  (n={support[label]})" for label, score in zip(labels, per_intent)]
    confusions = collections.Counter((g, p) for g, p in zip(gold, predicted) if g != p)
    lines += ["", "confusions (gold -> predicted):"]
    lines += [f"  {g} -> {p}: {n}" for (g, p), n in confusions.most_common(15)] or ["  none"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intents.eval", description=__doc__.splitlines()[0])
    parser.add_argument("--set", required=True, type=Path, help="JSONL with text and intent per line")
    parser.add_argument("--model", type=Path, help="trained Rasa model (default: the current one)")
    args = parser.parse_args(argv)
    rows = read_set(args.set)
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # Rasa logs every parse at debug level otherwise
    if args.model:
        model = args.model
        if not model.is_file():
            raise SystemExit(f"error: model {model} does not exist; train one with `python -m bot.train`")
    else:
        from bot.train import ensure_model

        model = ensure_model()
    results = asyncio.run(predict(model, [t for t, _ in rows]))
    print(report([i for _, i in rows], [p for p, _ in results], [f for _, f in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
