"""The results workbook and the shared workbook helpers (DESIGN §6, §4.3; RELIABILITY "Writing workbooks").

Run with ``python -m pytest`` from the repository root. The LibreOffice test needs ``soffice``; it fails
when it is missing unless ``PLANNER_ALLOW_NO_SOFFICE=1`` is set (then it is skipped, with the reason).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import stat
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from optimizer import report, workbook
from optimizer.presentation import UNITS_ROW_MARKER
from optimizer.report import SHEET_ORDER, TABLE_COLUMNS, write_plots, write_results_workbook
from optimizer.workbook import (
    EXCEL_MAX_CHARS,
    OutputLockedError,
    atomic_save,
    safe_csv_text,
    write_csv,
    write_table,
)

YEARS = [2030, 2035, 2040]


def make_tables(rows: int = 0, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Small synthetic result tables shaped like DESIGN §6; ``rows`` > 0 adds a long Capacity table."""
    rng = np.random.default_rng(seed)
    capacity = pd.DataFrame(
        [
            (tech, cls, region, year, float(10 * i + j), float(100 * i + 7.5 * j + 1))
            for i, (tech, cls) in enumerate(
                [
                    ("solar", "power"),
                    ("wind", "power"),
                    ("battery", "storage"),
                    ("dc_hyperscale", "datacenter"),
                    ("fab_logic", "fab"),
                ]
            )
            for region in ("USA", "UAE")
            for j, year in enumerate(YEARS)
        ],
        columns=list(TABLE_COLUMNS["Capacity"]),
    )
    if rows:
        capacity = pd.DataFrame(
            {
                "tech": rng.choice(["solar", "wind", "fission", "dc_a"], rows),
                "class": rng.choice(["power", "datacenter"], rows),
                "region": rng.choice(["USA", "UAE", "JPN", "=cmd|' /C calc'!A0"], rows),
                "year": rng.choice(YEARS, rows),
                "built": rng.random(rows) * 100,
                "capacity": rng.random(rows) * 1000,
            }
        )
    summary = pd.DataFrame(
        {
            "metric": [
                "objective_musd",
                "status",
                "termination",
                "solve_seconds",
                "build_seconds",
                "mip_gap",
                "variables",
                "constraints",
                "unserved_h100e",
                "capital_musd",
                "cost_capital_musd",
                "cost_fixed_om_musd",
                "cost_energy_musd",
                "cost_carbon_musd",
                "cost_supply_chain_musd",
                "cost_unserved_musd",
                "cost_bets_musd",
            ],
            "value": [
                1234567.891234,
                "optimal",
                "convergenceCriteriaSatisfied",
                1.25,
                0.5,
                1e-4,
                12345,
                6789,
                0.0,
                98765.4321,
                1000.5,
                200.25,
                300.125,
                0.0,
                400.0,
                0.0,
                None,
            ],
        }
    )
    capital = pd.DataFrame(
        {
            "partner": ["market", "fund_a", "market", "=1+1"],
            "tech": ["solar", "accelerator", "dc_hyperscale", "wind"],
            "region": ["USA", "UAE", "USA", "UAE"],
            "year": [2030, 2030, 2035, 2040],
            "musd": [1500.0, 2500.5, 800.25, 0.1234567890123456],
        }
    )
    chips = pd.DataFrame(
        {
            "commodity": ["accelerator", "hbm"],
            "region": ["USA", "UAE"],
            "year": [2030, 2030],
            "produced": [0.0, 1e6],
            "bought": [2e5, 0.0],
            "shipped_in": [0.0, 0.0],
            "shipped_out": [0.0, 1e6],
            "deployed": [2e5, 0.0],
        }
    )
    trade = pd.DataFrame(
        {"commodity": ["hbm"], "from": ["UAE"], "to": ["USA"], "year": [2030], "units": [1e6]}
    )
    compute = pd.DataFrame(
        [
            (seg, host, consumer, year, served, 0.0)
            for seg in ("training", "inference")
            for host, consumer in (("USA", "USA"), ("UAE", "USA"))
            for year, served in zip(YEARS, (1000.0, 2000.0, 3000.0), strict=True)
        ]
        + [("training", "(unserved)", "USA", 2040, 0.0, 750.0)],
        columns=list(TABLE_COLUMNS["Compute"]),
    )
    energy = pd.DataFrame(
        [
            (region, year, tech, mwh * (1 + k), curtailed)
            for region in ("USA", "UAE")
            for k, year in enumerate(YEARS)
            for tech, mwh, curtailed in (
                ("solar", 2.0e6, 1.0e4),
                ("wind", 1.5e6, 0.0),
                ("grid", 0.5e6, np.nan),
                ("battery", 0.3e6, np.nan),
            )
        ],
        columns=list(TABLE_COLUMNS["Energy"]),
    )
    emissions = pd.DataFrame(
        {"region": ["USA"], "year": [2030], "source": ["grid"], "tco2": [123456.0]}
    )
    prices = pd.DataFrame(
        {
            "price": ["compute", "electricity", "budget"],
            "region": ["USA", "USA", None],
            "segment": ["training", None, None],
            "year": [2030, 2030, 2030],
            "slice": [None, "d1h01", None],
            "partner": [None, None, "fund_a"],
            "value": [12345.678, 55.5, 0.02],
            "unit": ["$/H100e-year", "$/MWh", "$/$"],
        }
    )
    bets = pd.DataFrame(
        {
            "bet": ["fusion"],
            "tech": ["fusion_pp"],
            "funded": [True],
            "rd_cost_musd": [5000.0],
            "decide_year": [2030],
            "available_year": [2040],
            "probability": [0.3],
        }
    )
    run = pd.DataFrame(
        {
            "key": ["input_file", "sha256", "scenario", "note", "started"],
            "value": [
                "inputs/base.xlsx",
                "ab" * 32,
                None,
                "@SUM(A1)",
                pd.Timestamp("2026-11-29 12:00:00"),
            ],
        }
    )
    return {
        "Summary": summary,
        "Capacity": capacity,
        "Capital": capital,
        "Chips": chips,
        "Trade": trade,
        "Compute": compute,
        "Energy": energy,
        "Emissions": emissions,
        "Prices": prices,
        "Bets": bets,
        "Run": run,
    }


