"""Fit the documents' answer model: ``python -m knowledge_base calibrate-docs``.

Samples: our own questions about the documents (calibration/doc_questions.jsonl: answerable ones with
the section that answers them, and questions no document answers) plus the messages that are not
knowledge questions at all (calibration/negatives.yml: greetings, task requests…). A sample is
positive when the best passage is the right section. The same negatives are in the index (the
"negative" feature: similarity to the nearest one), so a sample's feature counts only the negatives
of other folds. The threshold comes from out-of-fold predictions (stratified k-fold), so it is
chosen on questions the model did not see: the lowest one at which at most MAX_WRONG of the
answered questions cite a wrong section, at most MAX_INVENTED of the unanswerable questions and
MAX_NEGATIVE of the other messages get an answer. Never the dev sets.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge_base.doc_answer import FEATURES, NEGATIVE
from knowledge_base.index import load_negatives
from knowledge_base.text import normalize

MAX_WRONG = 0.05
MAX_INVENTED = 0.05
MAX_NEGATIVE = 0.02
# the clarify band offers sections to choose from (bot/actions/faq.py): no more often to messages that are not
# questions than the FAQ side offers its menus (calibrate.MAX_NEGATIVE_CLARIFY_RATE)
MAX_NEGATIVE_CLARIFY = 0.1
CLARIFY_PRECISION = 0.6
FOLDS = 5
DEFAULT_SET = Path(__file__).resolve().parent / "calibration" / "doc_questions.jsonl"


@dataclass(frozen=True)
class Samples:
    """Every calibration message: FEATURES of its best passage, whether that is the right section, its
    kind ("answerable", "unanswerable" or "negative"), its similarity to each of the index's negatives,
    and which negative it is itself (-1 for a question)."""
    x: np.ndarray
    right: np.ndarray
    kinds: np.ndarray
    similarity: np.ndarray
    own: np.ndarray


def samples(retriever, rows: list[dict], negatives: list[str]) -> Samples:
    from knowledge_base.embedding import embed_queries_cached

    documents = retriever.documents
    x, right, kinds, similarity, own = [], [], [], [], []
    messages = [(r["text"], r["doc"], r.get("section"), "answerable" if r["doc"] else "unanswerable", -1) for r in rows]
    messages += [(n, None, None, "negative", j) for j, n in enumerate(negatives)]
    for text, doc, section, kind, negative in messages:
        query = normalize(text)
        if not query:
            continue
        vector = embed_queries_cached(retriever.encoder, [query], prefix=retriever.kb.query_prefix)[0]
        best, features = documents.features(query, vector)
        passage = documents.passages[best]
        x.append(features)
        right.append(doc is not None and passage["doc"] == doc and passage["section"] == section)
        kinds.append(kind)
        similarity.append(documents.negatives @ vector)
        own.append(negative)
    return Samples(np.array(x), np.array(right), np.array(kinds), np.array(similarity), np.array(own))


def fold_of(right: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each sample's fold (stratified by right section)."""
    from sklearn.model_selection import StratifiedKFold

    folds = np.zeros(len(right), dtype=int)
    for fold, (_, test) in enumerate(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(right, right)):
        folds[test] = fold
    return folds


def fold_masked(data: Samples, folds: np.ndarray) -> np.ndarray:
    """FEATURES with "negative" measured only against negatives of other folds: a negative must not
    find itself (or its near-duplicates in its fold), or the model learns what production never sees."""
    negative_fold = np.full(data.similarity.shape[1], -1)
    negative_fold[data.own[data.own >= 0]] = folds[data.own >= 0]
    x = data.x.copy()
    for i in range(len(x)):
        others = data.similarity[i, negative_fold != folds[i]]
        x[i, NEGATIVE] = others.max() if len(others) else 0.0
    return x


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    p = np.zeros(len(y))
    for fold in np.unique(folds):
        test = folds == fold
        p[test] = _model().fit(x[~test], y[~test]).predict_proba(x[test])[:, 1]
    return p


def _model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)


def thresholds(p: np.ndarray, right: np.ndarray, kinds: np.ndarray) -> tuple[float, float]:
    """The lowest answer threshold within the budgets: wrong sections among the answered questions,
    unanswerable questions answered, other messages answered; the clarify threshold by precision alone."""
    grid = np.round(np.arange(0.05, 1.0, 0.005), 3)
    answerable, unanswerable, negative = (kinds == k for k in ("answerable", "unanswerable", "negative"))

    def within(t: float, max_wrong: float, max_invented: float, max_negative: float) -> bool:
        answered = p >= t
        wrong = (answered & ~right & answerable).sum() / max((answered & answerable).sum(), 1)
        return (wrong <= max_wrong and _share(answered, unanswerable) <= max_invented
                and _share(answered, negative) <= max_negative)

    answer = next((float(t) for t in grid if within(t, MAX_WRONG, MAX_INVENTED, MAX_NEGATIVE)), float(grid[-1]))
    clarify = next((float(t) for t in grid if within(t, 1 - CLARIFY_PRECISION, 1.0, MAX_NEGATIVE_CLARIFY)), answer)
    return answer, min(clarify, answer)


def calibrate_documents(retriever, rows: list[dict], out: Path) -> dict:
    negatives = load_negatives(retriever.kb.negatives)
    data = samples(retriever, rows, negatives)
    folds = fold_of(data.right)
    x, right, kinds = fold_masked(data, folds), data.right, data.kinds
    p = out_of_fold(x, right, folds)
    answer, clarify = thresholds(p, right, kinds)
    model = _model().fit(x, right)
    answerable, unanswerable, negative = (kinds == k for k in ("answerable", "unanswerable", "negative"))
    settings = retriever.documents.settings
    document = {
        "fusion": {"dense_weight": settings.dense_weight, "bm25_half": settings.bm25_half,
                   "unit_margin": settings.unit_margin},
        "features": list(FEATURES),
        "model": {"coef": [round(float(c), 6) for c in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 6),
                  "answer_threshold": answer, "clarify_threshold": clarify},
        "out_of_fold": {
            "answerable_questions": int(answerable.sum()),
            "right_section_at_1": round(float(right[answerable].mean()), 4),
            "answered_right": round(float(((p >= answer) & right)[answerable].mean()), 4),
            "answered_wrong": round(float(((p >= answer) & ~right)[answerable].mean()), 4),
            "unanswerable_questions": int(unanswerable.sum()),
            "unanswerable_answered": round(float((p[unanswerable] >= answer).mean()), 4),
            "negative_messages": int(negative.sum()),
            "negatives_answered": round(float((p[negative] >= answer).mean()), 4),
            # the clarify band: sections offered to choose from, not answered
            "answerable_offered": round(float(((p >= clarify) & (p < answer))[answerable].mean()), 4),
            "unanswerable_offered": round(float(((p >= clarify) & (p < answer))[unanswerable].mean()), 4),
            "negatives_offered": round(float(((p >= clarify) & (p < answer))[negative].mean()), 4),
        },
        "fitted": {"date": dt.date.today().isoformat(), "index_version": retriever.version},
    }
    header = ("# Answering from documents: fusion and the answer model; written by "
              "`python -m knowledge_base calibrate-docs`\n"
              "# (calibration/doc_questions.jsonl + calibration/negatives.yml, out-of-fold thresholds; never the dev sets).\n")
    out.write_text(header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return document


def _share(answered: np.ndarray, group: np.ndarray) -> float:
    return float(answered[group].mean()) if group.any() else 0.0
