"""The documents' passages in an index version: their own FAISS index and BM25, beside the FAQ entries.

Files in a version folder (absent when no document is live)::

    passages.json         passage dicts (doc, title, section, chapter, page, text, units)
    passages.faiss        one vector per passage and one per answerable unit (sentence, table row)
    passage_owner.npy     vector row -> (passage position, unit position or -1 for the whole passage)
    passage_texts.json    the text behind each vector (reused by the next build: nothing re-embedded)

A unit is embedded with its section heading in front ("4.2 转账限额：安全工具：U盾；单笔限额：…"),
so a table row or a short sentence still knows what it is about.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from knowledge_base.ann import build_ann_index

PASSAGES = "passages.json"
VECTORS = "passages.faiss"
OWNERS = "passage_owner.npy"
TEXTS = "passage_texts.json"
WHOLE = -1


def vector_texts(passages: Sequence[dict]) -> tuple[list[str], list[tuple[int, int]]]:
    """(texts to embed, (passage, unit) each belongs to): the whole passage, then each unit."""
    texts, owners = [], []
    for position, passage in enumerate(passages):
        texts.append(f"{passage['title']} {passage['section']}\n{passage['text']}")
        owners.append((position, WHOLE))
        for unit_position, unit in enumerate(passage["units"]):
            texts.append(unit_text(passage, unit))
            owners.append((position, unit_position))
    return texts, owners


def unit_text(passage: dict, unit: str) -> str:
    return f"{passage['section']}：{unit}"


def stage_passages(folder: Path, passages: Sequence[dict], embed: Callable[[list[str]], np.ndarray]) -> int:
    """Write the passage files into a staged version folder; returns the number of vectors."""
    if not passages:
        return 0
    import faiss

    texts, owners = vector_texts(passages)
    vectors = embed(texts)
    faiss.write_index(build_ann_index(vectors), str(folder / VECTORS))
    np.save(folder / OWNERS, np.asarray(owners, dtype=np.int32).reshape(-1, 2))
    (folder / TEXTS).write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    (folder / PASSAGES).write_text(json.dumps(list(passages), ensure_ascii=False), encoding="utf-8")
    return len(texts)


def known_vectors(version_dir: Path) -> dict[str, np.ndarray]:
    """Passage vectors of an earlier version by text, so a rebuild embeds only what changed."""
    import faiss

    if not (version_dir / VECTORS).is_file():
        return {}
    index = faiss.read_index(str(version_dir / VECTORS))
    texts = json.loads((version_dir / TEXTS).read_text(encoding="utf-8"))
    return dict(zip(texts, index.reconstruct_n(0, index.ntotal)))


def live_passages(version_dir: Path) -> list[dict]:
    """The passages a version answers from ([] when it has none)."""
    path = version_dir / PASSAGES
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