def empty_tables() -> dict[str, pd.DataFrame]:
    return {
        name: pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        for name, cols in TABLE_COLUMNS.items()
    }


def sheet_frame(ws) -> pd.DataFrame:
    """A detail sheet's records: row 1 is the header, row 2 the units row (column A ``(unit)``)."""
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][0] == UNITS_ROW_MARKER, ws.title
    return pd.DataFrame(rows[2:], columns=rows[0])


def temp_leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------------------------
# The results workbook
# --------------------------------------------------------------------------------------------


def test_sheets_in_order_with_columns(tmp_path):
    path = write_results_workbook(make_tables(), tmp_path / "results.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEET_ORDER)
    assert wb.sheetnames[:2] == ["Summary", "Dashboard"]
    for name, columns in TABLE_COLUMNS.items():
        header = [c.value for c in wb[name][1]]
        if name == "Summary":
            assert header[:4] == [*columns, "unit", "label"]
            assert wb[name].freeze_panes == "A2"
            continue
        assert header[: len(columns)] == list(columns), name
        assert wb[name]["A1"].font.b
        if name == "Run":
            assert wb[name].freeze_panes == "A2"
            assert wb[name].auto_filter.ref.startswith("A1:")
            continue
        # a visible units row under the header; the filter sits on it so a sort never moves it
        assert wb[name]["A2"].value == UNITS_ROW_MARKER
        assert wb[name].freeze_panes == "A3"
        assert wb[name].auto_filter.ref.startswith("A2:")
    units = {c.value: u.value for c, u in zip(wb["Capital"][1], wb["Capital"][2], strict=True)}
    assert units["musd"] == "$M"
    units = {c.value: u.value for c, u in zip(wb["Compute"][1], wb["Compute"][2], strict=True)}
    assert units["served"] == "H100e" and units["year"] is None


def test_values_read_back(tmp_path):
    tables = make_tables()
    wb = openpyxl.load_workbook(write_results_workbook(tables, tmp_path / "r.xlsx"))
    back = sheet_frame(wb["Capital"])
    pd.testing.assert_frame_equal(back, tables["Capital"], check_dtype=False)
    energy = sheet_frame(wb["Energy"])
    # Blank means "not applicable" in curtailed_mwh: NaN in, empty cell out.
    assert energy["curtailed_mwh"].isna().sum() == tables["Energy"]["curtailed_mwh"].isna().sum()
    prices = wb["Prices"]
    assert prices["F3"].value is None and prices["F5"].value == "fund_a"


def test_text_never_becomes_formula(tmp_path):
    tables = make_tables()
    tables["Run"].loc[len(tables["Run"])] = ["formula", "=1+1"]
    tables["Run"].loc[len(tables["Run"])] = ["error_code", "#N/A"]
    for start in ("+1", "-1", "@SUM(A1)"):
        tables["Run"].loc[len(tables["Run"])] = ["p" + start, start]
    path = write_results_workbook(tables, tmp_path / "r.xlsx")
    for data_only in (False, True):
        wb = openpyxl.load_workbook(path, data_only=data_only)
        run = {r[0]: r[1] for r in wb["Run"].iter_rows(min_row=2, values_only=True)}
        assert run["formula"] == "=1+1"
        assert run["note"] == "@SUM(A1)"
        assert run["error_code"] == "#N/A"
        assert run["p+1"] == "+1" and run["p-1"] == "-1"
        cells = [c for row in wb["Run"].iter_rows(min_row=2) for c in row if c.value is not None]
        assert all(c.data_type != "f" for c in cells)
        capital = wb["Capital"]
        assert capital["A6"].value == "=1+1" and capital["A6"].data_type == "s"


def test_inf_rejected_naming_sheet_and_column(tmp_path):
    tables = make_tables()
    tables["Capacity"].loc[3, "capacity"] = math.inf
    tables["Prices"].loc[0, "value"] = -math.inf
    target = tmp_path / "r.xlsx"
    with pytest.raises(ValueError, match=r"Capacity!capacity.*inf") as info:
        write_results_workbook(tables, target)
    assert "Prices!value" in str(info.value)  # every problem at once
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_inf_in_mixed_column_rejected(tmp_path):
    tables = make_tables()
    tables["Summary"].loc[0, "value"] = float("inf")
    with pytest.raises(ValueError, match=r"Summary!value"):
        write_results_workbook(tables, tmp_path / "r.xlsx")


def test_nan_rejected_where_blank_means_nothing(tmp_path):
    tables = make_tables()
    tables["Compute"].loc[0, "served"] = np.nan
    with pytest.raises(ValueError, match=r"Compute!served: missing value.*row 2"):
        write_results_workbook(tables, tmp_path / "r.xlsx")


def test_missing_column_is_an_error(tmp_path):
    tables = make_tables()
    tables["Trade"] = tables["Trade"].drop(columns="units")
    with pytest.raises(ValueError, match=r"Trade: missing column\(s\) units"):
        write_results_workbook(tables, tmp_path / "r.xlsx")


def test_summary_formats(tmp_path):
    """Money is shown in the unit people say (1,234,567.9 $M as 1.23 T$) while the cell keeps the
    $M value; the unit column names the shown unit and every metric has a label."""
    wb = openpyxl.load_workbook(write_results_workbook(make_tables(), tmp_path / "r.xlsx"))
    ws = wb["Summary"]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value}
    formats = {m: ws.cell(r, 2).number_format for m, r in rows.items()}
    units = {m: ws.cell(r, 3).value for m, r in rows.items()}
    labels = {m: ws.cell(r, 4).value for m, r in rows.items()}
    assert formats["objective_musd"] == "#,##0.00,,"  # two commas: ÷ 1e6, $M → T$
    assert units["objective_musd"] == "T$"
    assert labels["objective_musd"].startswith("Total cost of the plan")
    assert ws["B2"].value == pytest.approx(1234567.891234, rel=1e-15)
    assert formats["variables"] == "#,##0"
    metrics = list(make_tables()["Summary"]["metric"])
    assert all(labels[m] for m in metrics)
    assert wb["Capacity"]["D3"].number_format == "0"  # years without a thousands separator
    assert wb["Capacity"]["F3"].number_format == "#,##0.00"


