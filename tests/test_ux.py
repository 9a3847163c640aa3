"""What-ifs on the command line and a comparison that says where and why (issues #19 and #14).

`solve --change` uses the Scenarios sheet's grammar; `compare` lists the inputs that differ, the
deltas by tech × region × year and the top movers, and treats run names and cell text as data.
"""

from __future__ import annotations

import json

import openpyxl
import pytest

from tests.test_cli import run, worked_check_workbook
from tests.test_scenarios import _add_scenarios


def _sheet(path, name):
    """Header and records of a results sheet, as ``compare`` reads them (no units row; the
    Summary's metrics only)."""
    from optimizer.compare import _sheet_frame

    ws = openpyxl.load_workbook(path)[name]
    head, rows, _first = _sheet_frame(ws, first_block=name == "Summary")
    return tuple(head), rows


def _capital(path, tech="dc"):
    head, rows = _sheet(path, "Capital")
    return sum(r[head.index("musd")] for r in rows if r[head.index("tech")] == tech)


def test_change_doubling_a_capex_doubles_that_builds_capital(tmp_path):
    """§5.1 worked check: 1,000 H100e of demand at 1 kW/chip need a 1 MW data center, the only
    way to serve it, at capex $10M/MW → capital line 10 $M. With
    `--change "TechCosts.capex_musd[tech=dc] *2"` the same 1 MW is built at $20M/MW → 20 $M, and
    the objective rises by the extra annuity 10·CRF(0.1, 20) = 1.174596 $M. The Run sheet records
    the change."""
    w = worked_check_workbook(tmp_path / "W.xlsx")
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert run("solve", str(w), "-o", str(a)).returncode == 0
    p = run("solve", str(w), "-o", str(b), "--change", "TechCosts.capex_musd[tech=dc] *2")
    assert p.returncode == 0, p.stderr
    assert _capital(a) == pytest.approx(10.0, rel=1e-9)
    assert _capital(b) == pytest.approx(20.0, rel=1e-9)
    objs = [{r[0]: r[1] for r in _sheet(x, "Summary")[1]}["objective_musd"] for x in (a, b)]
    crf = 0.1 * 1.1**20 / (1.1**20 - 1)
    assert objs[1] - objs[0] == pytest.approx(10 * crf, rel=1e-6)
    run_sheet = dict(_sheet(b, "Run")[1])
    assert run_sheet["changes"] == "TechCosts.capex_musd[tech=dc] *2"


@pytest.mark.parametrize(
    "change, message",
    [
        ("nonsense", "is not a change"),
        ("TechCosts.capex[tech=dc] *2", "unknown column 'capex'"),
        ("TechCosts.capex_musd[tech=nope] *2", "matches no row"),
        ("TechCosts.capex_musd[tech=dc] * lots", "scale needs a number"),
    ],
)
def test_bad_change_is_named_and_nothing_is_solved(tmp_path, change, message):
    w = worked_check_workbook(tmp_path / "W.xlsx")
    p = run("solve", str(w), "-o", str(tmp_path / "r.xlsx"), "--change", change)
    assert p.returncode == 2, p.stderr
    assert "--change 1:" in p.stderr and message in p.stderr, p.stderr  # which change: its position
    assert "Traceback" not in p.stderr and not (tmp_path / "r.xlsx").exists()


def _two_runs(tmp_path, region="R", names=("a", "b")):
    """Base, then the same case with demand × 2 and grid at $80/MWh, edited in the workbook."""
    w1, w2 = tmp_path / "W1.xlsx", tmp_path / "W2.xlsx"
    for w, (demand, price) in ((w1, (1000, 50)), (w2, (2000, 80))):
        worked_check_workbook(w)
        wb = openpyxl.load_workbook(w)
        wb["Regions"]["A2"] = region
        wb["Regions"]["E2"] = price
        wb["Demand"]["A2"] = region
        wb["Demand"]["D2"] = demand
        wb.save(w)
    outs = [tmp_path / f"{n}_results.xlsx" for n in names]
    for w, o in zip((w1, w2), outs, strict=True):
        p = run("solve", str(w), "-o", str(o))
        assert p.returncode == 0, p.stderr
    return outs


