"""Layer 4: the user's paths through the real command (subprocesses, as an analyst runs them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ROOT

CLI = str(ROOT / "cli.py")


def run(*args: str, cwd: Path | None = None, real: bool = False) -> subprocess.CompletedProcess:
    """Run the CLI: a real subprocess when ``real`` (or PLANNER_TEST_SUBPROCESS=1), else the same click
    command in-process (a fresh interpreter costs ~3 s of imports per call)."""
    if real or cwd is not None or os.environ.get("PLANNER_TEST_SUBPROCESS") == "1":
        return subprocess.run(
            [sys.executable, CLI, *args],
            capture_output=True,
            text=True,
            cwd=cwd or ROOT,
            timeout=600,
        )
    from tests.hand_cases import _invoke

    return _invoke(list(args))


def worked_check_workbook(path: Path) -> Path:
    """The DESIGN §5.1 case written with openpyxl directly (independently of the planner's writer)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets = {
        "Settings": [["key", "value"], ["base_year", 2030], ["last_period_length", 1]],
        "Years": [["year"], [2030]],
        "Regions": [
            ["region", "wacc", "pue", "grid_max_mw", "grid_price_usd"],
            ["R", 0.10, 1.2, 10, 50],
        ],
        "TimeSlices": [["slice", "day", "hours"], ["h1", "d1", 8760]],
        "Technologies": [["tech", "class", "life"], ["dc", "datacenter", 20]],
        "TechCosts": [["tech", "region", "year", "capex_musd"], ["dc", None, None, 10]],
        "Accelerators": [
            ["year", "h100e_per_chip", "kw_per_chip", "system_capex_usd", "life"],
            [2030, 1, 1.0, 10000, 5],
        ],
        "Commodities": [["commodity", "year", "external_price_usd"], ["accelerator", None, 20000]],
        "Demand": [["region", "segment", "year", "h100e"], ["R", "inference", 2030, 1000]],
    }
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_worked_check_through_cli(tmp_path):
    """§5.1: 10·CRF(0.1,5) + 10·CRF(0.1,20) + 20 + 1.2·8760·50/1e6 = 24.338171 $M."""
    w = worked_check_workbook(tmp_path / "W.xlsx")
    before = w.read_bytes()
    out = tmp_path / "res.xlsx"
    p = run("solve", str(w), "--json", "-o", str(out), real=True)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)  # stdout holds the JSON object and nothing else
    crf = lambda i, n: i * (1 + i) ** n / ((1 + i) ** n - 1)  # noqa: E731
    expected = 10 * crf(0.1, 5) + 10 * crf(0.1, 20) + 20.0 + 1.2 * 8760 * 50 / 1e6
    assert s["objective_musd"] == pytest.approx(expected, rel=1e-6)
    assert s["objective_musd"] == pytest.approx(24.338171, rel=1e-6)
    assert s["status"] == "optimal"
    assert sum(v for k, v in s.items() if k.startswith("cost_")) == pytest.approx(
        expected, rel=1e-9
    )
    assert w.read_bytes() == before, "reading must never modify the input"
    wb = openpyxl.load_workbook(out)
    for sheet in (
        "Summary",
        "Dashboard",
        "Capacity",
        "Capital",
        "Chips",
        "Trade",
        "Compute",
        "Energy",
        "Emissions",
        "Prices",
        "Bets",
        "Run",
    ):
        assert sheet in wb.sheetnames
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["objective_musd"] == pytest.approx(expected, rel=1e-9)
    # timings go to stderr as it goes
    for stage in ("read", "build", "solve", "write"):
        assert stage in p.stderr


def test_default_output_path(tmp_path):
    w = worked_check_workbook(tmp_path / "case.xlsx")
    p = run("solve", str(w), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "outputs" / "case_results.xlsx").exists()
    assert "objective" in p.stderr and p.stdout == ""


def test_template_then_validate_explains_what_is_missing(tmp_path):
    t = tmp_path / "T.xlsx"
    assert run("template", str(t)).returncode == 0
    wb = openpyxl.load_workbook(t)
    assert wb.sheetnames[0] == "About"
    assert (
        wb["Regions"]["A1"].comment is not None and "Required" in wb["Regions"]["A1"].comment.text
    )
    assert wb["Technologies"].data_validations.dataValidation, "dropdowns for enums"
    p = run("validate", str(t))
    assert p.returncode == 2
    for sheet in (
        "Years",
        "Regions",
        "TimeSlices",
        "Technologies",
        "Accelerators",
        "Commodities",
    ):
        assert f"{sheet}!" in p.stderr, sheet
    # DESIGN §4.1 (v2 fix): a Demand sheet without rows is valid (zero demand), so not a problem here
    assert "Demand!" not in p.stderr
    assert "Traceback" not in p.stderr


def test_convert_roundtrip_solves_alike(tmp_path, tiny_path):
    x = tmp_path / "tiny.xlsx"
    assert run("convert", str(tiny_path), str(x)).returncode == 0
    back = tmp_path / "back"
    assert run("convert", str(x), str(back)).returncode == 0
    objs = []
    for src in (tiny_path, x, back):
        p = run("solve", str(src), "--json", "-o", str(tmp_path / "r.xlsx"))
        assert p.returncode == 0, p.stderr
        objs.append(json.loads(p.stdout)["objective_musd"])
    assert objs[1] == pytest.approx(objs[0], rel=1e-9) and objs[2] == pytest.approx(
        objs[0], rel=1e-9
    )