def test_dashboard_has_charts(tmp_path):
    path = write_results_workbook(make_tables(), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    charts = wb["Dashboard"]._charts
    assert len(charts) == 5
    titles = [c.title.tx.rich.p[0].r[0].t for c in charts]
    assert any("Capacity" in t for t in titles)
    assert any("Generation" in t for t in titles)
    ws = wb["Dashboard"]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "Chart data" in values
    # Compute pivot: demand = served + unserved, per year (2040: 2 segments * 2 hosts * 3000 + 750).
    header = next(
        r
        for r in range(1, ws.max_row + 1)
        if ws.cell(r, 1).value == "year" and ws.cell(r, 4).value == "demand"
    )
    rows = {ws.cell(r, 1).value: ws.cell(r, 4).value for r in range(header + 1, header + 4)}
    # in thousands of H100e (scale_for): 12,750 H100e is 12.75 thousand
    assert rows == {2030: 4.0, 2035: 8.0, 2040: 12.75}
    compute = next(c for c in charts if "Compute" in c.title.tx.rich.p[0].r[0].t)
    assert compute.y_axis.title.tx.rich.p[0].r[0].t == "Compute (thousand H100e)"


def test_generation_mix_excludes_storage_and_uses_twh(tmp_path):
    specs = {s.key: s for s in report._chart_specs(report._prepare_tables(make_tables()))}
    gen = specs["generation_mix"].data
    assert "battery" not in gen.columns
    assert list(gen.columns)[-1] == "grid"
    first = gen.set_index("year").loc[2030]
    assert first["solar"] == pytest.approx(2 * 2.0)  # two regions, 2e6 MWh each = 4 TWh


def test_empty_tables(tmp_path):
    path = write_results_workbook(empty_tables(), tmp_path / "empty.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEET_ORDER)
    assert wb["Dashboard"]._charts == []
    notes = [c.value for row in wb["Dashboard"].iter_rows() for c in row if c.value]
    assert any("no chart" in str(v) for v in notes)
    for name, columns in TABLE_COLUMNS.items():
        if name == "Summary":
            continue
        assert [c.value for c in wb[name][1]] == list(columns)
        assert wb[name].max_row == (1 if name == "Run" else 2)  # header (and units row) only
    assert write_plots(empty_tables(), tmp_path / "plots") == []


def test_no_solution_workbook(tmp_path, caplog):
    # An infeasible run: Summary values are None, the flow tables are empty, Bets is left out.
    tables = empty_tables()
    tables["Summary"] = pd.DataFrame(
        {
            "metric": ["objective_musd", "status", "unserved_h100e", "message"],
            "value": [None, "infeasible", None, "=budget too small"],
        }
    )
    tables["Run"] = make_tables()["Run"]
    del tables["Bets"]
    with caplog.at_level(logging.WARNING, logger="optimizer.report"):
        path = write_results_workbook(tables, tmp_path / "r.xlsx")
    assert "Bets is missing" in caplog.text
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEET_ORDER)
    assert [c.value for c in wb["Bets"][1]] == list(TABLE_COLUMNS["Bets"])
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, max_row=5, values_only=True)}
    assert summary == {
        "objective_musd": None,
        "status": "infeasible",
        "unserved_h100e": None,
        "message": "=budget too small",
    }
    assert wb["Dashboard"]["C3"].value == "infeasible"


