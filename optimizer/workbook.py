"""Low-level helpers shared by every workbook and CSV file this project writes.

The rules here answer the traps measured in RELIABILITY.md ("Writing workbooks"):

- A result is written to a temporary file in the target folder and moved into place, so a crash never
  leaves a half-written or overwritten file (DESIGN §4.3), and a target held open by Excel gives a clear
  :class:`OutputLockedError` instead of a stack trace.
- Text never becomes a formula: openpyxl turns any string starting with ``=`` into a formula, so every
  text cell is forced back to the string type. CSV output gets the usual ``'`` prefix instead.
- openpyxl writes NaN and inf as empty cells without a word and raises on control characters; here a
  blank is written only where the caller says blank means "none", inf is an error naming the sheet and
  column, control characters are stripped and over-long strings are cut with a logged warning.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

logger = logging.getLogger(__name__)

EXCEL_MAX_CHARS = 32_767
"""Longest text a cell holds; Excel cuts longer strings without a word, so we cut and warn first."""

EXCEL_MAX_ROWS = 1_048_576
"""Rows in one sheet, header included."""

CSV_RISKY_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel or LibreOffice evaluate a CSV field as a formula (OWASP)."""

# Characters XML 1.0 cannot carry (openpyxl raises IllegalCharacterError on the C0 ones; the rest
# would corrupt the file). Tab, line feed and carriage return are legal and kept.
_ILLEGAL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# A font without a name renders in a serif fallback in LibreOffice; match openpyxl's default.
FONT_NAME = "Calibri"
HEADER_FONT = Font(name=FONT_NAME, size=11, bold=True)
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
HEADER_BORDER = Border(bottom=Side(style="thin", color="FF8EA9DB"))
HEADER_ALIGNMENT = Alignment(vertical="center")
UNITS_FONT = Font(name=FONT_NAME, size=10, italic=True, color="FF404040")
UNITS_FILL = PatternFill(fill_type="solid", start_color="FFEEF2F8", end_color="FFEEF2F8")

FORMAT_INTEGER = "#,##0"
FORMAT_FLOAT = "#,##0.00"
FORMAT_YEAR = "0"
FORMAT_DATETIME = "yyyy-mm-dd hh:mm:ss"
FORMAT_DATE = "yyyy-mm-dd"

_MIN_WIDTH = 10
_MAX_WIDTH = 60
_WIDTH_SAMPLE = 2_000


class OutputLockedError(PermissionError):
    """The output file cannot be replaced: it is open in a spreadsheet program or not writable.

    Parameters
    ----------
    path : Path
        The file that could not be written.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        super().__init__(
            f"Cannot write {self.path}: permission denied. If the file is open in Excel or "
            "LibreOffice, close it and run again; otherwise check that its folder is writable. "
            "Nothing was changed."
        )


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


def _current_umask() -> int:
    """Return the process umask without changing it where the OS lets us read it."""
    # os.umask can only be read by setting it, which races with other threads (Dask workers
    # write results concurrently); Linux exposes it read-only in /proc.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a file through a temporary file in the same folder, then move it into place.

    Parameters
    ----------
    path : Path
        The file to create or replace. Its folder is created when missing.
    write : Callable[[Path], None]
        Writes the complete content to the path it is given (a temporary file).

    Returns
    -------
    Path
        ``path``, now holding the new content with mode ``0o644`` less the umask.

    Raises
    ------
    OutputLockedError
        When the target or its folder cannot be written (on Windows: the file is open in Excel).
        The temporary file is removed and the target is left as it was.
    """
    path = Path(path)
    with _terminate_as_exception():
        return _atomic_write(path, write)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    folder = path.parent
    # the temporary name must fit the file system's 255-byte limit even when the target's does
    stub = path.name.encode()[:100].decode("utf-8", "ignore")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Same folder as the target: os.replace is atomic only within one filesystem.
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{stub}.", suffix=".tmp")
    except PermissionError as exc:
        raise OutputLockedError(path) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # Flush to disk before the rename, or a power cut can leave an empty file under the
        # final name on some filesystems.
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        # mkstemp creates 0600 and os.replace keeps it: give the usual mode of a new file.
        os.chmod(tmp, 0o644 & ~_current_umask())
        os.replace(tmp, path)
    except PermissionError as exc:
        _remove_quietly(tmp)
        raise OutputLockedError(path) from exc
    except BaseException:
        _remove_quietly(tmp)
        raise
    return path


