"""Issue 4, property-based: a valid workbook mutated the way users break workbooks.

Each example takes the tiny instance as a workbook (``tests/fixtures/make_broken.base_workbook``),
applies one mutation (drop a column, write text into a number cell, blank a required cell, negate a
cost, duplicate a row, rename a sheet) and runs ``cli.py validate`` in-process. It must end in either a
validation error naming the mutated sheet (and the cell, where the mutation hit one cell) or success,
which then solves without an exception. Never a traceback, never a changed input file.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

import cli
from optimizer.data_io import load_inputs
from optimizer.schema import SHEETS_BY_NAME
from tests.fixtures.make_broken import base_workbook

MUTATIONS = (
    "drop_column",
    "text_in_number",
    "blank_required",
    "negate_cost",
    "duplicate_row",
    "rename_sheet",
)
JUNK_TEXT = ("abc", "1,000", "5%", "n/a", "=1+1", "")


@pytest.fixture(scope="module")
def base_bytes() -> bytes:
    buf = io.BytesIO()
    base_workbook().save(buf)
    return buf.getvalue()


def _columns(ws, want) -> list[tuple[int, str]]:
    """(column number, name) of the header cells whose schema column satisfies ``want``."""
    sheet = SHEETS_BY_NAME.get(ws.title)
    out = []
    for c in ws[1]:
        if sheet is None or sheet.kind == "settings" or c.value not in sheet.column_names:
            continue
        if want(sheet.column(c.value)):
            out.append((c.column, c.value))
    return out


def mutate(wb, kind: str, sheet_pick: int, row_pick: int, col_pick: int, text: str):
    """Apply one mutation; return (sheet it hit, cell it hit or None, what was done)."""
    ws = wb.worksheets[sheet_pick % len(wb.worksheets)]
    data_rows = list(range(2, ws.max_row + 1))
    row = data_rows[row_pick % len(data_rows)] if data_rows else None
    if kind == "drop_column":
        c = 1 + col_pick % ws.max_column
        ws.delete_cols(c)
        return ws.title, None, f"dropped column {c}"
    if kind == "rename_sheet":
        new = ws.title.lower() if col_pick % 2 else f"{ws.title}_old"
        old = ws.title
        ws.title = new
        return old, None, f"renamed to {new!r}"
    if kind == "duplicate_row" and row is not None:
        ws.append([c.value for c in ws[row]])
        return ws.title, None, f"duplicated row {row}"
    if kind == "text_in_number":
        cols = _columns(ws, lambda col: col.dtype in ("int", "float"))
    elif kind == "blank_required":
        cols = _columns(ws, lambda col: col.required)
    elif kind == "negate_cost":
        cols = _columns(ws, lambda col: col.dtype == "float" and col.min == 0.0)
    else:
        cols = []
    if not cols or row is None:
        return ws.title, None, "nothing to mutate"
    c, name = cols[col_pick % len(cols)]
    cell = ws.cell(row, c)
    if kind == "text_in_number":
        cell.value = text or "abc"
        cell.data_type = "s"  # text, even "=1+1": a formula would be a different mutation
    elif kind == "blank_required":
        cell.value = None
    else:
        if not isinstance(cell.value, int | float) or cell.value == 0:
            return ws.title, None, "nothing to negate"
        cell.value = -cell.value
    return ws.title, f"{get_column_letter(c)}{row}", f"{kind} {name}"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(MUTATIONS),
    sheet_pick=st.integers(0, 100),
    row_pick=st.integers(0, 100),
    col_pick=st.integers(0, 100),
    text=st.sampled_from(JUNK_TEXT),
)
def test_mutated_workbook_is_an_error_naming_the_sheet_or_solves(
    tmp_path_factory, base_bytes, kind, sheet_pick, row_pick, col_pick, text
):
    wb = openpyxl.load_workbook(io.BytesIO(base_bytes))
    sheet, cell, what = mutate(wb, kind, sheet_pick, row_pick, col_pick, text)
    path: Path = tmp_path_factory.mktemp("mut") / "mutated.xlsx"
    wb.save(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    result = CliRunner().invoke(cli.main, ["validate", str(path)])

    note = f"{kind} on {sheet} ({what}):\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{note}\n{result.exception!r}"
    )
    assert "Traceback" not in result.output, note
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "the input was changed"
    assert result.exit_code in (0, 2), note
    if result.exit_code == 2:
        assert f"{sheet}" in result.stderr, note
        if cell is not None:
            assert f"{sheet}!{cell}" in result.stderr, note
    else:
        # these mutations always break a rule
        assert kind not in ("text_in_number", "blank_required") or cell is None, note
        if kind == "negate_cost":
            assert cell is None, note
        _solves(path)


def _solves(path: Path) -> None:
    """A workbook that validates builds and solves to a documented status, without an exception."""
    from optimizer.model import ModelError, build_model
    from optimizer.solve import SolveOptions, solve

    data = load_inputs(path)
    try:
        model = build_model(data)
    except ModelError:
        return  # a clear, documented refusal (e.g. stochastic bets), not a crash
    sol = solve(model, SolveOptions(time_limit_s=30, explain=False))
    assert sol.status in ("optimal", "feasible", "infeasible", "unbounded", "no_solution")
