"""BANKING77 with our NLU pipeline design: accuracy, macro-F1 and training time.

The pipeline is bot/config.yml's, in its English configuration: the Chinese
tokenizer becomes Rasa's WhitespaceTokenizer; the featurizers (word and char
n-gram counts + the project's sentence-embedding featurizer) and DIET stay;
components that only make sense in the bot (knowledge-base lookup, banking
entity rules, fallback and its unknown-words guard, the question/request model) are left out. The
encoder is adapted the bot's way (knowledge_base/encoder/finetune.py, in-batch negatives), each
intent's training examples standing for one entry's phrasings, and the featurizer and the linear
intent model read it through its ONNX twin, as the bot does. The official BANKING77 test split is
not here, so a stratified held-out split of train.csv is the test set.

    .venv/bin/python benchmarks/banking77.py [--test-size 0.2] [--epochs N] [--finetune-steps N] [--limit N]

Prints the numbers and writes benchmarks/results/banking77.json.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "external" / "banking77" / "train.csv"
RESULTS = Path(__file__).with_name("results")
BOT_ONLY = {"bot.nlu.kb_retrieval.KnowledgeBaseRetrieval", "bot.nlu.banking_entities.BankingEntityExtractor",
            "FallbackClassifier", "bot.nlu.unknown_words.UnknownWordsGuard", "RegexFeaturizer",
            "RegexEntityExtractor", "bot.nlu.question_form.QuestionOrRequestClassifier"}


def english_pipeline(epochs: int | None) -> dict:
    import yaml

    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    pipeline = []
    for component in config["pipeline"]:
        name = component["name"]
        if name in BOT_ONLY:
            continue
        if name == "JiebaTokenizer":
            component = {"name": "WhitespaceTokenizer"}
        if name == "DIETClassifier":
            component = {**component, "entity_recognition": False}
            if epochs:
                component["epochs"] = epochs
        pipeline.append(component)
    return {"recipe": "default.v1", "language": "en", "pipeline": pipeline, "policies": []}


def load_rows(limit: int | None) -> list[tuple[str, str]]:
    if not DATA.is_file():
        raise SystemExit(f"error: {DATA} not found; shared/ must sit beside the repository")
    with DATA.open(newline="", encoding="utf-8") as handle:
        # a few texts contain line breaks, which would split a YAML list item
        rows = [(" ".join(r["text"].split()), r["category"]) for r in csv.DictReader(handle) if r["text"].strip()]
    return rows[:limit] if limit else rows


def write_nlu(rows: list[tuple[str, str]], path: Path) -> None:
    import yaml

    by_intent: dict[str, list[str]] = {}
    for text, label in rows:
        by_intent.setdefault(label, []).append(text)
    nlu = [{"intent": k, "examples": "".join(f"- {t}\n" for t in v)} for k, v in sorted(by_intent.items())]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False))


def adapt_encoder(train: list[tuple[str, str]], steps: int, out: Path) -> Path:
    """The base encoder fine-tuned on the training split, one group of phrasings per intent, and its ONNX twin."""
    from dataclasses import replace

    from knowledge_base.config import KBConfig
    from knowledge_base.encoder.finetune import FinetuneParams, finetune
    from knowledge_base.encoder.onnx_twin import export
    from knowledge_base.text import normalize

    kb = KBConfig.from_env()
    groups: dict[str, list[str]] = {}
    for text, label in train:
        groups.setdefault(label, []).append(normalize(text))
    finetune(kb.base_encoder_path, out, [groups[k] for k in sorted(groups)], kb.query_prefix, kb.passage_prefix,
             replace(FinetuneParams(), steps=steps), description="multilingual-e5-small, fine-tuned on BANKING77")
    export(out)
    return out


async def predict(model: str, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [(await agent.parse_message(t))["intent"]["name"] for t in texts]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--epochs", type=int, default=None, help="override DIET epochs of bot/config.yml")
    parser.add_argument("--finetune-steps", type=int, default=200,
                        help="steps of the encoder fine-tune (0: the base encoder, not adapted)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N rows (smoke runs)")
    args = parser.parse_args()

    import logging

    import yaml
    from rasa.model_training import train_nlu
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    from knowledge_base.config import KBConfig

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # Rasa logs every parse at debug level otherwise
    rows = load_rows(args.limit)
    train, test = train_test_split(rows, test_size=args.test_size, random_state=42,
                                   stratify=[label for _, label in rows])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        if args.finetune_steps:
            os.environ["KB_ENCODER_PATH"] = str(adapt_encoder(train, args.finetune_steps, work / "encoder"))
        else:
            os.environ["KB_ENCODER_PATH"] = str(KBConfig.from_env().base_encoder_path)
        finetune_s = time.perf_counter() - started
        write_nlu(train, work / "nlu.yml")
        (work / "config.yml").write_text(yaml.safe_dump(english_pipeline(args.epochs)))
        started = time.perf_counter()
        model = train_nlu(str(work / "config.yml"), str(work / "nlu.yml"), str(work / "models"))
        train_s = time.perf_counter() - started
        started = time.perf_counter()
        predicted = asyncio.run(predict(model, [t for t, _ in test]))
        predict_ms = (time.perf_counter() - started) * 1000 / len(test)
    gold = [label for _, label in test]
    result = {"train_examples": len(train), "test_examples": len(test),
              "accuracy": round(accuracy_score(gold, predicted), 4),
              "macro_f1": round(f1_score(gold, predicted, average="macro"), 4),
              "finetune_steps": args.finetune_steps, "finetune_s": round(finetune_s, 1),
              "train_s": round(train_s, 1), "predict_ms_per_text": round(predict_ms, 1),
              "diet_epochs": next(c.get("epochs") for c in english_pipeline(args.epochs)["pipeline"]
                                  if c["name"] == "DIETClassifier"),
              "pipeline": [c["name"] for c in english_pipeline(args.epochs)["pipeline"]]}
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    if not args.limit:
        (RESULTS / "banking77.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