def atomic_write_folder(folder: Path, texts: Mapping[str, str]) -> list[Path]:
    """Write text files into ``folder`` as one change: all or none of them.

    Every file is first written and flushed in a hidden sibling folder; only when all are there do
    they move in: a new folder by one rename, an existing folder (which may hold other files, e.g.
    notes) by one rename per file, milliseconds in all. A failure, Ctrl-C, SIGTERM or a full disk
    while writing leaves the target as it was and no staging folder behind.

    Parameters
    ----------
    folder : the folder to create or update.
    texts : file name → its whole text (UTF-8).

    Returns
    -------
    list[Path]
        The files written, in the order of ``texts``.

    Raises
    ------
    OutputLockedError
        When the folder or its parent cannot be written.
    """
    folder = Path(folder)
    stub = folder.name.encode()[:100].decode("utf-8", "ignore")
    with _terminate_as_exception():
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{stub}.", suffix=".tmp"))
        except PermissionError as exc:
            raise OutputLockedError(folder) from exc
        try:
            for name, text in texts.items():
                with open(staging / name, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
            if folder.exists():
                for name in texts:
                    os.replace(staging / name, folder / name)
            else:
                # mkdtemp creates 0700: give the usual mode of a new folder
                os.chmod(staging, 0o777 & ~_current_umask())
                os.replace(staging, folder)
        except PermissionError as exc:
            raise OutputLockedError(folder) from exc
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in texts]


class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived while a file was being written (exit status 128 + signal)."""


@contextlib.contextmanager
def _terminate_as_exception() -> Any:
    """Turn SIGTERM/SIGHUP into an exception while a file is written, so the temporary file is
    removed before the process ends (by default the signal kills it at once and leaves a hidden
    ``.tmp`` behind). Only the main thread can own signal handlers; elsewhere this does nothing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise Terminated(128 + signum)

    old = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        with contextlib.suppress(ValueError, OSError):
            old[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def _remove_quietly(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def atomic_save(wb: Workbook, path: Path) -> Path:
    """Save an openpyxl workbook atomically.

    Parameters
    ----------
    wb : openpyxl.Workbook
        The workbook to save.
    path : Path
        Target ``.xlsx`` file; an existing file is replaced only once the new one is complete.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputLockedError
        When the target cannot be replaced (typically: it is open in Excel); nothing is changed.
    """
    return atomic_write(path, wb.save)


# --------------------------------------------------------------------------------------------
# Cell values
# --------------------------------------------------------------------------------------------


def clean_text(text: str, *, where: str = "") -> str:
    """Make a string safe to store in a cell: strip control characters, cut at 32,767 characters.

    Parameters
    ----------
    text : str
        The text to store.
    where : str, optional
        Where the text goes (e.g. ``"Run!B4"``), named in the warning when the text is cut.

    Returns
    -------
    str
        The cleaned text.
    """
    if _ILLEGAL_CHARS.search(text):
        text = _ILLEGAL_CHARS.sub("", text)
    if len(text) > EXCEL_MAX_CHARS:
        logger.warning(
            "%s: text of %d characters cut to Excel's limit of %d",
            where or "cell",
            len(text),
            EXCEL_MAX_CHARS,
        )
        text = text[:EXCEL_MAX_CHARS]
    return text


def set_cell(cell: Any, value: Any, *, where: str = "") -> None:
    """Store one value in a cell, keeping text as text.

    Parameters
    ----------
    cell : openpyxl.cell.Cell
        The target cell.
    value : Any
        ``None`` (empty), a bool, number, date/time or text; other objects are written as ``str``.
    where : str, optional
        Location named in errors and warnings.

    Raises
    ------
    ValueError
        For NaN or +/-inf: the caller decides what a missing value means, never openpyxl.
    """
    value = _to_excel(value, where)
    if value is _MISSING:
        raise ValueError(f"{where or 'cell'}: missing value (NaN) where a value is required")
    cell.value = value
    if isinstance(value, str) and cell.data_type != "s":
        # openpyxl makes "=..." a formula and "#N/A" an error value; a name is always text.
        cell.data_type = "s"


_MISSING = object()


def _to_excel(value: Any, where: str) -> Any:
    """Convert one Python/numpy/pandas scalar to what openpyxl stores; ``_MISSING`` for NaN/NA."""
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value, where=where)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        number = float(value)
        if math.isnan(number):
            return _MISSING
        if math.isinf(number):
            raise ValueError(f"{where or 'cell'}: {number} cannot be written to a workbook")
        return number
    if value is pd.NaT or value is pd.NA:
        return _MISSING
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        # Excel has no time zones: store UTC wall time rather than letting openpyxl refuse.
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, date | time):
        return value
    if isinstance(value, np.datetime64):
        return _to_excel(pd.Timestamp(value), where)
    return clean_text(str(value), where=where)


