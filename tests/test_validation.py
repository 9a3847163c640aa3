"""Issue 4: every class of bad input gets a clear answer, and the input is never changed.

Each broken fixture of ``tests/fixtures/broken/`` (built by ``tests/fixtures/make_broken.py`` from the
tiny instance) goes through ``cli.py validate`` in-process (click's CliRunner, for speed; a few also as
a real subprocess): exit status 2, the sheet and cell named in the message, no traceback, and the
file's bytes unchanged. The accepted variants must validate (and solve) like the original.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result

import cli
from optimizer import data_io
from optimizer.annotate import ORANGE, PROBLEMS_SHEET, RED
from optimizer.data_io import InputData, InputError, load_inputs, read_raw
from optimizer.io import reading
from tests.conftest import ROOT
from tests.fixtures import make_broken

FIXTURES = ROOT / "tests" / "fixtures"
BROKEN = FIXTURES / "broken"
ACCEPTED = FIXTURES / "accepted"
LIBREOFFICE_FIXTURE = FIXTURES / "tiny_libreoffice.xlsx"


def digest(path: Path) -> str:
    """SHA-256 of a file, or of every file of a folder (names included)."""
    h = hashlib.sha256()
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    for f in files:
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def validate(path: Path, *args: str) -> Result:
    """``cli.py validate PATH ARGS`` in-process; asserts it ended by exit status, not by an exception,
    and that the input is byte-identical afterwards."""
    before = digest(path)
    result = CliRunner().invoke(cli.main, ["validate", str(path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"unexpected exception: {result.exception!r}\n{result.output}"
    )
    assert "Traceback" not in result.stderr
    assert digest(path) == before, "validation must never modify the input"
    return result


# ---------------------------------------------------------------------------------------------------
# One case per class of bad input: (fixture, lines that must appear in the message)
# ---------------------------------------------------------------------------------------------------
CASES: dict[str, tuple[str, list[str]]] = {
    "not an xlsx: a renamed CSV": (
        "renamed_csv.xlsx",
        ["renamed_csv.xlsx: not an .xlsx workbook (a text or CSV file renamed?)"],
    ),
    "not an xlsx: an old .xls": (
        "old_format.xls",
        [
            "old_format.xls: an old binary Excel file (.xls) or a password-protected",
            "save it as .xlsx",
        ],
    ),
    "zip bomb (compression ratio)": (
        "zip_bomb.xlsx",
        ["Regions: refused: zip_bomb.xlsx unpacks to", "a likely zip bomb", "200× compression"],
    ),
    "XML entity bomb": (
        "xml_bomb.xlsx",
        ["Regions: refused:", "declares XML entities (an XML entity bomb"],
    ),
    "formula without a cached value": (
        "formula_no_cache.xlsx",
        ["TechCosts!D2: formula without a calculated value — open and save the workbook"],
    ),
    "error cells": (
        "error_cells.xlsx",
        ["Demand!D3: error value #DIV/0!", "Regions!D2: error value #N/A"],
    ),
    "numbers stored as text that are not plain numbers": (
        "numbers_as_text.xlsx",
        [
            "Demand!D3: text '1,000' where a number belongs — a number ≥ 0 in H100e",
            "Regions!D2: text '5%' where a number belongs — a number between 0 and 1",
            "TechCosts!D3: text 'abc' where a number belongs",
        ],
    ),
    "dates where years belong": (
        "date_for_year.xlsx",
        [
            "Years!A3: a date (1905-07-27 00:00:00) where a number belongs",
            "Demand!C2: a date (2030-01-01 00:00:00) where a number belongs",
            "a whole number (a year)",
        ],
    ),
    "merged cells in a key column": (
        "merged_key.xlsx",
        ["TechCosts!A3: merged cell in a key column", "— unmerge and fill every row"],
    ),
    "missing required sheet": (
        "missing_sheet.xlsx",
        ["Demand: missing required sheet — a sheet named 'Demand'"],
    ),
    "misnamed sheets (case, trailing space)": (
        "wrong_sheet_names.xlsx",
        [
            "regions: sheet name 'regions' is not exactly 'Regions' (case or spaces) — rename",
            "Years : sheet name 'Years ' is not exactly 'Years'",
        ],
    ),
    "duplicate sheet": (
        "duplicate_sheet.xlsx",
        ["Demand : a second sheet for Demand", "delete or rename this one"],
    ),
    "missing, unknown and duplicate columns": (
        "bad_columns.xlsx",
        [
            "Demand!1:1: missing required column 'h100e'",
            "Demand!D1: unknown column 'h100'",
            "TechCosts!D1: unknown column 'capex' — columns are: tech, region, year, capex_musd",
            "Regions!M1: column 'wacc' appears twice",
        ],
    ),
    "duplicate keys": (
        "duplicate_keys.xlsx",
        [
            "Regions!A4: duplicate row for region=A (also row 2)",
            "TechCosts!A11: duplicate row for tech=dc, region=(all), year=(all) (also row 8)",
        ],
    ),
    "unknown ids across sheets": (
        "unknown_ids.xlsx",
        [
            "TechCosts!A2: unknown tech 'solr' — an id listed in Technologies",
            "ChipRoutes!B2: unknown to 'C' — an id listed in Regions",
            "Demand!A2: unknown region 'Z'",
        ],
    ),
    "blank required cell, NaN, inf": (
        "blank_nan_inf.xlsx",
        [
            "Technologies!C2: blank life — a number ≥ 1 in years (required)",
            "Demand!D2: text 'NaN' where a number belongs",
            "Accelerators!B2: inf is not a finite number",
        ],
    ),
    "values out of range": (
        "out_of_range.xlsx",
        [
            "TechCosts!D2: -1 is negative — a number ≥ 0",
            "Regions!L2: 1.5 is above 1 — a number between 0 and 1",
            "Years!A3: year 2030 does not follow 2035 — strictly increasing years",
            "TimeSlices!C2:C3: hours sum to 8000 — hours summing to 8760",
        ],
    ),
    "coefficients the solver would drop": (
        "tiny_coefficients.xlsx",
        [
            "Accelerators!C2: 1e-07 is too small",
            "Profiles!D2: 1e-12 is too small",
            "Technologies!M8: 1e-06 is too small",
            "FabInputs!C2: 1e-10 is too small",
            "would silently drop as zero",
            "— zero, or at least 1e-05",
            "— zero, or at least 8.76e-05",
        ],
    ),
    "bounds the solver reads as infinite": (
        "huge_bounds.xlsx",
        [
            "TechCosts!F5: 1e+20 is too large (the solver treats ≥ 1e20 as infinite)",
            "Commodities!D2: 1e+25 is too large",
        ],
    ),
}


def test_every_fixture_has_a_case():
    """A fixture added to make_broken.py without a test here is a class nobody checks."""
    made = {p.name for p in BROKEN.iterdir()}
    assert made == {f for f, _ in CASES.values()}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_broken_input_is_named_by_sheet_and_cell(case):
    fixture, expected = CASES[case]
    result = validate(BROKEN / fixture)
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.stderr, f"{text!r} not in:\n{result.stderr}"
    assert result.stdout == "", "problems go to stderr; stdout stays empty"


@pytest.mark.parametrize("fixture", ["zip_bomb.xlsx", "xml_bomb.xlsx", "renamed_csv.xlsx"])
def test_real_process_exits_2_without_traceback(fixture):
    """The same through a real process: exit status and stderr as the user sees them."""
    path = BROKEN / fixture
    before = digest(path)
    p = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "refused" in p.stderr or "not an .xlsx" in p.stderr
    assert digest(path) == before


def test_solve_refuses_bad_input_before_building(tmp_path):
    out = tmp_path / "r.xlsx"
    path = BROKEN / "tiny_coefficients.xlsx"
    before = digest(path)
    result = CliRunner().invoke(cli.main, ["solve", str(path), "-o", str(out)])
    assert result.exit_code == 2 and "Accelerators!C2" in result.stderr
    assert not out.exists() and digest(path) == before


# ---------------------------------------------------------------------------------------------------
# Details of single classes
# ---------------------------------------------------------------------------------------------------
def test_unpacked_size_limit(monkeypatch):
    """The other zip-bomb limit: total unpacked size (lowered here so a normal workbook exceeds it)."""
    monkeypatch.setattr(reading, "MAX_UNPACKED_BYTES", 10_000)
    monkeypatch.setattr(reading, "MAX_COMPRESSION_RATIO", 1e9)
    result = validate(ACCEPTED / "plain_numeric_text.xlsx")
    assert result.exit_code == 2
    assert "a likely zip bomb" in result.stderr and "at most 9.8 KiB unpacked" in result.stderr


def test_xml_bomb_is_refused_by_the_parser_too():
    """Defence in depth: openpyxl parses with defusedxml, which refuses entities on its own."""
    with pytest.raises(Exception) as info:
        openpyxl.load_workbook(BROKEN / "xml_bomb.xlsx")
    chain = [info.value, info.value.__cause__, info.value.__context__]
    assert any("Entities" in type(e).__name__ for e in chain if e is not None)


def test_damaged_zip_is_a_clear_message(tmp_path):
    bad = tmp_path / "cut.xlsx"
    bad.write_bytes((ACCEPTED / "plain_numeric_text.xlsx").read_bytes()[:-300])
    result = validate(bad)
    assert result.exit_code == 2 and "cut.xlsx:" in result.stderr


def test_other_spreadsheet_formats_are_named(tmp_path):
    """An .ods or .xlsb is a zip too, but not an .xlsx: say which it is."""
    import zipfile

    for name, member, kind in (
        ("sheet.ods", "content.xml", "an OpenDocument spreadsheet (.ods)"),
        ("book.xlsx", "xl/workbook.bin", "an Excel binary workbook (.xlsb)"),
    ):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.writestr(member, "<x/>")
        result = validate(tmp_path / name)
        assert result.exit_code == 2 and f"{name}: {kind}, not an .xlsx" in result.stderr


def test_misnamed_csv_file_is_one_message(tmp_path, tiny_path):
    case = shutil.copytree(tiny_path, tmp_path / "case")
    (case / "Regions.csv").rename(case / "regions.csv")
    result = validate(case)
    assert result.exit_code == 2
    assert "regions: file 'regions.csv' is not exactly 'Regions.csv'" in result.stderr
    assert "The input has 1 problem:" in result.stderr, "no cascade of unknown regions"


def test_years_out_of_range(tmp_path):
    wb = make_broken.base_workbook()
    wb["Years"]["A3"] = 20350
    wb["Accelerators"]["A2"] = 30
    wb.save(tmp_path / "years.xlsx")
    result = validate(tmp_path / "years.xlsx")
    assert "Years!A3: year 20350 is out of range" in result.stderr
    assert "Accelerators!A2: year 30 is out of range" in result.stderr


def test_plain_numeric_text_is_accepted_and_solves_like_numbers(tiny_path):
    """'12000' and ' 0.5 ' stored as text are numbers; the case solves to the CSV folder's optimum."""
    from optimizer.model import build_model
    from optimizer.solve import solve

    path = ACCEPTED / "plain_numeric_text.xlsx"
    wb = openpyxl.load_workbook(path)
    assert isinstance(wb["Demand"]["D2"].value, str), "the fixture really stores text"
    assert validate(path).exit_code == 0
    a, b = load_inputs(path), load_inputs(tiny_path)
    assert_same_inputs(a, b)
    assert solve(build_model(a)).objective == pytest.approx(
        solve(build_model(b)).objective, rel=1e-9
    )


