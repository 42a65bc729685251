"""An ONNX Runtime twin of a sentence-transformers encoder folder, for embedding queries fast.

PyTorch's eager mode spends most of a one-sentence forward pass dispatching
small operators: e5-small takes ~25 ms per short query on 2 cores, the same
graph in ONNX Runtime ~9 ms (docs/serving.md). Embedding the message was about
half of a parse's time.

The twin lives beside its folder (``<folder>.onnx/``), is exported at set-up,
and records the source folder's fingerprint, sequence limit and dimension: a twin of other weights is never
used. It is float32, so its vectors equal PyTorch's within rounding; the export
refuses to install a twin whose vectors differ by more than ``PARITY_MIN_COSINE``
on the parity sentences. (Dynamic int8 quantisation was 1.5× faster again but
moved vectors to cosine 0.987, which would shift every calibrated threshold.)
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge_base.config import DEFAULT_QUERY_PREFIX

log = logging.getLogger(__name__)

EXPORTER_VERSION = 1
MODEL_FILE = "model.onnx"
MANIFEST = "manifest.json"
PARITY_MIN_COSINE = 0.9999
OPSET = 17


class TwinParityError(RuntimeError):
    pass


def twin_path(folder: Path) -> Path:
    folder = Path(folder).resolve()
    return folder.parent / (folder.name + ".onnx")


def _source_fingerprint(folder: Path) -> str | None:
    from knowledge_base.embedding import encoder_fingerprint

    return encoder_fingerprint(folder)


def is_current(folder: Path) -> bool:
    """True when the twin exists and was exported by this exporter from ``folder``'s present weights."""
    twin = twin_path(folder)
    try:
        manifest = json.loads((twin / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return ((twin / MODEL_FILE).is_file() and manifest.get("exporter_version") == EXPORTER_VERSION
            and manifest.get("source_fingerprint") == _source_fingerprint(folder))


def _pooled_module(transformer):
    """The encoder with the folder's mean pooling and L2 normalisation, as one exportable module."""
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    return MeanPooledEncoder().eval()


def export(folder: Path, force: bool = False) -> Path:
    """Export (or keep) the ONNX twin of the encoder at ``folder``; raises TwinParityError on mismatch."""
    import torch
    from sentence_transformers import SentenceTransformer

    import knowledge_base.embedding  # noqa: F401  (silences a tokenizer warning that does not apply)

    folder = Path(folder).resolve()
    out = twin_path(folder)
    if not force and is_current(folder):
        log.info("ONNX twin at %s is current; nothing to do", out)
        return out
    started = time.monotonic()
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    sample = model.tokenizer([DEFAULT_QUERY_PREFIX + "示例"], return_tensors="pt")
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".onnx-export-") as tmp:
        staged = Path(tmp) / "twin"
        staged.mkdir()
        token_axes = {0: "batch", 1: "tokens"}
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on constant masks; parity below is the check
            torch.onnx.export(
                _pooled_module(model[0].auto_model), (sample["input_ids"], sample["attention_mask"]),
                str(staged / MODEL_FILE), input_names=["input_ids", "attention_mask"],
                output_names=["embedding"], opset_version=OPSET, dynamo=False,
                dynamic_axes={"input_ids": token_axes, "attention_mask": token_axes, "embedding": {0: "batch"}})
        shape = {"max_seq_length": int(model.max_seq_length), "dim": _dimension(model)}
        (staged / MANIFEST).write_text(json.dumps(shape))
        worst = _parity(model, OnnxSentenceEncoder(folder, staged))
        if worst < PARITY_MIN_COSINE:
            raise TwinParityError(f"ONNX twin of {folder} differs from PyTorch (min cosine {worst:.6f} < "
                                  f"{PARITY_MIN_COSINE}); not installed")
        (staged / MANIFEST).write_text(json.dumps({
            "exporter_version": EXPORTER_VERSION, "source": folder.name,
            "source_fingerprint": _source_fingerprint(folder), "opset": OPSET,
            **shape, "parity_min_cosine": round(worst, 7), "export_seconds": round(time.monotonic() - started, 1),
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}, indent=2))
        if out.exists():
            shutil.rmtree(out)
        staged.rename(out)
    log.info("ONNX twin of %s installed at %s in %.0f s (parity min cosine %.7f)", folder.name, out,
             time.monotonic() - started, worst)
    return out


def _dimension(model) -> int:
    """sentence-transformers 5.x renamed get_sentence_embedding_dimension; accept both."""
    method = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(method())


def _parity(model, twin: "OnnxSentenceEncoder") -> float:
    """Lowest cosine between PyTorch's and the twin's vectors, one by one and batched (padding)."""
    from knowledge_base.encoder.parity import load_sentences

    texts = [DEFAULT_QUERY_PREFIX + s for s in load_sentences()]
    reference = model.encode(texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True,
                             show_progress_bar=False)
    batched = twin.encode(texts, batch_size=16)
    single = np.vstack([twin.encode([t]) for t in texts[:16]])
    return float(min((reference * batched).sum(1).min(), (reference[:16] * single).sum(1).min()))


class OnnxSentenceEncoder:
    """Embeds like ``SentenceTransformer.encode`` (normalised numpy vectors), through ONNX Runtime.

    Only the arguments the knowledge base passes are honoured; vectors are always L2-normalised.
    """

    def __init__(self, folder: Path, twin: Path | None = None, threads: int = 0) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        folder = Path(folder).resolve()
        twin = twin or twin_path(folder)
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        shape = json.loads((twin / MANIFEST).read_text())
        self.max_seq_length, self.dim = int(shape["max_seq_length"]), int(shape["dim"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: one per core, as torch does
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between runs: a spinning pool takes the cores TensorFlow (DIET) needs next.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(twin / MODEL_FILE), options, providers=["CPUExecutionProvider"])

    def encode(self, sentences: Sequence[str], batch_size: int = 32, **_ignored) -> np.ndarray:
        rows = []
        for start in range(0, len(sentences), batch_size):
            batch = self.tokenizer(list(sentences[start:start + batch_size]), padding=True, truncation=True,
                                   max_length=self.max_seq_length, return_tensors="np")
            rows.append(self.session.run(None, {"input_ids": batch["input_ids"].astype(np.int64),
                                                "attention_mask": batch["attention_mask"].astype(np.int64)})[0])
        return np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)
