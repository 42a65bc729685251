"""Adapt multilingual-e5-small to this bank's questions: contrastive fine-tuning on the KB's own phrasings.

Each step draws a batch of distinct entries and, for each, two of its phrasings
(question, paraphrases, English question): one as a query ("query: …"), one as
an indexed passage ("passage: …"). In-batch negatives (cross-entropy over the
scaled cosine similarities) pull phrasings of one entry together and push
neighbouring entries apart ("挂失流程" vs "解除挂失"), which is what the answer
decision needs: a clear margin between the right entry and the next.

Deterministic and cached: seeded, CPU only, the word-embedding matrix frozen
(250k rows; it dominates the optimiser's cost and the phrasings use few of them),
and the output folder's manifest records a fingerprint of the base encoder, the
training phrasings and the hyperparameters, so an unchanged project keeps its
encoder. The BQ corpus is *not* used for training: its licence is research use
only and this encoder ships in the product (shared/data/external/SOURCES.md).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from knowledge_base.encoder.build import MANIFEST, folder_checksums, install

log = logging.getLogger(__name__)

FINETUNE_VERSION = 1


@dataclass(frozen=True)
class FinetuneParams:
    steps: int = 200
    batch_size: int = 32
    learning_rate: float = 3e-5
    scale: float = 20.0
    max_seq_length: int = 64
    seed: int = 42


def phrasing_groups(content_dir: Path) -> list[list[str]]:
    """Each entry's phrasings, normalised as queries are; entries with one phrasing pair it with itself."""
    from knowledge_base.content import load_content
    from knowledge_base.text import normalize

    return [[normalize(t) for t in entry.index_texts()] for entry in load_content(content_dir).entries]


def fingerprint(base: Path, groups: list[list[str]], params: FinetuneParams) -> str:
    manifest = json.loads((base / MANIFEST).read_text())
    payload = json.dumps({"base": manifest.get("files"), "groups": groups, "params": asdict(params),
                          "version": FINETUNE_VERSION}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def is_current(out: Path, digest: str) -> bool:
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return manifest.get("fingerprint") == digest and manifest.get("files") == folder_checksums(out)


def _batches(groups: list[list[str]], params: FinetuneParams, rng: random.Random):
    size = min(params.batch_size, len(groups))
    for _ in range(params.steps):
        queries, passages = [], []
        for entry in rng.sample(range(len(groups)), size):  # distinct entries: no false negatives
            phrasings = groups[entry]
            query, passage = rng.sample(phrasings, 2) if len(phrasings) > 1 else (phrasings[0], phrasings[0])
            queries.append(query)
            passages.append(passage)
        yield queries, passages


def train(base: Path, groups: list[list[str]], params: FinetuneParams, query_prefix: str,
          passage_prefix: str):
    """The fine-tuned SentenceTransformer (in memory)."""
    import torch
    from sentence_transformers import SentenceTransformer

    rng = random.Random(params.seed)
    torch.manual_seed(params.seed)
    model = SentenceTransformer(str(base), device="cpu")
    model.max_seq_length = params.max_seq_length
    for name, parameter in model.named_parameters():
        if "word_embeddings" in name:
            parameter.requires_grad = False
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=params.learning_rate)
    model.train()
    started = time.monotonic()
    for step, (queries, passages) in enumerate(_batches(groups, params, rng)):
        q = _embed(model, [query_prefix + t for t in queries])
        p = _embed(model, [passage_prefix + t for t in passages])
        loss = torch.nn.functional.cross_entropy(q @ p.T * params.scale, torch.arange(len(queries)))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 25 == 0 or step == params.steps - 1:
            log.info("fine-tune step %d/%d loss %.3f (%.0f s)", step + 1, params.steps, loss.item(),
                     time.monotonic() - started)
    model.eval()
    return model


def _embed(model, texts: list[str]):
    import torch

    features = model.preprocess(texts)  # sentence-transformers 5: tokenize() is deprecated
    return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)


def finetune(base: Path, out: Path, groups: list[list[str]], query_prefix: str, passage_prefix: str,
             params: FinetuneParams = FinetuneParams(), force: bool = False,
             description: str = "multilingual-e5-small, fine-tuned on the 示例银行 knowledge base") -> Path:
    """Build (or keep) at ``out`` the base encoder at ``base`` fine-tuned on ``groups``: the phrasings
    of each entry (``phrasing_groups``), or of each intent (benchmarks/banking77.py)."""
    digest = fingerprint(base, groups, params)
    if not force and is_current(out, digest):
        log.info("fine-tuned encoder at %s is current; nothing to do", out)
        return out
    started = time.monotonic()
    model = train(base, groups, params, query_prefix, passage_prefix)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".encoder-finetune-") as tmp:
        staged = Path(tmp) / "model"
        model.save(str(staged))
        install(staged, out, {"name": description,
                              "base": str(base.name), "fingerprint": digest, "params": asdict(params),
                              "entries": len(groups), "phrasings": sum(len(g) for g in groups),
                              "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "train_seconds": round(time.monotonic() - started, 1)})
    log.info("fine-tuned encoder installed at %s in %.0f s", out, time.monotonic() - started)
    return out
