"""Load the sentence encoder and embed texts with the e5 query/passage prefixes.

This is the one place that knows about prefixes; everything else calls
``embed_queries`` / ``embed_passages``.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from knowledge_base.config import DEFAULT_PASSAGE_PREFIX, DEFAULT_QUERY_PREFIX

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from knowledge_base.encoder.onnx_twin import OnnxSentenceEncoder

    QueryEncoder = SentenceTransformer | OnnxSentenceEncoder

log = logging.getLogger(__name__)

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_cache: dict[Path, "SentenceTransformer"] = {}
_lock = threading.Lock()


class EncoderMissing(RuntimeError):
    pass


def load_encoder(path: str | Path) -> "SentenceTransformer":
    """The SentenceTransformer at ``path`` (a KBConfig's ``encoder_path``), loaded once per process."""
    folder = Path(path).resolve()
    with _lock:
        if folder not in _cache:
            if not (folder / "modules.json").is_file():
                raise EncoderMissing(
                    f"no sentence-transformers model at {folder}; build the default one with "
                    "`python -m knowledge_base.encoder build` (or `make setup`), "
                    "or point KB_ENCODER_PATH at a model folder")
            from sentence_transformers import SentenceTransformer

            _cache[folder] = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        return _cache[folder]


_query_encoders: dict[tuple[Path, str], "QueryEncoder"] = {}


def load_query_encoder(path: str | Path, runtime: str = "onnx") -> "QueryEncoder":
    """The encoder that embeds customer queries: the folder's ONNX twin when ``runtime`` is "onnx" and
    the twin is current (same vectors, ~2.5× faster; encoder/onnx_twin.py), else the PyTorch model."""
    # an absolute path is looked up as given first: resolving it costs syscalls, and this runs per message
    asked = (Path(path), runtime)
    with _lock:
        cached = _query_encoders.get(asked) if asked[0].is_absolute() else None
    if cached is not None:
        return cached
    folder = Path(path).resolve()
    with _lock:
        cached = _query_encoders.get((folder, runtime))
    encoder: QueryEncoder = cached or (load_encoder(folder) if runtime != "onnx" else _onnx_or_torch(folder))
    with _lock:
        encoder = _query_encoders.setdefault((folder, runtime), encoder)
        return _query_encoders.setdefault(asked, encoder) if asked[0].is_absolute() else encoder


def _onnx_or_torch(folder: Path) -> "QueryEncoder":
    from knowledge_base.encoder import onnx_twin

    if not onnx_twin.is_current(folder):
        log.warning("no current ONNX twin of %s; embedding queries with PyTorch (slower). Export it with "
                    "`python -m knowledge_base.encoder onnx`", folder)
        return load_encoder(folder)
    try:
        return onnx_twin.OnnxSentenceEncoder(folder)
    except ImportError as exc:
        log.warning("onnxruntime unavailable (%s); embedding queries with PyTorch", exc)
        return load_encoder(folder)


def _embed(model: "QueryEncoder", texts: Sequence[str], prefix: str, batch_size: int,
           show_progress: bool) -> np.ndarray:
    vectors = model.encode([prefix + t for t in texts], batch_size=batch_size,
                           normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=show_progress)
    return np.asarray(vectors, dtype=np.float32)


def embed_queries(model: "QueryEncoder", texts: Sequence[str], batch_size: int = 32,
                  show_progress: bool = False, *, prefix: str = DEFAULT_QUERY_PREFIX) -> np.ndarray:
    """Query vectors; ``prefix`` is the encoder's query marker (a KBConfig's ``query_prefix``)."""
    return _embed(model, texts, prefix, batch_size, show_progress)


_QUERY_CACHE_SIZE = 2048
_query_cache: "OrderedDict[tuple[int, str, str], np.ndarray]" = OrderedDict()
_query_cache_lock = threading.Lock()


def embed_queries_cached(model: "QueryEncoder", texts: Sequence[str],
                         batch_size: int = 32, *, prefix: str = DEFAULT_QUERY_PREFIX) -> np.ndarray:
    """embed_queries with a small per-process LRU cache (returned rows are copies).

    The NLU featurizer and the knowledge-base lookup embed the same customer
    message within one parse; the cache makes the second one free.
    """
    with _query_cache_lock:
        missing = [t for t in dict.fromkeys(texts) if (id(model), prefix, t) not in _query_cache]
        if missing:
            vectors = embed_queries(model, missing, batch_size=batch_size, prefix=prefix)
            for text, vector in zip(missing, vectors):
                _query_cache[(id(model), prefix, text)] = vector
        rows = []
        for text in texts:
            _query_cache.move_to_end((id(model), prefix, text))
            rows.append(_query_cache[(id(model), prefix, text)])
        result = np.array(rows, dtype=np.float32).reshape(len(texts), -1)
        while len(_query_cache) > _QUERY_CACHE_SIZE:
            _query_cache.popitem(last=False)
    return result


def embed_passages(model: "SentenceTransformer", texts: Sequence[str], batch_size: int = 32,
                   show_progress: bool = False, *, prefix: str = DEFAULT_PASSAGE_PREFIX) -> np.ndarray:
    """Passage vectors; ``prefix`` is the encoder's passage marker (a KBConfig's ``passage_prefix``)."""
    return _embed(model, texts, prefix, batch_size, show_progress)


class _DropSpuriousMistralWarning:
    """transformers 4.57.3+ warns about a Mistral regex for *every* local tokenizer
    saved by 4.57.x; it does not apply to XLM-R's unigram tokenizer."""

    def filter(self, record: "logging.LogRecord") -> bool:
        return "fix_mistral_regex" not in record.getMessage()


logging.getLogger("transformers.tokenization_utils_base").addFilter(_DropSpuriousMistralWarning())


def encoder_fingerprint(folder: Path) -> str | None:
    """encoder_identity's fingerprint, or None while the folder is not built yet."""
    return encoder_identity(folder)["fingerprint"] if Path(folder).is_dir() else None


def encoder_identity(folder: Path) -> dict[str, str]:
    """Name and fingerprint of an encoder folder, recorded in every index manifest.

    Our own build writes a manifest of file checksums; for any other folder
    (e.g. a bank's fine-tuned model) the files are hashed here.
    """
    import hashlib
    import json

    manifest = folder / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text())
        files = data.get("files", {})
        name = data.get("name", folder.name)
    else:
        from knowledge_base.encoder.build import folder_checksums

        files, name = folder_checksums(folder), folder.name
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return {"name": name, "fingerprint": digest}
