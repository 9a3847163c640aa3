"""Read an input workbook (or a folder of CSV files) into a validated, resolved :class:`InputData`.

Three stages, each usable on its own so studies can wrap them (DESIGN §2, §7):

1. :func:`read_raw` — cells as found, with their addresses, no interpretation (``RawBook``).
2. :func:`parse` — types, ranges, ids, keys: every problem collected and raised at once as
   :class:`InputError` with ``Sheet!Cell: what is wrong — what is expected`` lines (DESIGN §4.3).
3. resolution (inside :func:`parse`) — defaults, wildcards and interpolation of §4.2 and the conventions
   of §5.2, giving plain dicts and frames keyed by the model's index tuples.

This module never imports Pyomo.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.schema import (
    ACCELERATOR,
    REQUIRED_SHEETS,
    SEGMENTS,
    SETTINGS,
    SETTINGS_BY_KEY,
    SHEETS,
    SHEETS_BY_NAME,
    Column,
    Sheet,
)

# An .xlsx is a zip of XML; these limits stop zip bombs before openpyxl inflates them (RELIABILITY.md).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200.0
HOURS_PER_YEAR = 8760.0
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA")
_NUMERIC_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

# HiGHS drops matrix coefficients with |a| <= 1e-9 (option small_matrix_value) with only a log line,
# and then may report a wrong "optimal" (RELIABILITY.md). Values that enter the constraint matrix are
# therefore either zero or large enough that, after the unit scaling the model applies, they stay
# ten times above that threshold: the margin covers the further factors (pue, efficiency, hours)
# some of them are multiplied by.
MIN_COEFFICIENT = 1e-8


@functools.lru_cache(maxsize=1)
def matrix_columns() -> dict[tuple[str, str], tuple[float, str]]:
    """(sheet, column) → (factor the model multiplies the value by, how it enters the model).

    Read from the unit scales the components declare (``CONTRACT.units``,
    :class:`optimizer.components.contract.Scale`), which the components apply themselves: one
    declaration, so the check below follows any change of a factor.
    """
    from optimizer.model import COMPONENTS  # the components import this module (InputData)

    out: dict[tuple[str, str], tuple[float, str]] = {}
    for comp in COMPONENTS:
        for scale in comp.CONTRACT.units:
            out[(scale.sheet, scale.column)] = (scale.factor, scale.meaning)
    return out


def __getattr__(name: str) -> Any:
    """``MATRIX_COLUMNS``: :func:`matrix_columns`, computed when first asked for."""
    if name == "MATRIX_COLUMNS":
        return matrix_columns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_coefficient(sheet: str, column: str, value: Any) -> None:
    """Raise ``_Bad`` when a nonzero value would reach the solver as a coefficient it drops."""
    entry = matrix_columns().get((sheet, column))
    if entry is None or not isinstance(value, int | float) or value == 0:
        return
    factor, meaning = entry
    if abs(value) * factor < MIN_COEFFICIENT:
        smallest = MIN_COEFFICIENT / factor
        raise _Bad(
            f"{value:g} is too small: as {meaning} it is {abs(value) * factor:.2g}, which the "
            "solver would silently drop as zero (it ignores coefficients ≤ 1e-9)",
            f"zero, or at least {smallest:.3g}",
        )


# ---------------------------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as possible."""

    sheet: str
    cell: str
    message: str
    expected: str = ""

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        tail = f" — {self.expected}" if self.expected else ""
        return f"{where}: {self.message}{tail}"


class InputError(Exception):
    """The input has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------------------------------------------------
# Raw cells
# ---------------------------------------------------------------------------------------------------------
@dataclass
class RawCell:
    """A cell as read: its value and, for workbooks, what openpyxl knew about it."""

    value: Any
    error: bool = False  # an Excel error value such as #DIV/0!
    formula: bool = False  # a formula without a cached value
    merged: bool = False  # covered by a merged range (not its top-left cell)


@dataclass
class RawTable:
    """One sheet as found: header names with their column letters, and data rows with Excel row numbers."""

    name: str
    headers: list[str]
    letters: list[str]
    rows: list[list[RawCell]]
    row_numbers: list[int]
    # values under no header: column letter -> Excel rows holding one (reported, never read)
    orphans: dict[str, list[int]] = field(default_factory=dict)

    def cell_ref(self, col: str, i: int) -> str:
        """Address like ``C7`` of column ``col`` in data row ``i``."""
        return f"{self.letters[self.headers.index(col)]}{self.row_numbers[i]}"

    def column_ref(self, col: str) -> str:
        """Address of the header cell of ``col``."""
        return f"{self.letters[self.headers.index(col)]}1"

    def copy(self) -> RawTable:
        """A deep-enough copy for scenario edits."""
        return RawTable(
            self.name,
            list(self.headers),
            list(self.letters),
            [[RawCell(c.value, c.error, c.formula, c.merged) for c in r] for r in self.rows],
            list(self.row_numbers),
            {k: list(v) for k, v in self.orphans.items()},
        )


@dataclass
class RawBook:
    """Every sheet of an input, untouched, plus where it came from."""

    source: str
    tables: dict[str, RawTable]
    problems: list[Problem] = field(default_factory=list)
    extra_sheets: list[str] = field(default_factory=list)
    # things read as they are but worth a word (hidden sheets and rows)
    warnings: list[str] = field(default_factory=list)

    def copy(self) -> RawBook:
        """A copy whose tables can be edited without touching this one."""
        return RawBook(
            self.source,
            {k: t.copy() for k, t in self.tables.items()},
            list(self.problems),
            list(self.extra_sheets),
            list(self.warnings),
        )


def _letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def read_raw(path: str | Path) -> RawBook:
    """Read an ``.xlsx`` workbook or a folder of ``<Sheet>.csv`` files into a :class:`RawBook`.

    Nothing is interpreted yet; problems that make the file unreadable are raised as :class:`InputError`.
    The file is opened read-only and never modified.

    Notes
    -----
    What a workbook can hide, and what happens to it (RELIABILITY.md, "Reading workbooks"):

    - not an .xlsx (a renamed CSV, an old or encrypted .xls, an .ods), a zip bomb
      (``MAX_UNPACKED_BYTES``, ``MAX_COMPRESSION_RATIO``) or XML entities: refused before openpyxl
      parses anything;
    - formulas without a cached value and error values (``#DIV/0!``): flagged per cell, never read as
      blanks. A *stale* cached value (a formula whose inputs changed after the last save in a
      spreadsheet) cannot be detected: the value last calculated is what is read;
    - merged cells: every covered cell but the first is flagged; values in a column without a header
      are flagged;
    - blank rows are skipped and only cells present in the file are visited, so a formatted empty
      cell far below the table costs nothing. Row numbers in messages are the sheet's own.
    - sheet names differing from the schema only in case or surrounding spaces are read, and
      reported.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(
            [
                Problem(
                    str(p),
                    "",
                    "file or folder not found",
                    "an .xlsx workbook or a folder of CSV files",
                )
            ]
        )
    if p.is_dir():
        return _read_csv_folder(p)
    return _read_xlsx(p)


CSV_FIELD_LIMIT = 131_072
"""Longest CSV field read (Python's csv default): a longer one is a problem naming its row."""


def _read_csv_folder(folder: Path) -> RawBook:
    tables: dict[str, RawTable] = {}
    extra: list[str] = []
    problems: list[Problem] = []
    # the extension in any case: Profiles.CSV must not be ignored without a word
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() == ".csv")
    exact = {f.stem for f in files if f.stem in SHEETS_BY_NAME and f.suffix == ".csv"}
    low = {n.lower(): n for n in SHEETS_BY_NAME}
    for f in files:
        name = f.stem
        if name not in SHEETS_BY_NAME or f.suffix != ".csv":
            meant = low.get(name.strip().lower())
            if meant is None or meant in exact or meant in tables:
                extra.append(name)
                continue
            # read it anyway: one misnamed file is one message, not a cascade of unknown ids
            problems.append(
                Problem(
                    name,
                    "",
                    f"file {f.name!r} is not exactly {meant + '.csv'!r} (case or spaces)",
                    f"rename the file {meant}.csv",
                )
            )
            name = meant
        if f.is_symlink() and not f.exists():
            problems.append(
                Problem(
                    name,
                    "",
                    f"{f.name} is a link to {f.readlink()}, which does not exist",
                    f"a CSV file {f.name}, or remove the broken link",
                )
            )
            continue
        if f.is_dir():
            problems.append(
                Problem(name, "", f"{f.name} is a folder, not a CSV file", f"a CSV file {f.name}")
            )
            continue
        if not f.is_file():
            problems.append(
                Problem(name, "", f"{f.name} is not a regular file", f"a CSV file {f.name}")
            )
            continue
        try:
            text = f.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem(name, "", f"{f.name} is not UTF-8 text", "a UTF-8 CSV file"))
            continue
        # newline="" lets quoted fields hold line breaks, as the csv module expects
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            rows = list(reader)
        except csv.Error as exc:
            too_long = "field larger than field limit" in str(exc)
            problems.append(
                Problem(
                    name,
                    f"row {reader.line_num}",
                    f"a field longer than {CSV_FIELD_LIMIT:,} characters"
                    if too_long
                    else f"not readable as CSV ({exc})",
                    "fields of ordinary length (a quote left open swallows the rest of the file)"
                    if too_long
                    else "a comma-separated file with balanced quotes",
                )
            )
            continue
        tables[name] = _table_from_rows(name, [[RawCell(_csv_value(v)) for v in r] for r in rows])
    return RawBook(str(folder), tables, problems, extra)


def _csv_value(v: str) -> Any:
    v = v.strip()
    return None if v == "" else v