def test_blank_rows_and_inflated_range_are_ignored(tiny_path):
    path = ACCEPTED / "blank_rows_inflated.xlsx"
    assert openpyxl.load_workbook(path, read_only=True)["TechCosts"].max_row >= 1_048_000
    result = validate(path)
    assert result.exit_code == 0, result.stderr
    # only the cells present are read: the inflated range yields no rows at all
    raw = read_raw(path)
    assert max(raw.tables["TechCosts"].row_numbers) < 1_000
    assert_same_inputs(load_inputs(path), load_inputs(tiny_path))


def test_blank_rows_keep_the_row_numbers_of_the_sheet():
    """After a blank row, messages still name the cell where it is in the sheet."""
    wb = openpyxl.load_workbook(ACCEPTED / "blank_rows_inflated.xlsx")
    raw = data_io.read_raw(ACCEPTED / "blank_rows_inflated.xlsx")
    t = raw.tables["Demand"]
    assert t.row_numbers == [2, 5, 6, 7, 8]
    assert wb["Demand"]["D5"].value == t.rows[1][3].value


def test_values_without_header_and_merged_value_cells(tmp_path):
    """Data the reader would drop without a word: values under no header (a merged header, or a
    column nobody named) and the blank half of a merged value cell."""
    wb = make_broken.base_workbook()
    ws = wb["TechCosts"]
    ws["I3"], ws["I5"] = 7, "note"  # column H is empty, so I sits beyond the table
    ws.merge_cells("E2:E3")  # fixed_om_musd of row 3 would read blank (= not given)
    wb["Demand"].merge_cells("C1:D1")  # the h100e header swallowed by a merge
    wb.save(tmp_path / "hidden.xlsx")
    result = validate(tmp_path / "hidden.xlsx")
    assert result.exit_code == 2
    for text in (
        "TechCosts!I3: column I has 2 values but no header in row 1",
        "TechCosts!E3: merged cell in a data row",
        "Demand!D2: column D has 5 values but no header",
        "Demand!1:1: missing required column 'h100e'",
    ):
        assert text in result.stderr, result.stderr