def test_bad_cell_is_named_and_nothing_is_solved(tmp_path, tiny_path):
    case = shutil.copytree(tiny_path, tmp_path / "case")
    f = case / "TechCosts.csv"
    f.write_text(f.read_text().replace("solar,,2030,1.0", "solar,,2030,lots"))
    p = run("solve", str(case), "-o", str(tmp_path / "r.xlsx"), real=True)
    assert p.returncode == 2
    assert "TechCosts!D2: text 'lots' where a number belongs" in p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "r.xlsx").exists()


def test_infeasible_says_why_and_writes_nothing(tmp_path, tiny_path):
    case = shutil.copytree(tiny_path, tmp_path / "case")
    (case / "TechCosts.csv").write_text((case / "TechCosts.csv").read_text() + "gas,A,,,,,5\n")
    p = run("solve", str(case), "--json", "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 1
    assert json.loads(p.stdout)["status"] == "infeasible"
    assert "max_capacity" in p.stderr and "gas" in p.stderr
    assert not (tmp_path / "r.xlsx").exists()


def test_stochastic_mode_writes_outcomes(tiny_path, tmp_path):
    """bet_mode stochastic: one results workbook with an ``outcome`` column and the §8 measures."""
    out = tmp_path / "r.xlsx"
    p = run("solve", str(tiny_path), "--bet-mode", "stochastic", "--json", "-o", str(out))
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert {"expected_cost_musd", "vss_musd", "evpi_musd", "cost_min_musd", "cost_max_musd"} <= set(
        s
    )
    header = [c.value for c in openpyxl.load_workbook(out)["Capacity"][1]]
    assert header[:2] == ["outcome", "probability"]


def test_bet_modes_bracket_each_other(tiny_path, tmp_path):
    """With the option to fund, 'succeed' can never cost more than 'fail'."""
    res = {}
    for mode in ("succeed", "fail"):
        p = run(
            "solve",
            str(tiny_path),
            "--bet-mode",
            mode,
            "--json",
            "-o",
            str(tmp_path / f"{mode}.xlsx"),
        )
        assert p.returncode == 0, p.stderr
        res[mode] = json.loads(p.stdout)["objective_musd"]
    assert res["succeed"] <= res["fail"] + 1e-6


def test_help_teaches():
    p = run("solve", "--help")
    assert p.returncode == 0 and "--mip-gap" in p.stdout and "Exit status" in p.stdout


def test_a_tiny_budget_no_longer_forces_infeasibility_in_v2(tmp_path, tiny_path):
    """market_finance FALSE, a 0.1 $M budget and an existing fleet of 500 H100e at 7 MW of IT.

    In v1 the fleet had to run, forcing data centers and clean power in A that nobody could pay
    for: infeasible. In v2 nothing forces spending — the fleet may idle (4a) and demand may go
    unserved (6) — so the plan is optimal and finances at most the budget in every period
    (Σ fin ≤ 0.1 $M·len_y, constraint 11; tiny has two periods of 5 years: ≤ 0.5 $M each).
    """
    case = shutil.copytree(tiny_path, tmp_path / "case")
    s = (case / "Settings.csv").read_text().replace("market_finance,TRUE", "market_finance,FALSE")
    (case / "Settings.csv").write_text(s)
    (case / "PartnerBudgets.csv").write_text("partner,year,budget_musd\nfund,,0.1\n")
    (case / "ExistingFleet.csv").write_text("region,h100e,kw_it,retire_year\nA,500,7000,\n")
    out = tmp_path / "r.xlsx"
    p = run("solve", str(case), "--json", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["status"] == "optimal"
    cap = openpyxl.load_workbook(out, read_only=True)["Capital"]
    rows = list(cap.iter_rows(values_only=True))
    head = rows[0]
    by_year: dict[int, float] = {}
    for row in rows[1:]:
        rec = dict(zip(head, row, strict=False))
        if rec["partner"] == "(unit)":  # the sheet's unit row under the header
            continue
        by_year[rec["year"]] = by_year.get(rec["year"], 0.0) + float(rec["musd"])
    assert all(v <= 0.5 + 1e-6 for v in by_year.values()), by_year


def test_infeasible_limit_is_named_with_region_and_year(tmp_path, tiny_path):
    """A committed project (ExistingCapacity start_year, v2) above max_capacity in one year only.

    30 MW of solar in A committed from 2035 and max_capacity of solar in A = 20 MW: 2030 is fine
    (no solar yet), 2035 needs cap = 30 + builds ≤ 20 with builds ≥ 0 — infeasible. The IIS names
    the limit with its tech, region and year, and nothing is written.
    """
    case = shutil.copytree(tiny_path, tmp_path / "case")
    (case / "ExistingCapacity.csv").write_text(
        "tech,region,capacity,start_year,retire_year\ngas,A,10,,2035\nsolar,A,30,2035,\n"
    )
    (case / "TechCosts.csv").write_text((case / "TechCosts.csv").read_text() + "solar,A,,,,,20\n")
    p = run("solve", str(case), "--json", "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 1
    assert json.loads(p.stdout)["status"] == "infeasible"
    assert "max_capacity of solar in A in 2035 (TechCosts)" in p.stderr
    assert "in A in 2030" not in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "r.xlsx").exists()


def test_unknown_solver_option_is_refused(tiny_path, tmp_path):
    """HiGHS only logs a misspelled option and ignores it; the planner refuses it before solving."""
    p = run(
        "solve", str(tiny_path), "--highs-option", "presolv=off", "-o", str(tmp_path / "r.xlsx")
    )
    assert p.returncode == 2
    assert "unknown HiGHS option 'presolv'" in p.stderr and not (tmp_path / "r.xlsx").exists()
    p = run(
        "solve",
        str(tiny_path),
        "--highs-option",
        "presolve=off",
        "--json",
        "-o",
        str(tmp_path / "r.xlsx"),
    )
    assert p.returncode == 0, p.stderr
