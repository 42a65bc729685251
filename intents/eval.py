"""Understanding measures: ``python -m intents.eval --set INTENTS.jsonl [--faq-set FAQ.jsonl] [--model M]``.

``--set``: accuracy, macro-F1, per-intent F1 and the most frequent confusion
pairs of the trained Rasa model (the newest for the current training inputs,
trained if needed). The classifier's top intent is scored; how often the
FallbackClassifier would have stepped in is reported beside it.
``--faq-set``: what the bot does with each knowledge question (intents/faq_report.py);
with ``--set`` too, how often a non-faq message gets a knowledge answer.
Each writes a JSON and a plot under ``--out`` (benchmarks/results by default).
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


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def top_intent(parsed: dict) -> tuple[str, bool]:
    """(top non-fallback intent, whether the fallback classifier fired)."""
    ranking = [r["name"] for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
    return (ranking[0] if ranking else FALLBACK), parsed["intent"]["name"] == FALLBACK


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


def intent_metrics(gold: list[str], predicted: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(gold))
    per_intent = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    return {"examples": len(gold), "accuracy": round(float(accuracy_score(gold, predicted)), 4),
            "macro_f1": round(float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 4),
            "per_intent_f1": {label: round(float(f), 4) for label, f in zip(labels, per_intent)}}


def plot_confusion(gold: list[str], predicted: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels, normalize="true")
    fig, ax = plt.subplots(figsize=(10, 9))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def read_faq_set(path: Path) -> list[tuple[str, str]]:
    from knowledge_base.evaluate import EvalSetError, read_jsonl

    try:
        return [(r["text"], r["faq_id"]) for r in read_jsonl(path, ("text", "faq_id"))]
    except EvalSetError as exc:
        raise SystemExit(f"error: {exc}; pass --faq-set with a JSONL file of {{text, faq_id}}")


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def run_intents(model: Path, path: Path, out: Path) -> list[tuple[dict, str]]:
    rows = read_set(path)
    parsed = asyncio.run(parse_all(model, [t for t, _ in rows]))
    gold = [i for _, i in rows]
    tops = [top_intent(p) for p in parsed]
    predicted = [t for t, _ in tops]
    print(report(gold, predicted, [f for _, f in tops]))
    write_json(out / "intents_eval.json", {"set": str(path), "model": model.name, **intent_metrics(gold, predicted),
                                           "fallback_rate": round(sum(f for _, f in tops) / len(tops), 4)})
    plot_confusion(gold, predicted, out / "intents_confusion.png")
    return list(zip(parsed, gold))


def run_faq(model: Path, path: Path, negatives: list[dict], out: Path) -> None:
    from intents import faq_report

    rows = read_faq_set(path)
    parsed = asyncio.run(parse_all(model, [t for t, _ in rows]))
    outcomes = [faq_report.bot_outcome(p, gold) for p, (_, gold) in zip(parsed, rows)]
    summary = faq_report.summarise_faq(outcomes)
    negative = faq_report.summarise_negatives([faq_report.bot_outcome(p) for p in negatives]) if negatives else None
    print(faq_report.format_faq(summary, negative))
    curve = faq_report.reliability(outcomes)
    write_json(out / "faq_bot.json", {"set": str(path), "model": model.name, **summary,
                                      "non_faq": negative, "reliability": curve,
                                      # ids only: the set's sentences stay out of the repository's results
                                      "missed": [{"faq_id": g, "outcome": o.kind, "intent": o.intent}
                                                 for (_, g), o in zip(rows, outcomes)
                                                 if not (o.kind == "answered" and o.correct)]})
    faq_report.plot_reliability(curve, out / "faq_reliability.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intents.eval", description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, help="JSONL with text and intent per line")
    parser.add_argument("--faq-set", type=Path, help="JSONL with text and faq_id per line")
    parser.add_argument("--model", type=Path, help="trained Rasa model (default: the current one)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="folder for JSON and plots")
    args = parser.parse_args(argv)
    if not args.set and not args.faq_set:
        parser.error("give --set (intents) and/or --faq-set (knowledge questions)")
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
    negatives: list[dict] = []
    if args.set:
        negatives = [p for p, gold in run_intents(model, args.set, args.out) if gold != "faq"]
    if args.faq_set:
        run_faq(model, args.faq_set, negatives, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