def test_unknown_sheet_is_a_warning_only(tmp_path):
    wb = make_broken.base_workbook()
    wb.create_sheet("Notes")["A1"] = "my notes"
    wb.save(tmp_path / "notes.xlsx")
    result = validate(tmp_path / "notes.xlsx")
    assert result.exit_code == 0
    assert "warning: sheet 'Notes' is not part of the input schema" in result.stderr


def test_all_problems_at_once(tmp_path):
    """Problems in several sheets are all reported in one run, not the first only."""
    wb = make_broken.base_workbook()
    wb["TechCosts"]["D2"] = -5
    wb["Demand"]["D2"] = "many"
    wb["Accelerators"]["C2"] = 1e-9
    wb.save(tmp_path / "many.xlsx")
    result = validate(tmp_path / "many.xlsx")
    assert result.exit_code == 2 and "The input has 3 problems" in result.stderr
    for ref in ("TechCosts!D2", "Demand!D2", "Accelerators!C2"):
        assert ref in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nan", "text 'nan' where a number belongs"),
        ("inf", "text 'inf' where a number belongs"),
        ("-inf", "text '-inf' where a number belongs"),
        ("1e400", "inf is not a finite number"),
        ("", "blank h100e"),
    ],
)
def test_nan_inf_and_blank_in_csv(tmp_path, tiny_path, text, message):
    case = shutil.copytree(tiny_path, tmp_path / "case")
    f = case / "Demand.csv"
    f.write_text(f.read_text().replace("A,training,2030,2000", f"A,training,2030,{text}"))
    result = validate(case)
    assert result.exit_code == 2 and f"Demand!D2: {message}" in result.stderr