def _table_from_rows(
    name: str, rows: list[list[RawCell]], row_numbers: list[int] | None = None
) -> RawTable:
    """Build a table from rows of cells; ``rows[0]`` is the header row (Excel row 1).

    ``row_numbers`` gives the Excel row number of each row when rows were read sparsely (rows with no
    cell at all left out); by default rows are consecutive from row 1.
    """
    if not rows:
        return RawTable(name, [], [], [], [])
    numbers_in = row_numbers or list(range(1, len(rows) + 1))
    header = rows[0] if numbers_in[0] == 1 else []
    body = list(zip(rows, numbers_in, strict=True))
    if numbers_in[0] == 1:
        body = body[1:]
    headers, letters, idx = [], [], []
    for j, c in enumerate(header):
        if c.value is None:
            continue
        headers.append(str(c.value).strip())
        letters.append(_letter(j))
        idx.append(j)
    data, numbers = [], []
    orphans: dict[str, list[int]] = defaultdict(list)
    headed = set(idx)
    for r, i in body:
        for j, c in enumerate(r):
            if j not in headed and (c.value is not None or c.formula or c.error):
                orphans[_letter(j)].append(i)
        cells = [r[j] if j < len(r) else RawCell(None) for j in idx]
        # blank rows are ignored (§4.1), including the inflated ranges a stray format leaves behind
        if all(c.value is None and not c.formula and not c.error for c in cells):
            continue
        data.append(cells)
        numbers.append(i)
    return RawTable(name, headers, letters, data, numbers, dict(orphans))


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Map worksheet parts (``xl/worksheets/sheet3.xml``) to sheet titles, best effort.

    Parsed with defusedxml and only when both parts are small, so this cannot be the way a bomb gets
    in. Any surprise gives an empty map (parts are then named by their file name in messages).
    """
    try:
        from defusedxml import ElementTree

        for part in ("xl/_rels/workbook.xml.rels", "xl/workbook.xml"):
            if z.getinfo(part).file_size > 1 << 20:
                return {}

        ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
        ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {
            r.get("Id"): "xl/" + r.get("Target", "").lstrip("/").removeprefix("xl/") for r in rels
        }
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        return {
            targets[s.get(f"{ns_rel}id")]: s.get("name", "")
            for s in book.iter(f"{ns_main}sheet")
            if s.get(f"{ns_rel}id") in targets
        }
    except Exception:  # noqa: BLE001 - naming the sheet is a courtesy, never a reason to fail
        return {}


def _declares_entities(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """True when an XML part has a DOCTYPE or ENTITY declaration (never present in a real workbook).

    Streams the part in chunks so that a large part costs no more memory than a chunk.
    """
    tail = b""
    with z.open(info) as fh:
        while chunk := fh.read(1 << 20):
            block = tail + chunk
            if b"<!DOCTYPE" in block or b"<!ENTITY" in block:
                return True
            tail = block[-16:]
    return False


def _check_zip(path: Path) -> None:
    """Refuse what is not an .xlsx, zip bombs and XML entity bombs before openpyxl inflates anything.

    openpyxl has no guard against zip bombs, and although it parses with defusedxml, checking here
    lets the message name the sheet (RELIABILITY.md, "Reading workbooks").
    """
    if not zipfile.is_zipfile(path):
        head = path.read_bytes()[:8]
        if head == bytes.fromhex("D0CF11E0A1B11AE1"):
            # an OLE2 compound file: an old .xls, or an .xlsx encrypted with a password
            what = (
                "an old binary Excel file (.xls) or a password-protected workbook, "
                "not a plain .xlsx workbook"
            )
            expected = "open it in Excel or LibreOffice and save it as .xlsx without a password"
        else:
            what = "not an .xlsx workbook" + (
                " (a text or CSV file renamed?)" if _looks_like_text(head) else ""
            )
            expected = "an Excel .xlsx file, or a folder of CSV files named after the sheets"
        raise InputError([Problem(path.name, "", what, expected)])
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                kind = (
                    "an OpenDocument spreadsheet (.ods)"
                    if "content.xml" in names
                    else "an Excel binary workbook (.xlsb)"
                    if "xl/workbook.bin" in names
                    else "a zip file"
                )
                raise InputError(
                    [
                        Problem(
                            path.name,
                            "",
                            f"{kind}, not an .xlsx workbook (it has no xl/workbook.xml)",
                            "save it as an Excel .xlsx workbook",
                        )
                    ]
                )
            unpacked = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_COMPRESSION_RATIO:
                big = max(infos, key=lambda i: i.file_size)
                part = big.filename
                where = _sheet_parts(z).get(part, path.name)
                raise InputError(
                    [
                        Problem(
                            where,
                            "",
                            f"refused: {path.name} unpacks to {_size(unpacked)} "
                            f"({unpacked / packed:,.0f}× compression; {part} alone "
                            f"{_size(big.file_size)}), a likely zip bomb",
                            f"a workbook of at most {_size(MAX_UNPACKED_BYTES)} unpacked "
                            f"and {MAX_COMPRESSION_RATIO:,.0f}× compression",
                        )
                    ]
                )
            bombs = [
                i.filename
                for i in infos
                if i.filename.endswith((".xml", ".rels", ".vml")) and _declares_entities(z, i)
            ]
            if bombs:
                sheets = _sheet_parts(z)
                raise InputError(
                    [
                        Problem(
                            sheets.get(b, path.name),
                            "",
                            f"refused: {b} declares XML entities (an XML entity bomb, "
                            "'billion laughs'?)",
                            "a workbook saved by Excel or LibreOffice (they never declare entities)",
                        )
                        for b in bombs
                    ]
                )
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
        # a damaged archive or an encrypted part: say so instead of a stack trace
        raise InputError(
            [
                Problem(
                    path.name,
                    "",
                    f"a damaged .xlsx file ({type(exc).__name__}: {exc})",
                    "an .xlsx file that opens in Excel or LibreOffice",
                )
            ]
        ) from None


def _size(n: float) -> str:
    """Bytes in the unit a person reads at a glance (``24 MiB``, ``9.8 KiB``)."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if n >= 100 or unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _looks_like_text(head: bytes) -> bool:
    return bool(head) and all(32 <= b < 127 or b in (9, 10, 13) for b in head)


# Sheets the planner itself adds to an input workbook: not worth a warning.
_OWN_SHEETS = ("About", "Problems")


def _has_content(cell: RawCell) -> bool:
    return cell.value is not None or cell.formula or cell.error or cell.merged


_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(path: Path, title: str, cache: dict[str, str]) -> bool:
    """Whether the XML of sheet ``title`` holds a formula element (True when unsure)."""
    try:
        with zipfile.ZipFile(path) as z:
            if not cache:
                cache.update({t: p for p, t in _sheet_parts(z).items()})
            part = cache.get(title)
            if part is None:
                return True
            with z.open(part) as fh:
                tail = b""
                while chunk := fh.read(1 << 20):
                    if _FORMULA_ELEMENT.search(tail + chunk):
                        return True
                    tail = chunk[-8:]
    except Exception:  # noqa: BLE001 - when unsure, take the slow and certain way
        return True
    return False


def _read_xlsx(path: Path) -> RawBook:
    import openpyxl  # defusedxml is a dependency, so openpyxl parses with it (entity bombs are refused)
    from openpyxl.cell.cell import MergedCell

    _check_zip(path)
    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure becomes a user-facing message
        cause = exc.__cause__ or exc.__context__ or exc
        if "Entities" in type(cause).__name__ or "entit" in str(exc).lower():
            msg = "refused: the workbook's XML declares entities (an XML entity bomb?)"
        else:
            msg = f"cannot be read as a workbook ({type(exc).__name__}: {exc})"
        raise InputError(
            [Problem(path.name, "", msg, "a workbook saved by Excel or LibreOffice")]
        ) from None
    formulas = None
    parts: dict[str, str] = {}
    tables: dict[str, RawTable] = {}
    extra: list[str] = []
    problems: list[Problem] = []
    warns: list[str] = []
    exact = {ws.title for ws in wb.worksheets if ws.title in SHEETS_BY_NAME}
    low = {n.lower(): n for n in SHEETS_BY_NAME}
    for ws in wb.worksheets:
        name = ws.title
        if name not in SHEETS_BY_NAME:
            meant = low.get(name.strip().lower())
            if meant is None:
                if name.strip() not in _OWN_SHEETS:
                    extra.append(name)
                continue
            if meant in exact or meant in tables:
                problems.append(
                    Problem(
                        name,
                        "",
                        f"a second sheet for {meant} (the name differs only in case or spaces)",
                        f"one sheet named {meant!r}: delete or rename this one",
                    )
                )
                continue
            # Read it anyway, so one misnamed sheet is one message, not a cascade of unknown ids.
            problems.append(
                Problem(
                    name,
                    "",
                    f"sheet name {name!r} is not exactly {meant!r} (case or spaces)",
                    f"rename the sheet {meant!r}",
                )
            )
            name = meant
        # Walk only the cells the file holds (openpyxl's cell dict; iter_rows would visit the whole
        # grid): one formatted cell at row 1,048,576 must not cost a million empty rows
        # (RELIABILITY.md, "inflated ranges").
        by_row: dict[int, dict[int, RawCell]] = defaultdict(dict)
        blanks: list[tuple[int, int]] = []
        for (r_idx, c_idx), c in ws._cells.items():
            if isinstance(c, MergedCell):
                by_row[r_idx][c_idx] = RawCell(None, merged=True)
                continue
            v = c.value
            if v is None:
                blanks.append((r_idx, c_idx))
            err = c.data_type == "e" or (isinstance(v, str) and v in EXCEL_ERRORS)
            by_row[r_idx][c_idx] = RawCell(v, error=err)
        # A cell that reads None may be a formula never calculated: look again with formulas kept
        # (a second full load, so only for sheets whose XML holds a formula at all).
        if blanks and _has_formulas(path, ws.title, parts):
            if formulas is None:
                formulas = openpyxl.load_workbook(path, data_only=False)
            fcells = formulas[ws.title]._cells
            for r_idx, c_idx in blanks:
                fc = fcells.get((r_idx, c_idx))
                fv = fc.value if fc is not None else None
                if (isinstance(fv, str) and fv.startswith("=")) or (
                    fv is not None and type(fv).__name__ in ("ArrayFormula", "DataTableFormula")
                ):
                    by_row[r_idx][c_idx].formula = True
        # Rows as wide as their last cell with content: formatted empty cells far to the right
        # (or below) cost nothing.
        numbers, rows = [], []
        for r in sorted(by_row):
            width = max(
                (c for c, cell in by_row[r].items() if _has_content(cell)),
                default=0,
            )
            if width:
                numbers.append(r)
                rows.append([by_row[r].get(c, RawCell(None)) for c in range(1, width + 1)])
        tables[name] = _table_from_rows(name, rows, numbers)
        warns += _hidden_warnings(ws, name, numbers)
    return RawBook(str(path), tables, problems, extra, warns)


