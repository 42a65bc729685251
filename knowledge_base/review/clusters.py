"""What customers asked that the knowledge base could not settle, grouped by meaning and ranked by volume.

Input: the masked texts of unanswered and clarified messages with their counts (the analytics tables
hold them; the caller reads them). The same encoder that answers customers embeds them; a greedy
leader clustering over cosine similarity (FAISS inner product on normalised vectors) puts a text in
the cluster of the most asked text it is close to, so the number of clusters follows the data instead
of a k chosen in advance. Each cluster names the live entry nearest to it, a reviewer's first guess
for "attach as paraphrases".
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge_base.config import KBConfig
from knowledge_base.embedding import embed_queries, load_query_encoder
from knowledge_base.index import current_version_dir

SIMILARITY = 0.86  # same question, other words (fine-tuned e5 cosine; below it topics start to mix)
MAX_TEXTS = 2000
MAX_EXAMPLES = 8


@dataclass
class QuestionCluster:
    key: str
    count: int
    outcomes: dict[str, int]
    texts: list[dict] = field(default_factory=list)  # {"text", "count"}, most asked first
    nearest_entry: dict | None = None  # {"faq_id", "question", "similarity"}

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.texts[0]["text"], "count": self.count, "outcomes": self.outcomes,
                "texts": self.texts[:MAX_EXAMPLES], "distinct_texts": len(self.texts),
                "nearest_entry": self.nearest_entry}


def cluster_questions(rows: Sequence[tuple[str, str, int]], config: KBConfig,
                      similarity: float = SIMILARITY) -> list[QuestionCluster]:
    """rows: (text, outcome, count). Clusters, largest first."""
    import faiss

    counts: dict[str, dict[str, int]] = {}
    for text, outcome, count in rows:
        if text.strip():
            counts.setdefault(text.strip(), {}).setdefault(outcome, 0)
            counts[text.strip()][outcome] += int(count)
    texts = sorted(counts, key=lambda t: (-sum(counts[t].values()), t))[:MAX_TEXTS]
    if not texts:
        return []
    vectors = embed_queries(load_query_encoder(config.encoder_path, config.query_runtime), texts,
                            prefix=config.query_prefix)
    leaders = faiss.IndexFlatIP(vectors.shape[1])
    clusters: list[QuestionCluster] = []
    for text, vector in zip(texts, vectors):
        row = vector.reshape(1, -1)
        if leaders.ntotal:
            score, found = leaders.search(row, 1)
            if score[0][0] >= similarity:
                _add(clusters[int(found[0][0])], text, counts[text])
                continue
        leaders.add(row)
        clusters.append(_add(QuestionCluster(_key(text), 0, {}), text, counts[text]))
    _name_nearest_entries(clusters, vectors[[texts.index(c.texts[0]["text"]) for c in clusters]], config)
    return sorted(clusters, key=lambda c: (-c.count, c.key))


def _add(cluster: QuestionCluster, text: str, outcomes: dict[str, int]) -> QuestionCluster:
    cluster.texts.append({"text": text, "count": sum(outcomes.values())})
    cluster.count += sum(outcomes.values())
    for outcome, n in outcomes.items():
        cluster.outcomes[outcome] = cluster.outcomes.get(outcome, 0) + n
    return cluster


def _key(text: str) -> str:
    """Stable id of a cluster: its leading text's hash (a draft records where it came from)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _name_nearest_entries(clusters: list[QuestionCluster], leader_vectors: np.ndarray, config: KBConfig) -> None:
    import faiss

    try:
        version = current_version_dir(Path(config.index_dir))
        index = faiss.read_index(str(version / "faiss.index"))
        owners = np.load(version / "vector_entry.npy")
        entries = json.loads((version / "entries.json").read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - without an index the clusters are still worth reviewing
        return
    scores, rows = index.search(np.ascontiguousarray(leader_vectors, dtype=np.float32), 1)
    for cluster, score, row in zip(clusters, scores, rows):
        if row[0] >= 0:
            entry = entries[int(owners[int(row[0])])]
            cluster.nearest_entry = {"faq_id": entry["id"], "question": entry["question"],
                                     "similarity": round(float(score[0]), 3)}