def test_zero_coefficients_are_fine(tmp_path):
    """Zero is exact (no coefficient at all); only tiny nonzero values are refused."""
    wb = make_broken.base_workbook()
    wb["Profiles"]["D3"] = 0
    wb["FabInputs"]["C2"] = 0.0
    wb.save(tmp_path / "zeros.xlsx")
    assert validate(tmp_path / "zeros.xlsx").exit_code == 0


def test_coefficient_thresholds_follow_the_unit_scaling():
    for (sheet, col), (factor, _) in data_io.MATRIX_COLUMNS.items():
        smallest = data_io.MIN_COEFFICIENT / factor
        data_io._check_coefficient(sheet, col, smallest * 1.0001)
        with pytest.raises(data_io._Bad):
            data_io._check_coefficient(sheet, col, smallest * 0.5)
    assert data_io.MIN_COEFFICIENT > 1e-9, "margin above HiGHS's small_matrix_value"


# ---------------------------------------------------------------------------------------------------
# --annotate
# ---------------------------------------------------------------------------------------------------
def _marks(path: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    """{(sheet, cell): (fill colour, comment)} of every highlighted cell."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        if ws.title == PROBLEMS_SHEET:
            continue
        for row in ws.iter_rows():
            for c in row:
                rgb = c.fill.start_color.rgb if c.fill and c.fill.fill_type == "solid" else None
                if rgb in (RED.start_color.rgb, ORANGE.start_color.rgb):
                    out[(ws.title, c.coordinate)] = (rgb, c.comment.text if c.comment else None)
    return out


def _problems_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[PROBLEMS_SHEET]
    return list(ws.iter_rows(min_row=2, values_only=True))


def test_annotate_marks_each_problem_cell(tmp_path):
    src = BROKEN / "numbers_as_text.xlsx"
    out = tmp_path / "annotated.xlsx"
    result = validate(src, "--annotate", str(out))
    assert result.exit_code == 2 and f"wrote {out}" in result.stderr
    marks = _marks(out)
    assert set(marks) == {("Demand", "D3"), ("Regions", "D2"), ("TechCosts", "D3")}
    fill, comment = marks[("Demand", "D3")]
    assert fill == RED.start_color.rgb
    assert "text '1,000' where a number belongs" in comment and "Expected: a number ≥ 0" in comment
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == PROBLEMS_SHEET and wb["Demand"]["D3"].value == "1,000"
    assert len(_problems_rows(out)) == 3
    # the copy keeps everything else: same sheets and values as the input
    orig = openpyxl.load_workbook(src)
    for ws in orig.worksheets:
        assert [r for r in ws.iter_rows(values_only=True)] == [
            r for r in wb[ws.title].iter_rows(values_only=True)
        ]


def test_annotate_ranges_headers_and_sheet_level_problems(tmp_path):
    out = tmp_path / "a.xlsx"
    validate(BROKEN / "bad_columns.xlsx", "--annotate", str(out))
    marks = _marks(out)
    assert marks[("TechCosts", "D1")][0] == ORANGE.start_color.rgb  # a header: the whole column
    assert "unknown column 'capex'" in marks[("TechCosts", "D1")][1]
    assert "missing required column 'h100e'" in marks[("Demand", "A1")][1]
    out2 = tmp_path / "b.xlsx"
    validate(BROKEN / "out_of_range.xlsx", "--annotate", str(out2))
    marks = _marks(out2)
    assert {("TimeSlices", "C2"), ("TimeSlices", "C3")} <= set(marks)
    out3 = tmp_path / "c.xlsx"
    validate(BROKEN / "missing_sheet.xlsx", "--annotate", str(out3))
    rows = _problems_rows(out3)
    assert rows[0][:3] == ("problem", "Demand", None) and "missing required sheet" in rows[0][3]


def test_annotate_merged_cell_marks_the_merge(tmp_path):
    out = tmp_path / "m.xlsx"
    validate(BROKEN / "merged_key.xlsx", "--annotate", str(out))
    fill, comment = _marks(out)[("TechCosts", "A2")]
    assert fill == RED.start_color.rgb and comment.startswith("A3: merged cell")


def test_annotate_unreadable_input_gives_problems_sheet_only(tmp_path):
    out = tmp_path / "bomb.xlsx"
    result = validate(BROKEN / "zip_bomb.xlsx", "--annotate", str(out))
    assert result.exit_code == 2
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [PROBLEMS_SHEET]
    assert "zip bomb" in _problems_rows(out)[0][3]


def test_annotate_csv_folder_maps_cells_into_the_converted_workbook(tmp_path, tiny_path):
    """A CSV folder's addresses follow its own column order and lines (blank lines included); the
    converted workbook puts schema columns first and drops blank lines, and the marks follow."""
    case = shutil.copytree(tiny_path, tmp_path / "case")
    (case / "Demand.csv").write_text(
        "h100e,region,segment,year\n2000,A,training,2030\n\nlots,A,training,2035\n"
    )
    out = tmp_path / "csv_annotated.xlsx"
    result = validate(case, "--annotate", str(out))
    assert result.exit_code == 2 and "Demand!A4: text 'lots'" in result.stderr
    wb = openpyxl.load_workbook(out)
    assert [c.value for c in wb["Demand"][1]][:4] == ["region", "segment", "year", "h100e"]
    assert wb["Demand"]["D3"].value == "lots"
    fill, comment = _marks(out)[("Demand", "D3")]
    assert fill == RED.start_color.rgb and "text 'lots'" in comment
    row = _problems_rows(out)[0]
    assert row[2] == "D3" and "Demand!A4" in row[5]


def test_annotate_valid_input_says_so(tmp_path, tiny_path):
    out = tmp_path / "ok.xlsx"
    result = validate(tiny_path, "--annotate", str(out))
    assert result.exit_code == 0
    assert _problems_rows(out) == [
        ("ok", None, None, "no problems found", None, "no problems found")
    ]
    assert _marks(out) == {}


def test_annotate_refuses_to_overwrite_the_input(tmp_path):
    src = tmp_path / "in.xlsx"
    shutil.copy(BROKEN / "numbers_as_text.xlsx", src)
    result = validate(src, "--annotate", str(src))
    assert result.exit_code == 2 and "is the input itself" in result.stderr


def test_annotated_copy_text_never_becomes_a_formula(tmp_path):
    """A bad value that looks like a formula ('=1+1' typed as text) stays text in the copy."""
    wb = make_broken.base_workbook()
    wb["Demand"]["D2"] = "=cmd|' /C calc'!A0"
    wb["Demand"]["D2"].data_type = "s"
    wb.save(tmp_path / "inj.xlsx")
    out = tmp_path / "inj_annotated.xlsx"
    validate(tmp_path / "inj.xlsx", "--annotate", str(out))
    problems = openpyxl.load_workbook(out)[PROBLEMS_SHEET]
    for row in problems.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f"


# ---------------------------------------------------------------------------------------------------
# LibreOffice
# ---------------------------------------------------------------------------------------------------
def _same(a: object, b: object, where: str) -> None:
    """Equal, with floats compared to 1e-14 relative (LibreOffice keeps 15 significant digits)."""
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), where
        assert list(a.index) == list(b.index) and list(a.columns) == list(b.columns), where
        for col in a.columns:
            for i, (x, y) in enumerate(zip(a[col].tolist(), b[col].tolist(), strict=True)):
                _same(x, y, f"{where}[{col}][{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k}]")
    elif isinstance(a, tuple | list | frozenset | set):
        assert type(a) is type(b) and len(a) == len(b), where
        if isinstance(a, frozenset | set):
            assert a == b, where
        else:
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a is None and b is None, where
        elif math.isnan(a):
            assert math.isnan(b), where
        else:
            assert a == pytest.approx(b, rel=1e-14, abs=1e-300), where
    else:
        assert a == b or (pd.isna(a) and pd.isna(b)), f"{where}: {a!r} != {b!r}"


def assert_same_inputs(a: InputData, b: InputData) -> None:
    """Every resolved field of two InputData equal (the source path and warnings aside)."""
    for f in fields(InputData):
        if f.name in ("source", "warnings"):
            continue
        _same(getattr(a, f.name), getattr(b, f.name), f.name)


@pytest.fixture(scope="module")
def libreoffice_data() -> InputData:
    return load_inputs(LIBREOFFICE_FIXTURE)


def test_libreoffice_saved_workbook_reads_like_the_original(tiny_path, libreoffice_data):
    """tests/fixtures/tiny_libreoffice.xlsx: `cli.py convert tests/data/tiny`, then saved once by
    `soffice --headless --convert-to xlsx` (LibreOffice 7.4). It must resolve exactly like the CSVs."""
    assert_same_inputs(libreoffice_data, load_inputs(tiny_path))
    warnings = libreoffice_data.warnings
    assert not [w for w in warnings if "About" in w], "the template's own sheet is not a warning"


def test_libreoffice_saved_workbook_solves_alike(tiny_path, libreoffice_data):
    from optimizer.model import build_model
    from optimizer.solve import solve

    a = solve(build_model(libreoffice_data))
    b = solve(build_model(load_inputs(tiny_path)))
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=1e-9)


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_libreoffice_round_trip_now(tmp_path, tiny_path):
    """Convert again with the LibreOffice installed here (own profile and cache: nothing in $HOME).

    In the same run, the workbook whose formula was never calculated: LibreOffice calculates it on
    load (=0.5*2, the value the tiny instance has there), after which it reads like the original.
    """
    from optimizer.template import convert_input

    src = convert_input(tiny_path, tmp_path / "tiny.xlsx")
    formula = shutil.copy(BROKEN / "formula_no_cache.xlsx", tmp_path / "formula.xlsx")
    out = tmp_path / "out"
    p = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'lo_profile'}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(src),
            str(formula),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=dict(os.environ, HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "xdg")),
    )
    assert p.returncode == 0 and (out / "tiny.xlsx").exists(), p.stderr
    original = load_inputs(tiny_path)
    assert_same_inputs(load_inputs(out / "tiny.xlsx"), original)
    assert_same_inputs(load_inputs(out / "formula.xlsx"), original)


def test_inputs_error_lists_every_problem_as_sheet_cell():
    """The Python API gives the same lines as the command (``InputError.problems``)."""
    with pytest.raises(InputError) as info:
        load_inputs(BROKEN / "error_cells.xlsx")
    lines = [str(p) for p in info.value.problems]
    assert "Regions!D2: error value #N/A — a value (fix the formula)" in lines


def test_blank_bet_year_is_a_problem_not_a_traceback(tmp_path, tiny_path):
    """A bet with a blank available_year is named by its cell, with an Outcomes sheet and a
    stage_year too (their check reads the bets' years and once crashed on the blank)."""
    case = shutil.copytree(tiny_path, tmp_path / "case")
    f = case / "Bets.csv"
    f.write_text(f.read_text().replace("2030,2035,0.5", "2030,,0.5"))
    (case / "Outcomes.csv").write_text("outcome,probability\nonly,1\n")
    with (case / "Settings.csv").open("a") as out:
        out.write("stage_year,2040\n")
    result = validate(case)
    assert result.exit_code == 2, result.output
    assert "Bets!E2: blank available_year" in result.stderr
    assert "Traceback" not in result.output