def _hidden_warnings(ws: Any, name: str, numbers: list[int]) -> list[str]:
    """Say when a sheet, rows or columns that are read are hidden in the workbook: what a user
    cannot see in Excel still enters the model, and that must not happen without a word."""
    out = []
    if ws.sheet_state != "visible":
        out.append(
            f"sheet {name!r} is hidden in the workbook ({ws.sheet_state}); its rows are used"
        )
    hidden = [r for r in numbers if r > 1 and ws.row_dimensions[r].hidden] if numbers else []
    if hidden:
        shown = ", ".join(map(str, hidden[:10])) + (" …" if len(hidden) > 10 else "")
        out.append(
            f"{name}: {len(hidden)} hidden row{'s' if len(hidden) != 1 else ''} ({shown}) "
            "are used; unhide them to see what the model reads"
        )
    cols = sorted(k for k, d in ws.column_dimensions.items() if d.hidden)
    if cols and numbers:
        out.append(
            f"{name}: hidden column{'s' if len(cols) != 1 else ''} {', '.join(cols)} "
            "are read; unhide them to see what the model reads"
        )
    return out


# ---------------------------------------------------------------------------------------------------------
# Typed values
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """Resolved Settings sheet (DESIGN §4.1); every field carries its default."""

    base_year: int
    discount_rate: float
    last_period_length: int
    unserved_penalty_usd: float
    market_finance: bool
    integer_modules: bool
    bet_mode: str
    time_limit_s: float | None
    mip_gap: float
    threads: int | None
    mga_slack: float = 0.05
    it_load_factor: float = 1.0  # λ (v2): average share of nameplate IT power running chips draw
    stage_year: int | None = (
        None  # §8.1: None = earliest bet available_year, else second model year
    )
    cvar_weight: float = 0.0  # §8.1: β of E[cost] + β·CVaR_α[cost]
    cvar_alpha: float = 0.9  # §8.1: α, the confidence level of CVaR


class _Bad(Exception):
    def __init__(self, message: str, expected: str):
        self.message = message
        self.expected = expected


def _expected(col: Column | Any) -> str:
    d = col.dtype
    if d == "bool":
        return "TRUE or FALSE"
    if d == "enum":
        return "one of " + ", ".join(col.choices)
    if d == "int":
        rng = ""
        if col.min is not None and col.max is not None:
            rng = f" between {col.min:g} and {col.max:g}"
        elif col.min is not None:
            rng = f" ≥ {col.min:g}"
        return (
            "a whole number"
            + rng
            + (" (a year)" if "year" in col.unit or "year" in getattr(col, "name", "") else "")
        )
    if d == "float":
        rng = ""
        if col.min is not None and col.max is not None:
            rng = f" between {col.min:g} and {col.max:g}"
        elif col.min is not None:
            rng = f" ≥ {col.min:g}"
        return "a number" + rng + (f" in {col.unit}" if col.unit else "")
    return "a text id"


def convert(value: Any, col: Column | Any) -> Any:
    """Convert one raw cell value to the column's type, or raise ``_Bad`` with what is wrong.

    Plain numeric text (``"12000"``, ``" 5 "``) is accepted as a number; anything else in a number
    column (``"1,000"``, ``"5%"``, ``"abc"``) is rejected, never guessed (RELIABILITY.md).
    """
    d = col.dtype
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    if d in ("id", "text"):
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime | date | time):
            raise _Bad(f"a date ({value}) where {d} belongs", _expected(col))
        return str(value)
    if d == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "y"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "no", "0", "n"):
            return False
        raise _Bad(f"{value!r} is not a boolean", _expected(col))
    if d == "enum":
        s = str(value).strip().lower()
        for ch in col.choices:
            if ch.lower() == s:
                return ch
        raise _Bad(f"{value!r} is not an allowed value", _expected(col))
    # numbers
    if isinstance(value, bool):
        raise _Bad(f"{value} (a boolean) where a number belongs", _expected(col))
    if isinstance(value, datetime | date | time):
        raise _Bad(
            f"a date ({value}) where a number belongs (format the cell as a number)", _expected(col)
        )
    if isinstance(value, str):
        if not _NUMERIC_TEXT.match(value):
            raise _Bad(f"text {value!r} where a number belongs", _expected(col))
        value = float(value)
    if not isinstance(value, int | float):
        raise _Bad(f"{value!r} is not a number", _expected(col))
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise _Bad(f"{value} is not a finite number", _expected(col))
    if d == "int":
        if float(value) != int(value):
            raise _Bad(f"{value} is not a whole number", _expected(col))
        value = int(value)
        if col.min is not None and value < col.min:
            raise _Bad(f"{value} is below the minimum {col.min:g}", _expected(col))
        if col.max is not None and value > col.max:
            raise _Bad(f"{value} is above the maximum {col.max:g}", _expected(col))
        return value
    value = float(value)
    if abs(value) >= 1e20:
        raise _Bad(
            f"{value:g} is too large (the solver treats ≥ 1e20 as infinite)",
            "a finite number below 1e20",
        )
    if col.min is not None and value < col.min:
        what = "negative" if col.min == 0 else f"below {col.min:g}"
        raise _Bad(f"{value:g} is {what}", _expected(col))
    if col.max is not None and value > col.max:
        raise _Bad(f"{value:g} is above {col.max:g}", _expected(col))
    return value


def _typed_table(t: RawTable | None, sheet: Sheet, problems: list[Problem]) -> pd.DataFrame:
    """Convert a raw table to a DataFrame of typed values (None for blanks) with a ``_row`` index of
    data-row positions; type and range problems are appended to ``problems``."""
    names = sheet.column_names
    if t is None:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    if not t.headers and not t.rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    seen = set()
    for j, h in enumerate(t.headers):
        if h in seen:
            problems.append(
                Problem(
                    sheet.name,
                    f"{t.letters[j]}1",  # the second one: the first is the column that is read
                    f"column {h!r} appears twice",
                    "each column once",
                )
            )
        seen.add(h)
        if h not in names:
            near = [n for n in names if n.lower() == h.lower().replace(" ", "_")]
            hint = f"did you mean {near[0]!r}?" if near else "columns are: " + ", ".join(names)
            problems.append(Problem(sheet.name, t.column_ref(h), f"unknown column {h!r}", hint))
    for letter, rows in t.orphans.items():
        n = len(rows)
        problems.append(
            Problem(
                sheet.name,
                f"{letter}{rows[0]}",
                f"column {letter} has {n} value{'s' if n != 1 else ''} but no header in row 1 "
                "(they would be ignored)",
                "a column name in row 1, or delete the values",
            )
        )
    for c in sheet.columns:
        if c.required and c.name not in t.headers:
            problems.append(
                Problem(
                    sheet.name,
                    "1:1",
                    f"missing required column {c.name!r}",
                    f"a header cell {c.name!r} in row 1",
                )
            )
    out: dict[str, list[Any]] = {n: [] for n in names}
    for i, row in enumerate(t.rows):
        for c in sheet.columns:
            if c.name not in t.headers:
                out[c.name].append(None)
                continue
            cell = row[t.headers.index(c.name)]
            ref = t.cell_ref(c.name, i)
            v = None
            if cell.error:
                problems.append(
                    Problem(
                        sheet.name, ref, f"error value {cell.value}", "a value (fix the formula)"
                    )
                )
            elif cell.formula:
                problems.append(
                    Problem(
                        sheet.name,
                        ref,
                        "formula without a calculated value",
                        "open and save the workbook in Excel or LibreOffice, or type the value",
                    )
                )
            elif cell.merged:
                # only a merge's first cell holds the value; the others would silently read blank
                what = "a key column" if c.key else "a data row"
                problems.append(
                    Problem(
                        sheet.name,
                        ref,
                        f"merged cell in {what} (only the merge's first cell holds a value)",
                        "unmerge and fill every row",
                    )
                )
            else:
                try:
                    v = convert(cell.value, c)
                    _check_coefficient(sheet.name, c.name, v)
                except _Bad as b:
                    problems.append(Problem(sheet.name, ref, b.message, b.expected))
                    v = None
                else:
                    if v is None and c.required and not _excused(t, row, c):
                        tail = f", unless the row gives {c.required_unless}" * bool(
                            c.required_unless
                        )
                        problems.append(
                            Problem(
                                sheet.name,
                                ref,
                                f"blank {c.name}",
                                f"{_expected(c)} (required{tail})",
                            )
                        )
            out[c.name].append(v)
    df = pd.DataFrame({n: pd.Series(out[n], dtype=object) for n in names})
    return df


def _settings_ref(t: RawTable | None, key: str) -> str:
    """Address of the value cell of Settings ``key`` (empty when not found)."""
    if t is None or "key" not in t.headers or "value" not in t.headers:
        return ""
    for i, row in enumerate(t.rows):
        if str(row[t.headers.index("key")].value).strip() == key:
            return t.cell_ref("value", i)
    return ""


