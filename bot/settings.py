"""All runtime configuration, read from environment variables with documented defaults.

Kept free of Rasa imports so every process (Rasa server, action server, CLIs,
tests) can read it cheaply. README's "Configuration" table mirrors this file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be a number") from None


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be an integer") from None


@dataclass(frozen=True)
class Settings:
    models_dir: Path
    encoder_path: Path
    index_dir: Path
    content_dir: Path
    rasa_model_dir: Path
    query_prefix: str
    passage_prefix: str
    kb_reload_interval_s: float
    rasa_port: int
    action_port: int
    tracker_db_path: Path
    secrets_dir: Path
    bank_db_url: str

    @property
    def action_endpoint_url(self) -> str:
        return os.environ.get("ACTION_ENDPOINT_URL") or f"http://localhost:{self.action_port}/webhook"


def load_settings() -> Settings:
    models = _path("ASSISTANT_MODELS_DIR", REPO_ROOT / "models")
    return Settings(
        models_dir=models,
        encoder_path=_path("KB_ENCODER_PATH", models / "encoder" / "multilingual-e5-small"),
        index_dir=_path("KB_INDEX_DIR", models / "kb_index"),
        content_dir=_path("KB_CONTENT_DIR", REPO_ROOT / "knowledge_base" / "content"),
        rasa_model_dir=_path("RASA_MODEL_DIR", models / "rasa"),
        query_prefix=os.environ.get("KB_QUERY_PREFIX", "query: "),
        passage_prefix=os.environ.get("KB_PASSAGE_PREFIX", "passage: "),
        kb_reload_interval_s=_float("KB_RELOAD_INTERVAL_S", 2.0),
        rasa_port=_int("RASA_PORT", 5005),
        action_port=_int("ACTION_PORT", 5055),
        tracker_db_path=_path("TRACKER_DB_PATH", REPO_ROOT / "var" / "tracker.db"),
        secrets_dir=_path("ASSISTANT_SECRETS_DIR", REPO_ROOT / "var" / "secrets"),
        bank_db_url=os.environ.get("BANK_DB_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'sandbox_bank.db'}",
    )
