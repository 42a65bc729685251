"""Cross-validated intent understanding on our own data: ``python -m intents.crossval [--folds 5]``.

The development measure that never looks at the dev sets. The intent examples
of ``intents/data`` are split into stratified folds (seeded); for each fold the
real NLU pipeline (bot/config.yml) is trained on the other folds with
``rasa train nlu`` and reads the held-out fold clean and with each noise kind of
intents/noise.py. Prints macro-F1 and accuracy per kind (mean and spread over
the folds); writes ``crossval.json`` and ``crossval.png`` under ``--out``.
Synonyms, lookups and regexes stay in every training fold.

Slow by nature (per fold one NLU training and nine readings of the held-out
fold; docs/understanding.md gives the cost): a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
DATA = Path("intents/data")
CONFIG = Path("bot/config.yml")


def folds(intents: list[str], k: int, seed: int) -> list[list[int]]:
    """Held-out example indices per fold, stratified by intent; every example is held out exactly once."""
    import random

    rng = random.Random(seed)
    by_intent: dict[str, list[int]] = {}
    for index, intent in enumerate(intents):
        by_intent.setdefault(intent, []).append(index)
    held_out: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for intent in sorted(by_intent):
        members = by_intent[intent]
        rng.shuffle(members)
        for position, index in enumerate(members):  # round robin, continuing where the last intent stopped
            held_out[(offset + position) % k].append(index)
        offset += len(members)
    return [sorted(fold) for fold in held_out]


def training_fold(data: Any, held_out: set[int]) -> Any:
    """The training data without the held-out intent examples (entity synonyms, lookups, regexes kept)."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = [e for i, e in enumerate(data.intent_examples) if i not in held_out]
    return TrainingData(examples, entity_synonyms=data.entity_synonyms, regex_features=data.regex_features,
                        lookup_tables=data.lookup_tables, responses=data.responses)


def train_fold(data: Any, config: Path, folder: Path, name: str) -> Path:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter

    from bot.settings import REPO_ROOT
    from bot.train import rasa_env, rasa_executable

    nlu_file = folder / f"{name}.yml"
    RasaYAMLWriter().dump(nlu_file, data)
    subprocess.run([rasa_executable(), "train", "nlu", "--config", str(config), "--nlu", str(nlu_file),
                    "--out", str(folder), "--fixed-model-name", name], cwd=REPO_ROOT, env=rasa_env(), check=True,
                   stdout=subprocess.DEVNULL)
    return folder / f"{name}.tar.gz"


async def read_intents(model: Path, texts_by_kind: dict[str, list[str]]) -> dict[str, list[str]]:
    from rasa.core.agent import Agent

    from intents.eval import top_intent

    agent = Agent.load(str(model))
    read = {}
    for kind, texts in texts_by_kind.items():
        read[kind] = [top_intent(await agent.parse_message(text))[0] for text in texts]
    return read


def summarise(per_fold: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Mean and population spread of each metric of each kind over the folds."""
    kinds = per_fold[0].keys()
    summary = {}
    for kind in kinds:
        row = {}
        for metric in ("macro_f1", "accuracy"):
            values = [fold[kind][metric] for fold in per_fold]
            row[metric] = round(statistics.fmean(values), 4)
            row[f"{metric}_sd"] = round(statistics.pstdev(values), 4)
        summary[kind] = row
    return summary


def plot(summary: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(names, [summary[n]["macro_f1"] for n in names], yerr=[summary[n]["macro_f1_sd"] for n in names],
           color=["#4c72b0" if n == "clean" else "#dd8452" for n in names], capsize=3)
    ax.set_ylim(0, 1)
    ax.set_ylabel("macro-F1 (mean over folds)")
    ax.set_title("Cross-validated intents, clean and with each noise kind")
    ax.tick_params(axis="x", rotation=30)
    for i, n in enumerate(names):
        ax.annotate(f"{summary[n]['macro_f1']:.3f}", (i, summary[n]["macro_f1"]), ha="center", fontsize=8,
                    xytext=(0, 3), textcoords="offset points")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(k: int, seed: int, config: Path, out: Path, only: list[int] | None) -> dict[str, Any]:
    from rasa.shared.nlu.training_data.loading import load_data

    from intents.eval import intent_metrics
    from intents.noise import variants

    from bot.settings import REPO_ROOT

    data = load_data(str(REPO_ROOT / DATA))
    intents = [e.get("intent") for e in data.intent_examples]
    texts = [e.get("text") for e in data.intent_examples]
    per_fold, timings = [], []
    with tempfile.TemporaryDirectory(prefix="crossval-") as tmp:
        for number, held_out in enumerate(folds(intents, k, seed)):
            if only and number not in only:
                continue
            started = time.monotonic()
            model = train_fold(training_fold(data, set(held_out)), config, Path(tmp), f"fold{number}")
            trained = time.monotonic() - started
            gold = [intents[i] for i in held_out]
            read = asyncio.run(read_intents(model, variants([texts[i] for i in held_out], seed)))
            scores = {kind: intent_metrics(gold, predicted) for kind, predicted in read.items()}
            per_fold.append({kind: {"macro_f1": s["macro_f1"], "accuracy": s["accuracy"]} for kind, s in scores.items()})
            timings.append({"fold": number, "held_out": len(held_out), "train_s": round(trained, 1),
                            "read_s": round(time.monotonic() - started - trained, 1)})
            print(f"fold {number}: clean macro-F1 {scores['clean']['macro_f1']:.4f} "
                  f"(trained in {trained:.0f} s)", flush=True)
            model.unlink(missing_ok=True)
    summary = summarise(per_fold)
    result = {"folds": k, "seed": seed, "config": str(config), "examples": len(texts),
              "summary": summary, "per_fold": per_fold, "timings": timings}
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossval.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    plot(summary, out / "crossval.png")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m intents.crossval", description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="number of folds (at least 2)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the split and of the noise")
    parser.add_argument("--config", type=Path, default=CONFIG, help="Rasa config to cross-validate")
    parser.add_argument("--only", type=int, nargs="*", help="run only these fold numbers (0-based)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="folder for JSON and plot")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error(f"--folds must be at least 2, got {args.folds}")
    if not args.config.is_file():
        parser.error(f"--config {args.config} does not exist")
    if args.only and not all(0 <= n < args.folds for n in args.only):
        parser.error(f"--only takes fold numbers from 0 to {args.folds - 1}")
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    result = run(args.folds, args.seed, args.config, args.out, args.only)
    print(f"{'kind':<16} {'macro-F1':>9} {'± sd':>7} {'accuracy':>9}")
    for kind, row in result["summary"].items():
        print(f"{kind:<16} {row['macro_f1']:>9.4f} {row['macro_f1_sd']:>7.4f} {row['accuracy']:>9.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
