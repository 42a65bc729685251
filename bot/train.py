"""Train the Rasa model only when its inputs changed: ``python -m bot.train [--force]``.

The model file is named after a fingerprint of everything that shapes it
(config, domain, stories/rules, NLU data, jieba dictionary, custom NLU code,
Rasa version), so an unchanged project reuses its model without starting Rasa.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.settings import REPO_ROOT, load_settings

TRAINING_INPUTS = ("bot/config.yml", "bot/domain", "bot/data", "intents/data", "intents/jieba",
                   "bot/nlu", "knowledge_base/text.py", "knowledge_base/content")
KEEP_MODELS = 3


def _input_files() -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = REPO_ROOT / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in {".yml", ".txt", ".py"})
                     if path.is_dir() else [path])
    return files


def fingerprint() -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(f"rasa=={version('rasa')}".encode())
    from knowledge_base.embedding import encoder_fingerprint

    # the sentence features come from the fine-tuned encoder (bot/nlu/sentence_embeddings.py)
    digest.update((encoder_fingerprint(load_settings().encoder_path) or "").encode())
    for path in _input_files():
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return load_settings().rasa_model_dir / f"assistant-{fingerprint()}.tar.gz"


def rasa_env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "USE_TF": "0",
            "TF_CPP_MIN_LOG_LEVEL": "2", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def rasa_executable() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def ensure_model(force: bool = False) -> Path:
    """Path of a trained model for the current inputs, training one if needed."""
    target = model_path()
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run(
        [rasa_executable(), "train", "--config", "bot/config.yml", "--domain", "bot/domain",
         "--data", "intents/data", "bot/data", "--out", str(target.parent),
         "--fixed-model-name", target.name.removesuffix(".tar.gz")],
        cwd=REPO_ROOT, env=rasa_env(), check=True,
    )
    print(f"trained {target.name} in {time.monotonic() - started:.0f} s")
    _prune(target.parent, keep=target)
    return target


def _prune(folder: Path, keep: Path) -> None:
    models = sorted(folder.glob("assistant-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in [m for m in models if m != keep][: max(0, len(models) - KEEP_MODELS)]:
        old.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.train", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even if the inputs are unchanged")
    args = parser.parse_args(argv)
    try:
        path = ensure_model(force=args.force)
    except subprocess.CalledProcessError as exc:
        print(f"error: rasa train failed with exit code {exc.returncode}; see the output above",
              file=sys.stderr)
        return 1
    print(f"model ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