def _excused(t: RawTable, row: list[RawCell], col: Column) -> bool:
    """Whether the row gives the column that excuses a blank in ``col`` (``Column.required_unless``)."""
    other = col.required_unless
    if other is None or other not in t.headers:
        return False
    v = row[t.headers.index(other)].value
    return v is not None and not (isinstance(v, str) and not v.strip())


def _settings(t: RawTable | None, years: list[int], problems: list[Problem]) -> Settings:
    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    if t is not None:
        for h in ("key", "value"):
            if h not in t.headers:
                problems.append(
                    Problem("Settings", "1:1", f"missing column {h!r}", "columns key and value")
                )
                return _settings(None, years, problems)
        for h in t.headers:
            if h not in ("key", "value"):
                problems.append(
                    Problem(
                        "Settings",
                        t.column_ref(h),
                        f"unknown column {h!r}",
                        "columns key and value",
                    )
                )
        seen: set[str] = set()
        for i, row in enumerate(t.rows):
            kc = row[t.headers.index("key")]
            vc = row[t.headers.index("value")]
            key = str(kc.value).strip() if kc.value is not None else ""
            if not key:
                problems.append(
                    Problem("Settings", t.cell_ref("key", i), "blank key", "a setting name")
                )
                continue
            s = SETTINGS_BY_KEY.get(key)
            if s is None:
                problems.append(
                    Problem(
                        "Settings",
                        t.cell_ref("key", i),
                        f"unknown setting {key!r}",
                        "one of " + ", ".join(SETTINGS_BY_KEY),
                    )
                )
                continue
            if key in seen:
                problems.append(
                    Problem(
                        "Settings",
                        t.cell_ref("key", i),
                        f"setting {key!r} given twice",
                        "each key once",
                    )
                )
            seen.add(key)
            ref = t.cell_ref("value", i)
            if vc.error or vc.formula:
                problems.append(
                    Problem("Settings", ref, "error value or uncalculated formula", "a plain value")
                )
                continue
            try:
                v = convert(vc.value, s)
            except _Bad as b:
                problems.append(Problem("Settings", ref, b.message, b.expected))
                continue
            if v is not None:
                values[key] = v
    if values["base_year"] is None:
        values["base_year"] = years[0] if years else 0
    if values["last_period_length"] is None:
        values["last_period_length"] = (years[-1] - years[-2]) if len(years) > 1 else 1
    return Settings(**values)


YEAR_RANGE = (1900, 2500)
"""Years outside this range are typos (1030 for 2030, 100000), never a plan."""

BASE_YEAR_SLACK = 10
"""A base year further than this before the first model year (or after the last) is probably a typo."""

HIGH_RATE = 0.3
"""A discount rate or wacc above this is probably a percentage typed as a fraction's digits."""

MAX_STOCHASTIC_BETS = 8
MAX_TREE_COPIES = 2**MAX_STOCHASTIC_BETS
"""The outcome tree holds at most this many copies of the model (leaves), Outcomes rows included."""
"""Stochastic mode builds one copy of the model per outcome, 2^|B| of them: at most 256."""


def _setting_ref(raw: RawBook, key: str) -> str:
    """The address of the value cell of Settings ``key`` (empty when it is not in the sheet)."""
    t = raw.tables.get("Settings")
    if t is None or "key" not in t.headers or "value" not in t.headers:
        return ""
    k = t.headers.index("key")
    for i, row in enumerate(t.rows):
        if row[k].value is not None and str(row[k].value).strip() == key:
            return t.cell_ref("value", i)
    return ""


def _plausible_settings(
    raw: RawBook, settings: Settings, years: list[int], problems: list[Problem], warnings: list[str]
) -> None:
    """Typos of a year or a rate give an error or a warning, never a quiet answer.

    A base year of 1030 (for 2030) discounts every cost by ~1e-18, so the plan serves nothing at no
    visible cost; 100000 overflows. A discount rate of 0.5 is legal but rarely meant.
    """
    by = settings.base_year
    lo, hi = YEAR_RANGE
    if by is not None and years and not lo <= by <= hi:
        problems.append(
            Problem(
                "Settings",
                _setting_ref(raw, "base_year"),
                f"base_year {by} is out of range",
                f"a year between {lo} and {hi}, normally the first model year ({years[0]})",
            )
        )
    elif by is not None and years and not years[0] - BASE_YEAR_SLACK <= by <= years[-1]:
        ref = _setting_ref(raw, "base_year")
        warnings.append(
            f"Settings!{ref}: base_year {by} is far from the model years {years[0]}–{years[-1]} "
            f"(money is discounted to {by}); is it a typo for {years[0]}?"
        )
    if settings.discount_rate > HIGH_RATE:
        warnings.append(
            f"Settings!{_setting_ref(raw, 'discount_rate')}: discount_rate "
            f"{settings.discount_rate:g} is {settings.discount_rate:.0%} a year; "
            f"did you mean {settings.discount_rate / 100:g}?"
        )
    if settings.bet_mode == "stochastic":
        bets = raw.tables.get("Bets")
        n = len(bets.rows) if bets is not None else 0
        outs = raw.tables.get("Outcomes")
        futures = max(1, len(outs.rows)) if outs is not None else 1
        if futures * 2**n > MAX_TREE_COPIES:
            problems.append(stochastic_limit_problem(n, _setting_ref(raw, "bet_mode"), futures))


def stochastic_limit_problem(n_bets: int, ref: str = "", futures: int = 1) -> Problem:
    """The problem of an outcome tree too large to build: ``futures × 2^|B|`` copies of the model
    (§8, §8.1). The one limit and message for parse, the guards and the stochastic form."""
    copies = futures * 2**n_bets
    return Problem(
        "Settings",
        ref,
        f"bet_mode stochastic builds {copies:,} copies of the model ({futures} Outcomes "
        f"row{'s' if futures != 1 else ''} × 2^{n_bets} bet outcomes, one copy per leaf); at most "
        f"{MAX_TREE_COPIES} copies (at most {MAX_STOCHASTIC_BETS} bets without an Outcomes sheet)",
        "bet_mode succeed or fail (or --bet-mode), fewer Outcomes rows, or fewer bets: merge the "
        "small ones",
    )


# ---------------------------------------------------------------------------------------------------------
# Resolution helpers (§4.2)
# ---------------------------------------------------------------------------------------------------------
def interpolate(points: list[tuple[int, float]], year: int) -> float:
    """Linear interpolation between given (year, value) points, held flat outside them (§4.2)."""
    points = sorted(points)
    if year <= points[0][0]:
        return points[0][1]
    if year >= points[-1][0]:
        return points[-1][1]
    for (y0, v0), (y1, v1) in zip(points, points[1:], strict=False):
        if y0 <= year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    raise AssertionError("unreachable")


def _resolve(
    df: pd.DataFrame,
    sheet: str,
    fixed: list[str],
    wild: list[str],
    year_col: str | None,
    values: list[str],
    targets: list[tuple],
    years: list[int],
    problems: list[Problem],
    cell: Callable[[str, int], str] | None = None,
) -> dict[str, dict[tuple, float]]:
    """Resolve value columns for target keys ``fixed + wild`` (and each model year when ``year_col``).

    For each value column separately, the most specific level of the wildcard keys that gives it wins
    (earlier wildcard columns weigh more: (r,g) > (r,·) > (·,g) > (·,·)); within that level rows with
    years are interpolated; a level mixing a blank-year row with year rows is an error.
    Returns ``{value: {target(+year): number}}`` holding only resolved entries. ``cell(column, i)``,
    when given, is the address of data row ``i``'s cell in ``column`` (to point at a blank-year row).
    """
    out: dict[str, dict[tuple, float]] = {v: {} for v in values}
    if df.empty:
        return out
    keycols = fixed + wild
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, key in enumerate(
        zip(*(df[c] for c in keycols), strict=False) if keycols else [()] * len(df)
    ):
        groups[tuple(key)].append(i)
    # Specificity levels: every subset of wildcard columns, ordered as §5.2 says.
    nw = len(wild)
    levels = sorted(
        [tuple(bool(m >> (nw - 1 - j) & 1) for j in range(nw)) for m in range(2**nw)],
        key=lambda spec: tuple(not s for s in spec),
    )
    yrs = df[year_col].tolist() if year_col else None
    reported: set[tuple] = set()
    for target in targets:
        fx, wd = target[: len(fixed)], target[len(fixed) :]
        for v in values:
            col = df[v].tolist()
            for spec in levels:
                key = fx + tuple(w if s else None for w, s in zip(wd, spec, strict=False))
                rows = [i for i in groups.get(key, ()) if col[i] is not None]
                if not rows:
                    continue
                if year_col is None:
                    out[v][target] = float(col[rows[-1]])
                    break
                blank = [i for i in rows if yrs[i] is None]
                dated = [i for i in rows if yrs[i] is not None]
                if blank and dated:
                    tag = (key, v)
                    if tag not in reported:
                        reported.add(tag)
                        problems.append(
                            Problem(
                                sheet,
                                cell(year_col, blank[0]) if cell else "",
                                f"rows{' for ' + _key_text(keycols, key) if keycols else ''} mix a blank year with given years for {v}",
                                "either one row with a blank year or rows with years",
                            )
                        )
                    break
                if blank:
                    for y in years:
                        out[v][(*target, y)] = float(col[blank[-1]])
                else:
                    pts = [(int(yrs[i]), float(col[i])) for i in dated]
                    for y in years:
                        out[v][(*target, y)] = interpolate(pts, y)
                break
    return out


def _key_text(cols: list[str], key: tuple) -> str:
    return ", ".join(f"{c}={'(all)' if k is None else k}" for c, k in zip(cols, key, strict=False))


