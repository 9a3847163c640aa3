"""Reading: an ``.xlsx`` workbook or a folder of CSV files as cells with their addresses (DESIGN §4).

Nothing is interpreted here: :func:`read_raw` gives a :class:`RawBook` of :class:`RawTable` s whose
cells are what the file holds, flagged where a workbook hides something (error values, formulas
without a cached value, merged cells, values under no header, hidden sheets and rows). Files that
cannot be read at all are :class:`~optimizer.io.problems.InputError`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer.io.problems import InputError, Problem
from optimizer.schema import SHEETS_BY_NAME

# An .xlsx is a zip of XML; these limits stop zip bombs before openpyxl inflates them (RELIABILITY.md).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200.0
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA")


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


def column_range(t: RawTable, col: str) -> str:
    """Address of the data cells of ``col``, e.g. ``C2:C97`` (the header cell if there are none)."""
    if col not in t.headers:
        return ""
    if not t.rows:
        return t.column_ref(col)
    return f"{t.cell_ref(col, 0)}:{t.cell_ref(col, len(t.rows) - 1)}"