def test_compare_lists_the_inputs_that_differ_and_the_movers(tmp_path):
    """Run B doubles demand (1,000 → 2,000 H100e) and raises the grid price (50 → 80 $/MWh) by
    editing its input workbook. The comparison's Inputs sheet names both cells; Deltas and Movers
    show the data center going from 1 to 2 MW (+1 MW) and its capital from 10 to 20 $M (+10)."""
    a, b = _two_runs(tmp_path)
    out = tmp_path / "cmp.xlsx"
    p = run("compare", str(a), str(b), "-o", str(out))
    assert p.returncode == 0, p.stderr
    head, rows = _sheet(out, "Inputs")
    cells = {(r[2], r[4]): (r[5], r[6]) for r in rows if r[1] == "input cell"}
    assert cells[("Regions", "grid_price_usd")] == ("50", "80")
    assert cells[("Demand", "h100e")] == ("1000", "2000")
    assert any(r[3] == "input" for r in rows if r[1] == "run setting")
    head, rows = _sheet(out, "Movers")
    movers = {(r[1], r[2]): r[head.index("change")] for r in rows}
    assert movers[("capacity", "dc")] == pytest.approx(1.0, rel=1e-9)
    assert movers[("capital", "dc")] == pytest.approx(10.0, rel=1e-9)
    assert {r[head.index("unit")] for r in rows if r[1] == "capacity"} == {"MW"}
    assert openpyxl.load_workbook(out)["Movers"]._charts


def test_compare_keeps_region_na_and_run_names_that_look_like_labels(tmp_path):
    """Namibia's id `NA` is read back as text, not blank; runs named `metric` and `category` stay
    data: the label columns keep their labels and both runs keep their columns."""
    a, b = _two_runs(tmp_path, region="NA", names=("metric", "category"))
    out = tmp_path / "cmp.xlsx"
    p = run("compare", str(a), str(b), "-o", str(out))
    assert p.returncode == 0, p.stderr
    head, rows = _sheet(out, "Summary")
    assert head[:3] == ("metric", "metric", "category")
    assert [r[0] for r in rows][:2] == ["status", "objective_musd"]
    head, rows = _sheet(out, "Costs")
    assert head == ("category", "metric", "category")
    assert rows[0][0] == "capital"
    head, rows = _sheet(out, "Capital")
    assert {r[0] for r in rows} == {"NA"}
    head, rows = _sheet(out, "Deltas")
    assert {r[head.index("region")] for r in rows if r[1] == "capacity"} == {"NA"}


def test_compare_on_a_workbook_with_other_columns_is_bad_input(tmp_path):
    a, _b = _two_runs(tmp_path)
    wb = openpyxl.load_workbook(a)
    wb["Capacity"]["F1"] = "size"
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    p = run("compare", str(a), str(bad), "-o", str(tmp_path / "c.xlsx"))
    assert p.returncode == 2
    assert "sheet Capacity has no column 'capacity'" in p.stderr and "Traceback" not in p.stderr
    wb = openpyxl.load_workbook(a)
    wb["Capital"]["E3"] = "lots"  # row 2 holds the units
    wb.save(bad)
    p = run("compare", str(a), str(bad), "-o", str(tmp_path / "c.xlsx"))
    assert p.returncode == 2 and "Capital!E3: 'lots' is not a number" in p.stderr, p.stderr
    assert not (tmp_path / "c.xlsx").exists()


def test_scenario_named_base_is_refused_and_one_named_year_works(tmp_path):
    """`base` is the unchanged input's name in every comparison, so a scenario cannot take it;
    a scenario called `year` (a results column) is just a name."""
    w = _add_scenarios(
        worked_check_workbook(tmp_path / "W.xlsx"), [["base", "Demand", "", "h100e", "scale", 2]]
    )
    p = run("solve", str(w), "--all-scenarios", "-o", str(tmp_path / "out"))
    assert p.returncode == 2 and "Scenarios!A2" in p.stderr and "unchanged input" in p.stderr
    assert not (tmp_path / "out").exists()
    w2 = _add_scenarios(
        worked_check_workbook(tmp_path / "W2.xlsx"), [["year", "Demand", "", "h100e", "scale", 2]]
    )
    p = run("solve", str(w2), "--all-scenarios", "-o", str(tmp_path / "o2"))
    assert p.returncode == 0, p.stderr
    head, rows = _sheet(tmp_path / "o2" / "comparison.xlsx", "Compute")
    assert head == ("year", "base served", "year served", "base unserved", "year unserved")
    assert rows[0][2] == pytest.approx(2000)
    head, rows = _sheet(tmp_path / "o2" / "W2__year.xlsx", "Run")
    assert dict(rows)["changes"] == "Demand.h100e[] *2"


