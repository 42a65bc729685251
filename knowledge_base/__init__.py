"""示例银行 knowledge base: FAQ content, the sentence encoder, the FAISS index and retrieval.

A library at the bottom of the project: it takes its paths and settings as a
``KBConfig`` (knowledge_base/config.py) and imports nothing from ``bot`` or
``connectors``.

Public contract (see shared/spec/architecture.md):
``load_encoder(path=None)`` and ``load_retriever(index_dir=None).search(text, k=5)``.
Without a ``config`` these two read ``KBConfig.from_env()`` once per call (they are
the contract's no-argument edge); pass a config to keep the environment out.
Heavy modules are imported on first use, so ``import knowledge_base.config`` stays cheap.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge_base.config import KBConfig

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from knowledge_base.retriever import Retriever

__all__ = ["KBConfig", "load_encoder", "load_retriever"]


def load_encoder(path: "str | Path | None" = None, config: KBConfig | None = None) -> "SentenceTransformer":
    """The encoder at ``path``, else ``config.encoder_path`` (default: from the environment)."""
    from knowledge_base.embedding import load_encoder as _load

    return _load(path if path else (config or KBConfig.from_env()).encoder_path)


def load_retriever(index_dir: "str | Path | None" = None, config: KBConfig | None = None) -> "Retriever":
    """A retriever over the live version in ``index_dir``, else ``config.index_dir``."""
    from knowledge_base.retriever import load_retriever as _load

    config = config or KBConfig.from_env()
    return _load(replace(config, index_dir=Path(index_dir).resolve()) if index_dir else config)
