"""Score fusion and calibrated confidence, as pure functions over per-entry scores.

hybrid = dense_weight * dense + (1 - dense_weight) * bm25 / (bm25 + bm25_half)

The confidence is a logistic model over features of the top of the ranking,
fitted by ``python -m knowledge_base calibrate`` and stored in retrieval.yml
together with the two decision thresholds (answer / clarify).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from knowledge_base.config import DEFAULT_RETRIEVAL_CONFIG

CONFIG_PATH = DEFAULT_RETRIEVAL_CONFIG
MODES = ("hybrid", "dense", "bm25")
ANSWER, CLARIFY, NO_ANSWER = "answer", "clarify", "no_answer"
FEATURES = ("top", "margin", "dense_top", "bm25_top", "agree", "negative", "dense_minus_negative")


@dataclass(frozen=True)
class ModeCalibration:
    coef: tuple[float, ...]
    intercept: float
    answer_threshold: float
    clarify_threshold: float

    def confidence(self, features: np.ndarray) -> float:
        z = float(np.dot(self.coef, features) + self.intercept)
        return float(1.0 / (1.0 + np.exp(-z)))

    def decide(self, confidence: float) -> str:
        if confidence >= self.answer_threshold:
            return ANSWER
        return CLARIFY if confidence >= self.clarify_threshold else NO_ANSWER


@dataclass(frozen=True)
class RetrievalConfig:
    dense_weight: float = 0.7
    bm25_half: float = 6.0
    calibration: dict[str, ModeCalibration] = field(default_factory=dict)

    def mode_weights(self, mode: str) -> tuple[float, float]:
        """(dense weight, bm25 weight) for a retrieval mode."""
        return {"dense": (1.0, 0.0), "bm25": (0.0, 1.0)}.get(mode, (self.dense_weight, 1 - self.dense_weight))


def load_config(path: Path = CONFIG_PATH) -> RetrievalConfig:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    fusion = raw.get("fusion", {})
    calibration = {
        mode: ModeCalibration(coef=tuple(c["coef"]), intercept=c["intercept"],
                              answer_threshold=c["answer_threshold"], clarify_threshold=c["clarify_threshold"])
        for mode, c in (raw.get("calibration") or {}).items()
    }
    return RetrievalConfig(dense_weight=fusion.get("dense_weight", 0.7),
                           bm25_half=fusion.get("bm25_half", 6.0), calibration=calibration)


def squash_bm25(scores: np.ndarray, half: float) -> np.ndarray:
    """Map unbounded BM25 scores to [0, 1): half-way at ``half``; query-independent."""
    scores = np.maximum(scores, 0.0)
    return scores / (scores + half)


def fuse(dense: np.ndarray, bm25: np.ndarray, mode: str, config: RetrievalConfig) -> np.ndarray:
    w_dense, w_bm25 = config.mode_weights(mode)
    return w_dense * dense + w_bm25 * squash_bm25(bm25, config.bm25_half)


def ranking_features(fused: np.ndarray, scores, half: float) -> np.ndarray:
    """Features of the top entry of one ranking; ``scores`` is the query's EntryScores.

    ``negative`` is the query's best similarity to known non-questions (task
    requests, chitchat…): close to "我要挂失" means a task, not "挂失要带什么".
    """
    dense, bm25 = scores.dense, scores.bm25
    order = np.argsort(-fused)
    top = order[0]
    second = fused[order[1]] if len(order) > 1 else 0.0
    return np.array([
        fused[top], fused[top] - second, dense[top], squash_bm25(bm25[top:top + 1], half)[0],
        float(top == int(np.argmax(dense)) and top == int(np.argmax(bm25))),
        scores.negative, dense.max() - scores.negative,
    ], dtype=np.float64)
