"""PDFs with a text layer: pages to clean lines (pdf_lines.py turns them into blocks).

What a bank's printed PDF does to text, undone here: the running header and the "第 N 页 共 M 页"
footer land in the middle of sections (dropped); the title is in the file's metadata, or else is the
largest text on the first page. Encrypted, truncated and scanned PDFs are refused with what to do.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from knowledge_base.ingest.blocks import TITLE, Block, DocumentError
from knowledge_base.ingest.pdf_lines import Line, lines_to_blocks

PAGE_FOOTER = re.compile(r"^第\s*\d+\s*页\s*[,，/]?\s*(共\s*\d+\s*页)?$|^Page\s+\d+(\s+of\s+\d+)?$", re.I)
EDGE_NUMBER = re.compile(r"^[-–—]?\s*\d{1,3}\s*(/\s*\d{1,3})?\s*[-–—]?$")  # "3", "- 3 -", "3 / 4"
EDGE_LINES = 3  # running headers and footers are among the first or last lines of a page's text
RUNNING_SHARE = 0.6  # a line at the edge of this share of the pages is a running header
TITLE_FONT = 1.15  # the title is printed at least this much larger than the body
EMPHASIS = 1.03  # headings: a little larger than the body, or in another font at body size
JUNK_TITLES = re.compile(r"^(untitled|无标题|microsoft word\s*-.*|.*\.(docx?|pdf|html?|wps))$", re.I)


class Fragment(NamedTuple):
    """A piece of text as the page draws it: with its font and printed size."""

    text: str
    size: float
    font: str


def read_pdf(path: Path) -> list[Block]:
    reader = _open(path)
    pages = _pages(reader, path.name)
    if not any(text.strip() for text, _ in pages):
        raise DocumentError.about(path.name, "the PDF has no text layer (a scan?)",
                                  "run OCR on it, or ingest the original Word/HTML file")
    body = _body_font(pages)
    lines = _lines(pages, body)
    title = _metadata_title(reader) or _largest_text(pages[0][1], body[1])
    return ([Block(TITLE, title, page=1)] if title else []) + lines_to_blocks(lines)


def _open(path: Path):
    from pypdf import PdfReader

    head, tail = _ends(path)
    if b"%PDF-" not in head:
        raise DocumentError.about(path.name, "not a readable PDF (no %PDF- header at its start)",
                                  "check that the file really is a PDF and export it again")
    if b"%%EOF" not in tail:
        raise DocumentError.about(path.name, "not a readable PDF: it ends before its end-of-file marker "
                                  "(truncated, an incomplete download or copy?)", "copy or export it again")
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError.about(path.name, "the PDF is encrypted (it needs a password to open)",
                                      "ask for an unprotected copy")
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf reports damage with many exception types
        raise DocumentError.about(path.name, f"not a readable PDF ({type(exc).__name__}: {exc})",
                                  "the file may be damaged - export it again") from exc
    return reader


def _ends(path: Path) -> tuple[bytes, bytes]:
    with open(path, "rb") as handle:
        head = handle.read(1024)
        handle.seek(max(0, path.stat().st_size - 2048))
        return head, handle.read()


def _pages(reader, name: str) -> list[tuple[str, list[Fragment]]]:
    """(text, its fragments with their fonts) of each page."""
    pages = []
    try:
        for page in reader.pages:
            fragments: list[Fragment] = []
            text = page.extract_text(visitor_text=_collector(fragments)) or ""
            pages.append((text, fragments))
    except Exception as exc:  # noqa: BLE001 - damage inside a page surfaces only when it is read
        problem = f"not a readable PDF: a page cannot be read ({type(exc).__name__}: {exc})"
        raise DocumentError.about(name, problem, "the file may be damaged - export it again") from exc
    return pages


def _collector(fragments: list[Fragment]):
    def visit(text, cm, tm, font_dict, font_size) -> None:
        if text and text.strip():
            font = str((font_dict or {}).get("/BaseFont", ""))
            fragments.append(Fragment(text.strip(), _effective_size(font_size, cm, tm), font))
    return visit


def _effective_size(size: float, cm, tm) -> float:
    """The font size as printed: the text matrix and the page's transformation scale it."""
    try:
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        return round(float(size) * (math.hypot(c, d) or 1.0), 1)
    except (TypeError, IndexError):
        return float(size or 0)


def _body_font(pages) -> tuple[str, float]:
    """(font, size) most of the characters are printed in."""
    fonts: Counter[tuple[str, float]] = Counter()
    for _, fragments in pages:
        for fragment in fragments:
            fonts[fragment.font, fragment.size] += len(fragment.text)
    return fonts.most_common(1)[0][0] if fonts else ("", 0.0)


def _emphasized(fragment: Fragment, body: tuple[str, float]) -> bool:
    font, size = body
    larger = fragment.size >= size * EMPHASIS
    return bool(size) and (larger or (fragment.font != font and fragment.size >= size))


def _lines(pages, body: tuple[str, float]) -> list[Line]:
    texts = [[line.strip() for line in text.splitlines() if line.strip()] for text, _ in pages]
    running = _running(texts)
    out: list[Line] = []
    for number, (lines, (_, fragments)) in enumerate(zip(texts, pages), 1):
        emphasized = [fragment.text for fragment in fragments if _emphasized(fragment, body)]
        for position, line in enumerate(lines):
            edge = position < EDGE_LINES or position >= len(lines) - EDGE_LINES
            if PAGE_FOOTER.match(line) or (edge and (_shape(line) in running or EDGE_NUMBER.match(line))):
                continue
            out.append(Line(line, number, emphasized=any(line.startswith(text) for text in emphasized)))
    return out


def _running(pages: list[list[str]]) -> set[str]:
    """Lines (digits aside) at the top or bottom of most pages: the running header and footer."""
    if len(pages) < 2:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        seen.update({_shape(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]})
    needed = max(2, math.ceil(RUNNING_SHARE * len(pages)))
    return {shape for shape, count in seen.items() if count >= needed}


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line))


def _metadata_title(reader) -> str | None:
    try:
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except Exception:  # noqa: BLE001 - a damaged info dictionary only costs the title
        return None
    return title if len(title) >= 2 and not JUNK_TITLES.match(title) else None


def _largest_text(fragments: list[Fragment], body_size: float) -> str | None:
    """The first page's largest text (the printed title), when it is clearly larger than the body."""
    if not fragments:
        return None
    largest = max(fragment.size for fragment in fragments)
    if not body_size or largest < body_size * TITLE_FONT:
        return None
    first = next(i for i, fragment in enumerate(fragments) if fragment.size == largest)
    parts = []
    for fragment in fragments[first:]:
        if fragment.size != largest:
            break
        parts.append(fragment.text)
    title = "".join(parts).strip()
    return title if len(title) >= 2 else None
