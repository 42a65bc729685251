"""Answers from the bank's documents: the best passage, its relevant units, and the citation.

Retrieval mirrors the FAQ side (dense FAISS over passages and their units + BM25 over passages, fused).
Whether to answer is a logistic model over features of the best passage (doc_calibrate.py fits it on
our own question set, calibration/doc_questions.jsonl, never the dev sets), strict on purpose: a wrong
citation is worse than "I don't know". Besides the scores it reads how much of the question the
passage covers, how much of it the documents never mention ("钻石卡", "365天"): a question about
something no document names is not answered by the nearest passage, whether the dense and the
BM25 search each rank that passage first on their own, and how close the question is to a known
message that is not a knowledge question ("帮我重置登录密码" is a request, not a question the app guide
answers).

The answer is the cited section's relevant units (sentences or table rows with their column headers),
in document order, never text the section does not contain.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from knowledge_base.document_terms import DocumentTerms
from knowledge_base.lexical import LexicalIndex, tokenize
from knowledge_base.passage_index import OWNERS, VECTORS, WHOLE, live_passages
from knowledge_base.scoring import CLARIFY, NO_ANSWER, ModeCalibration, squash_bm25

MAX_UNITS = 4
MAX_ANSWER_CHARS = 320
SHORT_PASSAGE = 160  # a passage this short is answered whole
OFFERED_SECTIONS = 3  # a question the model is unsure of is offered its best sections to choose from
UNIT_LEXICAL_WEIGHT = 0.1
_CAPTION = re.compile(r"\s*(表|table)\s*\d+", re.IGNORECASE)  # "表5　借记卡境外ATM取现收费": names a table, answers nothing
_ASK_BREAK = re.compile(r"[\s，,？?；;。！!]+")  # between the asks of "存款证明多少钱 英文版另外收多少"
_CODE = re.compile(r"[a-z]+\d+[a-z\d]*|\d+[a-z]+[a-z\d]*")  # E3008, WX180A: a unit naming it is the answer
FEATURES = ("fused", "dense", "bm25", "margin", "coverage", "unknown", "english", "dense_agrees", "bm25_agrees",
            "negative")
NEGATIVE = FEATURES.index("negative")
_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class DocumentSettings:
    dense_weight: float = 0.7
    bm25_half: float = 8.0
    unit_margin: float = 0.1  # further units within this of the best one are part of the answer
    model: ModeCalibration | None = None  # None until calibrate-docs ran: never answers

    @classmethod
    def load(cls, path: Path) -> "DocumentSettings":
        if not Path(path).is_file():
            return cls()
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        fusion, model = raw.get("fusion") or {}, raw.get("model")
        return cls(dense_weight=float(fusion.get("dense_weight", 0.7)), bm25_half=float(fusion.get("bm25_half", 8.0)),
                   unit_margin=float(fusion.get("unit_margin", 0.1)),
                   model=ModeCalibration(tuple(model["coef"]), model["intercept"], model["answer_threshold"],
                                         model["clarify_threshold"]) if model else None)


@dataclass(frozen=True)
class DocumentAnswer:
    decision: str
    confidence: float
    doc: str | None = None
    title: str | None = None
    section: str | None = None
    page: int | None = None
    units: tuple[str, ...] = ()
    others: tuple["DocumentAnswer", ...] = ()  # at "clarify": the next best sections, to offer beside this one

    @property
    def text(self) -> str:
        return "".join(_as_sentence(u) for u in self.units)

    def citation(self) -> str:
        """The Chinese answer as the bank states it: 根据《title》section：relevant text."""
        return f"根据《{self.title}》{self.section}：{self.text}" if self.title else ""

    def provenance(self, version: str | None) -> dict:
        return {"doc": self.doc, "section": self.section, "page": self.page, "version": version}

    def as_dict(self) -> dict:
        out = asdict(self)
        out["units"] = list(self.units)
        out["others"] = [other.as_dict() for other in self.others]
        out["confidence"] = round(self.confidence, 4)
        out["text"] = self.text
        out["citation"] = self.citation()
        return out


@dataclass(frozen=True)
class _SectionUnits:
    """A section's units in document order: (passage, unit) positions, texts, vectors and their BM25."""
    cited: list[tuple[int, int]]
    units: list[str]
    vectors: np.ndarray
    lexical: LexicalIndex


CITATION_PREFIX = "doc:"


def citation_key(doc: str, section: str) -> str:
    """A cited section's id where an FAQ entry's id would stand (analytics, a clarification button)."""
    return f"{CITATION_PREFIX}{doc} {section}"[:128]


