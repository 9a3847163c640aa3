"""A copy of an input workbook with every problem marked on its cell (``cli.py validate --annotate``).

Each problem cell is filled (red: the value is wrong; orange: a header, a row or a range as a whole is
wrong) and carries a comment saying what is wrong and what is expected. A ``Problems`` sheet, placed
first, lists every problem, with a link to its cell where there is one; problems without a cell (a
missing sheet, an unreadable file) appear only there. Sheets with problems get a red tab.

The input is only ever read: the copy is a new file, written atomically (DESIGN §4.3). For a folder of
CSV files the copy is the converted workbook (``cli.py convert``), and the addresses of the CSV files are
mapped to where the same cells land in it.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.data_io import Problem, RawBook
from optimizer.schema import SHEETS_BY_NAME
from optimizer.workbook import HEADER_FILL, HEADER_FONT, atomic_save, set_cell

PROBLEMS_SHEET = "Problems"
RED = PatternFill(fill_type="solid", start_color="FFFF8080", end_color="FFFF8080")
"""A cell whose value is wrong."""
ORANGE = PatternFill(fill_type="solid", start_color="FFFFC000", end_color="FFFFC000")
"""A cell that stands for a header, a row or a range that is wrong as a whole."""
TAB_RED = "FFFF0000"
MAX_MARKED_CELLS = 10_000  # a range problem on a huge table marks this many cells at most
MAX_COMMENT_CHARS = 2_000

_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)$")
_ROWS = re.compile(r"^(\d+):(\d+)$")


class SameFileError(ValueError):
    """The annotated copy would replace the input itself."""


@dataclass(frozen=True)
class _Mark:
    """Where one problem lands in the output workbook."""

    title: str  # sheet title in the output workbook
    cells: tuple[tuple[int, int], ...]  # (row, column), 1-based; the first one gets the comment
    whole: bool  # a range, row or header as a whole (orange) rather than one wrong value (red)
    label: str  # the problem's address in the output workbook, e.g. "C7" or "C2:C97"


def annotate(
    source: str | Path,
    problems: Sequence[Problem],
    output: str | Path,
    *,
    raw: RawBook | None = None,
    warnings: Iterable[str] = (),
) -> Path:
    """Write a copy of ``source`` with every problem highlighted and explained.

    Parameters
    ----------
    source : str or Path
        The input that was validated: an ``.xlsx`` workbook or a folder of CSV files. Never modified.
    problems : sequence of Problem
        What validation found (may be empty: the copy then says so on its Problems sheet).
    output : str or Path
        The annotated ``.xlsx`` to write (replaced atomically if it exists).
    raw : RawBook, optional
        The input as read by :func:`optimizer.data_io.read_raw`; ``None`` when it could not be read
        at all (not an .xlsx, a zip or XML bomb): the output then holds only the Problems sheet,
        because the input must not be opened again.
    warnings : iterable of str
        Warnings to list on the Problems sheet after the problems.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    SameFileError
        When ``output`` is the input file itself.
    optimizer.workbook.OutputLockedError
        When ``output`` cannot be written (open in Excel); nothing is changed.
    """
    source, output = Path(source), Path(output)
    if output.exists() and source.exists() and output.resolve() == source.resolve():
        raise SameFileError(f"{output} is the input itself; choose another file for the copy")
    if raw is None:
        wb = Workbook()
        wb.remove(wb.active)
        remap = None
    elif source.is_dir():
        wb, remap = _converted(raw)
    else:
        # formulas kept as formulas (data_only=False): the copy must read like the original
        wb, remap = load_workbook(source), None
    marks = [_locate(wb, p, remap) for p in problems]
    _mark_cells(wb, problems, marks)
    _problems_sheet(wb, problems, marks, list(warnings))
    return atomic_save(wb, output)


# ---------------------------------------------------------------------------------------------------
# Where each problem goes
# ---------------------------------------------------------------------------------------------------
_Remap = dict[str, tuple[dict[int, int], dict[int, int]]]  # sheet -> (column map, row map)


def _converted(raw: RawBook) -> tuple[Workbook, _Remap]:
    """The converted workbook of a CSV folder, and how CSV addresses map into it."""
    from optimizer.template import write_input_workbook

    with tempfile.TemporaryDirectory() as tmp:
        path = write_input_workbook(raw, Path(tmp) / "converted.xlsx")
        wb = load_workbook(path)
    remap: _Remap = {}
    for name, t in raw.tables.items():
        sheet = SHEETS_BY_NAME[name]
        # the order write_input_workbook uses: schema columns first, unknown ones after
        order = list(sheet.column_names) + [h for h in t.headers if h not in sheet.column_names]
        cols = {
            column_index_from_string(letter): order.index(h) + 1
            for letter, h in zip(t.letters, t.headers, strict=True)
        }
        rows = {1: 1} | {n: i + 2 for i, n in enumerate(t.row_numbers)}
        remap[name] = (cols, rows)
    return wb, remap


def _sheet_title(wb: Workbook, name: str) -> str | None:
    """The workbook's title for ``name``: exact, else the same apart from case and spaces."""
    if name in wb.sheetnames:
        return name
    key = name.strip().lower()
    return next((t for t in wb.sheetnames if t.strip().lower() == key), None)


