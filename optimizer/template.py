"""Input workbooks written from the schema: the empty, documented template and CSV-folder conversion.

Both come from :mod:`optimizer.schema`, so the About sheet, the header comments and the dropdowns can
never disagree with what the reader accepts.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from optimizer.data_io import InputError, Problem, RawBook, _Bad, convert, read_raw
from optimizer.schema import SETTINGS, SHEETS, SHEETS_BY_NAME, UNITS, Column, Sheet
from optimizer.workbook import atomic_save, atomic_write_folder, safe_csv_text, set_cell

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQ_FILL = PatternFill("solid", fgColor="FCE4D6")
_MAX_ROWS = 5000  # dropdowns cover this many data rows


def _column_comment(col: Column) -> str:
    parts = [col.description or col.name]
    kind = {
        "id": "id",
        "text": "text",
        "int": "whole number",
        "float": "number",
        "bool": "TRUE/FALSE",
        "enum": "one of " + "|".join(col.choices),
    }[col.dtype]
    parts.append(
        f"Type: {kind}" + (f"; unit: {col.unit}" if col.unit and col.dtype not in ("bool",) else "")
    )
    if col.required and col.required_unless:
        parts.append(f"Required, unless the row gives {col.required_unless}.")
    elif col.required:
        parts.append("Required.")
    elif col.default is not None:
        parts.append(f"Blank = {col.default}.")
    elif col.wildcard:
        parts.append("Blank = all.")
    if col.min is not None or col.max is not None:
        lo = "" if col.min is None else f"{col.min:g} ≤ "
        hi = "" if col.max is None else f" ≤ {col.max:g}"
        parts.append(f"Range: {lo}value{hi}.")
    if col.ref:
        parts.append(f"Must be listed in {col.ref.replace('.', '!')}.")
    return "\n".join(parts)


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _format_sheet(ws: Any, sheet: Sheet) -> None:
    for j, col in enumerate(sheet.columns):
        cell = ws.cell(row=1, column=j + 1)
        set_cell(cell, col.name)
        cell.font = Font(bold=True)
        cell.fill = _REQ_FILL if col.required else _HEADER_FILL
        cell.comment = Comment(_column_comment(col), "planner", width=320, height=140)
        ws.column_dimensions[_letter(j)].width = max(12, len(col.name) + 4)
        rng = f"{_letter(j)}2:{_letter(j)}{_MAX_ROWS}"
        dv = None
        if col.dtype == "enum":
            dv = DataValidation(
                type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=True
            )
        elif col.dtype == "bool":
            dv = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
        elif col.ref:
            ref_sheet, ref_col = col.ref.split(".")
            k = SHEETS_BY_NAME[ref_sheet].column_names.index(ref_col)
            dv = DataValidation(
                type="list",
                formula1=f"={ref_sheet}!${_letter(k)}$2:${_letter(k)}${_MAX_ROWS}",
                allow_blank=True,
            )
            dv.showErrorMessage = False  # ids may be typed before the referenced row exists
        if dv is not None:
            dv.add(rng)
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"


def _about(ws: Any) -> None:
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 90
    r = 1

    def put(a: Any, b: Any = None, bold: bool = False) -> None:
        nonlocal r
        set_cell(ws.cell(r, 1), a)
        set_cell(ws.cell(r, 2), b)
        if bold:
            ws.cell(r, 1).font = Font(bold=True, size=12)
        ws.cell(r, 2).alignment = Alignment(wrap_text=True, vertical="top")
        r += 1

    put("AI-infrastructure planner: input workbook", bold=True)
    put(
        "How to use",
        "Fill the sheets (one table each, column names in row 1). Hover a header for its meaning, type, unit and default. Orange headers are required. Run `python cli.py validate FILE` to check, then `python cli.py solve FILE`.",
    )
    r += 1
    put("Units", bold=True)
    for what, unit in UNITS.rows:
        put(what, unit)
    r += 1
    put("Sheets", bold=True)
    for s in SHEETS:
        put(s.name, ("REQUIRED. " if s.required else "") + s.description)
    r += 1
    put("What-if cookbook", bold=True)
    put(
        "How",
        "Copy a row into the Scenarios sheet (scenario, sheet, where, column, op, value) and run "
        "`python cli.py solve FILE --scenario NAME`, or give it on the command line as "
        "`--change` (shown after each row). where: key=value;… (blank = every row).",
    )
    from optimizer.scenarios import COOKBOOK, cookbook_change_text

    for name, question, rows in COOKBOOK:
        lines = [question]
        for row in rows:
            sheet, where, column, op, value = row
            lines.append(f"{name} | {sheet} | {where} | {column} | {op} | {value}")
            lines.append(f"--change '{cookbook_change_text(row)}'")
        put(name, "\n".join(lines))
    r += 1
    put("Settings keys", bold=True)
    for s in SETTINGS:
        d = (
            "first model year"
            if s.key == "base_year"
            else ("last step between years, or 1" if s.key == "last_period_length" else s.default)
        )
        put(s.key, f"{s.description} (default: {d if d is not None else 'none'})")


def _new_workbook() -> Workbook:
    wb = Workbook()
    _about(wb.active)
    wb.active.title = "About"
    return wb


def write_template(path: str | Path) -> Path:
    """Write an empty, documented input workbook: an About sheet with units and every sheet of the schema
    with its headers, a comment on every header and dropdowns for ids, enums and booleans."""
    wb = _new_workbook()
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        _format_sheet(ws, sheet)
        if sheet.kind == "settings":
            for i, s in enumerate(SETTINGS, start=2):
                set_cell(ws.cell(i, 1), s.key)
                ws.cell(i, 2).comment = Comment(f"{s.description}. Blank = default.", "planner")
    return atomic_save(wb, Path(path))


def _typed_value(value: Any, col: Column | None) -> Any:
    """Numbers stay numbers and booleans stay booleans when a CSV cell is written to a workbook."""
    if value is None or col is None:
        return value
    try:
        v = convert(value, col)
    except _Bad:
        return value  # kept as found; validation will name the cell
    if col.dtype == "bool":
        return "TRUE" if v else "FALSE"
    return v


def write_input_workbook(book: RawBook, path: str | Path) -> Path:
    """Write the sheets of ``book`` (e.g. read from a CSV folder) as a formatted input workbook."""
    wb = _new_workbook()
    for sheet in SHEETS:
        t = book.tables.get(sheet.name)
        if t is None:
            continue
        ws = wb.create_sheet(sheet.name)
        _format_sheet(ws, sheet)
        # schema columns first (so header comments and dropdowns line up), unknown ones after
        headers = list(sheet.column_names) + [h for h in t.headers if h not in sheet.column_names]
        for j, h in enumerate(headers):
            set_cell(ws.cell(1, j + 1), h)
        for i, row in enumerate(t.rows, start=2):
            for j, h in enumerate(headers):
                if h not in t.headers:
                    continue
                cell = row[t.headers.index(h)]
                if sheet.kind == "settings":
                    col = None
                    if h == "value":
                        key = row[t.headers.index("key")].value if "key" in t.headers else None
                        col = next((s for s in SETTINGS if s.key == key), None)
                else:
                    col = sheet.column(h) if h in sheet.column_names else None
                set_cell(ws.cell(i, j + 1), _typed_value(cell.value, col))
    return atomic_save(wb, Path(path))


def write_csv_folder(book: RawBook, folder: str | Path) -> list[Path]:
    """Write each sheet of ``book`` to ``folder/<Sheet>.csv`` (text that could run as a formula
    escaped), all files or none (:func:`~optimizer.workbook.atomic_write_folder`): an interrupted
    conversion never leaves a folder that mixes new and old sheets."""
    texts = {}
    for name, t in book.tables.items():
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(t.headers)
        for row in t.rows:
            w.writerow(["" if c.value is None else safe_csv_text(_plain(c.value)) for c in row])
        texts[f"{name}.csv"] = buf.getvalue()
    return atomic_write_folder(Path(folder), texts)


def _plain(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return v


def convert_input(src: str | Path, dst: str | Path) -> Path:
    """Convert a CSV folder to an ``.xlsx`` input workbook, or a workbook to a CSV folder.

    Nothing is converted when something would be lost or silently changed on the way (all listed at
    once, as :class:`~optimizer.data_io.InputError`): a file or sheet that could not be read, a
    formula without a calculated value or an error value (it would arrive as a blank, so a default
    would apply where ``validate`` flags the cell), and for a CSV folder target, CSV files of
    schema sheets already there that this conversion would not replace (they would be read as part
    of the converted input).
    """
    book = read_raw(src)
    problems = list(book.problems) + _lossy_cells(book)
    to_book = str(dst).lower().endswith(".xlsx")
    if not to_book:
        problems += _stale_csvs(book, Path(dst))
    if problems:
        raise InputError(problems)
    if to_book:
        return write_input_workbook(book, dst)
    write_csv_folder(book, dst)
    return Path(dst)


def _lossy_cells(book: RawBook) -> list[Problem]:
    """Cells whose value the conversion cannot carry: uncalculated formulas and error values."""
    out = []
    for name, t in book.tables.items():
        for i, row in enumerate(t.rows):
            for j, c in enumerate(row):
                if not (c.formula or c.error or c.merged):
                    continue
                ref = f"{t.letters[j]}{t.row_numbers[i]}" if j < len(t.letters) else ""
                what = (
                    "a formula without a calculated value"
                    if c.formula
                    else f"an error value ({c.value})"
                    if c.error
                    else "a cell covered by a merged range (unmerge and fill every row)"
                )
                out.append(
                    Problem(
                        name,
                        ref,
                        f"{what}: converted it would be a blank",
                        "a plain value; open and save the workbook in Excel or LibreOffice so "
                        "formulas are calculated, then convert again",
                    )
                )
    return out


def _stale_csvs(book: RawBook, folder: Path) -> list[Problem]:
    """CSV files of schema sheets in the target folder that this conversion would not replace."""
    if not folder.is_dir():
        return []
    written = {f"{n}.csv".lower() for n in book.tables}
    stale = [
        f
        for f in sorted(folder.iterdir())
        if f.suffix.lower() == ".csv"
        and f.stem.strip().lower() in {n.lower() for n in SHEETS_BY_NAME}
        and f.name.lower() not in written
    ]
    return [
        Problem(
            f.stem,
            "",
            f"{f} is already in the target folder and this conversion has no {f.stem} sheet: "
            "it would be read as part of the converted input",
            "remove it, or convert into an empty folder",
        )
        for f in stale
    ]


__all__ = ["Problem", "convert_input", "write_csv_folder", "write_input_workbook", "write_template"]
