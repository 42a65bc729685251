"""HTML tables as rows under their column headers, with rowspan/colspan spread over the grid.

A fee table often merges a cell down several rows ("另收押金1,000元/箱" for three box sizes): each
row gets the merged text, so every row reads on its own.
"""
from __future__ import annotations

from typing import Callable

from knowledge_base.ingest.blocks import PARAGRAPH, Block

MAX_SPAN = 100  # a broken rowspan="9999" must not blow the grid up


def table_blocks(table, normalize: Callable[[str], str]) -> list[Block]:
    out: list[Block] = []
    caption = table.find("caption")
    if caption is not None and normalize(caption.get_text()):
        out.append(Block(PARAGRAPH, normalize(caption.get_text()).replace("\n", " ")))
    grid = _grid(table, normalize)
    headers, body = _split_headers(grid)
    for row in body:
        cells = tuple(text for text, _ in row)
        if not any(cells):
            continue
        if len(cells) > 1 and len(set(cells)) == 1:
            out.append(Block(PARAGRAPH, cells[0]))  # one cell across the table: a label for the rows below
        else:
            out.append(Block.row(cells, headers))
    return out


def _rows(table) -> list:
    """The table's own <tr>s (not those of a table nested in a cell)."""
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _grid(table, normalize: Callable[[str], str]) -> list[list[tuple[str, bool]]]:
    """Rows of (text, is_header_cell), each merged cell repeated over the positions it spans."""
    grid: list[list[tuple[str, bool]]] = []
    carried: dict[int, tuple[int, str, bool]] = {}  # column -> (rows still to fill, text, is_th)
    for tr in _rows(table):
        row: list[tuple[str, bool]] = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            _carry_into(row, carried)
            text, is_th = normalize(cell.get_text()).replace("\n", " "), cell.name == "th"
            rowspan, colspan = _span(cell, "rowspan"), _span(cell, "colspan")
            for _ in range(colspan):
                if rowspan > 1:
                    carried[len(row)] = (rowspan - 1, text, is_th)
                row.append((text, is_th))
        _carry_into(row, carried, all_left=True)
        if row:
            grid.append(row)
    width = max((len(row) for row in grid), default=0)
    return [row + [("", False)] * (width - len(row)) for row in grid]


def _carry_into(row: list, carried: dict, all_left: bool = False) -> None:
    """Fill the row's next positions taken by cells merged down from above (all of them at the row's end)."""
    while len(row) in carried or (all_left and any(column >= len(row) for column in carried)):
        column = len(row)
        if column not in carried:
            row.append(("", False))
            continue
        left, text, is_th = carried.pop(column)
        if left > 1:
            carried[column] = (left - 1, text, is_th)
        row.append((text, is_th))


def _span(cell, name: str) -> int:
    try:
        return max(1, min(MAX_SPAN, int(str(cell.get(name, "1")).strip() or 1)))
    except ValueError:
        return 1


def _split_headers(grid: list[list[tuple[str, bool]]]) -> tuple[tuple[str, ...], list]:
    """(column headers, body rows). Header rows are the leading all-<th> rows (several are joined per
    column, "限额·单笔"); a table without them uses its first row, unless it has two columns (key/value)."""
    count = 0
    while count < len(grid) and all(is_th for _, is_th in grid[count]):
        count += 1
    if count == 0 and grid and len(grid[0]) > 2 and len(grid) > 1:
        count = 1
    if count == 0:
        return (), grid
    columns = zip(*(tuple(text for text, _ in row) for row in grid[:count]))
    headers = tuple("·".join(dict.fromkeys(part for part in column if part)) for column in columns)
    return headers, grid[count:]
