"""Choose fusion weights, fit the confidence model and the two thresholds on our own data.

Confidence model. Positives: every KB phrasing, queried leave-one-out against
the rest of the index (its own vector and BM25 document masked). Negatives:
messages that must not get an FAQ answer (``calibration/negatives.yml``:
greetings, chitchat, out-of-scope and task requests).

Thresholds. Leave-one-out phrasings are harder than real questions (the
entry loses one of its own phrasings), so thresholds chosen on them answer
too rarely. When ``calibration/heldout.yml`` exists, the answer and clarify
thresholds are chosen on it instead: new phrasings of each entry written for
calibration only (never indexed, never training data) and task requests that
must not be answered. The dev evaluation sets are never used here.
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge_base import scoring
from knowledge_base.embedding import embed_queries
from knowledge_base.index import load_negatives
from knowledge_base.retriever import EntryScores, Retriever

# The false-answer budget (2 %), applied to our own negatives.
MAX_NEGATIVE_ANSWER_RATE = 0.02
MAX_WRONG_ANSWER_SHARE = 0.03  # on leave-one-out phrasings
MAX_HELDOUT_WRONG_SHARE = 0.01  # on held-out phrasings: answered outright must be right ≥ 99 % on new questions
# With held-out thresholds the knowledge base is the second guard against answering a non-question: the
# intent and the question/request model (bot/nlu/question_form.py) decide first whether it is asked at all.
MAX_KB_NEGATIVE_ANSWER_RATE = 0.10
MAX_NEGATIVE_CLARIFY_RATE = 0.10
HELDOUT_FILE = "heldout.yml"
WEIGHT_GRID = (0.5, 0.6, 0.7, 0.8, 0.9)
HALF_GRID = (2.0, 4.0, 8.0, 16.0)


@dataclass
class Sample:
    scores: EntryScores
    target: int | None  # entry position, None for a negative


def leave_one_out_samples(retriever: Retriever) -> list[Sample]:
    """Each indexed phrasing as a query against every other phrasing."""
    texts = retriever.lexical_texts
    passages = retriever.index.reconstruct_n(0, retriever.index.ntotal)
    queries = embed_queries(retriever.encoder, texts, batch_size=64, show_progress=True,
                            prefix=retriever.kb.query_prefix)
    negative_sim = (queries @ retriever.negatives.T).max(axis=1) if len(retriever.negatives) else np.zeros(len(texts))
    owners = retriever.vector_entry
    n_entries = len(retriever.entries)
    samples = []
    for i, text in enumerate(texts):
        dense_vec = passages @ queries[i]
        dense_vec[i] = -1.0
        bm25_vec = retriever.lexical.scores(text)
        bm25_vec[i] = 0.0
        dense = np.full(n_entries, -1.0, dtype=np.float32)
        bm25 = np.zeros(n_entries, dtype=np.float32)
        np.maximum.at(dense, owners, dense_vec)
        np.maximum.at(bm25, owners, bm25_vec)
        samples.append(Sample(EntryScores(dense, bm25, float(negative_sim[i])), int(owners[i])))
    return samples


def negative_samples(retriever: Retriever, texts: list[str]) -> list[Sample]:
    """Each negative as a query, with its own vector masked from the negative set."""
    samples = []
    for i, text in enumerate(texts):
        scores = retriever.entry_scores(text)
        if scores is None:
            continue
        own = retriever.negatives[i]
        others = np.delete(retriever.negatives, i, axis=0)
        scores = EntryScores(scores.dense, scores.bm25, float((others @ own).max()) if len(others) else 0.0)
        samples.append(Sample(scores, None))
    return samples


def load_heldout(path: Path) -> tuple[dict[str, list[str]], list[str]]:
    """(entry id -> new phrasings, task requests) of the held-out calibration set."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    questions = {str(k): [str(t) for t in v or []] for k, v in (raw.get("questions") or {}).items()}
    requests = [str(t) for texts in (raw.get("requests") or {}).values() for t in texts or []]
    return questions, requests


def heldout_samples(retriever: Retriever, path: Path) -> list[Sample]:
    """Held-out phrasings and requests scored against the whole index, as a customer's message is."""
    questions, requests = load_heldout(path)
    position = {e["id"]: i for i, e in enumerate(retriever.entries)}
    unknown = sorted(set(questions) - set(position))
    if unknown:
        raise ValueError(f"{path}: unknown entry id(s) {', '.join(unknown[:5])}")
    labelled = [(t, position[i]) for i, texts in questions.items() for t in texts] + [(t, None) for t in requests]
    samples = []
    for text, target in labelled:
        scores = retriever.entry_scores(text)
        if scores is not None:
            samples.append(Sample(scores, target))
    return samples


def recall_at_1(samples: list[Sample], mode: str, config: scoring.RetrievalConfig) -> float:
    positives = [s for s in samples if s.target is not None]
    hits = [int(np.argmax(scoring.fuse(s.scores.dense, s.scores.bm25, mode, config))) == s.target
            for s in positives]
    return float(np.mean(hits))


