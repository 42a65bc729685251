"""Hybrid retrieval (dense FAISS + BM25) with a calibrated answer / clarify / no-answer decision.

``search(text, k)`` is the architecture contract: hits best first with faq_id,
score, question, answer (and answer_en, the English answer). ``assess(text)``
adds the confidence and decision the bot acts on.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge_base import scoring
from knowledge_base.config import KBConfig
from knowledge_base.doc_answer import DocumentAnswer, DocumentSearch, DocumentSettings
from knowledge_base.document_terms import DocumentTerms
from knowledge_base.embedding import embed_queries_cached, encoder_identity, load_query_encoder
from knowledge_base.index import IndexUnavailable, current_version_dir, read_manifest
from knowledge_base.lexical import LexicalIndex
from knowledge_base.text import normalize

# Vectors fetched from FAISS per query; entries outside them get the lowest fetched score.
_MIN_FETCH = 256


@dataclass(frozen=True)
class Hit:
    faq_id: str
    score: float
    question: str
    answer: str
    category: str
    answer_en: str = ""  # "" from an index built before content carried English answers

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Assessment:
    decision: str
    confidence: float
    hits: list[Hit]

    def as_dict(self) -> dict:
        return {"decision": self.decision, "confidence": round(self.confidence, 4),
                "hits": [h.as_dict() for h in self.hits]}


@dataclass(frozen=True)
class EntryScores:
    """Per-entry scores of one query (arrays indexed by entry position)."""

    dense: np.ndarray
    bm25: np.ndarray
    negative: float  # best similarity to a known non-question message

class Retriever:
    """One index version with the encoder and settings of ``kb``.

    ``config`` (fusion weights, calibration) defaults to the file ``kb.retrieval_config``.
    """

    def __init__(self, version_dir: Path, kb: KBConfig,
                 config: scoring.RetrievalConfig | None = None) -> None:
        import faiss

        self.version_dir = version_dir
        self.kb = kb
        self.manifest = read_manifest(version_dir)
        folder = Path(kb.encoder_path).resolve()
        expected = encoder_identity(folder)
        if self.manifest.get("encoder") != expected:
            raise IndexUnavailable(
                f"index {version_dir} was built with encoder {self.manifest.get('encoder')}, "
                f"but the configured encoder is {expected} ({folder}); rebuild the index with "
                "`python -m knowledge_base build`")
        self.config = config or scoring.load_config(kb.retrieval_config)
        self.encoder = load_query_encoder(folder, kb.query_runtime)
        self.index = faiss.read_index(str(version_dir / "faiss.index"))
        self.vector_entry = np.load(version_dir / "vector_entry.npy")
        self.entries = json.loads((version_dir / "entries.json").read_text(encoding="utf-8"))
        self.lexical_texts = json.loads((version_dir / "texts.json").read_text(encoding="utf-8"))
        self.lexical = LexicalIndex(self.lexical_texts, kb.user_dict)
        self.negatives = np.load(version_dir / "negatives.npy")
        self.documents = DocumentSearch.load(version_dir, kb.user_dict, DocumentSettings.load(
            kb.document_retrieval_config), background=self.lexical_texts, terms=DocumentTerms.load(kb.document_terms),
            negatives=self.negatives)

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed several queries in one batch (a message and its parts): one encoder pass instead of
        one per text; each later search or assess finds its vector in the query cache."""
        queries = [query for query in map(normalize, texts) if query]
        if queries:
            embed_queries_cached(self.encoder, queries, prefix=self.kb.query_prefix)

    def entry_scores(self, text: str) -> EntryScores | None:
        """Best dense and BM25 score of each entry over its phrasings; None for empty input."""
        query = normalize(text)
        if not query or self.index.ntotal == 0:
            return None
        n = len(self.entries)
        vector = embed_queries_cached(self.encoder, [query], prefix=self.kb.query_prefix)
        scores, rows = self.index.search(vector, min(self.index.ntotal, _MIN_FETCH))
        found = rows[0] >= 0
        dense = np.full(n, float(scores[0][found].min()), dtype=np.float32)
        np.maximum.at(dense, self.vector_entry[rows[0][found]], scores[0][found])
        bm25 = np.zeros(n, dtype=np.float32)
        np.maximum.at(bm25, self.vector_entry, self.lexical.scores(query))
        negative = float((self.negatives @ vector[0]).max()) if len(self.negatives) else 0.0
        return EntryScores(dense=dense, bm25=bm25, negative=negative)

    def rank(self, scores: EntryScores, mode: str = "hybrid") -> np.ndarray:
        return scoring.fuse(scores.dense, scores.bm25, mode, self.config)

    def search(self, text: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """Entries best first; [] for empty or meaningless input."""
        scores = self.entry_scores(text)
        if scores is None or k <= 0:
            return []
        fused = self.rank(scores, mode)
        order = np.argsort(-fused)[:k]
        return [self._hit(int(i), float(fused[i])) for i in order]

    def assess(self, text: str, k: int = 3, mode: str = "hybrid") -> Assessment:
        scores = self.entry_scores(text)
        if scores is None:
            return Assessment(scoring.NO_ANSWER, 0.0, [])
        fused = self.rank(scores, mode)
        calibration = self.config.calibration.get(mode)
        if calibration is None:
            raise IndexUnavailable(f"no calibration for mode {mode!r} in {self.kb.retrieval_config}; "
                                   "run `python -m knowledge_base calibrate`")
        features = scoring.ranking_features(fused, scores, self.config.bm25_half)
        confidence = calibration.confidence(features)
        order = np.argsort(-fused)[:k]
        hits = [self._hit(int(i), float(fused[i])) for i in order]
        return Assessment(calibration.decide(confidence), confidence, hits)

    def answer_from_documents(self, text: str) -> DocumentAnswer:
        """The documents' answer to a question (decision, cited units, provenance); no_answer without documents."""
        query = normalize(text)
        if not query or self.documents is None:
            return DocumentAnswer(scoring.NO_ANSWER, 0.0)
        vector = embed_queries_cached(self.encoder, [query], prefix=self.kb.query_prefix)[0]
        return self.documents.answer(query, vector)

    def _hit(self, position: int, score: float) -> Hit:
        entry = self.entries[position]
        return Hit(faq_id=entry["id"], score=round(score, 4), question=entry["question"],
                   answer=entry["answer"], category=entry["category"],
                   answer_en=entry.get("answer_en") or "")


def load_retriever(config: KBConfig) -> Retriever:
    """A retriever over the version CURRENT names in ``config.index_dir``."""
    return Retriever(current_version_dir(Path(config.index_dir)), config)