def _most_specific(df: pd.DataFrame, keycols: list[str], target: tuple) -> list[int]:
    """Rows matching ``target`` (blank = any) with the most non-blank key fields."""
    best, rows = -1, []
    cols = [df[c].tolist() for c in keycols]
    for i in range(len(df)):
        ok = True
        n = 0
        for c, t in zip(cols, target, strict=False):
            v = c[i]
            if v is None:
                continue
            if v != t:
                ok = False
                break
            n += 1
        if not ok:
            continue
        if n > best:
            best, rows = n, [i]
        elif n == best:
            rows.append(i)
    return rows


def _route_table(df: pd.DataFrame, keycols: list[str]) -> dict[tuple, list[tuple[int, tuple]]]:
    """Index rule rows by their key pattern for fast most-specific matching."""
    out: dict[tuple, list[tuple[int, tuple]]] = defaultdict(list)
    cols = [df[c].tolist() for c in keycols]
    for i in range(len(df)):
        pat = tuple(c[i] for c in cols)
        out[pat].append((i, pat))
    return out


def _match_rules(index: dict[tuple, list[tuple[int, tuple]]], target: tuple) -> list[int]:
    """Most-specific rule rows for ``target`` using all 2^n blank patterns (cheap for n ≤ 3)."""
    n = len(target)
    best, rows = -1, []
    for m in range(2**n):
        pat = tuple(t if (m >> j) & 1 else None for j, t in enumerate(target))
        hits = index.get(pat)
        if not hits:
            continue
        k = bin(m).count("1")
        if k > best:
            best, rows = k, [i for i, _ in hits]
        elif k == best:
            rows.extend(i for i, _ in hits)
    return rows


# ---------------------------------------------------------------------------------------------------------
# InputData
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputData:
    """The resolved input: every default applied, every wildcard expanded, every year interpolated.

    Pyomo-free and treated as immutable after loading. Dicts are keyed by the index tuples of DESIGN §5
    (r region, y year, h slice, k tech, m commodity, g segment, j partner, b bet).
    """

    source: str
    settings: Settings
    years: tuple[int, ...]
    period_length: dict[int, int]
    carbon_price: dict[int, float]
    co2_cap: dict[int, float]
    regions: pd.DataFrame  # index region
    slices: tuple[str, ...]
    slice_day: dict[str, str]
    slice_hours: dict[str, float]
    slice_prev: dict[str, str]
    techs: pd.DataFrame  # index tech
    fab_inputs: dict[tuple[str, str, int], float]  # (f, m, y): q_{f,m} of the year (v2)
    commodities: tuple[str, ...]
    capex: dict[tuple[str, str, int], float]
    fixed_om: dict[tuple[str, str, int], float]
    max_build: dict[tuple[str, str, int], float]
    max_capacity: dict[tuple[str, str, int], float]
    cf: dict[tuple[str, str, str], float]  # only where a Profiles row overrides availability
    existing: dict[tuple[str, str, int], float]
    fleet_h100e: dict[tuple[str, int], float]
    fleet_kw: dict[tuple[str, int], float]
    accelerators: (
        pd.DataFrame
    )  # index model year: h100e_per_chip, kw_per_chip, system_capex_usd, life
    price: dict[tuple[str, int], float]
    external_max: dict[tuple[str, int], float]
    chip_routes: dict[tuple[str, str, str], float]  # (m, from, to) allowed → cost $/unit
    compute_routes: frozenset[tuple[str, str, str]]  # (g, host, consumer) allowed
    demand: dict[tuple[str, str, int], float]  # (g, c, y) > 0
    partners: pd.DataFrame  # index partner: wacc, home_region
    budget: dict[tuple[str, int], float]
    partner_allowed: dict[tuple[str, str, str], bool]  # (j, r, class)
    bets: pd.DataFrame  # index bet
    scenarios: pd.DataFrame
    sweep: pd.DataFrame
    warnings: tuple[str, ...] = ()
    alternatives: pd.DataFrame | None = None  # the Alternatives sheet (§10), defaults applied
    # v2 (DESIGN §4.1, §5): every (r, y) resolved from GridAccess, else the Regions column
    grid_max: dict[tuple[str, int], float] = field(default_factory=dict)  # MW
    grid_price: dict[tuple[str, int], float] = field(default_factory=dict)  # $/MWh
    grid_co2: dict[tuple[str, int], float] = field(default_factory=dict)  # tCO2/MWh
    import_max: dict[tuple[str, str, int], float] = field(
        default_factory=dict
    )  # (m, r, y) units/yr
    unserved_value: dict[tuple[str, str, int], float] = field(
        default_factory=dict
    )  # (g, c, y) $ per H100e-year, for every demand key
    # §8.1 Outcomes rows (outcome, probability, scenario or None), and the raw book their scenario
    # changes apply to (kept only when there are outcomes)
    outcomes: tuple[tuple[str, float, str | None], ...] = ()
    raw: RawBook | None = field(default=None, repr=False, compare=False)

    @cached_property
    def outcome_data(self) -> tuple[tuple[str, float, InputData], ...]:
        """Each Outcomes row's future as resolved input: (outcome, probability, data) (§8.1).

        Resolved on first use (or by :func:`parse` when Settings ``bet_mode`` is stochastic);
        raises :class:`InputError` naming the outcome when a future's changed data is invalid.
        """
        from optimizer.outcomes import resolve_leaves

        return resolve_leaves(self)

    @property
    def regions_list(self) -> list[str]:
        """Region ids in sheet order."""
        return list(self.regions.index)

    def techs_of(self, cls: str) -> list[str]:
        """Tech ids of one class, in sheet order."""
        return list(self.techs.index[self.techs["class"] == cls])

    @cached_property
    def tech(self) -> dict[str, dict[str, Any]]:
        """Technologies as plain dicts (``tech[k]["life"]``): per-element pandas lookups are slow."""
        return self.techs.to_dict("index")

    @cached_property
    def region(self) -> dict[str, dict[str, Any]]:
        """Regions as plain dicts (``region[r]["pue"]``)."""
        return self.regions.to_dict("index")

    def cf_of(self, p: str, r: str, h: str) -> float:
        """Availability of power tech p in region r and slice h (a Profiles row, else ``availability``)."""
        v = self.cf.get((p, r, h))
        return float(self.tech[p]["availability"]) if v is None else v


def load_inputs(path: str | Path) -> InputData:
    """Read, validate and resolve an input workbook or CSV folder (DESIGN §4).

    Raises
    ------
    InputError
        listing every problem found, each as ``Sheet!Cell: what is wrong — what is expected``.
    """
    return parse(read_raw(path))


def _typed(raw: RawBook, problems: list[Problem]) -> dict[str, pd.DataFrame]:
    out = {}
    for sheet in SHEETS:
        if sheet.kind == "settings":
            continue
        out[sheet.name] = _typed_table(raw.tables.get(sheet.name), sheet, problems)
    return out