def _is_year_column(name: str) -> bool:
    return name == "year" or name.endswith("_year")


def default_number_format(name: str, series: pd.Series) -> str | None:
    """Choose a number format from a column's name and dtype.

    Parameters
    ----------
    name : str
        Column name; ``year`` and ``*_year`` get a plain integer format (no thousands separator).
    series : pandas.Series
        The column.

    Returns
    -------
    str or None
        An Excel number format, or ``None`` for text, bool and mixed columns (formatted per cell).
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if _is_year_column(name) and pd.api.types.is_numeric_dtype(dtype):
        return FORMAT_YEAR
    if pd.api.types.is_integer_dtype(dtype):
        return FORMAT_INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return FORMAT_FLOAT
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return FORMAT_DATETIME
    return None


def _mixed_format(value: Any) -> str | None:
    """Per-cell format in a column holding both text and numbers (e.g. Run.value)."""
    if isinstance(value, datetime):
        return FORMAT_DATETIME
    if isinstance(value, date):
        return FORMAT_DATE
    return None


def _column_values(series: pd.Series, label: str, blank_ok: bool) -> list[Any]:
    """Convert a column to cell values, checking it as a whole where numpy allows.

    Raises ValueError naming ``label`` and the first bad sheet row (header is row 1).
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not series.isna().any():
        return series.astype(bool).tolist()
    if (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and isinstance(dtype, np.dtype)
    ):
        values = series.to_numpy()
        if values.dtype.kind == "f":
            inf = np.isinf(values)
            if inf.any():
                row = int(np.argmax(inf)) + 2
                raise ValueError(
                    f"{label}: {values[row - 2]} in row {row} cannot be written to a workbook; "
                    "infinite values must be replaced by the table producer"
                )
            nan = np.isnan(values)
            if nan.any():
                if not blank_ok:
                    row = int(np.argmax(nan)) + 2
                    raise ValueError(
                        f"{label}: missing value (NaN) in row {row}; this column must be filled"
                    )
                out = values.tolist()
                for i in np.flatnonzero(nan):
                    out[i] = None
                return out
        return values.tolist()
    out = []
    for i, value in enumerate(series.tolist()):
        converted = _to_excel(value, f"{label} row {i + 2}")
        if converted is _MISSING or converted is None:
            if not blank_ok:
                raise ValueError(
                    f"{label}: missing value in row {i + 2}; this column must be filled"
                )
            converted = None
        out.append(converted)
    return out


def _display_width(value: Any, number_format: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float):
        if number_format in (FORMAT_FLOAT,) or (number_format or "").startswith("#,##0."):
            return len(f"{value:,.2f}")
        if number_format == FORMAT_INTEGER:
            return len(f"{value:,.0f}")
        return min(len(repr(value)), 16)
    if isinstance(value, datetime):
        return 19
    text = str(value)
    # The longest line counts: wrapped text does not widen the column.
    return max((len(line) for line in text.splitlines()), default=0)


def _column_width(header: str, values: Sequence[Any], number_format: str | None) -> float:
    n = len(values)
    if n > _WIDTH_SAMPLE:
        step = n / _WIDTH_SAMPLE
        sample: Iterable[Any] = (values[int(i * step)] for i in range(_WIDTH_SAMPLE))
    else:
        sample = values
    widest = max((_display_width(v, number_format) for v in sample), default=0)
    # +3 for the autofilter drop-down button on the header.
    width = max(len(header) + 3, widest + 2, _MIN_WIDTH)
    return float(min(width, _MAX_WIDTH))


