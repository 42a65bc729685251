"""Dense retrieval over the FAISS index: ``search(text, k)`` -> hits best first."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bot.settings import load_settings
from knowledge_base.embedding import embed_queries, encoder_identity, load_encoder
from knowledge_base.index import IndexUnavailable, current_version_dir, read_manifest
from knowledge_base.text import clean_query

# Vectors fetched per requested hit, so that the max over an entry's phrasings
# still sees enough distinct entries.
_OVERFETCH = 16


@dataclass(frozen=True)
class Hit:
    faq_id: str
    score: float
    question: str
    answer: str
    category: str

    def as_dict(self) -> dict:
        return asdict(self)


class Retriever:
    def __init__(self, version_dir: Path, encoder_path: Path | None = None) -> None:
        import faiss

        self.version_dir = version_dir
        self.manifest = read_manifest(version_dir)
        folder = encoder_path or load_settings().encoder_path
        expected = encoder_identity(folder)
        if self.manifest.get("encoder") != expected:
            raise IndexUnavailable(
                f"index {version_dir} was built with encoder {self.manifest.get('encoder')}, "
                f"but the configured encoder is {expected} ({folder}); rebuild the index with "
                "`python -m knowledge_base build`")
        self.encoder = load_encoder(folder)
        self.index = faiss.read_index(str(version_dir / "faiss.index"))
        self.vector_entry = np.load(version_dir / "vector_entry.npy")
        self.entries = json.loads((version_dir / "entries.json").read_text(encoding="utf-8"))

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def search(self, text: str, k: int = 5) -> list[Hit]:
        """Entries ranked by their best-matching phrasing; [] for empty input."""
        query = clean_query(text)
        if not query or k <= 0 or self.index.ntotal == 0:
            return []
        vector = embed_queries(self.encoder, [query])
        fetch = min(self.index.ntotal, max(k * _OVERFETCH, 64))
        scores, rows = self.index.search(vector, fetch)
        best: dict[int, float] = {}
        for score, row in zip(scores[0], rows[0]):
            if row < 0:
                continue
            entry = int(self.vector_entry[row])
            best[entry] = max(best.get(entry, -1.0), float(score))
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:k]
        return [self._hit(entry, score) for entry, score in ranked]

    def _hit(self, position: int, score: float) -> Hit:
        entry = self.entries[position]
        return Hit(faq_id=entry["id"], score=round(score, 4), question=entry["question"],
                   answer=entry["answer"], category=entry["category"])


def load_retriever(index_dir: str | Path | None = None) -> Retriever:
    folder = Path(index_dir).resolve() if index_dir else load_settings().index_dir
    return Retriever(current_version_dir(folder))
