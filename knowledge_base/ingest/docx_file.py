"""Word documents: paragraphs by style (Title, Heading N) and tables (first row = headers), in order.

Word files made by hand often fake headings with bold text in the Normal style; a short, wholly
bold paragraph numbered like a heading ("第一章 总则", "1.1 …") is taken as one.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

from knowledge_base.ingest.blocks import HEADING, PARAGRAPH, TITLE, Block, DocumentError
from knowledge_base.ingest.structure import heading_level

HEADING_STYLE = re.compile(r"^(heading|标题)\s*(\d)$", re.I)
TITLE_STYLES = {"title", "标题"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Word 97-2003 .doc (and other Office binary files)


def read_docx(path: Path) -> list[Block]:
    document = _open(path)
    blocks = _blocks(document)
    if not any(block.kind == TITLE for block in blocks):
        title = (document.core_properties.title or "").strip()
        blocks = ([Block(TITLE, title)] if title else []) + blocks
    return blocks


def _open(path: Path):
    import docx

    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == OLE_MAGIC:
        raise DocumentError.about(path.name, "not a readable Word (.docx) file: it is an old Word 97-2003 "
                                  ".doc file with a .docx name", "open it in Word and save it as .docx")
    if not zipfile.is_zipfile(path):
        raise DocumentError.about(path.name, "not a readable Word (.docx) file (not a .docx package; "
                                  "truncated or damaged?)", "open it in Word and save it as .docx again")
    try:
        return docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - a damaged package surfaces as several library errors
        problem = f"not a readable Word (.docx) file ({type(exc).__name__}: {exc})"
        raise DocumentError.about(path.name, problem, "open it in Word and save it as .docx again") from exc


def _blocks(document) -> list[Block]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            block = _paragraph(item)
            if block is not None:
                out.append(block)
        elif isinstance(item, Table):
            out.extend(_table(item))
    return out


def _paragraph(paragraph) -> Block | None:
    text = paragraph.text.strip()
    if not text:
        return None
    style = ((paragraph.style.name if paragraph.style is not None else "") or "").strip()
    if style.lower() in TITLE_STYLES:
        return Block(TITLE, text)
    heading = HEADING_STYLE.match(style)
    if heading:
        return Block(HEADING, text, level=int(heading.group(2)))
    if heading_level(text) and _all_bold(paragraph):
        return Block(HEADING, text)
    return Block(PARAGRAPH, text)


def _all_bold(paragraph) -> bool:
    runs = [run for run in paragraph.runs if run.text.strip()]
    style_bold = bool(paragraph.style is not None and paragraph.style.font.bold)
    return bool(runs) and all(run.bold or (run.bold is None and style_bold) for run in runs)


def _table(table) -> list[Block]:
    """Rows under the first row's headers; a merged cell's text stands in every row and column it spans."""
    rows = [tuple(cell.text.strip() for cell in row.cells) for row in table.rows]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return [Block(PARAGRAPH, "；".join(cell for cell in row if cell)) for row in rows]
    headers = rows[0]
    return [_row(row, headers) for row in rows[1:]]


def _row(cells: tuple[str, ...], headers: tuple[str, ...]) -> Block:
    if len(set(cells)) == 1 and len(cells) > 1:
        return Block(PARAGRAPH, cells[0])  # one cell across the table: a label between groups of rows
    return Block.row(cells, headers)