def choose_fusion(samples: list[Sample]) -> scoring.RetrievalConfig:
    best = max(itertools.product(WEIGHT_GRID, HALF_GRID),
               key=lambda wh: recall_at_1(samples, "hybrid", scoring.RetrievalConfig(*wh)))
    return scoring.RetrievalConfig(dense_weight=best[0], bm25_half=best[1])


def _features(samples: list[Sample], mode: str, config: scoring.RetrievalConfig):
    rows, correct = [], []
    for s in samples:
        fused = scoring.fuse(s.scores.dense, s.scores.bm25, mode, config)
        rows.append(scoring.ranking_features(fused, s.scores, config.bm25_half))
        correct.append(s.target is not None and int(np.argmax(fused)) == s.target)
    return np.array(rows), np.array(correct), np.array([s.target is None for s in samples])


def choose_thresholds(p: np.ndarray, correct: np.ndarray, negative: np.ndarray,
                      max_wrong: float = MAX_WRONG_ANSWER_SHARE,
                      max_negative: float = MAX_NEGATIVE_ANSWER_RATE) -> tuple[float, float]:
    grid = np.round(np.arange(0.05, 0.995, 0.005), 3)

    def rate_over(mask, t):
        return float((p[mask] >= t).mean()) if mask.any() else 0.0

    def wrong_share(t):  # among the questions answered; non-questions have their own budget
        answered = (p >= t) & ~negative
        return float((answered & ~correct).sum() / max(answered.sum(), 1))

    answer = next((t for t in grid if rate_over(negative, t) <= max_negative
                   and wrong_share(t) <= max_wrong), float(grid[-1]))
    clarify = next((t for t in grid if rate_over(negative, t) <= MAX_NEGATIVE_CLARIFY_RATE), answer)
    return float(answer), float(min(clarify, answer))


def fit_mode(samples: list[Sample], mode: str, config: scoring.RetrievalConfig,
             heldout: list[Sample] | None = None) -> dict:
    from sklearn.linear_model import LogisticRegression

    x, correct, negative = _features(samples, mode, config)
    model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000).fit(x, correct)
    p = model.predict_proba(x)[:, 1]
    fitted = {"coef": [round(float(c), 6) for c in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 6),
              "loo_recall_at_1": round(recall_at_1(samples, mode, config), 4)}
    if heldout:
        hx, h_correct, h_negative = _features(heldout, mode, config)
        hp = model.predict_proba(hx)[:, 1]
        answer, clarify = choose_thresholds(hp, h_correct, h_negative, MAX_HELDOUT_WRONG_SHARE,
                                            MAX_KB_NEGATIVE_ANSWER_RATE)
        # our own negatives (calibration/negatives.yml) within the same second-guard budget
        answer = max(answer, choose_thresholds(p, correct, negative, 1.0, MAX_KB_NEGATIVE_ANSWER_RATE)[0])
        answered = hp[~h_negative] >= answer
        fitted |= {"heldout_recall_at_1": round(float(h_correct[~h_negative].mean()), 4),
                   "heldout_answer_rate": round(float(answered.mean()), 4),
                   "heldout_answer_precision": round(float(h_correct[~h_negative][answered].mean())
                                                     if answered.any() else 0.0, 4),
                   "heldout_request_answer_rate": round(float((hp[h_negative] >= answer).mean()), 4)}
    else:
        answer, clarify = choose_thresholds(p, correct, negative)
    return {**fitted, "answer_threshold": answer, "clarify_threshold": min(clarify, answer),
            "negative_answer_rate": round(float((p[negative] >= answer).mean()), 4),
            "positive_answer_rate": round(float((p[~negative] >= answer).mean()), 4)}


def calibrate(retriever: Retriever, out: Path | None = None) -> dict:
    """Fit on ``retriever``'s index and write ``out`` (default: the retriever's ``kb.retrieval_config``)."""
    out = out or retriever.kb.retrieval_config
    negatives = load_negatives(retriever.kb.negatives)
    samples = leave_one_out_samples(retriever) + negative_samples(retriever, negatives)
    fusion = choose_fusion(samples)
    heldout_path = retriever.kb.negatives.parent / HELDOUT_FILE
    heldout = heldout_samples(retriever, heldout_path) if heldout_path.is_file() else None
    document = {
        "fusion": {"dense_weight": fusion.dense_weight, "bm25_half": fusion.bm25_half},
        "features": list(scoring.FEATURES),
        "calibration": {mode: fit_mode(samples, mode, fusion, heldout) for mode in scoring.MODES},
        "fitted": {"date": dt.date.today().isoformat(), "index_version": retriever.version,
                   "positives_leave_one_out": sum(s.target is not None for s in samples),
                   "negatives": sum(s.target is None for s in samples),
                   "heldout_questions": sum(s.target is not None for s in heldout or []),
                   "heldout_requests": sum(s.target is None for s in heldout or [])},
    }
    header = ("# Retrieval fusion and calibrated confidence; written by `python -m knowledge_base calibrate`\n"
              "# (model: leave-one-out over KB phrasings + calibration/negatives.yml; thresholds: calibration/heldout.yml;\n"
              "# never the dev sets).\n")
    out.write_text(header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return document