def parse(raw: RawBook) -> InputData:
    """Validate and resolve a :class:`RawBook` (see :func:`load_inputs`)."""
    problems: list[Problem] = list(raw.problems)
    warnings = [
        f"sheet {s!r} is not part of the input schema and was ignored" for s in raw.extra_sheets
    ]
    warnings += raw.warnings
    for name in REQUIRED_SHEETS:
        if name not in raw.tables:
            problems.append(
                Problem(
                    name,
                    "",
                    "missing required sheet",
                    f"a sheet named {name!r} (see `cli.py template`)",
                )
            )
    t = _typed(raw, problems)

    def ref(sheet: str, col: str, i: int) -> str:
        tab = raw.tables.get(sheet)
        if tab is None or col not in tab.headers:
            return ""
        return tab.cell_ref(col, i)

    def dup_keys(sheet: str, cols: list[str]) -> None:
        df = t[sheet]
        seen: dict[tuple, int] = {}
        for i, key in enumerate(zip(*(df[c] for c in cols), strict=False)):
            if key in seen:
                problems.append(
                    Problem(
                        sheet,
                        ref(sheet, cols[0], i),
                        f"duplicate row for {_key_text(cols, key)} (also row {raw.tables[sheet].row_numbers[seen[key]]})",
                        "one row per key",
                    )
                )
            else:
                seen[key] = i

    # Years ---------------------------------------------------------------------------------------------
    yd = t["Years"]
    years = [y for y in yd["year"].tolist() if y is not None]
    for i in range(1, len(yd)):
        a, b = yd["year"].iat[i - 1], yd["year"].iat[i]
        if a is not None and b is not None and b <= a:
            problems.append(
                Problem(
                    "Years",
                    ref("Years", "year", i),
                    f"year {b} does not follow {a}",
                    "strictly increasing years",
                )
            )
    if "Years" in raw.tables and not years:
        problems.append(Problem("Years", "A2", "no model years", "at least one year"))
    settings = _settings(raw.tables.get("Settings"), years, problems)
    _plausible_settings(raw, settings, years, problems, warnings)
    for sheet_name in ("Regions", "Partners"):
        tab = raw.tables.get(sheet_name)
        for i, w in enumerate(t[sheet_name]["wacc"].tolist() if sheet_name in t else []):
            if w is not None and w > HIGH_RATE and tab is not None and "wacc" in tab.headers:
                warnings.append(
                    f"{sheet_name}!{tab.cell_ref('wacc', i)}: wacc {w:g} is {w:.0%} a year; "
                    f"did you mean {w / 100:g}?"
                )
    if settings.last_period_length is not None and settings.last_period_length < 1:
        problems.append(
            Problem("Settings", "", "last_period_length below 1", "a whole number of years ≥ 1")
        )
    if settings.it_load_factor <= 0:
        problems.append(
            Problem(
                "Settings",
                _settings_ref(raw.tables.get("Settings"), "it_load_factor"),
                f"it_load_factor {settings.it_load_factor:g} is not above 0 (running chips "
                "would draw no power)",
                "a share 0 < λ ≤ 1 of nameplate IT power",
            )
        )
    period_length = {
        y: (years[i + 1] - y if i + 1 < len(years) else settings.last_period_length)
        for i, y in enumerate(years)
    }
    carbon_price = {
        y: float(p) if p is not None else 0.0
        for y, p in zip(yd["year"], yd["carbon_price_usd"], strict=False)
        if y is not None
    }
    co2_cap = {
        y: float(c)
        for y, c in zip(yd["year"], yd["co2_cap_t"], strict=False)
        if y is not None and c is not None
    }
    year_set = set(years)

    # Regions -------------------------------------------------------------------------------------------
    rd = t["Regions"]
    dup_keys("Regions", ["region"])
    regions = (
        _with_defaults(rd, SHEETS_BY_NAME["Regions"]).drop_duplicates("region").set_index("region")
    )
    region_set = set(regions.index)
    if "Regions" in raw.tables and not region_set:
        problems.append(Problem("Regions", "A2", "no regions", "at least one region"))

    # Time slices ---------------------------------------------------------------------------------------
    sd = t["TimeSlices"]
    dup_keys("TimeSlices", ["slice"])
    slices = [s for s in sd["slice"].tolist() if s is not None]
    slice_day = {s: d for s, d in zip(sd["slice"], sd["day"], strict=False) if s is not None}
    slice_hours = {
        s: float(h) if h is not None else 0.0
        for s, h in zip(sd["slice"], sd["hours"], strict=False)
        if s is not None
    }
    total = sum(slice_hours.values())
    if "TimeSlices" in raw.tables and slices and abs(total - HOURS_PER_YEAR) > 0.01:
        problems.append(
            Problem(
                "TimeSlices",
                _column_range(raw.tables["TimeSlices"], "hours"),
                f"hours sum to {total:g}",
                "hours summing to 8760 (±0.01)",
            )
        )
    if "TimeSlices" in raw.tables and not slices:
        problems.append(
            Problem(
                "TimeSlices",
                "A2",
                "no time slices",
                "at least one slice (one hour each) with hours summing to 8760",
            )
        )
    slice_prev: dict[str, str] = {}
    by_day: dict[str, list[str]] = defaultdict(list)
    for s in slices:
        by_day[slice_day[s]].append(s)
    for day_slices in by_day.values():
        for i, s in enumerate(day_slices):
            slice_prev[s] = day_slices[i - 1]  # cyclic within the day (i-1 = -1 wraps)

    # Technologies --------------------------------------------------------------------------------------
    td = t["Technologies"]
    dup_keys("Technologies", ["tech"])
    techs = (
        _with_defaults(td, SHEETS_BY_NAME["Technologies"]).drop_duplicates("tech").set_index("tech")
    )
    # capacity_credit (v2) defaults to the tech's availability cell (§5.2); for fab and datacenter techs
    # it is ignored, so it is left as given.
    if len(techs):
        techs["capacity_credit"] = [
            a if c is None and cls in ("power", "storage") else c
            for c, a, cls in zip(
                techs["capacity_credit"], techs["availability"], techs["class"], strict=True
            )
        ]
    tech_set = set(techs.index)
    if "Technologies" in raw.tables and not tech_set:
        problems.append(
            Problem(
                "Technologies",
                "A2",
                "no technologies",
                "at least one data-center technology (class datacenter)",
            )
        )
    for i, row in td.iterrows():
        k, cls = row["tech"], row["class"]
        if cls == "storage" and row["duration_h"] is None:
            problems.append(
                Problem(
                    "Technologies",
                    ref("Technologies", "duration_h", i),
                    f"storage {k} has no duration_h",
                    "hours of storage energy per MW",
                )
            )
        if cls == "fab" and row["output"] is None:
            problems.append(
                Problem(
                    "Technologies",
                    ref("Technologies", "output", i),
                    f"fab {k} has no output",
                    "the commodity it makes",
                )
            )
        if cls != "fab" and row["output"] is not None:
            problems.append(
                Problem(
                    "Technologies",
                    ref("Technologies", "output", i),
                    f"{k} is a {cls}, only fabs have an output",
                    "blank",
                )
            )
        if row["module_size"] is not None and row["module_size"] <= 0:
            problems.append(
                Problem(
                    "Technologies",
                    ref("Technologies", "module_size", i),
                    "module_size must be positive",
                    "a positive size, or blank for continuous",
                )
            )

    # Commodities and fab inputs -----------------------------------------------------------------------
    fd = t["FabInputs"]
    dup_keys("FabInputs", ["tech", "commodity", "year"])
    for i, f in enumerate(fd["tech"].tolist()):
        if f in tech_set and techs.at[f, "class"] != "fab":
            problems.append(
                Problem(
                    "FabInputs",
                    ref("FabInputs", "tech", i),
                    f"{f} is not a fab",
                    "a tech of class fab",
                )
            )
    # The bill of materials by year (v2): resolved like the other sheets with key (tech, commodity).
    fres = _resolve(
        fd,
        "FabInputs",
        ["tech", "commodity"],
        [],
        "year",
        ["quantity"],
        list(
            dict.fromkeys(
                (f, c)
                for f, c in zip(fd["tech"], fd["commodity"], strict=True)
                if f is not None and c is not None
            )
        ),
        years,
        problems,
        partial(ref, "FabInputs"),
    )
    fab_inputs = fres["quantity"]
    cd = t["Commodities"]
    dup_keys("Commodities", ["commodity", "year"])
    commodities: list[str] = []
    for m in [
        *cd["commodity"].tolist(),
        *[o for o in techs["output"].tolist() if o is not None],
        *fd["commodity"].tolist(),
        ACCELERATOR,
    ]:
        if m is not None and m not in commodities:
            commodities.append(m)
    if "Commodities" in raw.tables and ACCELERATOR not in set(cd["commodity"]):
        problems.append(
            Problem(
                "Commodities",
                "A2",
                f"the commodity {ACCELERATOR!r} is missing",
                f"a row for {ACCELERATOR!r} (what data centers deploy)",
            )
        )
    comm_set = set(commodities)

    # id references -------------------------------------------------------------------------------------
    known = {
        "Regions.region": region_set,
        "Technologies.tech": tech_set,
        "TimeSlices.slice": set(slices),
    }
    pd_ = t["Partners"]
    known["Partners.partner"] = {p for p in pd_["partner"] if p is not None}
    for sheet in SHEETS:
        if sheet.kind == "settings" or sheet.name not in raw.tables:
            continue
        df = t[sheet.name]
        for c in sheet.columns:
            if c.ref is None or c.ref not in known:
                continue
            if c.ref.split(".")[0] not in raw.tables:
                continue  # the missing sheet is reported once; every id in it is not a problem
            for i, v in enumerate(df[c.name].tolist()):
                if v is not None and v not in known[c.ref]:
                    what = c.ref.split(".")[0]
                    problems.append(
                        Problem(
                            sheet.name,
                            ref(sheet.name, c.name, i),
                            f"unknown {c.name} {v!r}",
                            f"an id listed in {what}",
                        )
                    )
    for i, m in enumerate(t["ChipRoutes"]["commodity"].tolist()):
        if m is not None and m not in comm_set:
            problems.append(
                Problem(
                    "ChipRoutes",
                    ref("ChipRoutes", "commodity", i),
                    f"unknown commodity {m!r}",
                    "a commodity of Commodities, FabInputs or a fab output",
                )
            )
    for sheet in SHEETS:
        for col in sheet.columns:
            if col.dtype != "int" or not col.name.endswith("year") or sheet.name not in t:
                continue
            for i, y in enumerate(t[sheet.name][col.name].tolist()):
                if y is not None and not (YEAR_RANGE[0] <= y <= YEAR_RANGE[1]):
                    problems.append(
                        Problem(
                            sheet.name,
                            ref(sheet.name, col.name, i),
                            f"{col.name} {y} is out of range",
                            f"a year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}, such as 2030",
                        )
                    )
    dup_keys("TechCosts", ["tech", "region", "year"])
    dup_keys("Profiles", ["tech", "region", "slice"])
    dup_keys("Accelerators", ["year"])
    dup_keys("Demand", ["region", "segment", "year"])
    dup_keys("Partners", ["partner"])
    dup_keys("PartnerBudgets", ["partner", "year"])
    dup_keys("Bets", ["bet"])

    # Resolution ---------------------------------------------------------------------------------------
    regions_l = list(regions.index)
    tc = t["TechCosts"]
    tc_targets = [(k, r) for k in techs.index for r in regions_l]
    res = _resolve(
        tc,
        "TechCosts",
        ["tech"],
        ["region"],
        "year",
        ["capex_musd", "fixed_om_musd", "max_build", "max_capacity"],
        tc_targets,
        years,
        problems,
        partial(ref, "TechCosts"),
    )
    capex, fixed_om, max_build, max_capacity = (
        res[c] for c in ("capex_musd", "fixed_om_musd", "max_build", "max_capacity")
    )

    pr = t["Profiles"]
    power = [k for k in techs.index if techs.at[k, "class"] == "power"]
    for i, k in enumerate(pr["tech"].tolist()):
        if k in tech_set and techs.at[k, "class"] != "power":
            problems.append(
                Problem(
                    "Profiles",
                    ref("Profiles", "tech", i),
                    f"{k} is not a power tech",
                    "a tech of class power",
                )
            )
    profiled = {k for k in pr["tech"].tolist() if k is not None}
    # _resolve keys by (tech, region); profiles also key on slice, so resolve per slice by grouping.
    cf: dict[tuple[str, str, str], float] = {}
    if not pr.empty:
        for h in set(pr["slice"].tolist()):
            sub = pr[pr["slice"] == h].reset_index(drop=True)
            r2 = _resolve(
                sub,
                "Profiles",
                ["tech"],
                ["region"],
                None,
                ["cf"],
                [(p, r) for p in power if p in profiled for r in regions_l],
                years,
                problems,
            )
            for (p, r), v in r2["cf"].items():
                cf[(p, r, h)] = v

    # A row counts in model year y when start_year ≤ y < retire_year (blank start = always, blank
    # retire = never); a start between model years thus counts from the first model year ≥ it (§5.2).
    for sheet_name in ("ExistingCapacity", "ExistingFleet"):
        _check_service_years(t[sheet_name], sheet_name, partial(ref, sheet_name), problems)
    existing: dict[tuple[str, str, int], float] = defaultdict(float)
    ed = t["ExistingCapacity"]
    for k, r, c, sy, ry in zip(
        ed["tech"], ed["region"], ed["capacity"], ed["start_year"], ed["retire_year"], strict=True
    ):
        if k is None or r is None or c is None:
            continue
        for y in years:
            if _in_service(sy, ry, y):
                existing[(k, r, y)] += float(c)
    # ExistingFleet rows of one region available in one year are pooled (§5.2); a row with h100e 0
    # has no compute and adds nothing to IT.
    fleet_h: dict[tuple[str, int], float] = defaultdict(float)
    fleet_k: dict[tuple[str, int], float] = defaultdict(float)
    fl = t["ExistingFleet"]
    for r, h, kw, sy, ry in zip(
        fl["region"], fl["h100e"], fl["kw_it"], fl["start_year"], fl["retire_year"], strict=True
    ):
        if r is None or h is None or kw is None or h == 0:
            continue
        for y in years:
            if _in_service(sy, ry, y):
                fleet_h[(r, y)] += float(h)
                fleet_k[(r, y)] += float(kw)

    # Accelerators are a resolved sheet (§4.2): a blank-year row applies to every vintage, year rows
    # are interpolated, each column on its own; a column no row gives takes its default.
    ad = t["Accelerators"]
    acc_cols = ["h100e_per_chip", "kw_per_chip", "system_capex_usd", "life"]
    acc_rows: dict[int, dict[str, float]] = {}
    if "Accelerators" in raw.tables and ad.empty:
        problems.append(
            Problem("Accelerators", "A2", "no accelerator vintages", "at least one row")
        )
    elif not ad.empty:
        ares = _resolve(
            ad,
            "Accelerators",
            [],
            [],
            "year",
            acc_cols,
            [()],
            years,
            problems,
            partial(ref, "Accelerators"),
        )
        decl = SHEETS_BY_NAME["Accelerators"]
        for col in acc_cols:
            default = decl.column(col).default
            for y in years:
                v = ares[col].get((y,))
                if v is None:
                    v = math.nan if default is None else float(default)
                acc_rows.setdefault(y, {})[col] = v
    accelerators = (
        pd.DataFrame.from_dict(acc_rows, orient="index")
        if acc_rows
        else pd.DataFrame(columns=acc_cols)
    )

    cres = _resolve(
        cd,
        "Commodities",
        ["commodity"],
        [],
        "year",
        ["external_price_usd", "external_max"],
        [(m,) for m in commodities],
        years,
        problems,
        partial(ref, "Commodities"),
    )
    price = {(m, y): v for (m, y), v in cres["external_price_usd"].items()}
    external_max = {(m, y): v for (m, y), v in cres["external_max"].items()}

    # A Demand sheet without rows is zero demand (§4.1: an energy-only study).
    dd = t["Demand"]
    dres = _resolve(
        dd,
        "Demand",
        [],
        ["region", "segment"],
        "year",
        ["h100e", "value_usd"],
        [(c, g) for c in regions_l for g in SEGMENTS],
        years,
        problems,
        partial(ref, "Demand"),
    )
    demand = {(g, c, y): v for (c, g, y), v in dres["h100e"].items() if v > 0}
    # What unserved compute costs, $ per H100e-year (v2): the resolved value_usd, else the penalty.
    penalty = settings.unserved_penalty_usd
    unserved_value = {(g, c, y): dres["value_usd"].get((c, g, y), penalty) for (g, c, y) in demand}

    # Grid access by region and year (v2): key (region), each column on its own; a column no
    # GridAccess row gives for the region falls back to the Regions column (§4.1, §5.2).
    gres = _resolve(
        t["GridAccess"],
        "GridAccess",
        [],
        ["region"],
        "year",
        list(_GRID_COLUMNS),
        [(r,) for r in regions_l],
        years,
        problems,
        partial(ref, "GridAccess"),
    )
    grid_access: dict[str, dict[tuple[str, int], float]] = {}
    for col, fallback in _GRID_COLUMNS.items():
        got = gres[col]
        grid_access[col] = {
            (r, y): got.get((r, y), float(data_r[fallback]))
            for r, data_r in regions.to_dict("index").items()
            for y in years
        }
    dup_keys("GridAccess", ["region", "year"])

    # Import limits (v2): key (commodity, region); a blank-region row caps each region on its own.
    il = t["ImportLimits"]
    dup_keys("ImportLimits", ["commodity", "region", "year"])
    for i, c in enumerate(il["commodity"].tolist()):
        if c is not None and c not in comm_set:
            problems.append(
                Problem(
                    "ImportLimits",
                    ref("ImportLimits", "commodity", i),
                    f"unknown commodity {c!r}",
                    "a commodity of Commodities, FabInputs or a fab output",
                )
            )
    capped = [c for c in dict.fromkeys(il["commodity"].tolist()) if c in comm_set]
    ires = _resolve(
        il,
        "ImportLimits",
        ["commodity"],
        ["region"],
        "year",
        ["max_units"],
        [(c, r) for c in capped for r in regions_l],
        years,
        problems,
        partial(ref, "ImportLimits"),
    )
    import_max = ires["max_units"]

    # Routes: most specific row wins; on a tie FALSE wins (§5.2).
    chip_rt = _with_defaults(t["ChipRoutes"], SHEETS_BY_NAME["ChipRoutes"])
    cidx = _route_table(chip_rt, ["from", "to", "commodity"])
    allowed_l, cost_l = chip_rt["allowed"].tolist(), chip_rt["cost_usd"].tolist()
    chip_routes: dict[tuple[str, str, str], float] = {}
    for m in commodities:
        for a in regions_l:
            for b in regions_l:
                if a == b:
                    continue
                rows = _match_rules(cidx, (a, b, m))
                if not rows:
                    chip_routes[(m, a, b)] = 0.0
                elif all(allowed_l[i] for i in rows):
                    chip_routes[(m, a, b)] = max(float(cost_l[i]) for i in rows)
    comp_rt = _with_defaults(t["ComputeRoutes"], SHEETS_BY_NAME["ComputeRoutes"])
    kidx = _route_table(comp_rt, ["host", "consumer", "segment"])
    callowed = comp_rt["allowed"].tolist()
    compute_routes = frozenset(
        (g, r, c)
        for g in SEGMENTS
        for r in regions_l
        for c in regions_l
        if all(callowed[i] for i in _match_rules(kidx, (r, c, g)))
    )

    partners = (
        _with_defaults(pd_, SHEETS_BY_NAME["Partners"])
        .drop_duplicates("partner")
        .set_index("partner")
    )
    bd = t["PartnerBudgets"]
    for j in partners.index:
        if j not in set(bd["partner"]):
            problems.append(
                Problem(
                    "PartnerBudgets",
                    "",
                    f"partner {j!r} has no budget row",
                    "at least one PartnerBudgets row per partner",
                )
            )
    bres = _resolve(
        bd,
        "PartnerBudgets",
        ["partner"],
        [],
        "year",
        ["budget_musd"],
        [(j,) for j in partners.index],
        years,
        problems,
        partial(ref, "PartnerBudgets"),
    )
    budget = {(j, y): v for (j, y), v in bres["budget_musd"].items()}
    rules = t["PartnerRules"]
    ridx = _route_table(rules, ["partner", "region", "class"])
    rallowed = rules["allowed"].tolist()
    partner_allowed = {}
    for j in partners.index:
        for r in regions_l:
            for cls in ("power", "storage", "fab", "datacenter", ACCELERATOR):
                rows = _match_rules(ridx, (j, r, cls))
                partner_allowed[(j, r, cls)] = all(rallowed[i] for i in rows) if rows else True

    bets = _with_defaults(t["Bets"], SHEETS_BY_NAME["Bets"]).drop_duplicates("bet").set_index("bet")
    for i, (b, k, dy, ay) in enumerate(
        zip(
            t["Bets"]["bet"],
            t["Bets"]["tech"],
            t["Bets"]["decide_year"],
            t["Bets"]["available_year"],
            strict=False,
        )
    ):
        if dy is not None and years and dy not in year_set:
            problems.append(
                Problem(
                    "Bets",
                    ref("Bets", "decide_year", i),
                    f"decide_year {dy} is not a model year",
                    "one of the years in Years",
                )
            )
        if k in tech_set:
            if techs.at[k, "class"] != "power":
                problems.append(
                    Problem(
                        "Bets",
                        ref("Bets", "tech", i),
                        f"bet {b} unlocks {k}, which is not a power tech",
                        "a power tech",
                    )
                )
            for r in regions_l:
                for y in years:
                    if (
                        (k, r, y) in capex
                        and (ay is None or y >= ay)
                        and (k, r, y) not in max_build
                    ):
                        problems.append(
                            Problem(
                                "TechCosts",
                                "",
                                f"bet tech {k} has no max_build in {r} {y}",
                                "a max_build for every region and year where the bet's tech may be built",
                            )
                        )
                        break
                else:
                    continue
                break

    dup_keys("Alternatives", ["name"])
    _check_alternatives(t["Alternatives"], ref, techs, year_set, problems)

    outcome_rows = _check_outcomes(raw, t, settings, years, bets, problems, warnings)

    if problems:
        raise InputError(problems)

    data = InputData(
        source=raw.source,
        settings=settings,
        years=tuple(years),
        period_length=period_length,
        carbon_price=carbon_price,
        co2_cap=co2_cap,
        regions=regions,
        slices=tuple(slices),
        slice_day=slice_day,
        slice_hours=slice_hours,
        slice_prev=slice_prev,
        techs=techs,
        fab_inputs=fab_inputs,
        commodities=tuple(commodities),
        capex=capex,
        fixed_om=fixed_om,
        max_build=max_build,
        max_capacity=max_capacity,
        cf=cf,
        existing=dict(existing),
        fleet_h100e=dict(fleet_h),
        fleet_kw=dict(fleet_k),
        accelerators=accelerators,
        price=price,
        external_max=external_max,
        chip_routes=chip_routes,
        compute_routes=compute_routes,
        demand=demand,
        partners=partners,
        budget=budget,
        partner_allowed=partner_allowed,
        bets=bets,
        scenarios=t["Scenarios"],
        sweep=t["Sweep"],
        warnings=tuple(warnings),
        alternatives=_with_defaults(t["Alternatives"], SHEETS_BY_NAME["Alternatives"]),
        grid_max=grid_access["max_mw"],
        grid_price=grid_access["price_usd"],
        grid_co2=grid_access["co2_t"],
        import_max=import_max,
        unserved_value=unserved_value,
        outcomes=outcome_rows,
        raw=raw if outcome_rows else None,
    )
    if outcome_rows and settings.bet_mode == "stochastic":
        # every future is resolved (and checked) now, so that a bad one is reported before any build
        from optimizer.outcomes import resolve_leaves

        data.__dict__["outcome_data"] = resolve_leaves(data)
    return data


