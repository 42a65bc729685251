"""Choose fusion weights, fit the confidence model and the two thresholds on our own data.

Positives: every KB phrasing, queried leave-one-out against the rest of the
index (its own vector and BM25 document masked). Negatives: messages that must
not get an FAQ answer (``calibration/negatives.yml``: greetings, chitchat,
out-of-scope and task requests). The dev evaluation sets are never used here.
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
MAX_WRONG_ANSWER_SHARE = 0.03
MAX_NEGATIVE_CLARIFY_RATE = 0.10
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


def choose_thresholds(p: np.ndarray, correct: np.ndarray, negative: np.ndarray) -> tuple[float, float]:
    grid = np.round(np.arange(0.05, 0.995, 0.005), 3)

    def rate_over(mask, t):
        return float((p[mask] >= t).mean()) if mask.any() else 0.0

    def wrong_share(t):
        answered = p >= t
        return float((answered & ~correct).sum() / max(answered.sum(), 1))

    answer = next((t for t in grid if rate_over(negative, t) <= MAX_NEGATIVE_ANSWER_RATE
                   and wrong_share(t) <= MAX_WRONG_ANSWER_SHARE), float(grid[-1]))
    clarify = next((t for t in grid if rate_over(negative, t) <= MAX_NEGATIVE_CLARIFY_RATE), answer)
    return float(answer), float(min(clarify, answer))


def fit_mode(samples: list[Sample], mode: str, config: scoring.RetrievalConfig) -> dict:
    from sklearn.linear_model import LogisticRegression

    x, correct, negative = _features(samples, mode, config)
    model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000).fit(x, correct)
    p = model.predict_proba(x)[:, 1]
    answer, clarify = choose_thresholds(p, correct, negative)
    return {"coef": [round(float(c), 6) for c in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 6),
            "answer_threshold": answer, "clarify_threshold": clarify,
            "loo_recall_at_1": round(recall_at_1(samples, mode, config), 4),
            "negative_answer_rate": round(float((p[negative] >= answer).mean()), 4),
            "positive_answer_rate": round(float((p[~negative] >= answer).mean()), 4)}


def calibrate(retriever: Retriever, out: Path | None = None) -> dict:
    """Fit on ``retriever``'s index and write ``out`` (default: the retriever's ``kb.retrieval_config``)."""
    out = out or retriever.kb.retrieval_config
    negatives = load_negatives(retriever.kb.negatives)
    samples = leave_one_out_samples(retriever) + negative_samples(retriever, negatives)
    fusion = choose_fusion(samples)
    document = {
        "fusion": {"dense_weight": fusion.dense_weight, "bm25_half": fusion.bm25_half},
        "features": list(scoring.FEATURES),
        "calibration": {mode: fit_mode(samples, mode, fusion) for mode in scoring.MODES},
        "fitted": {"date": dt.date.today().isoformat(), "index_version": retriever.version,
                   "positives_leave_one_out": sum(s.target is not None for s in samples),
                   "negatives": sum(s.target is None for s in samples)},
    }
    header = ("# Retrieval fusion and calibrated confidence; written by `python -m knowledge_base calibrate`\n"
              "# (leave-one-out over KB phrasings + knowledge_base/calibration/negatives.yml; never the dev sets).\n")
    out.write_text(header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return document
