"""One entry point for every supported file: ``read_document(path)`` -> passages, or DocumentError.

Whatever goes wrong inside a parsing library comes out as a DocumentError naming the file, so the
CLI and the console can report it in a sentence instead of a traceback.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from knowledge_base.ingest.blocks import Block, DocumentError
from knowledge_base.ingest.structure import Passage, passages

SUPPORTED_SUFFIXES = (".pdf", ".docx", ".html", ".htm")
MAX_FILE_BYTES = 50 * 2**20
_CONVERT = {".doc": "save it as .docx in Word", ".xls": "save the table as a PDF or HTML page",
            ".xlsx": "save the table as a PDF or HTML page", ".txt": "save it as .docx or .html",
            ".wps": "save it as .docx"}


def read_document(path: Path) -> list[Passage]:
    path = Path(path)
    _check_file(path)
    kind, read = _reader(path.suffix.lower())
    try:
        blocks = read(path)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - a library's own error is still only "this file is damaged"
        raise DocumentError.about(path.name, f"not a readable {kind} ({type(exc).__name__}: {exc})",
                                  f"open it in the program that made it and save it as {kind} again") from exc
    found = passages(path.name, blocks)
    if not found:
        problem = f"no text found in the {kind} (only headings, images or nothing)"
        raise DocumentError.about(path.name, problem, "check that it is the right file and not a scan")
    return found


def _check_file(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        remedy = _CONVERT.get(suffix, "convert it to one of them")
        raise DocumentError.about(path.name, f"unsupported file type {suffix or '(no extension)'} "
                                  f"(supported: {', '.join(SUPPORTED_SUFFIXES)})", remedy)
    try:
        if path.is_dir():
            raise DocumentError.about(path.name, "is a folder, not a file", "name the documents inside it")
        if not path.is_file():
            raise DocumentError.about(path.name, "no such file", "check the path")
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError.about(path.name, f"cannot be read ({exc.strerror})",
                                  "check the path and permissions") from exc
    if size == 0:
        raise DocumentError.about(path.name, "the file is empty (0 bytes)",
                                  "export or copy the document again")
    if size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 2**20
        raise DocumentError.about(path.name, f"{size // 2**20} MiB is over the {limit} MiB limit",
                                  "split the document")


def _reader(suffix: str) -> tuple[str, Callable[[Path], list[Block]]]:
    """(what the format is called in messages, its reader); imported lazily: each pulls in a library."""
    if suffix == ".pdf":
        from knowledge_base.ingest.pdf import read_pdf

        return "PDF", read_pdf
    if suffix == ".docx":
        from knowledge_base.ingest.docx_file import read_docx

        return "Word (.docx) file", read_docx
    from knowledge_base.ingest.html_page import read_html

    return "HTML page", read_html
