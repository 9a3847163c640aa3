"""Cells to typed values: each cell converted to its column's declared type and range (DESIGN §4.3).

:func:`typed_book` turns a :class:`~optimizer.io.reading.RawBook` into one typed frame per sheet of
the schema (a missing sheet reads as an empty frame), reporting every cell that is not what its
column declares: a wrong type, a value out of range, a blank required cell, an error value or
uncalculated formula, a merged cell, a value the solver would drop as zero. The
:class:`TypedBook` it returns is what validation and resolution read.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from typing import Any

import pandas as pd

from optimizer.io.problems import Problem
from optimizer.io.reading import RawBook, RawCell, RawTable
from optimizer.schema import SHEETS, Column, Sheet

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
    from optimizer.model import COMPONENTS  # the components import the input modules (InputData)

    out: dict[tuple[str, str], tuple[float, str]] = {}
    for comp in COMPONENTS:
        for scale in comp.CONTRACT.units:
            out[(scale.sheet, scale.column)] = (scale.factor, scale.meaning)
    return out


def check_coefficient(sheet: str, column: str, value: Any) -> None:
    """Raise :class:`BadValue` when a nonzero value would reach the solver as a coefficient it drops."""
    entry = matrix_columns().get((sheet, column))
    if entry is None or not isinstance(value, int | float) or value == 0:
        return
    factor, meaning = entry
    if abs(value) * factor < MIN_COEFFICIENT:
        smallest = MIN_COEFFICIENT / factor
        raise BadValue(
            f"{value:g} is too small: as {meaning} it is {abs(value) * factor:.2g}, which the "
            "solver would silently drop as zero (it ignores coefficients ≤ 1e-9)",
            f"zero, or at least {smallest:.3g}",
        )


class BadValue(Exception):
    """A cell value that is not what its column declares: ``message`` says what is wrong, ``expected``
    what would be right."""

    def __init__(self, message: str, expected: str):
        self.message = message
        self.expected = expected


def expected_text(col: Column | Any) -> str:
    """What a cell of ``col`` should hold, in words (the tail of a problem message)."""
    d = col.dtype
    if d == "bool":
        return "TRUE or FALSE"
    if d == "enum":
        return "one of " + ", ".join(col.choices)
    if d == "int":
        year = "year" in col.unit or "year" in getattr(col, "name", "")
        return "a whole number" + _range_text(col) + (" (a year)" if year else "")
    if d == "float":
        return "a number" + _range_text(col) + (f" in {col.unit}" if col.unit else "")
    return "a text id"


def _range_text(col: Column | Any) -> str:
    """`` between a and b`` or `` ≥ a`` from the declared bounds (empty without a minimum)."""
    if col.min is not None and col.max is not None:
        return f" between {col.min:g} and {col.max:g}"
    if col.min is not None:
        return f" ≥ {col.min:g}"
    return ""


def convert(value: Any, col: Column | Any) -> Any:
    """Convert one raw cell value to the column's type, or raise :class:`BadValue` with what is wrong.

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
            raise BadValue(f"a date ({value}) where {d} belongs", expected_text(col))
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
        raise BadValue(f"{value!r} is not a boolean", expected_text(col))
    if d == "enum":
        s = str(value).strip().lower()
        for ch in col.choices:
            if ch.lower() == s:
                return ch
        raise BadValue(f"{value!r} is not an allowed value", expected_text(col))
    # numbers
    if isinstance(value, bool):
        raise BadValue(f"{value} (a boolean) where a number belongs", expected_text(col))
    if isinstance(value, datetime | date | time):
        raise BadValue(
            f"a date ({value}) where a number belongs (format the cell as a number)",
            expected_text(col),
        )
    if isinstance(value, str):
        if not _NUMERIC_TEXT.match(value):
            raise BadValue(f"text {value!r} where a number belongs", expected_text(col))
        value = float(value)
    if not isinstance(value, int | float):
        raise BadValue(f"{value!r} is not a number", expected_text(col))
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise BadValue(f"{value} is not a finite number", expected_text(col))
    if d == "int":
        if float(value) != int(value):
            raise BadValue(f"{value} is not a whole number", expected_text(col))
        value = int(value)
        if col.min is not None and value < col.min:
            raise BadValue(f"{value} is below the minimum {col.min:g}", expected_text(col))
        if col.max is not None and value > col.max:
            raise BadValue(f"{value} is above the maximum {col.max:g}", expected_text(col))
        return value
    value = float(value)
    if abs(value) >= 1e20:
        raise BadValue(
            f"{value:g} is too large (the solver treats ≥ 1e20 as infinite)",
            "a finite number below 1e20",
        )
    if col.min is not None and value < col.min:
        what = "negative" if col.min == 0 else f"below {col.min:g}"
        raise BadValue(f"{value:g} is {what}", expected_text(col))
    if col.max is not None and value > col.max:
        raise BadValue(f"{value:g} is above {col.max:g}", expected_text(col))
    return value


