"""Named scenarios and side-by-side comparison (DESIGN §7, issue 6)."""

from __future__ import annotations

import json

import openpyxl
import pytest

from tests.test_cli import run, worked_check_workbook


def crf(i: float, n: float) -> float:
    return i * (1 + i) ** n / ((1 + i) ** n - 1)


def _add_scenarios(path, rows):
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("Scenarios")
    ws.append(["scenario", "sheet", "where", "column", "op", "value"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_scenarios_on_the_worked_check(tmp_path):
    """§5.1 with demand × 2 and with a grid price of $80/MWh, derived by hand.

    Base: 10·CRF(0.1,5) + 10·CRF(0.1,20) + 20 + 1.2·8760·50/1e6 = 24.338171.
    Demand × 2: twice as many chips (2000), data centers (2 MW), chip purchases ($40M) and grid
    energy (2.4 MW, within the 10 MW limit): every term doubles → 48.676342.
    Grid at $80: only the energy line changes, to 1.2·8760·80/1e6 = 0.84096.
    """
    w = _add_scenarios(
        worked_check_workbook(tmp_path / "W.xlsx"),
        [
            ["double", "Demand", "region=R", "h100e", "scale", 2],
            ["dear_grid", "Regions", "", "grid_price_usd", "set", 80],
        ],
    )
    before = w.read_bytes()
    p = run("solve", str(w), "--all-scenarios", "--json", "-o", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    got = {d["scenario"]: d["objective_musd"] for d in lines}
    base = 10 * crf(0.1, 5) + 10 * crf(0.1, 20) + 20 + 1.2 * 8760 * 50 / 1e6
    assert got["base"] == pytest.approx(base, rel=1e-6)
    assert got["double"] == pytest.approx(2 * base, rel=1e-6)
    assert got["dear_grid"] == pytest.approx(
        base - 1.2 * 8760 * 50 / 1e6 + 1.2 * 8760 * 80 / 1e6, rel=1e-6
    )
    for name in ("base", "double", "dear_grid"):
        assert (tmp_path / "out" / f"W__{name}.xlsx").exists()
    cmp = openpyxl.load_workbook(tmp_path / "out" / "comparison.xlsx")
    assert {"Summary", "Costs", "Capacity", "Capital", "Compute"} <= set(cmp.sheetnames)
    summ = {r[0]: r for r in cmp["Summary"].iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in cmp["Summary"][1]]
    assert summ["objective_musd"][header.index("double − base")] == pytest.approx(base, rel=1e-6)
    assert cmp["Costs"]._charts and cmp["Summary"]._charts
    assert w.read_bytes() == before


def test_one_named_scenario(tmp_path):
    w = _add_scenarios(
        worked_check_workbook(tmp_path / "W.xlsx"), [["double", "Demand", "", "h100e", "scale", 2]]
    )
    p = run("solve", str(w), "--scenario", "double", "--json", "-o", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    assert [json.loads(x)["scenario"] for x in p.stdout.splitlines()] == ["base", "double"]


def test_set_adds_a_row_when_where_names_every_key(tmp_path):
    """Adding training demand of 500 H100e to §5.1 adds exactly half the base's scale-dependent cost."""
    w = _add_scenarios(
        worked_check_workbook(tmp_path / "W.xlsx"),
        [["more", "Demand", "region=R;segment=training;year=2030", "h100e", "set", 500]],
    )
    p = run("solve", str(w), "--scenario", "more", "--json", "-o", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    got = {
        json.loads(x)["scenario"]: json.loads(x)["objective_musd"] for x in p.stdout.splitlines()
    }
    assert got["more"] == pytest.approx(1.5 * got["base"], rel=1e-6)


@pytest.mark.parametrize(
    "row, message",
    [
        (["bad", "Nope", "", "h100e", "scale", 2], "unknown sheet 'Nope'"),
        (["bad", "Demand", "", "nope", "scale", 2], "unknown column 'nope'"),
        (["bad", "Demand", "planet=Mars", "h100e", "scale", 2], "unknown key 'planet'"),
        (["bad", "Demand", "region=Nowhere", "h100e", "scale", 2], "matches no row"),
        (["bad", "Demand", "", "h100e", "scale", "lots"], "scale needs a number"),
    ],
)
def test_bad_scenario_rows_are_named_and_nothing_is_solved(tmp_path, row, message):
    w = _add_scenarios(worked_check_workbook(tmp_path / "W.xlsx"), [row])
    p = run("solve", str(w), "--all-scenarios", "-o", str(tmp_path / "out"))
    assert p.returncode == 2
    assert "Scenarios!A2" in p.stderr and message in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "out").exists()


def test_compare_command(tmp_path):
    w = worked_check_workbook(tmp_path / "W.xlsx")
    a, b = tmp_path / "a_results.xlsx", tmp_path / "b_results.xlsx"
    assert run("solve", str(w), "-o", str(a)).returncode == 0
    wb = openpyxl.load_workbook(w)
    wb["Regions"]["E2"] = 80  # grid_price_usd
    wb.save(w)
    assert run("solve", str(w), "-o", str(b)).returncode == 0
    out = tmp_path / "cmp.xlsx"
    p = run("compare", str(a), str(b), "-o", str(out))
    assert p.returncode == 0, p.stderr
    summ = {
        r[0]: r
        for r in openpyxl.load_workbook(out)["Summary"].iter_rows(min_row=2, values_only=True)
    }
    assert summ["cost_energy_musd"][3] == pytest.approx(1.2 * 8760 * 30 / 1e6, rel=1e-9)


def test_comparison_opens_in_libreoffice_with_its_charts(tmp_path):
    """The comparison converts to PDF in LibreOffice and its charts survive an xlsx round trip."""
    from tests.test_report import _convert, _soffice

    exe = _soffice()
    w = _add_scenarios(
        worked_check_workbook(tmp_path / "W.xlsx"), [["double", "Demand", "", "h100e", "scale", 2]]
    )
    assert run("solve", str(w), "--all-scenarios", "-o", str(tmp_path / "out")).returncode == 0
    cmp = tmp_path / "out" / "comparison.xlsx"
    pdf = _convert(exe, cmp, "pdf", tmp_path)
    assert pdf.read_bytes()[:4] == b"%PDF" and pdf.stat().st_size > 10_000
    back = _convert(exe, cmp, "xlsx", tmp_path)
    import zipfile

    with zipfile.ZipFile(back) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 4, charts


def test_comparison_reports_the_unserved_value_share():
    """comparison.xlsx's Summary has the share of each run's objective that is unserved-demand value
    (issue 16): base 10 of 40 $M → 0.25; a run with no unserved cost → 0; the difference column −0.25."""
    import pandas as pd

    from optimizer.compare import comparison_tables

    def run_tables(obj, unserved):
        empty = {
            "Capacity": pd.DataFrame(
                columns=["tech", "class", "region", "year", "built", "capacity"]
            ),
            "Capital": pd.DataFrame(columns=["partner", "tech", "region", "year", "musd"]),
            "Compute": pd.DataFrame(
                columns=["segment", "host", "consumer", "year", "served", "unserved"]
            ),
        }
        summary = pd.DataFrame(
            {
                "metric": ["status", "objective_musd", "cost_unserved_musd"],
                "value": ["optimal", obj, unserved],
            }
        )
        return {"Summary": summary, **empty}

    t = comparison_tables({"base": run_tables(40.0, 10.0), "other": run_tables(30.0, 0.0)})
    s = t["Summary"].set_index("metric")
    assert s.at["unserved_value_share", "base"] == pytest.approx(0.25)
    assert s.at["unserved_value_share", "other"] == pytest.approx(0.0)
    assert s.at["unserved_value_share", "other − base"] == pytest.approx(-0.25)


def test_plan_runs_is_the_solve_commands_study(tiny_path):
    """One run without scenarios (label "", the --change recorded); an unknown scenario is named
    with the known ones; a bad --change is an input problem naming its position."""
    from optimizer.data_io import InputError, read_raw
    from optimizer.scenarios import UnknownScenarioError, plan_runs

    raw = read_raw(tiny_path)
    (run_,) = plan_runs(raw, ["Demand.h100e *2"])
    assert run_.label == "" and len(run_.changes) == 1
    base = plan_runs(raw)[0].data
    assert sum(run_.data.demand.values()) == pytest.approx(2 * sum(base.demand.values()))
    with pytest.raises(UnknownScenarioError, match="no scenario named 'nope'"):
        plan_runs(raw, names=["nope"])
    with pytest.raises(InputError, match="--change 1"):
        plan_runs(raw, ["Demand.h100e ^2"])
