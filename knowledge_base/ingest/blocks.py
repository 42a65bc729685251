"""What every reader produces: the document as a flat list of blocks in reading order.

Readers (pdf.py, docx_file.py, html_page.py) know their format; structure.py knows headings and
passages. Keeping the two apart lets one set of heading and passage rules serve every format.
"""
from __future__ import annotations

from dataclasses import dataclass

TITLE, HEADING, PARAGRAPH, ROW = "title", "heading", "paragraph", "row"


class DocumentError(ValueError):
    """A file that cannot be ingested; the message names the file, says what is wrong and what to do."""

    @classmethod
    def about(cls, name: str, problem: str, remedy: str) -> DocumentError:
        """The one message shape: "file.pdf: what is wrong; what to do"."""
        return cls(f"{name}: {problem}; {remedy}")


@dataclass(frozen=True)
class Block:
    """A title, heading, paragraph or table row.

    ``level``: for headings the level the format states (1 = chapter), 0 when only the heading's own
    numbering can tell. ``cells``/``headers``: a table row and its column headers (empty headers: a
    key/value table without a header row).
    """

    kind: str
    text: str
    level: int = 0
    page: int | None = None
    cells: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()

    @classmethod
    def row(cls, cells: tuple[str, ...], headers: tuple[str, ...] = (), page: int | None = None) -> Block:
        cells = tuple(cells)
        return cls(ROW, row_text(cells, headers), page=page, cells=cells, headers=tuple(headers))

    def row_text(self) -> str:
        return row_text(self.cells, self.headers)


def row_text(cells: tuple[str, ...], headers: tuple[str, ...]) -> str:
    """A table row that reads on its own: "列名：值；列名：值" (a key/value pair: "键：值")."""
    if headers and len(headers) == len(cells):
        return "；".join(f"{head}：{cell}" if head else cell for head, cell in zip(headers, cells) if cell)
    filled = [cell for cell in cells if cell]
    if len(cells) == 2 and len(filled) == 2:
        return f"{cells[0]}：{cells[1]}"
    return "；".join(filled)
