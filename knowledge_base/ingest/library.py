"""The documents folder as knowledge content, and adding files to it (``python -m knowledge_base ingest``).

The folder (KBConfig.documents_dir, shipped as knowledge_base/documents/) is to documents what the
YAML files are to FAQ entries: what is in it is live after a build, and the repository's review is the
second pair of eyes. Documents uploaded in the console go through the maker-checker review instead
(review/changes.py, kind ``document``) and override a shipped file of the same name.

A document is parsed once per content hash (files are re-read only when their bytes change), so
re-running an ingest, or a build over unchanged documents, costs a hash per file.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from knowledge_base.ingest.blocks import DocumentError
from knowledge_base.ingest.reader import SUPPORTED_SUFFIXES, read_document


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def _parsed(path: Path, sha256: str) -> tuple[dict, ...]:
    return tuple(p.as_dict() for p in read_document(path))


def document_record(path: Path) -> dict:
    """{"doc", "sha256", "passages"} of one file (DocumentError when it cannot be read)."""
    sha256 = file_sha256(path)
    return {"doc": path.name, "sha256": sha256, "passages": [dict(p) for p in _parsed(path.resolve(), sha256)]}


def shipped_documents(folder: Path) -> list[dict]:
    """Every document in the folder; one that cannot be read stops the build with its reason."""
    if not Path(folder).is_dir():
        return []
    return [document_record(path) for path in sorted(Path(folder).iterdir())
            if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES]


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and the documents inside folders named (not hidden ones, not other file types such
    as a README: those are only an error when named), in a stable order."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                              and p.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            yield path


@dataclass
class IngestReport:
    added: list[dict] = field(default_factory=list)      # {"doc", "passages", "sections", "seconds"}
    updated: list[dict] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def ingest_files(paths: Iterable[Path], folder: Path, progress: bool = True) -> IngestReport:
    """Parse each file and copy the readable, changed ones into ``folder``; errors are collected, not raised."""
    from tqdm import tqdm

    report = IngestReport()
    files = list(expand(paths))
    folder.mkdir(parents=True, exist_ok=True)
    for path in tqdm(files, desc="ingest", unit="file", disable=not progress or len(files) < 2):
        try:
            _ingest_one(path, folder, report)
        except DocumentError as exc:
            report.errors.append(str(exc))
    return report


def _ingest_one(path: Path, folder: Path, report: IngestReport) -> None:
    if not path.is_file():
        raise DocumentError(f"{path}: no such file; check the path")
    target = folder / path.name
    if target.is_file() and file_sha256(target) == file_sha256(path):
        report.unchanged.append(path.name)
        return
    started = time.perf_counter()
    record = document_record(path)  # parse before copying: an unreadable file never enters the folder
    summary = {"doc": path.name, "passages": len(record["passages"]),
               "sections": len({p["section"] for p in record["passages"]}),
               "seconds": round(time.perf_counter() - started, 2)}
    (report.updated if target.is_file() else report.added).append(summary)
    if target.resolve() != path.resolve():
        _copy_atomically(path, target)


def _copy_atomically(source: Path, target: Path) -> None:
    handle, staged = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        shutil.copyfile(source, staged)
        os.replace(staged, target)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise
