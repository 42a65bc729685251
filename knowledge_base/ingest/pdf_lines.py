"""A PDF's text lines back into headings, paragraphs and table rows.

Text extraction gives lines as printed: a sentence wrapped at the right margin is split, and a
table is a line of space-separated cells per row. Undone here, from the lines alone:

* a line that runs (nearly) to the right margin continues on the next one, unless the next one
  starts something of its own (a heading, "1." step, "注1：" note, "路径：" label, table row);
* a line of short labels followed by a line with at least as many pieces is a table header; the
  rows below are split under it (extra pieces go to the last cell), a short line after a full-width
  row is its wrapped last cell, and the header repeated after a page break is skipped;
* three or more "键 值" lines in a row are a key/value table without a header.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from knowledge_base.ingest.blocks import HEADING, PARAGRAPH, ROW, Block
from knowledge_base.ingest.structure import heading_level

NEW_PARAGRAPH = re.compile(
    r"^(\d{1,2}[.．](?!\d)|\d{1,2}、|[（(]\d{1,2}[）)]|[①-⑳]|[•·●▪■◆◇○※]|[-–—]\s"
    r"|注\s*\d*\s*[：:]|[\u4e00-\u9fff]{2,6}[：:])")
SENTENCE_END = re.compile(r"[。！？；!?…][”’」』）)]*$")
WRAPPED = 0.75  # a line this wide (of a full line) without a sentence end runs on
WRAPPED_AT_END = 0.95  # a line ending a sentence runs on only when it reaches the margin
FULL_LINE_QUANTILE = 0.75  # of the lines at least half as wide as the widest
LABEL = r"[^\s。，；：、,.;:0-9]{1,12}"
HEADER_CELL = re.compile(rf"^{LABEL}$")
MAX_ROW_CELL = 24  # cells left of the last one are short; a longer piece means the table ended
KEY_VALUE = re.compile(rf"^(?P<key>{LABEL}(?:\s*/\s*{LABEL})*)\s+(?P<value>\S.*)$")
MIN_KEY_VALUE_RUN = 3


@dataclass(frozen=True)
class Line:
    text: str
    page: int
    emphasized: bool = False  # starts in a larger or other font than the body (headings do)
    width: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", display_width(self.text))


def display_width(text: str) -> float:
    """Printed width in em: a Chinese character is 1, a Latin letter or digit about half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text)


def lines_to_blocks(lines: list[Line]) -> list[Block]:
    return _Assembler(lines).run()


class _Assembler:
    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines
        self.full = _full_width(lines)
        self.emphasized_headings = any(line.emphasized and heading_level(line.text) for line in lines)
        self.out: list[Block] = []
        self.header: tuple[str, ...] | None = None  # the open table's column headers
        self.key_value = False  # inside a key/value table
        self.last: Line | None = None  # the line the last block ended with

    def run(self) -> list[Block]:
        for index, line in enumerate(self.lines):
            self._take(line, self.lines[index + 1:index + MIN_KEY_VALUE_RUN + 1])
            self.last = line
        return self.out

    def _take(self, line: Line, ahead: list[Line]) -> None:
        text = line.text
        if self._is_heading(line):
            self._close_table()
            self.out.append(Block(HEADING, text, page=line.page))
        elif self.header and _squash(text) == _squash(" ".join(self.header)):
            pass  # the header again, after a page break
        elif self.header and (cells := _row_cells(text, len(self.header))):
            self.out.append(Block.row(cells, self.header, line.page))
        elif self.key_value and KEY_VALUE.match(text) and not NEW_PARAGRAPH.match(text):
            self.out.append(_key_value_row(text, line.page))
        elif (self.header or self.key_value) and self._continues_row(line):
            self._extend_row(text)
        else:
            self._close_table()
            self._open_table_or_paragraph(line, ahead)

    def _open_table_or_paragraph(self, line: Line, ahead: list[Line]) -> None:
        text = line.text
        header = _header_cells(text)
        if header and ahead and not self._is_heading(ahead[0]) and _row_cells(ahead[0].text, len(header)):
            self.header = header
        elif _key_value_run([line, *ahead]):
            self.key_value = True
            self.out.append(_key_value_row(text, line.page))
        elif self._continues_paragraph(line):
            last = self.out[-1]
            self.out[-1] = Block(PARAGRAPH, _join(last.text, text), page=last.page)
        else:
            self.out.append(Block(PARAGRAPH, text, page=line.page))

    def _close_table(self) -> None:
        self.header, self.key_value = None, False

    def _is_heading(self, line: Line) -> bool:
        return bool(heading_level(line.text)) and (line.emphasized or not self.emphasized_headings)

    def _continues_paragraph(self, line: Line) -> bool:
        previous = self.last
        if previous is None or not self.out or self.out[-1].kind != PARAGRAPH:
            return False
        if NEW_PARAGRAPH.match(line.text):
            return False
        if SENTENCE_END.search(previous.text):
            return previous.width >= WRAPPED_AT_END * self.full
        return previous.width >= WRAPPED * self.full or previous.text.endswith(("，", "、", "“", "（", "《", "—"))

    def _continues_row(self, line: Line) -> bool:
        previous, text = self.last, line.text
        pieces = len(self.header) if self.header else 2
        return (bool(self.out) and self.out[-1].kind == ROW and previous is not None
                and previous.width >= WRAPPED * self.full and line.width < WRAPPED * self.full
                and len(text.split()) < pieces and not NEW_PARAGRAPH.match(text))

    def _extend_row(self, text: str) -> None:
        last = self.out[-1]
        cells = (*last.cells[:-1], _join(last.cells[-1], text))
        self.out[-1] = Block.row(cells, last.headers, last.page)


def _full_width(lines: list[Line]) -> float:
    """The width of a full line of text: most of the wider lines of prose are full ones."""
    widths = sorted(line.width for line in lines)
    if not widths:
        return 1.0
    wide = [width for width in widths if width >= widths[-1] / 2]
    return wide[int(FULL_LINE_QUANTILE * (len(wide) - 1))]


def _header_cells(text: str) -> tuple[str, ...] | None:
    cells = tuple(text.split())
    return cells if 2 <= len(cells) <= 8 and all(HEADER_CELL.match(cell) for cell in cells) else None


def _row_cells(text: str, columns: int) -> tuple[str, ...] | None:
    """The cells of a row under ``columns`` headers (extra pieces joined into the last), or None."""
    pieces = text.split()
    if len(pieces) < columns or NEW_PARAGRAPH.match(text):
        return None
    if any(display_width(piece) > MAX_ROW_CELL for piece in pieces[:columns - 1]):
        return None
    return (*pieces[:columns - 1], " ".join(pieces[columns - 1:]))


def _key_value_run(lines: list[Line]) -> bool:
    run = lines[:MIN_KEY_VALUE_RUN]
    return len(run) == MIN_KEY_VALUE_RUN and all(
        KEY_VALUE.match(line.text) and not NEW_PARAGRAPH.match(line.text) and not heading_level(line.text)
        and _has_han(KEY_VALUE.match(line.text)["key"]) for line in run)


def _key_value_row(text: str, page: int) -> Block:
    match = KEY_VALUE.match(text)
    return Block.row((match["key"], match["value"]), (), page)


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _join(left: str, right: str) -> str:
    """Two pieces of one wrapped text: no space between Chinese, one between Latin words."""
    if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii() and right[:1].isalnum():
        return f"{left} {right}"
    return left + right


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)