def test_some_tables_empty(tmp_path):
    tables = make_tables()
    tables["Energy"] = tables["Energy"].iloc[0:0]
    tables["Capital"] = tables["Capital"].iloc[0:0]
    wb = openpyxl.load_workbook(write_results_workbook(tables, tmp_path / "r.xlsx"))
    assert len(wb["Dashboard"]._charts) == 3


def test_plots(tmp_path):
    paths = write_plots(make_tables(), tmp_path / "plots")
    assert {p.name for p in paths} == {
        "capacity_by_class.png",
        "generation_mix.png",
        "compute_served_vs_demand.png",
        "capital_by_region.png",
        "fab_capacity.png",
    }
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert temp_leftovers(tmp_path / "plots") == []


def test_large_table_writes(tmp_path):
    """A 100k-row table is written whole (its speed is a benchmark matter, not a test's)."""
    tables = make_tables(rows=100_000)
    path = write_results_workbook(tables, tmp_path / "big.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    big = max(tables, key=lambda k: len(tables[k]))
    assert wb[big].max_row == len(tables[big]) + 2  # header and units rows


# --------------------------------------------------------------------------------------------
# Atomic save
# --------------------------------------------------------------------------------------------


def _wb_with(value: str) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.active["A1"] = value
    return wb


def test_atomic_save_mode_and_no_temp(tmp_path):
    path = atomic_save(_wb_with("x"), tmp_path / "a.xlsx")
    mode = stat.S_IMODE(path.stat().st_mode)
    umask = workbook._current_umask()
    assert mode == 0o644 & ~umask
    assert mode != 0o600 and mode & stat.S_IRGRP  # readable by the group, unlike mkstemp's 0600
    assert temp_leftovers(tmp_path) == []


def test_failed_save_leaves_target_untouched(tmp_path, monkeypatch):
    path = atomic_save(_wb_with("old"), tmp_path / "a.xlsx")
    before = path.read_bytes()

    def broken_save(self, filename):
        Path(filename).write_bytes(b"half a workbook")
        raise RuntimeError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        atomic_save(_wb_with("new"), path)
    assert path.read_bytes() == before
    assert temp_leftovers(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]


def test_results_workbook_failure_keeps_previous(tmp_path, monkeypatch):
    path = write_results_workbook(make_tables(), tmp_path / "r.xlsx")
    before = path.read_bytes()

    def broken_save(self, filename):
        raise OSError("device error")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OSError, match="device error"):
        write_results_workbook(make_tables(), path)
    assert path.read_bytes() == before
    assert temp_leftovers(tmp_path) == []