def test_a_scenario_with_the_base_input_reuses_the_base_result(tmp_path):
    """`same` scales demand by 1, so its input is the base's cell for cell: one solve fewer (2
    for 3 runs), the same numbers (§5.1 worked check: 24.338171 $M), its own workbook saying so.
    `double` still solves (every term doubles, test_scenarios)."""
    from tests.test_scenarios import crf

    w = _add_scenarios(
        worked_check_workbook(tmp_path / "W.xlsx"),
        [
            ["same", "Demand", "region=R", "h100e", "scale", 1],
            ["double", "Demand", "region=R", "h100e", "scale", 2],
        ],
    )
    out = tmp_path / "out"
    p = run("solve", str(w), "--all-scenarios", "--json", "-o", str(out))
    assert p.returncode == 0, p.stderr
    solves = [ln for ln in p.stderr.splitlines() if "] solve " in ln]
    assert len(solves) == 2, p.stderr
    assert "[same] same input as base" in p.stderr
    got = {d["scenario"]: d["objective_musd"] for d in map(json.loads, p.stdout.splitlines())}
    base = 10 * crf(0.1, 5) + 10 * crf(0.1, 20) + 20 + 1.2 * 8760 * 50 / 1e6
    assert got["same"] == got["base"] == pytest.approx(base, rel=1e-6)
    assert got["double"] == pytest.approx(2 * base, rel=1e-6)
    run_sheet = dict(_sheet(out / "W__same.xlsx", "Run")[1])
    assert run_sheet["scenario"] == "same"
    assert run_sheet["changes"] == "Demand.h100e[region=R] *1"
    assert "not solved again" in run_sheet["result_of"]
    assert _sheet(out / "comparison.xlsx", "Summary")[0][1:4] == ("base", "same", "double")


def test_cookbook_rows_apply_to_the_shipped_dataset_and_are_documented(tmp_path):
    """Every cookbook what-if changes the shipped base (its input differs from the base's, and it
    still validates), its --change text means the same change, and the README and the template's
    About sheet show it."""
    from pathlib import Path

    from optimizer.data_io import parse, read_raw
    from optimizer.scenarios import (
        COOKBOOK,
        Change,
        apply_changes,
        book_key,
        cookbook_change_text,
        cookbook_markdown,
        parse_change,
    )
    from optimizer.template import write_template

    root = Path(__file__).resolve().parents[1]
    raw = read_raw(root / "inputs" / "base")
    assert len(COOKBOOK) == 10
    for name, _question, rows in COOKBOOK:
        changes = [Change(*row, origin=f"cookbook ({name})") for row in rows]
        book = apply_changes(raw, changes)
        assert book_key(book) != book_key(raw), name
        parse(book)  # validates
        cli = [parse_change(cookbook_change_text(row)) for row in rows]
        assert book_key(apply_changes(raw, cli)) == book_key(book), name
    assert cookbook_markdown() in (root / "README.md").read_text(encoding="utf-8")
    about = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))["About"]
    text = [str(c.value) for row in about.iter_rows() for c in row if c.value]
    assert "What-if cookbook" in text
    assert all(any(name == t for t in text) for name, _q, _r in COOKBOOK)


def test_a_bad_value_written_by_a_change_names_the_change(tmp_path):
    """The cell a validation problem names is in the changed copy the user never sees: the
    message says which --change (or Scenarios row) changed that column."""
    w = _add_scenarios(
        worked_check_workbook(tmp_path / "W.xlsx"),
        [["negative", "Demand", "region=R", "h100e", "scale", -1]],
    )
    p = run("solve", str(w), "-o", str(tmp_path / "r.xlsx"), "--change", "Regions.wacc = abc")
    assert p.returncode == 2
    assert "text 'abc'" in p.stderr and "changed by --change 1 (Regions.wacc = abc)" in p.stderr
    p = run("solve", str(w), "--scenario", "negative", "-o", str(tmp_path / "o"))
    assert p.returncode == 2
    assert "is negative (column changed by Scenarios!A2 (negative))" in p.stderr, p.stderr
    assert "(in scenario negative)" in p.stderr


def test_a_long_deltas_sheet_prints_its_first_rows(tmp_path, monkeypatch):
    """Deltas holds every change; printed, it is the header and the first DELTAS_PRINTED_ROWS rows
    (20 here: two random 500-row Capacity tables differ in ~96 (tech, class, region, year) rows),
    as Prices is — the whole table stays on screen, and Movers prints the largest changes. A short
    Deltas (two equal runs: no row) prints whole."""
    from optimizer import compare
    from tests.test_report import make_tables

    monkeypatch.setattr(compare, "DELTAS_PRINTED_ROWS", 20)

    long = compare.write_comparison(
        [("a", make_tables(rows=500, seed=0)), ("b", make_tables(rows=500, seed=1))],
        tmp_path / "long.xlsx",
    )
    ws = openpyxl.load_workbook(long)["Deltas"]
    assert ws.max_row > compare.DELTAS_PRINTED_ROWS + 1
    last = ws.cell(1, ws.max_column).column_letter
    assert ws.print_area == f"'Deltas'!$A$1:${last}${compare.DELTAS_PRINTED_ROWS + 1}"
    short = compare.write_comparison(
        [("a", make_tables()), ("b", make_tables())], tmp_path / "short.xlsx"
    )
    ws = openpyxl.load_workbook(short)["Deltas"]
    assert ws.max_row <= compare.DELTAS_PRINTED_ROWS + 1 and not ws.print_area
