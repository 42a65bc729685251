"""Retrieval quality on a labelled set, side by side for BM25-only, dense-only and hybrid.

Prints R@1, R@3, MRR on the FAQ set, and the false-answer rate (KB answered at
the calibrated threshold) on the non-faq messages of the intent set.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge_base import scoring
from knowledge_base.retriever import Retriever


class EvalSetError(ValueError):
    pass


def read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        raise EvalSetError(f"{path}: file not found")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        missing = [k for k in required if not isinstance(row.get(k), str)]
        if missing:
            raise EvalSetError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
        rows.append(row)
    return rows


@dataclass
class ModeResult:
    mode: str
    recall_at_1: float
    recall_at_3: float
    mrr: float
    answer_rate: float
    answer_precision: float
    false_answer_rate: float | None
    clarify_rate_negatives: float | None


def evaluate(retriever: Retriever, faq_rows: list[dict], negative_texts: list[str]) -> list[ModeResult]:
    faq_scores = [(retriever.entry_scores(r["text"]), r["faq_id"]) for r in faq_rows]
    negative_scores = [retriever.entry_scores(t) for t in negative_texts]
    ids = [e["id"] for e in retriever.entries]
    return [_evaluate_mode(retriever, mode, faq_scores, negative_scores, ids) for mode in scoring.MODES]


def _decide(retriever: Retriever, scores, mode: str) -> tuple[str, np.ndarray | None]:
    if scores is None:
        return scoring.NO_ANSWER, None
    fused = retriever.rank(scores, mode)
    calibration = retriever.config.calibration[mode]
    features = scoring.ranking_features(fused, scores, retriever.config.bm25_half)
    return calibration.decide(calibration.confidence(features)), fused


def _evaluate_mode(retriever, mode, faq_scores, negative_scores, ids) -> ModeResult:
    ranks, answered, answered_right = [], 0, 0
    for scores, gold in faq_scores:
        decision, fused = _decide(retriever, scores, mode)
        order = [] if fused is None else [ids[i] for i in np.argsort(-fused)]
        ranks.append(order.index(gold) + 1 if gold in order else None)
        if decision == scoring.ANSWER:
            answered += 1
            answered_right += bool(order and order[0] == gold)
    decisions = [_decide(retriever, s, mode)[0] for s in negative_scores]
    n = len(ranks)
    return ModeResult(
        mode=mode,
        recall_at_1=sum(r == 1 for r in ranks) / n,
        recall_at_3=sum(r is not None and r <= 3 for r in ranks) / n,
        mrr=sum(1 / r for r in ranks if r) / n,
        answer_rate=answered / n,
        answer_precision=answered_right / max(answered, 1),
        false_answer_rate=(decisions.count(scoring.ANSWER) / len(decisions)) if decisions else None,
        clarify_rate_negatives=(decisions.count(scoring.CLARIFY) / len(decisions)) if decisions else None,
    )


def format_table(results: list[ModeResult], n_faq: int, n_negative: int) -> str:
    def pct(value):
        return "   n/a" if value is None else f"{value:6.1%}"

    lines = [f"FAQ set: {n_faq} questions; non-faq messages: {n_negative}",
             f"{'mode':<8} {'R@1':>6} {'R@3':>6} {'MRR':>6} {'answered':>9} {'ans.prec':>9} "
             f"{'false-ans':>10} {'neg.clarify':>12}"]
    for r in results:
        lines.append(f"{r.mode:<8} {r.recall_at_1:6.3f} {r.recall_at_3:6.3f} {r.mrr:6.3f} {pct(r.answer_rate):>9} "
                     f"{pct(r.answer_precision):>9} {pct(r.false_answer_rate):>10} {pct(r.clarify_rate_negatives):>12}")
    return "\n".join(lines)
