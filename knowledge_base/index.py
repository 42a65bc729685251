"""Build the FAISS index over the FAQ content, versioned and swapped atomically.

Layout of the index folder::

    CURRENT                 name of the live version (replaced atomically)
    <version>/faiss.index   one normalised vector per question/paraphrase
    <version>/vector_entry.npy   vector row -> entry position
    <version>/texts.json    the phrasing behind each vector (for BM25)
    <version>/negatives.npy query vectors of messages that are not knowledge questions
    <version>/entries.json  entry metadata (id, question, answer, answer_en, ...)
    <version>/manifest.json encoder identity, dim, counts, content hash, build time
    <version>/passages.*    the documents' passages, their vectors and texts (passage_index.py)

Readers only ever open a complete version, so a running server can switch to
a new build without seeing a half-written one.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from knowledge_base.ann import build_ann_index, index_type
from knowledge_base.config import DEFAULT_NEGATIVES, KBConfig
from knowledge_base.content import Content
from knowledge_base.embedding import embed_passages, embed_queries, encoder_identity, load_encoder
from knowledge_base.passage_index import known_vectors, stage_passages

log = logging.getLogger(__name__)

FORMAT_VERSION = 4
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
KEEP_VERSIONS = 3


NEGATIVES = DEFAULT_NEGATIVES


def load_negatives(path: Path = NEGATIVES) -> list[str]:
    """Messages that must not get an FAQ answer (greetings, chitchat, task requests…)."""
    import yaml

    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["negatives"]
    return [str(text) for texts in groups.values() for text in texts]


def negatives_hash(path: Path = NEGATIVES) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


class IndexUnavailable(RuntimeError):
    """The index is missing, incomplete or does not fit the configured encoder."""


def current_version_dir(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexUnavailable(f"no knowledge-base index in {index_dir}; build it with "
                          "`python -m knowledge_base build` (or `make setup`)")
    version = index_dir / pointer.read_text().strip()
    if not (version / MANIFEST).is_file():
        raise IndexUnavailable(f"{pointer} points at {version.name}, which is incomplete; rebuild the index")
    return version


def read_manifest(version_dir: Path) -> dict:
    return json.loads((version_dir / MANIFEST).read_text())


def is_current(index_dir: Path, content: Content, encoder: dict[str, str],
               negatives: Path = NEGATIVES) -> bool:
    try:
        manifest = read_manifest(current_version_dir(index_dir))
    except (IndexUnavailable, json.JSONDecodeError):
        return False
    return (manifest.get("format_version") == FORMAT_VERSION
            and manifest.get("content_hash") == content.content_hash()
            and manifest.get("negatives_hash") == negatives_hash(negatives)
            and manifest.get("encoder") == encoder)


def build_index(content: Content, config: KBConfig, force: bool = False, publish: bool = True) -> Path:
    """Embed every phrasing of every entry and stage a new index version in ``config.index_dir``;
    with ``publish`` (the default) it becomes the live one.

    Phrasings the live version already embedded with the same encoder and prefix keep their vectors,
    so a knowledge change re-embeds only what it adds (seconds, not the minute a full build takes).
    The encoder, its prefixes and the negatives come from ``config`` too; to build elsewhere, pass
    ``dataclasses.replace(config, index_dir=...)``.
    """
    index_dir = Path(config.index_dir)
    folder = Path(config.encoder_path).resolve()
    identity = encoder_identity(folder)
    if not force and is_current(index_dir, content, identity, config.negatives):
        log.info("index in %s is current; nothing to do", index_dir)
        return current_version_dir(index_dir)

    texts, owners = [], []
    for position, entry in enumerate(content.entries):
        for text in entry.index_texts():
            texts.append(text)
            owners.append(position)
    previous = _previous_build(index_dir, identity, config)
    vectors = _embed_new(folder, texts, previous.get("passages", {}), config)
    negatives = previous.get("negatives")
    if negatives is None:
        negatives = embed_queries(load_encoder(folder), load_negatives(config.negatives), prefix=config.query_prefix)
    known = previous.get("passages", {})
    version = _stage(index_dir, content, identity, config, texts, owners, vectors, negatives,
                     embed_documents=lambda parts: _embed_new(folder, parts, known, config))
    if publish:
        publish_version(index_dir, version)
    log.info("built index %s: %d entries, %d vectors (%d embedded anew), %d document passages", version,
             len(content.entries), len(texts), sum(t not in known for t in texts), len(content.passages))
    return index_dir / version


def _previous_build(index_dir: Path, identity: dict[str, str], config: KBConfig) -> dict:
    """The live version's passage vectors by text (and its negatives' vectors), when they are
    comparable: same encoder, same prefixes, same negatives, an exact index we can read back."""
    import faiss

    try:
        version_dir = current_version_dir(index_dir)
        manifest = read_manifest(version_dir)
    except (IndexUnavailable, json.JSONDecodeError, OSError):
        return {}
    if (manifest.get("encoder") != identity or manifest.get("passage_prefix") != config.passage_prefix
            or manifest.get("index_type") != "IndexFlatIP"):
        return {}
    try:
        index = faiss.read_index(str(version_dir / "faiss.index"))
        old_texts = json.loads((version_dir / "texts.json").read_text(encoding="utf-8"))
        stored = index.reconstruct_n(0, index.ntotal)
    except (RuntimeError, OSError, ValueError):
        return {}
    found = {"passages": {**known_vectors(version_dir), **dict(zip(old_texts, stored))}}
    if (manifest.get("negatives_hash") == negatives_hash(config.negatives)
            and manifest.get("query_prefix") == config.query_prefix):
        found["negatives"] = np.load(version_dir / "negatives.npy")
    return found


def _embed_new(folder: Path, texts: list[str], known: dict, config: KBConfig) -> np.ndarray:
    """Vectors for ``texts``: known ones reused, the rest embedded (the encoder loads only if needed)."""
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    fresh = {}
    if missing:
        fresh = dict(zip(missing, embed_passages(load_encoder(folder), missing, show_progress=len(missing) > 200,
                                                 prefix=config.passage_prefix)))
    return np.stack([known[t] if t in known else fresh[t] for t in texts]).astype(np.float32)


def _stage(index_dir: Path, content: Content, identity: dict[str, str], config: KBConfig, texts: list[str],
           owners: list[int], vectors: np.ndarray, negatives: np.ndarray, embed_documents) -> str:
    """Write a complete version folder (staged, then renamed into place); returns its name.

    ``embed_documents`` embeds the document passages' texts (known ones reused)."""
    import faiss

    index = build_ann_index(vectors)
    built_at = dt.datetime.now(dt.timezone.utc)
    version = f"v{built_at:%Y%m%dT%H%M%S%f}-{content.content_hash()[:8]}"
    index_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format_version": FORMAT_VERSION, "version": version, "encoder": identity,
        "passage_prefix": config.passage_prefix, "query_prefix": config.query_prefix,
        "dim": int(vectors.shape[1]), "entries": len(content.entries), "vectors": len(texts),
        "index_type": index_type(index), "content_hash": content.content_hash(),
        "negatives": len(negatives), "negatives_hash": negatives_hash(config.negatives),
        "built_at": built_at.isoformat(timespec="seconds"),
    }
    staged = Path(tempfile.mkdtemp(dir=index_dir, prefix=".build-"))
    try:
        faiss.write_index(index, str(staged / "faiss.index"))
        np.save(staged / "vector_entry.npy", np.asarray(owners, dtype=np.int32))
        (staged / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        np.save(staged / "negatives.npy", negatives)
        (staged / "entries.json").write_text(
            json.dumps([e.as_dict() for e in content.entries], ensure_ascii=False), encoding="utf-8")
        manifest["documents"] = sorted(d["doc"] for d in content.documents)
        manifest["passages"] = len(content.passages)
        manifest["passage_vectors"] = stage_passages(staged, content.passages, embed_documents)
        (staged / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        staged.rename(index_dir / version)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return version


def publish_version(index_dir: Path, version: str) -> None:
    """Point CURRENT at ``version`` atomically (running servers follow it: live.py), then prune old versions."""
    tmp = index_dir / f".{CURRENT}.tmp"
    tmp.write_text(version)
    os.replace(tmp, index_dir / CURRENT)
    versions = sorted(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("v"))
    for old in versions[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