def test_locked_target_gives_clear_error(tmp_path, monkeypatch):
    path = atomic_save(_wb_with("old"), tmp_path / "a.xlsx")
    before = path.read_bytes()

    def locked(src, dst):
        raise PermissionError(13, "The process cannot access the file")  # as Windows with Excel

    monkeypatch.setattr(workbook.os, "replace", locked)
    with pytest.raises(OutputLockedError, match="close it") as info:
        atomic_save(_wb_with("new"), path)
    assert info.value.path == path
    assert "Excel or LibreOffice" in str(info.value)
    assert path.read_bytes() == before
    assert temp_leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------
# write_table details
# --------------------------------------------------------------------------------------------


def test_control_chars_and_long_text(tmp_path, caplog):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "T"
    long = "x" * (EXCEL_MAX_CHARS + 10)
    df = pd.DataFrame({"name": ["a\x00b\x07c\td", long]})
    with caplog.at_level(logging.WARNING, logger="optimizer.workbook"):
        write_table(ws, df)
    assert "cut" in caplog.text and "T!name" in caplog.text
    path = atomic_save(wb, tmp_path / "t.xlsx")
    back = openpyxl.load_workbook(path).active
    assert back["A2"].value == "abc\td"
    assert len(back["A3"].value) == EXCEL_MAX_CHARS


def test_write_table_rejects_inf_names_sheet():
    ws = openpyxl.Workbook().active
    ws.title = "Energy"
    with pytest.raises(ValueError, match=r"Energy!mwh.*row 3"):
        write_table(ws, pd.DataFrame({"mwh": [1.0, -np.inf]}), blank_ok={"mwh"})
    assert ws.max_row == 1 and ws["A1"].value is None  # nothing half-written