PROBABILITY_TOLERANCE = 1e-6
"""How far the Outcomes probabilities may sum from 1 (§8.1)."""


def _check_outcomes(
    raw: RawBook,
    t: dict[str, pd.DataFrame],
    settings: Settings,
    years: list[int],
    bets: pd.DataFrame,
    problems: list[Problem],
    warnings: list[str],
) -> tuple[tuple[str, float, str | None], ...]:
    """Check the Outcomes sheet and the hedging settings (§8.1); return the Outcomes rows.

    Probabilities must lie in 0..1 (the column declaration) and sum to 1 within
    :data:`PROBABILITY_TOLERANCE`; each ``scenario`` must name a Scenarios entry; ``stage_year`` must
    be a model year; ``cvar_alpha`` must be below 1 (the tail 1 − α must hold some probability).
    """
    od = t["Outcomes"]
    tab = raw.tables.get("Outcomes")
    known = [n for n in dict.fromkeys(t["Scenarios"]["scenario"].tolist()) if n]
    rows: list[tuple[str, float, str | None]] = []
    seen: dict[str, int] = {}
    total = 0.0
    for i, (o, p, sc) in enumerate(
        zip(od["outcome"], od["probability"], od["scenario"], strict=False)
    ):
        if o is None or p is None:
            continue  # a blank required cell is already a problem
        if o in seen:
            problems.append(
                Problem(
                    "Outcomes",
                    tab.cell_ref("outcome", i),
                    f"outcome {o!r} given twice (also row {tab.row_numbers[seen[o]]})",
                    "one row per outcome",
                )
            )
            continue
        seen[o] = i
        if sc is not None and sc not in known:
            problems.append(
                Problem(
                    "Outcomes",
                    tab.cell_ref("scenario", i),
                    f"unknown scenario {sc!r}",
                    "a scenario of the Scenarios sheet (" + (", ".join(known) or "none") + ")"
                    ", or blank for the base data",
                )
            )
        total += float(p)
        rows.append((str(o), float(p), sc))
    if rows and len(rows) == len(od) and abs(total - 1.0) > PROBABILITY_TOLERANCE:
        problems.append(
            Problem(
                "Outcomes",
                _column_range(tab, "probability"),
                f"probabilities sum to {total:.9g}",
                f"probabilities summing to 1 (±{PROBABILITY_TOLERANCE:g})",
            )
        )
    if settings.stage_year is not None and years and settings.stage_year not in years:
        problems.append(
            Problem(
                "Settings",
                _setting_ref(raw, "stage_year"),
                f"stage_year {settings.stage_year} is not a model year",
                "one of the years in Years (" + ", ".join(map(str, years)) + ")",
            )
        )
    if settings.cvar_alpha >= 1.0:
        problems.append(
            Problem(
                "Settings",
                _setting_ref(raw, "cvar_alpha"),
                f"cvar_alpha {settings.cvar_alpha:g} leaves no tail to average",
                "a confidence level 0 ≤ α < 1, e.g. 0.9 (the worst 10 % of outcomes)",
            )
        )
    if rows and settings.bet_mode != "stochastic":
        warnings.append(
            f"the Outcomes sheet is used only with bet_mode stochastic (Settings says "
            f"{settings.bet_mode}): this run plans for the base data; use --bet-mode stochastic "
            "for the hedging plan"
        )
    # a missing available_year (a dropped column or blank cell) is reported by the Bets checks
    years = (
        [int(y) for y in bets["available_year"] if y is not None and y == y] if len(bets) else []
    )
    early = min(years, default=None)
    if settings.stage_year is not None and early is not None and settings.stage_year > early:
        warnings.append(
            f"stage_year {settings.stage_year} is after the earliest bet available_year {early}: "
            "decisions of the years between are shared although the bets have resolved"
        )
    return tuple(rows)


