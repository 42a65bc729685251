"""Blocks to passages: split along the document's own headings, long sections into several passages.

A passage belongs to the deepest heading above it (its ``section``, the unit a citation names) and
keeps the enclosing chapter; table rows stay under the heading they follow, each row a unit of its
own that repeats the column headers, so "5万元以上 跨行 手机银行" finds the row with that fee.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Iterable

from knowledge_base.ingest.blocks import HEADING, PARAGRAPH, ROW, TITLE, Block

MAX_PASSAGE_CHARS = 500
MAX_HEADING_CHARS = 40
TABLE_CUT = 0.5  # cost of a passage boundary inside a table, against sizes' balance (a squared share)
_NUM = "一二三四五六七八九十百零〇"
CHAPTER = re.compile(rf"^第[{_NUM}\d]+章\s*\S")
HEADING_PATTERNS = (  # (pattern, level, level in a document with 第X章 chapters) when the format says none
    (CHAPTER, 1, 1),
    (re.compile(rf"^第[{_NUM}\d]+节\s*\S"), 2, 2),
    (re.compile(rf"^[{_NUM}]+、\s*\S"), 1, 2),
    (re.compile(rf"^[（(][{_NUM}]+[）)]\s*\S"), 2, 3),
    (re.compile(r"^\d{1,2}\.\d{1,2}\.\d{1,2}\s+\S"), 3, 3),
    (re.compile(r"^\d{1,2}\.\d{1,2}\s+\S"), 2, 2),
)
_NOT_A_HEADING_END = ("。", "，", "；", "：", ":", ",", ";", "、")
_SENTENCE = re.compile(r"[^。！？；!?]+(?:[。！？；!?]+[”’」』）)\]】]*)?|[。！？；!?]+[”’」』）)\]】]*")


@dataclass(frozen=True)
class Passage:
    doc: str
    title: str
    section: str
    chapter: str | None
    page: int | None
    text: str
    units: tuple[str, ...]

    def as_dict(self) -> dict:
        out = asdict(self)
        out["units"] = list(self.units)
        return out


@dataclass(frozen=True)
class _Piece:
    """A paragraph or table row of a section, with its answerable units."""

    text: str
    units: tuple[str, ...]
    page: int | None
    row: bool = False


def heading_level(text: str, under_chapters: bool = False) -> int:
    """The level a heading's numbering implies (第X章/一、 1, （一）/1.1 2, 1.1.1 3), 0 when none.

    In a document with 第X章 chapters, 一、 and （一） headings are one level deeper.
    """
    text = text.strip()
    if not text or len(text) > MAX_HEADING_CHARS or text.endswith(_NOT_A_HEADING_END):
        return 0
    for pattern, level, level_under_chapters in HEADING_PATTERNS:
        if pattern.match(text):
            return level_under_chapters if under_chapters else level
    return 0


def sentences(text: str) -> list[str]:
    """A paragraph's answerable units: split after 。！？； (closing quotes stay) and at line ends."""
    return [part.strip() for line in text.splitlines() for part in _SENTENCE.findall(line) if part.strip()]


def clean_title(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip("《》").strip()


def passages(doc: str, blocks: Iterable[Block]) -> list[Passage]:
    """The passages of one document (``doc``: its file name) from its blocks in reading order."""
    blocks = list(blocks)
    title, title_at = _title(blocks, doc)
    levels = _levels(blocks)
    out: list[Passage] = []
    chapter: str | None = None
    section = title
    body: list[_Piece] = []

    def flush() -> None:
        for group in _groups(body):
            out.append(_passage(doc, title, section, chapter if chapter != section else None, group))
        body.clear()

    for index, block in enumerate(blocks):
        text = block.text.strip()
        if index == title_at or not text or (block.kind != ROW and clean_title(text) == title):
            continue
        if block.kind in (HEADING, TITLE):
            flush()
            chapter = text if levels[index] <= 1 else chapter
            section = text
        elif block.kind == ROW:
            body.append(_Piece(text, (text,), block.page, row=True))
        elif block.kind == PARAGRAPH:
            body.extend(_paragraph_pieces(text, block.page))
    flush()
    return out


def _title(blocks: list[Block], doc: str) -> tuple[str, int | None]:
    """(title, index of the block it came from): the title block (Title style, h1, PDF title), else a
    first unnumbered heading before any text, else the file name's stem."""
    for index, block in enumerate(blocks):
        if block.kind == TITLE and clean_title(block.text):
            return clean_title(block.text), index
    if blocks and blocks[0].kind == HEADING and clean_title(blocks[0].text):
        if not heading_level(blocks[0].text):
            return clean_title(blocks[0].text), 0
    return PurePath(doc).stem, None


def _levels(blocks: list[Block]) -> dict[int, int]:
    """Level of each heading: the one the format states, else the numbering's, else 1 (an unnumbered
    heading is a chapter of its own)."""
    under_chapters = any(b.kind == HEADING and CHAPTER.match(b.text) for b in blocks)
    return {index: block.level or heading_level(block.text, under_chapters) or 1
            for index, block in enumerate(blocks) if block.kind in (HEADING, TITLE)}


def _paragraph_pieces(text: str, page: int | None) -> list[_Piece]:
    """A paragraph as one piece, or, when longer than a passage, as runs of whole sentences."""
    units = sentences(text)
    if len(text) <= MAX_PASSAGE_CHARS:
        return [_Piece(text, tuple(units), page)]
    pieces: list[_Piece] = []
    run: list[str] = []
    for unit in units:
        if run and sum(map(len, run)) + len(unit) > MAX_PASSAGE_CHARS:
            pieces.append(_Piece("".join(run), tuple(run), page))
            run = []
        run.append(unit)
    if run:
        pieces.append(_Piece("".join(run), tuple(run), page))
    return pieces


def _groups(body: list[_Piece]) -> list[list[_Piece]]:
    """A section's pieces as passages of at most MAX_PASSAGE_CHARS (a longer piece alone): as few as
    possible, a table kept whole and with the text that introduces it where sizes allow, sizes alike."""
    if not body:
        return []
    sizes = [len(piece.text) + 1 for piece in body]
    # best[j]: (cost, start of the last group) of the best split of body[:j]
    best: list[tuple[tuple[int, float], int]] = [((0, 0.0), 0)]
    for end in range(1, len(body) + 1):
        options = []
        size = 0
        for start in range(end - 1, -1, -1):
            size += sizes[start]
            if size > MAX_PASSAGE_CHARS + 1 and start < end - 1:
                break
            (groups, penalty), _ = best[start]
            cut = 1.0 if 0 < start and body[start].row else 0.0  # splits a table or cuts it off its intro
            options.append(((groups + 1, penalty + cut * TABLE_CUT + (size / MAX_PASSAGE_CHARS) ** 2), start))
        best.append(min(options))
    groups: list[list[_Piece]] = []
    end = len(body)
    while end > 0:
        start = best[end][1]
        groups.append(body[start:end])
        end = start
    return groups[::-1]


def _passage(doc: str, title: str, section: str, chapter: str | None, group: list[_Piece]) -> Passage:
    units = tuple(unit for piece in group for unit in piece.units if unit)
    return Passage(doc, title, section, chapter, group[0].page, "\n".join(p.text for p in group), units)