def test_write_table_units_of_the_wrong_length_write_nothing():
    """A units row that does not match the columns is refused before the header is written."""
    ws = openpyxl.Workbook().active
    ws.title = "Capital"
    with pytest.raises(ValueError, match=r"Capital: 1 units for 2 columns"):
        write_table(ws, pd.DataFrame({"region": ["A"], "musd": [1.0]}), units=["$M"])
    assert ws.max_row == 1 and ws["A1"].value is None  # nothing half-written


def test_write_table_blank_ok_and_dtypes(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    df = pd.DataFrame(
        {
            "id": pd.Series(["a", None], dtype="string"),
            "n": pd.array([1, None], dtype="Int64"),
            "flag": [True, False],
            "year": [2030, 2035],
        }
    )
    write_table(ws, df, blank_ok={"id", "n"})
    back = openpyxl.load_workbook(atomic_save(wb, tmp_path / "t.xlsx")).active
    assert [c.value for c in back[2]] == ["a", 1, True, 2030]
    assert [c.value for c in back[3]] == [None, None, False, 2035]


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("solar", "solar"),
        ("", ""),
        (-1.5, -1.5),
        (None, None),
    ],
)
def test_safe_csv_text(value, expected):
    assert safe_csv_text(value) == expected


def test_write_csv(tmp_path):
    df = pd.DataFrame({"name": ['=HYPERLINK("x")', "ok", None], "value": [-1.0, 0.1 + 0.2, np.nan]})
    path = write_csv(df, tmp_path / "out.csv")
    back = pd.read_csv(path, keep_default_na=False)
    assert back["name"].tolist() == ['\'=HYPERLINK("x")', "ok", ""]
    assert float(back["value"][1]) == 0.1 + 0.2  # full precision kept
    assert float(back["value"][0]) == -1.0  # numbers are not prefixed
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~workbook._current_umask()
    assert temp_leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="value"):
        write_csv(pd.DataFrame({"value": [np.inf]}), tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()


# --------------------------------------------------------------------------------------------
# LibreOffice as a real client
# --------------------------------------------------------------------------------------------


def _soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        reason = (
            "LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc, "
            "or set PLANNER_ALLOW_NO_SOFFICE=1 to skip this test"
        )
        if os.environ.get("PLANNER_ALLOW_NO_SOFFICE") == "1":
            print(f"SKIP: {reason}")
            pytest.skip(reason)
        pytest.fail(reason)
    return exe


def _convert(exe: str, src: Path, fmt: str, tmp_path: Path) -> Path:
    out = tmp_path / f"lo_{fmt}"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    cmd = [
        exe,
        f"-env:UserInstallation={(tmp_path / 'lo_profile').as_uri()}",
        "--headless",
        "--convert-to",
        fmt,
        "--outdir",
        str(out),
        str(src),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    result = out / f"{src.stem}.{fmt}"
    assert result.exists(), f"soffice failed ({done.returncode}): {done.stdout}\n{done.stderr}"
    return result


def _assert_same_values(a: openpyxl.Workbook, b: openpyxl.Workbook, sheet: str) -> None:
    rows_a = [r for r in a[sheet].iter_rows(values_only=True) if any(v is not None for v in r)]
    rows_b = [r for r in b[sheet].iter_rows(values_only=True) if any(v is not None for v in r)]
    assert len(rows_a) == len(rows_b), sheet
    for ra, rb in zip(rows_a, rows_b, strict=True):
        width = max(len(ra), len(rb))
        ra = tuple(ra) + (None,) * (width - len(ra))
        rb = tuple(rb) + (None,) * (width - len(rb))
        for va, vb in zip(ra, rb, strict=True):
            if isinstance(va, bool) or isinstance(vb, bool):
                assert bool(va) == bool(vb), (sheet, ra, rb)
            elif isinstance(va, int | float) and isinstance(vb, int | float):
                assert vb == pytest.approx(va, rel=1e-14, abs=0), (sheet, ra, rb)
            else:
                assert va == vb, (sheet, ra, rb)


def test_libreoffice_round_trip(tmp_path):
    exe = _soffice()
    src = write_results_workbook(make_tables(), tmp_path / "results.xlsx")

    pdf = _convert(exe, src, "pdf", tmp_path)
    assert pdf.stat().st_size > 1000
    assert pdf.read_bytes()[:5] == b"%PDF-"

    xlsx = _convert(exe, src, "xlsx", tmp_path)
    ours = openpyxl.load_workbook(src)
    theirs = openpyxl.load_workbook(xlsx, data_only=True)
    assert theirs.sheetnames == ours.sheetnames
    for name in TABLE_COLUMNS:
        _assert_same_values(ours, theirs, name)
    # Text that looks like a formula is still text after LibreOffice saved it.
    run = {r[0]: r[1] for r in theirs["Run"].iter_rows(min_row=2, values_only=True)}
    assert run["note"] == "@SUM(A1)"
    assert theirs["Capital"]["A6"].value == "=1+1"
    assert len(openpyxl.load_workbook(xlsx)["Dashboard"]._charts) == 5


# --------------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------------


def _long_prices(n: int) -> pd.DataFrame:
    """``n`` electricity prices (one region, 3 years, slices of 2 h and 6 h)."""
    return pd.DataFrame(
        {
            "price": "electricity",
            "region": "USA",
            "segment": None,
            "year": [YEARS[i % 3] for i in range(n)],
            "slice": [f"s{i // 3}" for i in range(n)],
            "partner": None,
            "value": [10.0 if (i // 3) % 2 else 40.0 for i in range(n)],
            "unit": "$/MWh",
            "hours": [2.0 if (i // 3) % 2 else 6.0 for i in range(n)],
        }
    )


def test_every_sheet_has_a_print_setup(tmp_path):
    """Each sheet prints one page wide with its header repeated; a long narrow table prints at a
    reduced scale; the long Prices sheet prints its first rows and PriceSummary its averages."""
    tables = make_tables(rows=500)
    tables["Prices"] = _long_prices(3000)
    wb = openpyxl.load_workbook(write_results_workbook(tables, tmp_path / "r.xlsx"))
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.orientation in ("portrait", "landscape"), ws.title
        fitted = ws.sheet_properties.pageSetUpPr.fitToPage
        assert (fitted and ps.fitToWidth == 1 and ps.fitToHeight == 0) or ps.scale, ws.title
        if ws.title not in ("Dashboard", report.PRICE_VIEW):
            assert ws.print_title_rows == ("$1:$1" if ws.title in ("Summary", "Run") else "$1:$2")
    assert wb["Capacity"].page_setup.scale == report._LONG_TABLE_SCALE
    assert wb["Prices"].print_area == f"'Prices'!$A$1:$I${report.PRICES_PRINTED_ROWS + 2}"
    view = wb[report.PRICE_VIEW]
    cells = {c.value: c for row in view.iter_rows() for c in row if c.value is not None}
    assert "Electricity price, $/MWh (average over the year's hours)" in cells
    usa = next(c for v, c in cells.items() if v == "USA")
    # time-weighted: (6 h × 40 + 2 h × 10) / 8 h = 32.5 $/MWh in every year
    assert [view.cell(usa.row, usa.column + k).value for k in (1, 2, 3)] == [32.5] * 3


def test_headline_by_year_in_the_units_people_say(tmp_path):
    """The Summary's table by year: make_tables' data centers are 2 regions × 500 MW in 2030 =
    1 GW; capital 2030 = 2 × 1,000 $M + ... read back in B$; unserved demand in M H100e."""
    from optimizer.presentation import headline_by_year

    t = report._prepare_tables(make_tables())
    head = headline_by_year(t).set_index("what")
    cap = t["Capacity"]
    dc = cap[(cap["class"] == "datacenter") & (cap["year"] == 2030)]["capacity"].sum()
    assert head.loc["Data-center capacity", "unit"] == "GW"
    assert head.loc["Data-center capacity", "2030"] == pytest.approx(dc / 1e3)
    kap = t["Capital"]
    assert head.loc["Capital raised", "2030"] == pytest.approx(
        kap[kap["year"] == 2030]["musd"].sum() / 1e3
    )
    assert head.loc["Compute demand unserved", "unit"] == "M H100e"
    wb = openpyxl.load_workbook(write_results_workbook(make_tables(), tmp_path / "r.xlsx"))
    column_a = [c.value for c in wb["Summary"]["A"]]
    assert "Headline by year" in column_a and "Data-center capacity" in column_a


def test_workbook_prints_in_few_pages_in_libreoffice(tmp_path):
    """A results workbook with 3,000 prices and a 500-row Capacity table prints (LibreOffice PDF)
    in a handful of pages: without the Prices print area and the scaled long tables it would be
    about 80 pages."""
    import re

    exe = _soffice()
    tables = make_tables(rows=500)
    tables["Prices"] = _long_prices(3000)
    src = write_results_workbook(tables, tmp_path / "results.xlsx")
    pdf = _convert(exe, src, "pdf", tmp_path).read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 12 <= pages <= 30, pages


def test_read_results_workbook_gives_back_the_tidy_tables(tmp_path):
    """What people see (units rows, the Summary's units, labels and headline) does not get in
    the way of a program reading the tables back."""
    from optimizer.presentation import read_results_workbook

    tables = make_tables()
    back = read_results_workbook(write_results_workbook(tables, tmp_path / "r.xlsx"))
    assert "Dashboard" not in back and report.PRICE_VIEW not in back
    pd.testing.assert_frame_equal(back["Capital"], tables["Capital"], check_dtype=False)
    assert list(back["Summary"].columns) == ["metric", "value", "unit", "label"]
    assert list(back["Summary"]["metric"]) == list(tables["Summary"]["metric"])
    assert back["Capacity"]["year"].dtype == "int64"


def test_summary_display_scales_and_keeps_small_values_visible():
    """scale_for picks the unit people say; a tiny value is never shown as 0.00."""
    from optimizer.presentation import scale_for, scaled_format, summary_display

    assert scale_for("$M", 3_106_653.3) == (1e6, "T$")
    assert scale_for("$M", 26_724.0) == (1e3, "B$")
    assert scale_for("MW", 188_675.0) == (1e3, "GW")
    assert scale_for("H100e", 3.2e9) == (1e6, "M H100e")
    assert scale_for("$/MWh", 1e9) == (1.0, "$/MWh")
    assert scaled_format(1e6) == "#,##0.00,,"
    assert summary_display("objective_musd", 0.003)[1:] == ("$M", "0.00E+00")
    assert summary_display("capital_musd", 45_000.0)[1:] == ("B$", "#,##0.00,")
    label, unit, fmt = summary_display("cost_musd[high]", 2.0)
    assert label == "Cost in future high" and unit == "$M"
    assert summary_display("new_thing_h100e", 5.0)[:2] == ("new thing h100e", "H100e")


def test_price_summary_of_a_hedging_plan_is_the_expected_price():
    """A hedging plan's Prices hold one copy per outcome: the printable view shows the
    probability-weighted price, 0.25 × 40 + 0.75 × 80 = 70 $/MWh, not a sum or a plain mean."""
    from optimizer.presentation import price_summary

    prices = pd.DataFrame(
        {
            "outcome": ["low", "high"],
            "probability": [0.25, 0.75],
            "price": "electricity",
            "region": "USA",
            "segment": None,
            "year": 2030,
            "slice": "s1",
            "partner": None,
            "value": [40.0, 80.0],
            "unit": "$/MWh",
            "hours": 8760.0,
        }
    )
    (title, table), *_ = price_summary({"Prices": prices})
    assert title.startswith("Electricity price")
    assert table.set_index("region").loc["USA", "2030"] == pytest.approx(70.0)