def write_table(
    ws: Worksheet,
    df: pd.DataFrame,
    *,
    blank_ok: Collection[str] = (),
    number_formats: Mapping[str, str] | None = None,
    header_comments: Mapping[str, str] | None = None,
    start_row: int = 1,
    start_col: int = 1,
    freeze: bool = True,
    autofilter: bool = True,
    set_widths: bool = True,
    units: Sequence[str] | None = None,
) -> None:
    """Write a DataFrame as a formatted table: bold filled header, then one row per record.

    Parameters
    ----------
    ws : openpyxl.worksheet.worksheet.Worksheet
        The sheet to write into (a normal, not write-only, sheet).
    df : pandas.DataFrame
        The table. The index is ignored; column names become the header.
    blank_ok : Collection[str], optional
        Columns where a blank cell means "none" (e.g. no partner for an electricity price). NaN and
        None there are written as empty cells; anywhere else they are an error.
    number_formats : Mapping[str, str], optional
        Excel number format per column, overriding :func:`default_number_format`.
    header_comments : Mapping[str, str], optional
        A comment (e.g. the unit) attached to the header cell of these columns.
    start_row, start_col : int, optional
        Top-left cell of the header (1-based).
    freeze : bool, optional
        Freeze the panes under the header so it stays visible while scrolling.
    autofilter : bool, optional
        Put an autofilter on the table (one per sheet).
    set_widths : bool, optional
        Size the columns to their content (header and a sample of the values).
    units : Sequence[str], optional
        One text per column, written as a visible row under the header (the unit of each column;
        '' for none); the records start one row lower, and the autofilter sits on this row so a
        sort never moves it into the data.

    Raises
    ------
    ValueError
        For +/-inf anywhere, a missing value in a column not in ``blank_ok``, duplicate column names,
        a ``units`` of the wrong length or more rows than a sheet holds. The message names the sheet,
        column and row. Nothing is written to the sheet when it is raised.
    """
    sheet = ws.title
    columns = [str(c) for c in df.columns]
    _check_table_shape(sheet, columns, len(df), start_row, units)
    # Convert and check every column before touching the sheet, so a bad value never leaves a
    # half-written table behind.
    converted, col_formats = _convert_columns(sheet, columns, df, blank_ok, number_formats or {})

    _write_header(ws, columns, start_row, start_col, header_comments or {})
    first = start_row + 1  # the first record's row
    if units is not None:
        _write_units_row(ws, units, first, start_col)
        first += 1
    for j, (values, fmt) in enumerate(zip(converted, col_formats, strict=True)):
        _write_column(ws, values, fmt, first, start_col + j)
    if set_widths:
        _size_columns(ws, columns, converted, col_formats, units, start_col)
    if freeze:
        ws.freeze_panes = ws.cell(row=first, column=start_col).coordinate
    if autofilter and columns:
        _set_autofilter(ws, len(columns), len(df), first - 1, start_col)


def _check_table_shape(
    sheet: str, columns: list[str], n_rows: int, start_row: int, units: Sequence[str] | None
) -> None:
    """Raise ValueError for a table that cannot be written as given, whatever its values."""
    if len(set(columns)) != len(columns):
        raise ValueError(f"{sheet}: duplicate column names {columns}")
    if start_row + n_rows > EXCEL_MAX_ROWS:
        raise ValueError(
            f"{sheet}: {n_rows:,} rows do not fit in one sheet (Excel holds "
            f"{EXCEL_MAX_ROWS - 1:,} below a header); aggregate the table or write it as CSV"
        )
    if units is not None and len(units) != len(columns):
        raise ValueError(f"{sheet}: {len(units)} units for {len(columns)} columns")


def _convert_columns(
    sheet: str,
    columns: list[str],
    df: pd.DataFrame,
    blank_ok: Collection[str],
    number_formats: Mapping[str, str],
) -> tuple[list[list[Any]], list[str | None]]:
    """Each column's cell values and number format (None: text, formatted per cell).

    Raises one ValueError naming every bad column at once.
    """
    converted: list[list[Any]] = []
    col_formats: list[str | None] = []
    problems: list[str] = []
    for name, (_, series) in zip(columns, df.items(), strict=True):
        try:
            converted.append(_column_values(series, f"{sheet}!{name}", name in blank_ok))
        except ValueError as exc:
            problems.append(str(exc))
            continue
        col_formats.append(number_formats.get(name, default_number_format(name, series)))
    if problems:
        raise ValueError("; ".join(problems))
    return converted, col_formats