def typed_table(t: RawTable | None, sheet: Sheet, problems: list[Problem]) -> pd.DataFrame:
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
                    check_coefficient(sheet.name, c.name, v)
                except BadValue as b:
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
                                f"{expected_text(c)} (required{tail})",
                            )
                        )
            out[c.name].append(v)
    df = pd.DataFrame({n: pd.Series(out[n], dtype=object) for n in names})
    return df


def _excused(t: RawTable, row: list[RawCell], col: Column) -> bool:
    """Whether the row gives the column that excuses a blank in ``col`` (``Column.required_unless``)."""
    other = col.required_unless
    if other is None or other not in t.headers:
        return False
    v = row[t.headers.index(other)].value
    return v is not None and not (isinstance(v, str) and not v.strip())


def with_defaults(df: pd.DataFrame, sheet: Sheet) -> pd.DataFrame:
    """Blank cells take the column default (non-resolved sheets, §5.2)."""
    out = df.copy()
    for c in sheet.columns:
        if c.default is not None and c.name in out:
            out[c.name] = [c.default if v is None else v for v in out[c.name].tolist()]
    return out


@dataclass
class TypedBook:
    """One input's table sheets as typed frames, with the addresses of their cells and what was found.

    What validation and resolution share: each reads ``frames`` (every declared column, ``None``
    for a blank; a sheet the input lacks is an empty frame), points at cells through :meth:`ref`, and
    appends to ``problems``, ``warnings`` (something may be wrong) and ``notes`` (information on how
    the input is read, for an input as intended: e.g. an Outcomes sheet a plain run does not use).
    """

    raw: RawBook
    frames: dict[str, pd.DataFrame]
    problems: list[Problem]
    warnings: list[str]
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, sheet: str) -> pd.DataFrame:
        """The typed frame of ``sheet``."""
        return self.frames[sheet]

    def has(self, sheet: str) -> bool:
        """Whether the input has the sheet (a missing one reads as an empty frame)."""
        return sheet in self.raw.tables

    def ref(self, sheet: str, col: str, i: int) -> str:
        """Address of data row ``i``'s cell in ``col`` of ``sheet`` (empty when there is none)."""
        tab = self.raw.tables.get(sheet)
        if tab is None or col not in tab.headers:
            return ""
        return tab.cell_ref(col, i)

    def cells(self, sheet: str) -> Callable[[str, int], str]:
        """``ref`` of one sheet: ``cells(sheet)(col, i)``."""
        return partial(self.ref, sheet)

    def add(self, sheet: str, cell: str, message: str, expected: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(sheet, cell, message, expected))


def typed_book(raw: RawBook, problems: list[Problem], warnings: list[str]) -> TypedBook:
    """Type every table sheet of the schema (Settings is read by :mod:`optimizer.io.settings`)."""
    frames = {
        sheet.name: typed_table(raw.tables.get(sheet.name), sheet, problems)
        for sheet in SHEETS
        if sheet.kind != "settings"
    }
    return TypedBook(raw, frames, problems, warnings)