def _locate(wb: Workbook, p: Problem, remap: _Remap | None) -> _Mark | None:
    title = _sheet_title(wb, p.sheet) if p.sheet != PROBLEMS_SHEET else None
    if title is None or not p.cell:
        return None
    ref = p.cell.upper()
    whole = True
    if m := _CELL.match(ref):
        r0 = r1 = int(m[2])
        c0 = c1 = column_index_from_string(m[1])
        whole = r0 == 1  # a header cell stands for its whole column
    elif m := _RANGE.match(ref):
        r0, r1 = sorted((int(m[2]), int(m[4])))
        c0, c1 = sorted((column_index_from_string(m[1]), column_index_from_string(m[3])))
    elif m := _ROWS.match(ref):
        # a row as a whole (e.g. "1:1", a missing header): mark its first cell
        r0 = r1 = int(m[1])
        c0 = c1 = 1
    else:
        return None
    cells = [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)][:MAX_MARKED_CELLS]
    label = ref
    if remap is not None:
        cols, rows = remap.get(p.sheet.strip(), ({}, {}))
        cells = [(rows.get(r, r), cols.get(c, c)) for r, c in cells]
        ends = [f"{get_column_letter(c)}{r}" for r, c in (cells[0], cells[-1])]
        label = ends[0] if ends[0] == ends[1] else ":".join(ends)
        if label != ref:
            label += f" (reported as {p.sheet}!{ref}, the address in the CSV file)"
    return _Mark(title, tuple(cells), whole, label)


# ---------------------------------------------------------------------------------------------------
# Marking
# ---------------------------------------------------------------------------------------------------
def _anchor(ws: Worksheet, row: int, col: int) -> tuple[int, int]:
    """The cell that can carry a fill and a comment: a covered cell of a merge gives its top-left."""
    if isinstance(ws.cell(row, col), MergedCell):
        for rng in ws.merged_cells.ranges:
            if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col:
                return rng.min_row, rng.min_col
    return row, col


def _note(p: Problem, mark: _Mark) -> str:
    text = f"{mark.label}: {p.message}"
    if p.expected:
        text += f"\nExpected: {p.expected}"
    return text


def _mark_cells(wb: Workbook, problems: Sequence[Problem], marks: list[_Mark | None]) -> None:
    notes: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    fills: dict[tuple[str, int, int], PatternFill] = {}
    for p, mark in zip(problems, marks, strict=True):
        if p.sheet and (title := _sheet_title(wb, p.sheet)) is not None:
            wb[title].sheet_properties.tabColor = TAB_RED
        if mark is None:
            continue
        ws = wb[mark.title]
        for i, (r, c) in enumerate(mark.cells):
            key = (mark.title, *_anchor(ws, r, c))
            # red wins over orange: a wrong value inside a wrong range is still a wrong value
            if fills.get(key) is not RED:
                fills[key] = ORANGE if mark.whole else RED
            if i == 0:
                notes[key].append(_note(p, mark))
    for (title, r, c), fill in fills.items():
        wb[title].cell(r, c).fill = fill
    for (title, r, c), texts in notes.items():
        cell = wb[title].cell(r, c)
        text = "\n\n".join(texts)
        if cell.comment is not None:
            # keep what the author wrote (e.g. the template's column help) below the problems
            text += "\n\n— earlier comment —\n" + cell.comment.text
        if len(text) > MAX_COMMENT_CHARS:
            text = text[: MAX_COMMENT_CHARS - 1] + "…"
        cell.comment = Comment(text, "validate", width=360, height=160)


def _problems_sheet(
    wb: Workbook,
    problems: Sequence[Problem],
    marks: list[_Mark | None],
    warnings: list[str],
) -> None:
    if PROBLEMS_SHEET in wb.sheetnames:  # an earlier annotation of the same workbook
        del wb[PROBLEMS_SHEET]
    ws = wb.create_sheet(PROBLEMS_SHEET, 0)
    wb.active = 0
    for ws_other in wb.worksheets[1:]:
        ws_other.sheet_view.tabSelected = False
    headers = ("kind", "sheet", "cell", "what is wrong", "what is expected", "as reported")
    for j, h in enumerate(headers, start=1):
        cell = ws.cell(1, j)
        set_cell(cell, h)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    rows: list[tuple[str, Problem | None, _Mark | None, str]] = [
        ("problem", p, m, str(p)) for p, m in zip(problems, marks, strict=True)
    ]
    rows += [("warning", None, None, w) for w in warnings]
    if not rows:
        rows = [("ok", None, None, "no problems found")]
    for i, (kind, p, mark, printed) in enumerate(rows, start=2):
        where = ""
        if mark is not None:
            r, c = _anchor(wb[mark.title], *mark.cells[0])
            where = f"{get_column_letter(c)}{r}"
        values: tuple[Any, ...] = (
            kind,
            p.sheet if p is not None else "",
            where,
            p.message if p is not None else printed,
            p.expected if p is not None else "",
            printed,
        )
        for j, v in enumerate(values, start=1):
            set_cell(ws.cell(i, j), v)
            ws.cell(i, j).alignment = Alignment(wrap_text=j in (4, 5, 6), vertical="top")
        if mark is not None:
            link = ws.cell(i, 3)
            title = mark.title.replace("'", "''")
            link.hyperlink = f"#'{title}'!{where}"
            link.font = Font(color="FF0563C1", underline="single")
    for letter, width in zip("ABCDEF", (9, 16, 8, 60, 50, 80), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    if problems:
        ws.sheet_properties.tabColor = TAB_RED


__all__ = ["MAX_MARKED_CELLS", "ORANGE", "PROBLEMS_SHEET", "RED", "SameFileError", "annotate"]