def _write_header(
    ws: Worksheet, columns: list[str], row: int, start_col: int, comments: Mapping[str, str]
) -> None:
    """The bold, filled header row, with a comment on the columns that have one."""
    for j, name in enumerate(columns):
        cell = ws.cell(row=row, column=start_col + j)
        set_cell(cell, name, where=f"{ws.title} header")
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = HEADER_BORDER
        cell.alignment = HEADER_ALIGNMENT
        if name in comments:
            cell.comment = Comment(comments[name], "planner", width=260, height=80)


def _write_units_row(ws: Worksheet, units: Sequence[str], row: int, start_col: int) -> None:
    """The row of units under the header (styled even where a column has no unit)."""
    for j, text in enumerate(units):
        cell = ws.cell(row=row, column=start_col + j)
        if text:
            set_cell(cell, text, where=f"{ws.title} units")
        cell.font = UNITS_FONT
        cell.fill = UNITS_FILL
        cell.border = HEADER_BORDER


def _write_column(ws: Worksheet, values: list[Any], fmt: str | None, first: int, col: int) -> None:
    """One column's records from row ``first`` down; blanks stay empty cells."""
    text_column = fmt is None
    for i, value in enumerate(values):
        if value is None:
            continue
        cell = ws.cell(row=first + i, column=col, value=value)
        if text_column:
            if isinstance(value, str):
                if cell.data_type != "s":
                    # "=1+1" must stay the text a user typed, never a live formula.
                    cell.data_type = "s"
            else:
                mixed = _mixed_format(value)
                if mixed:
                    cell.number_format = mixed
        else:
            cell.number_format = fmt
            if isinstance(value, str) and cell.data_type != "s":
                cell.data_type = "s"


def _size_columns(
    ws: Worksheet,
    columns: list[str],
    converted: list[list[Any]],
    col_formats: list[str | None],
    units: Sequence[str] | None,
    start_col: int,
) -> None:
    """Each column as wide as its header, its unit and a sample of its values need."""
    for j, name in enumerate(columns):
        letter = get_column_letter(start_col + j)
        width = _column_width(name, converted[j], col_formats[j])
        if units is not None:
            width = max(width, min(len(units[j]) + 4, _MAX_WIDTH))
        ws.column_dimensions[letter].width = width


def _set_autofilter(
    ws: Worksheet, n_columns: int, n_rows: int, head_row: int, start_col: int
) -> None:
    """The autofilter over the records, its buttons on ``head_row`` (the header or units row)."""
    first_col = get_column_letter(start_col)
    last_col = get_column_letter(start_col + n_columns - 1)
    ws.auto_filter.ref = f"{first_col}{head_row}:{last_col}{head_row + n_rows}"


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def safe_csv_text(value: Any) -> Any:
    """Neutralise text that a spreadsheet would evaluate as a formula when it opens a CSV file.

    Parameters
    ----------
    value : Any
        A field value. Only strings are changed.

    Returns
    -------
    Any
        ``"'" + value`` when ``value`` is a string starting with ``= + - @``, tab or carriage
        return; otherwise ``value`` unchanged.
    """
    if isinstance(value, str) and value.startswith(CSV_RISKY_PREFIXES):
        return "'" + value
    return value


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame to CSV atomically, with formula-like text neutralised.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; the index is not written. Missing values become empty fields.
    path : Path
        Target file (UTF-8, ``\\n`` line ends, full float precision).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        For +/-inf in a numeric column (named), rather than writing ``inf``.
    OutputLockedError
        When the target cannot be replaced (e.g. open in Excel).
    """
    out = df.copy()
    for name in out.columns:
        series = out[name]
        if pd.api.types.is_float_dtype(series.dtype):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            if np.isinf(values).any():
                row = int(np.argmax(np.isinf(values))) + 2
                raise ValueError(
                    f"{Path(path).name}: column {name!r} has an infinite value (line {row})"
                )
        elif not pd.api.types.is_numeric_dtype(
            series.dtype
        ) and not pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[name] = series.map(safe_csv_text, na_action="ignore").astype(object)
    out.columns = [safe_csv_text(str(c)) for c in out.columns]
    return atomic_write(
        path, lambda tmp: out.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    )