_GRID_COLUMNS = {"max_mw": "grid_max_mw", "price_usd": "grid_price_usd", "co2_t": "grid_co2_t"}
"""GridAccess value columns and the Regions column each falls back to (§4.1)."""


def _in_service(start: int | None, retire: int | None, year: int) -> bool:
    """``start_year ≤ year < retire_year``, a blank start meaning always and a blank retire never."""
    return (start is None or start <= year) and (retire is None or year < retire)


def _check_service_years(
    df: pd.DataFrame, sheet: str, ref: Callable[[str, int], str], problems: list[Problem]
) -> None:
    """A row whose ``start_year`` is not before its ``retire_year`` never counts: surely a typo."""
    for i, (sy, ry) in enumerate(zip(df["start_year"], df["retire_year"], strict=True)):
        if sy is not None and ry is not None and sy >= ry:
            problems.append(
                Problem(
                    sheet,
                    ref("start_year", i),
                    f"start_year {sy} is not before retire_year {ry} (the row would never count)",
                    "a start_year before the retire_year, or a blank start_year",
                )
            )


def _column_range(t: RawTable, col: str) -> str:
    """Address of the data cells of ``col``, e.g. ``C2:C97`` (the header cell if there are none)."""
    if col not in t.headers:
        return ""
    if not t.rows:
        return t.column_ref(col)
    return f"{t.cell_ref(col, 0)}:{t.cell_ref(col, len(t.rows) - 1)}"


def _with_defaults(df: pd.DataFrame, sheet: Sheet) -> pd.DataFrame:
    """Blank cells take the column default (non-resolved sheets, §5.2)."""
    out = df.copy()
    for c in sheet.columns:
        if c.default is not None and c.name in out:
            out[c.name] = [c.default if v is None else v for v in out[c.name].tolist()]
    return out


def _check_alternatives(
    df: pd.DataFrame,
    ref: Callable[[str, str, int], str],
    techs: pd.DataFrame,
    year_set: set[int],
    problems: list[Problem],
) -> None:
    """Check that each Alternatives row (§10) names a measure its tech, class and year fit.

    ``capacity`` and ``build`` take a tech or class of Technologies; ``capital`` also the
    accelerator; ``generation`` only power techs; ``deployed`` and ``hosted`` neither. A year must be
    a model year. Regions and the measure name are checked by the schema (ref, enum).
    """
    sheet = "Alternatives"
    classes = dict(zip(techs.index, techs["class"], strict=True)) if len(techs) else {}
    for i, (meas, k, cls, y) in enumerate(
        zip(df["measure"], df["tech"], df["class"], df["year"], strict=True)
    ):
        if meas is None:
            continue
        if meas in ("deployed", "hosted"):
            for col, v in (("tech", k), ("class", cls)):
                if v is not None:
                    problems.append(
                        Problem(
                            sheet,
                            ref(sheet, col, i),
                            f"{col} {v!r} does not apply to measure {meas}",
                            "blank (deployed counts accelerators, hosted counts H100e served)",
                        )
                    )
        else:
            allowed = {
                "capacity": set(classes),
                "build": set(classes),
                "capital": {*classes, ACCELERATOR},
                "generation": {t for t, c in classes.items() if c == "power"},
            }[meas]
            if k is not None and k not in allowed:
                what = {
                    "capital": "a tech of Technologies or accelerator",
                    "generation": "a power tech of Technologies",
                }.get(meas, "a tech of Technologies")
                problems.append(
                    Problem(sheet, ref(sheet, "tech", i), f"unknown {meas} tech {k!r}", what)
                )
            if meas == "generation" and cls not in (None, "power"):
                problems.append(
                    Problem(
                        sheet,
                        ref(sheet, "class", i),
                        f"class {cls!r} does not generate",
                        "power, or blank",
                    )
                )
            elif meas in ("capacity", "build") and cls == ACCELERATOR:
                problems.append(
                    Problem(
                        sheet,
                        ref(sheet, "class", i),
                        f"class {cls!r} has no {meas} (accelerators are measured by deployed)",
                        "power, storage, fab or datacenter, or blank",
                    )
                )
            elif k is not None and cls is not None and k in allowed:
                k_cls = classes.get(k, ACCELERATOR)
                if k_cls != cls:
                    problems.append(
                        Problem(
                            sheet,
                            ref(sheet, "class", i),
                            f"tech {k!r} is of class {k_cls}, not {cls}",
                            f"{k_cls}, or blank",
                        )
                    )
        if y is not None and year_set and y not in year_set:
            problems.append(
                Problem(
                    sheet,
                    ref(sheet, "year", i),
                    f"year {y} is not a model year",
                    "one of the years in Years, or blank for all",
                )
            )