def _idf(word_sets: Sequence[set[str]]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for words in word_sets:
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    n = len(word_sets)
    return {word: float(np.log((n + 1) / (df + 1)) + 1) for word, df in counts.items()}


def _as_sentence(unit: str) -> str:
    unit = unit.strip()
    return unit if unit[-1:] in "。！？；;.!?" else unit + "。"


class DocumentSearch:
    """One version's passages: search them and pick the cited text for a question."""

    def __init__(self, version_dir: Path, user_dict: Path, settings: DocumentSettings,
                 background: Sequence[str] = (), terms: DocumentTerms = DocumentTerms(),
                 negatives: np.ndarray | None = None) -> None:
        """``background``: other texts customers' words are weighed against (the FAQ phrasings), so
        "多少" or "你们" count for little and "钻石卡" or "公积金" for much. ``terms``: the documents'
        words for customers' words, added to a question's words (not to its vector). ``negatives``:
        vectors of messages that are not knowledge questions (the index's negatives.npy)."""
        import faiss

        self.passages = live_passages(version_dir)
        self.settings = settings
        self.terms = terms
        self.index = faiss.read_index(str(version_dir / VECTORS))
        self.owners = np.load(version_dir / OWNERS)
        self.user_dict = user_dict
        texts = [f"{p['title']} {p.get('chapter') or ''} {p['section']}\n{p['text']}" for p in self.passages]
        self.lexical = LexicalIndex(texts, user_dict)
        self.passage_words = [set(tokenize(text, user_dict)) for text in texts]
        self.vocabulary = set().union(*self.passage_words) if texts else set()
        self.all_text = "\n".join(texts)
        self.idf = _idf([*self.passage_words, *(set(tokenize(t, user_dict)) for t in background)])
        self.idf_unseen = max(self.idf.values(), default=1.0)
        self._sections: dict[int, _SectionUnits] = {}  # built when a section is first cited
        sections = {key: i for i, key in enumerate(dict.fromkeys((p["doc"], p["section"]) for p in self.passages))}
        self.section_of = np.array([sections[(p["doc"], p["section"])] for p in self.passages], dtype=int)
        self.negatives = np.zeros((0, self.index.d), dtype=np.float32) if negatives is None else negatives

    @classmethod
    def load(cls, version_dir: Path, user_dict: Path, settings: DocumentSettings, background: Sequence[str] = (),
             terms: DocumentTerms = DocumentTerms(), negatives: np.ndarray | None = None) -> "DocumentSearch | None":
        return (cls(version_dir, user_dict, settings, background, terms, negatives)
                if (version_dir / VECTORS).is_file() else None)

    def weight(self, word: str) -> float:
        return self.idf.get(word, self.idf_unseen)

    def passage_scores(self, query: str, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fused, dense, bm25) per passage: dense is the best of the passage's own and its units' vectors;
        ``query`` as searched (with the documents' terms)."""
        n = len(self.passages)
        scores, rows = self.index.search(vector.reshape(1, -1), self.index.ntotal)
        dense = np.full(n, -1.0, dtype=np.float32)
        np.maximum.at(dense, self.owners[rows[0], 0], scores[0])
        bm25 = squash_bm25(self.lexical.scores(query), self.settings.bm25_half)
        fused = self.settings.dense_weight * dense + (1 - self.settings.dense_weight) * bm25
        return fused, dense, bm25

    def features(self, query: str, vector: np.ndarray) -> tuple[int, np.ndarray]:
        """(best passage, FEATURES of it) for a normalised query."""
        best, features, _ = self._scored(query, vector)
        return best, features

    def _scored(self, query: str, vector: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """(best passage, FEATURES of it, fused score of every passage)."""
        english = float(bool(_LATIN.search(query)) and not _HAN.search(query))
        query = self.terms.expand(query)
        fused, dense, bm25 = self.passage_scores(query, vector)
        best = int(np.argmax(fused))
        words = [w for w in dict.fromkeys(tokenize(query, self.user_dict)) if len(w) >= 2 or w.isdigit()]
        total = sum(map(self.weight, words)) or 1.0
        covered = sum(self.weight(w) for w in words if w in self.passage_words[best] or w in self.passages[best]["text"])
        unknown = sum(self.weight(w) for w in words if w not in self.vocabulary and w not in self.all_text)
        # a section may span several passages: the margin is over the best other section, and the two
        # searches agree when each ranks one of the section's passages first on its own (the strongest
        # sign it is the right one)
        mine = self.section_of == self.section_of[best]
        second = float(fused[~mine].max()) if (~mine).any() else 0.0
        dense_agrees = float(dense[mine].max() >= dense.max())
        bm25_agrees = float(bm25[mine].max() >= bm25.max() > 0)
        negative = float((self.negatives @ vector.reshape(-1)).max()) if len(self.negatives) else 0.0
        return best, np.array([fused[best], dense[best], bm25[best], fused[best] - second, covered / total,
                               unknown / total, english, dense_agrees, bm25_agrees, negative]), fused

    def answer(self, query: str, vector: np.ndarray) -> DocumentAnswer:
        model = self.settings.model
        if not query or not self.passages or model is None:
            return DocumentAnswer(NO_ANSWER, 0.0)
        best, features, fused = self._scored(query, vector)
        confidence = model.confidence(features)
        decision = model.decide(confidence)
        # most messages are no document's business: picking units (a small BM25 per message) only when shown
        if decision == NO_ANSWER:
            return self._cited(best, decision, confidence, query, vector, units=False)
        others = tuple(self._cited(position, decision, confidence, query, vector)
                       for position in self._next_sections(fused, best)) if decision == CLARIFY else ()
        return replace(self._cited(best, decision, confidence, query, vector), others=others)

    def _cited(self, position: int, decision: str, confidence: float, query: str, vector: np.ndarray,
               units: bool = True) -> DocumentAnswer:
        passage = self.passages[position]
        shown, page = self.relevant_units(position, query, vector) if units else ([], passage.get("page"))
        return DocumentAnswer(decision, confidence, passage["doc"], passage["title"], passage["section"], page,
                              tuple(shown))

    def _next_sections(self, fused: np.ndarray, best: int) -> list[int]:
        """The best passage of each of the next OFFERED_SECTIONS - 1 sections after ``best``'s: when the
        model is unsure, the right section is most often one of these (of our own 114 questions, the first
        section is right for 88 %, one of the first three for 99 %)."""
        seen, found = {int(self.section_of[best])}, []
        for position in np.argsort(-fused):
            if len(found) == OFFERED_SECTIONS - 1:
                break
            section = int(self.section_of[position])
            if section not in seen:
                seen.add(section)
                found.append(int(position))
        return found

    def relevant_units(self, position: int, query: str, vector: np.ndarray) -> tuple[list[str], int | None]:
        """(units that answer the question, page of the first) from the cited section, which may span
        several passages (a table and its notes, a table continued on the next page): all of a short
        section; else the best unit and those close to it, in document order. Only units naming a
        code the question names, when any do; a table's caption is never an answer on its own."""
        section = self._section_units(position)
        cited, units = section.cited, section.units
        if sum(map(len, units)) <= SHORT_PASSAGE:
            return list(units), self.passages[position].get("page")
        unit_index = section.lexical
        lexical = squash_bm25(unit_index.scores(self.terms.expand(query)), 2.0)
        score = section.vectors @ vector.reshape(-1) + UNIT_LEXICAL_WEIGHT * lexical
        codes = _CODE.findall(query.lower())
        naming = [i for i, unit in enumerate(units) if any(code in unit.lower() for code in codes)]
        candidates = naming or [i for i in range(len(units)) if not _CAPTION.match(units[i])] or list(range(len(units)))
        ranked = sorted(candidates, key=lambda i: -score[i])
        keep = [i for i in ranked[:MAX_UNITS] if score[i] >= score[ranked[0]] - self.settings.unit_margin]
        keep += [i for i in self._per_ask(query, unit_index, candidates, score) if i not in keep]
        chosen, size = [], 0
        for i in keep:
            if chosen and size + len(units[i]) > MAX_ANSWER_CHARS:
                break
            chosen.append(i)
            size += len(units[i])
        chosen.sort()
        return [units[i] for i in chosen], self.passages[cited[chosen[0]][0]].get("page")

    def _per_ask(self, query: str, unit_index: LexicalIndex, candidates: list[int], score: np.ndarray) -> list[int]:
        """For a question that asks several things ("存款证明多少钱 英文版另外收多少"), the unit that
        shares the most words with each ask, so the answer covers every ask and not only the first."""
        asks = [ask for ask in _ASK_BREAK.split(query) if len(ask) >= 2]
        found: list[int] = []
        for ask in asks if len(asks) > 1 else []:
            lexical = unit_index.scores(self.terms.expand(ask))
            best = max(candidates, key=lambda i: (lexical[i], score[i]))
            if lexical[best] > 0 and best not in found:
                found.append(best)
        return found

    def _section_units(self, position: int) -> "_SectionUnits":
        """The units of ``position``'s section with their vectors and BM25, built once per section: the
        same few sections are cited again and again, and each build tokenises all their units."""
        key = int(self.section_of[position])
        if key not in self._sections:
            members = self._section_members(position)
            cited = [(p, u) for p in members for u in range(len(self.passages[p]["units"]))]
            units = [self.passages[p]["units"][u] for p, u in cited]
            rows = np.flatnonzero(np.isin(self.owners[:, 0], members) & (self.owners[:, 1] != WHOLE))
            row = {(int(self.owners[r, 0]), int(self.owners[r, 1])): int(r) for r in rows}
            vectors = np.vstack([self.index.reconstruct(row[c]) for c in cited]) if cited else np.zeros((0, self.index.d))
            self._sections[key] = _SectionUnits(cited, units, vectors, LexicalIndex(units, self.user_dict))
        return self._sections[key]

    def _section_members(self, position: int) -> list[int]:
        """The passages of ``position``'s document and section, in document order."""
        return [int(i) for i in np.flatnonzero(self.section_of == self.section_of[position])]
