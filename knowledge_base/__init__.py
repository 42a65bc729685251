"""示例银行 knowledge base: FAQ content, the sentence encoder, the FAISS index and retrieval.

Public contract (see shared/spec/architecture.md):
``load_encoder(path=None)`` and ``load_retriever(index_dir=None).search(text, k=5)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from knowledge_base.embedding import load_encoder

if TYPE_CHECKING:
    from pathlib import Path

    from knowledge_base.retriever import Retriever

__all__ = ["load_encoder", "load_retriever"]


def load_retriever(index_dir: "str | Path | None" = None) -> "Retriever":
    from knowledge_base.retriever import load_retriever as _load

    return _load(index_dir)
