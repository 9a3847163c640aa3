"""Near-optimal alternatives (DESIGN §10): input checks, hand-derived ranges, the CLI and workbook.

Hand-derived cases start from the worked check of DESIGN §5.1 (``tests/hand_cases.base_case``); each
derivation is written in the test's docstring.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hand_cases import _invoke, base_case, write_case

COLUMNS = ("name", "measure", "tech", "class", "region", "year", "sense")


def alt(name: str, measure: str, cls: str | None = None, **kw) -> dict:
    """One Alternatives row with every column (so the CSV's column letters are A..G)."""
    row = dict.fromkeys(COLUMNS)
    row.update(name=name, measure=measure, **kw)
    row["class"] = cls
    return row


def _bad_case(tmp_path: Path) -> Path:
    case = base_case()
    case["Alternatives"] = [
        alt("ok", "capital", region="A", sense="both"),
        alt("m", "volume"),
        alt("t", "capacity", tech="nope"),
        alt("c", "capacity", cls="reactor"),
        alt("r", "hosted", region="Z"),
        alt("y", "deployed", year=2031),
        alt("h", "hosted", tech="dc"),
        alt("ok", "build"),
    ]
    return write_case(tmp_path / "bad", case)


def test_validate_names_every_bad_alternatives_cell(tmp_path):
    """Unknown measure, tech, class, region and year each name their cell (Alternatives!Cell)."""
    res = _invoke(["validate", str(_bad_case(tmp_path))])
    assert res.returncode == 2, res.stderr
    err = res.stderr
    assert "Alternatives!B3: 'volume' is not an allowed value" in err
    assert "Alternatives!C4: unknown capacity tech 'nope'" in err
    assert "Alternatives!D5: 'reactor' is not an allowed value" in err
    assert "Alternatives!E6: unknown region 'Z'" in err
    assert "Alternatives!F7: year 2031 is not a model year" in err
    assert "Alternatives!C8: tech 'dc' does not apply to measure hosted" in err
    assert "Alternatives!A9: duplicate row for name=ok" in err
    assert "Traceback" not in err


def test_a_year_out_of_range_is_one_message_for_its_cell(tmp_path):
    """An Alternatives year of 1800 is reported once, as out of range, not again as "not a model
    year" for the same cell (Bets decide_year takes the same rule)."""
    case = base_case()
    case["Alternatives"] = [alt("y", "deployed", year=1800)]
    res = _invoke(["validate", str(write_case(tmp_path / "y", case))])
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if "Alternatives!F2" in ln]
    assert len(lines) == 1 and "out of range" in lines[0], res.stderr


def test_template_and_annotate_know_the_sheet(tmp_path):
    """The template has an Alternatives sheet; --annotate marks its bad cells."""
    import openpyxl

    res = _invoke(["template", str(tmp_path / "t.xlsx")])
    assert res.returncode == 0, res.stderr
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert [c.value for c in wb["Alternatives"][1]] == [
        "name",
        "measure",
        "tech",
        "class",
        "region",
        "year",
        "sense",
    ]
    res = _invoke(["validate", str(_bad_case(tmp_path)), "--annotate", str(tmp_path / "a.xlsx")])
    assert res.returncode == 2
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["Alternatives"]
    assert ws["B3"].comment is not None and "volume" in ws["B3"].comment.text
    assert ws["F7"].comment is not None


# ------------------------------------------------------------------------------------------------
# Hand-derived cases
# ------------------------------------------------------------------------------------------------
import json  # noqa: E402
import math  # noqa: E402

import openpyxl  # noqa: E402
import pytest  # noqa: E402
from hand_cases import region  # noqa: E402

C_51 = 24.338171  # DESIGN §5.1: the one-region optimum, $M


def crf(i: float, n: float) -> float:
    """Capital recovery factor (DESIGN §5)."""
    return i * (1 + i) ** n / ((1 + i) ** n - 1)


def run_alt(path: Path, *args: str) -> tuple[int, list[dict], str]:
    """``cli.py alternatives PATH --json ARGS`` in-process: exit code, JSON lines, stderr."""
    res = _invoke(["alternatives", str(path), "--json", *args])
    assert "Traceback" not in res.stderr, res.stderr
    lines = [json.loads(s) for s in res.stdout.splitlines() if s.strip()]
    return res.returncode, lines, res.stderr


def two_regions(capex_b: float = 10.0) -> dict:
    """The §5.1 case with a second region B like A; B's data centers cost ``capex_b`` $M/MW.

    Demand (1000 H100e, consumer A) may be served from either region (no route rows: allowed, cost 0).
    """
    case = base_case()
    case["Regions"].append(region("B"))
    case["TechCosts"] = [
        {"tech": "dc", "region": "A", "year": None, "capex_musd": 10},
        {"tech": "dc", "region": "B", "year": None, "capex_musd": capex_b},
    ]
    case["Alternatives"] = [
        alt("hosted A", "hosted", region="A"),
        alt("hosted B", "hosted", region="B"),
        alt("dc A", "capacity", cls="datacenter", region="A", year=2030),
        alt("capital A", "capital", region="A"),
    ]
    return case


def ranges_of(lines: list[dict]) -> dict:
    assert lines[-1]["summary"] is True
    return lines[-1]["ranges"]


def test_exact_tie_spans_the_whole_tie_at_zero_slack(tmp_path):
    """Two identical regions: where the 1000 H100e are hosted is a tie decided by nothing.

    Derivation: A and B have the same wacc, pue, grid and capex, and serving A's demand from B
    costs nothing, so every split of the 1000 chips (1 kW each → 1 MW of data centers) costs the
    §5.1 optimum C* = 24.338171 $M. At ε = 0 the cost row allows exactly the optimal plans, so:
    hosted A ∈ [0, 1000] H100e, data centers in A in 2030 ∈ [0, 1] MW, capital raised in A ∈
    [0, 20] $M (10 $M/MW · 1 MW of data centers + 10,000 $ · 1000 chips), each extreme at cost C*.
    """
    path = write_case(tmp_path / "tie", two_regions())
    out = tmp_path / "tie.xlsx"
    code, lines, err = run_alt(path, "--slack", "0", "-o", str(out))
    assert code == 0, err
    assert lines[0]["plan"] == "optimum"
    assert lines[0]["cost_musd"] == pytest.approx(C_51, rel=1e-6)
    r = ranges_of(lines)
    assert r["hosted A"]["min"] == pytest.approx(0.0, abs=1e-6)
    assert r["hosted A"]["max"] == pytest.approx(1000.0, rel=1e-6)
    assert r["hosted B"]["min"] == pytest.approx(0.0, abs=1e-6)
    assert r["hosted B"]["max"] == pytest.approx(1000.0, rel=1e-6)
    assert r["dc A"]["min"] == pytest.approx(0.0, abs=1e-9)
    assert r["dc A"]["max"] == pytest.approx(1.0, rel=1e-6)
    assert r["capital A"]["min"] == pytest.approx(0.0, abs=1e-6)
    assert r["capital A"]["max"] == pytest.approx(20.0, rel=1e-6)
    for p in lines[1:-1]:
        assert p["status"] == "optimal"
        assert p["cost_musd"] == pytest.approx(C_51, rel=1e-6)  # every extreme costs C*
    ws = openpyxl.load_workbook(out)["Ranges"]
    header = [c.value for c in ws[1]]
    assert header[:6] == [
        "measure",
        "optimum",
        "min",
        "max",
        "cost_at_min_musd",
        "cost_at_max_musd",
    ]


def test_slack_of_ten_percent_moves_hosting_by_the_derived_amount(tmp_path):
    """B's data centers cost 40 $M/MW instead of 10: at ε = 0.1 B may host 690.68 H100e.

    Derivation: the optimum hosts all 1000 H100e in A (C* = 24.338171 $M, §5.1). Moving one H100e
    to B changes only its data-center capital: 1 kW more in B and 1 kW less in A, so
    (40 − 10) $M/MW · CRF(0.10, 20) · 0.001 MW = 3.523788e-3 $M (one model year, DF = 1; chips, their
    price, grid and energy are the same in both regions). The bound allows 0.1 · C* = 2.4338171 $M
    more, so max hosted B = 0.1 · C* / (30 · CRF(0.1, 20) / 1000) = 690.68 H100e and min hosted A =
    1000 − 690.68; both extremes cost exactly 1.1 · C*.
    """
    path = write_case(tmp_path / "eps", two_regions(capex_b=40.0))
    code, lines, err = run_alt(path, "--slack", "0.1", "-o", str(tmp_path / "eps.xlsx"))
    assert code == 0, err
    per_h100e = 30.0 * crf(0.10, 20) / 1000.0
    moved = 0.1 * C_51 / per_h100e
    assert moved == pytest.approx(690.68, abs=0.01)
    r = ranges_of(lines)
    assert r["hosted B"]["optimum"] == pytest.approx(0.0, abs=1e-6)
    assert r["hosted B"]["max"] == pytest.approx(moved, rel=1e-5)
    assert r["hosted A"]["min"] == pytest.approx(1000.0 - moved, rel=1e-5)
    assert r["hosted A"]["max"] == pytest.approx(1000.0, rel=1e-6)
    by_plan = {p["plan"]: p for p in lines[:-1]}
    assert by_plan["max hosted B"]["cost_musd"] == pytest.approx(1.1 * C_51, rel=1e-6)
    assert by_plan["min hosted A"]["cost_musd"] == pytest.approx(1.1 * C_51, rel=1e-6)


def fusion_case() -> dict:
    """The §5.1 case plus a fusion R&D bet whose tech undercuts the grid.

    fusion: power, life 30, capex 1 $M/MW, no variable cost, availability 1, max_build 10 MW;
    bet ``fus``: rd_cost 0.2 $M decided in 2030, available 2030. Settings bet_mode is the default
    ``stochastic``, so alternatives use ``succeed``.
    """
    case = base_case()
    case["Technologies"].append({"tech": "fusion", "class": "power", "life": 30})
    case["TechCosts"].append(
        {"tech": "fusion", "region": None, "year": None, "capex_musd": 1, "max_build": 10}
    )
    case["Bets"] = [
        {
            "bet": "fus",
            "tech": "fusion",
            "rd_cost_musd": 0.2,
            "decide_year": 2030,
            "available_year": 2030,
            "probability": 0.5,
        }
    ]
    case["Alternatives"] = [alt("fusion", "capacity", tech="fusion", sense="min")]
    return case


@pytest.mark.parametrize("slack", [0.01, 0.005])
def test_funded_bet_becomes_unfunded_inside_the_bound(tmp_path, slack):
    """A MIP: the bet is funded at the optimum; 1 % of slack lets it go unfunded, 0.5 % does not.

    Derivation (one year, DF = 1; load 1.2 MW flat all year):
    - grid only (bet unfunded): the §5.1 optimum, 24.338171 $M, energy 1.2 · 8760 · 50 $ = 0.5256.
    - funded: 0.2 $M R&D + 1.2 MW of fusion at 1 $M/MW · CRF(0.1, 30) = 0.127295 $M instead of the
      grid's 0.5256 $M, so C* = 24.338171 − 0.5256 + 0.2 + 0.127295 = 24.139866 $M (funded).
    - unfunding costs C_51 − C* = 0.198305 $M = 0.8215 % of C*: inside ε = 1 %, where min fusion
      capacity is 0 at cost C_51 (the bet unfunded: funded with no fusion would cost 0.2 more, above
      the bound). At ε = 0.5 % the bet stays funded and fusion can shrink by replacing MW with grid at
      0.438 − 0.106079 = 0.331921 $M per MW: min = 1.2 − 0.005 · C* / 0.331921 = 0.836361 MW.
    """
    path = write_case(tmp_path / "bet", fusion_case())
    code, lines, err = run_alt(path, "--slack", str(slack), "-o", str(tmp_path / "bet.xlsx"))
    assert code == 0, err
    c_star = C_51 - 0.5256 + 0.2 + 1.2 * crf(0.1, 30)
    opt = lines[0]
    assert opt["cost_musd"] == pytest.approx(c_star, rel=1e-6)
    assert opt["funded_bets"] == ["fus"]
    assert opt["measures"]["fusion"] == pytest.approx(1.2, rel=1e-6)
    lo = {p["plan"]: p for p in lines[:-1]}["min fusion"]
    assert lo["warm"] is True  # the enumeration of the bet's two assignments, from a basis
    if slack == 0.01:
        assert lo["value"] == pytest.approx(0.0, abs=1e-7)
        assert lo["funded_bets"] == []
        assert lo["cost_musd"] == pytest.approx(C_51, rel=1e-6)
    else:
        per_mw = 8760 * 50 / 1e6 - crf(0.1, 30)
        assert lo["value"] == pytest.approx(1.2 - slack * c_star / per_mw, rel=1e-5)
        assert lo["funded_bets"] == ["fus"]
    r = ranges_of(lines)["fusion"]
    assert r["max"] is None  # sense min: no max plan
    assert lines[-1]["plans"] == 1


# ------------------------------------------------------------------------------------------------
# Properties, paths and bad input
# ------------------------------------------------------------------------------------------------
def test_default_set_brackets_the_optimum_and_respects_the_bound(tmp_path, tiny_path):
    """No Alternatives sheet: the default set; every range holds the optimum, every plan the bound."""
    out = tmp_path / "tiny_alt.xlsx"
    code, lines, err = run_alt(tiny_path, "--random", "2", "--seed", "3", "-o", str(out))
    assert code == 0, err
    summary = lines[-1]
    names = set(summary["ranges"])
    assert {"capital A", "capital B", "hosted A", "hosted B"} <= names
    assert any(n.startswith("capacity datacenter") for n in names)
    bound = summary["cost_bound_musd"]
    assert bound == pytest.approx(1.05 * summary["optimum_musd"], rel=1e-8)
    for p in lines[:-1]:
        assert p["status"] == "optimal"
        assert p["cost_musd"] <= bound * (1 + 1e-9)
    tol = 1e-6
    for name, r in summary["ranges"].items():
        scale = max(1.0, abs(r["max"]))
        assert r["min"] - tol * scale <= r["optimum"] <= r["max"] + tol * scale, name
    randoms = [p for p in lines if p.get("kind") == "random"]
    assert len(randoms) == 2
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Ranges", "Plans", "Capacity", "Run"]
    assert len(wb["Ranges"]._charts) >= 2
    plans = [c.value for c in wb["Plans"][1]]
    assert plans[:3] == ["plan", "kind", "measure"]
    assert wb["Plans"].max_row == len(lines) - 1 + 1  # header + one row per plan
    cap_header = [c.value for c in wb["Capacity"][1]]
    assert cap_header[:4] == ["class", "region", "year", "optimum"]
    run = {r[0]: r[1] for r in wb["Run"].iter_rows(min_row=2, values_only=True)}
    assert run["bet_mode"] == "succeed" and run["mga_slack"] == 0.05
    assert run["random_plans"] == 2 and run["measures"] == "default set"


def test_random_plans_are_seeded(tmp_path):
    """The same seed gives the same random plans; another seed other weights."""
    path = write_case(tmp_path / "r", two_regions(capex_b=40.0))
    a = run_alt(path, "--random", "2", "--seed", "7", "-o", str(tmp_path / "a.xlsx"))[1]
    b = run_alt(path, "--random", "2", "--seed", "7", "-o", str(tmp_path / "b.xlsx"))[1]
    ra = [p["measures"] for p in a if p.get("kind") == "random"]
    rb = [p["measures"] for p in b if p.get("kind") == "random"]
    assert ra == rb and len(ra) == 2


def test_infeasible_optimum_stops_before_any_alternative(tmp_path):
    """Existing data centers above max_capacity: infeasible, exit 1, no plan, no workbook."""
    case = two_regions()
    case["ExistingCapacity"] = [{"tech": "dc", "region": "A", "capacity": 5}]
    case["TechCosts"][0]["max_capacity"] = 1
    path = write_case(tmp_path / "inf", case)
    out = tmp_path / "inf.xlsx"
    code, lines, err = run_alt(path, "-o", str(out))
    assert code == 1
    assert "infeasible" in err and "no alternative was tried" in err
    assert [p["plan"] for p in lines] == ["optimum"]
    assert not out.exists()


def test_time_limited_optimum_stops(tmp_path, tiny_path):
    """A least cost stopped by the time limit is not an optimum to bound: exit 1, nothing tried."""
    out = tmp_path / "t.xlsx"
    code, lines, err = run_alt(tiny_path, "--time-limit", "0", "-o", str(out))
    assert code == 1, err
    assert "no alternative was tried" in err
    assert len(lines) == 1 and lines[0]["status"] != "optimal"
    assert not out.exists()


def test_bad_alternatives_row_exit_2_from_the_command(tmp_path):
    """The alternatives command lists the Alternatives problems with their cells, exit 2."""
    code, lines, err = run_alt(_bad_case(tmp_path))
    assert code == 2
    assert lines == []
    assert "Alternatives!B3:" in err and "Alternatives!E6: unknown region 'Z'" in err


def test_subprocess_and_dask_worker_give_the_same_ranges(tmp_path):
    """The real command line (a subprocess) with one Dask worker gives the in-process ranges."""
    import subprocess
    import sys

    from hand_cases import REPO_ROOT

    path = write_case(tmp_path / "d", two_regions(capex_b=40.0))
    local = ranges_of(run_alt(path, "--slack", "0.1", "-o", str(tmp_path / "l.xlsx"))[1])
    proc = subprocess.run(
        [
            sys.executable,
            "cli.py",
            "alternatives",
            str(path),
            "--slack",
            "0.1",
            "--workers",
            "1",
            "--json",
            "-o",
            str(tmp_path / "w.xlsx"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(s) for s in proc.stdout.splitlines()]
    remote = ranges_of(lines)
    assert set(remote) == set(local)
    for name, r in local.items():
        for k in ("min", "max", "optimum"):
            assert remote[name][k] == pytest.approx(r[k], rel=1e-6, abs=1e-6), (name, k)
    # the worker solved its chunk in order: the first plan cold, the rest warm from its basis
    warm = [p["warm"] for p in lines[1:-1]]
    assert warm[0] is False and all(warm[1:])
    assert [p["path"] for p in lines[1:-1]] == ["cold"] + ["warm"] * (len(warm) - 1)


def test_workbook_opens_in_libreoffice_with_its_charts(tmp_path):
    """LibreOffice renders the workbook (PDF) and keeps values and range charts on a round trip."""
    from test_report import _assert_same_values, _convert, _soffice

    exe = _soffice()
    path = write_case(tmp_path / "lo", two_regions(capex_b=40.0))
    src = tmp_path / "alt.xlsx"
    code, _lines, err = run_alt(path, "--slack", "0.1", "--random", "1", "-o", str(src))
    assert code == 0, err
    pdf = _convert(exe, src, "pdf", tmp_path)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1000
    xlsx = _convert(exe, src, "xlsx", tmp_path)
    ours = openpyxl.load_workbook(src)
    theirs = openpyxl.load_workbook(xlsx, data_only=True)
    assert theirs.sheetnames == ours.sheetnames
    for name in ("Ranges", "Plans", "Capacity"):
        _assert_same_values(ours, theirs, name)
    assert len(openpyxl.load_workbook(xlsx)["Ranges"]._charts) == len(ours["Ranges"]._charts) >= 2


def test_plot_png_from_the_workbook(tmp_path):
    """--plot draws the Ranges of the written workbook as a PNG."""
    path = write_case(tmp_path / "p", two_regions(capex_b=40.0))
    png = tmp_path / "r.png"
    code, _lines, err = run_alt(
        path, "--slack", "0.1", "-o", str(tmp_path / "p.xlsx"), "--plot", str(png)
    )
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not math.isnan(png.stat().st_size)


def test_output_that_is_the_input_is_refused_before_solving(tmp_path):
    """-o naming the input itself is a command-line error (exit 2), checked before any solve."""
    path = write_case(tmp_path / "o", two_regions())
    code, lines, err = run_alt(path, "-o", str(path / "Regions.csv"))
    assert code == 2, err
    assert lines == []


def test_a_thread_count_after_a_default_run_is_skipped_not_fatal(tiny_path):
    """HiGHS fixes its thread pool at a process's first run: a study run with the default count and
    then a sweep worker's threads=1 must both solve (the second keeps the pool it finds)."""
    from optimizer.data_io import load_inputs
    from optimizer.model import build_model
    from optimizer.solve import SolveOptions, compile_model
    from optimizer.warm import WarmSolver

    sf = compile_model(build_model(load_inputs(tiny_path)))
    first = WarmSolver(SolveOptions(mip_gap=1e-9)).solve(sf)
    second = WarmSolver(SolveOptions(threads=1, mip_gap=1e-9)).solve(sf)
    assert first.status == second.status == "optimal"
    assert second.objective == pytest.approx(first.objective, rel=1e-9)


# ------------------------------------------------------------------------------------------------
# Warm or cold, per plan: the checks and the fallback
# ------------------------------------------------------------------------------------------------
def _tie_model(tmp_path: Path, slack: float = 0.0):
    """The exact tie of two regions (above) as a bounded MgaModel, the optimum known."""
    from optimizer.alternatives import MgaModel, measure_specs
    from optimizer.data_io import load_inputs
    from optimizer.model import build_model
    from optimizer.solve import SolveOptions

    data = load_inputs(write_case(tmp_path / "tie", two_regions()))
    specs, _ = measure_specs(data)
    opts = SolveOptions(duals=False, explain=False).merged(data.settings)
    mga = MgaModel(build_model(data, bet_mode="succeed"), specs, opts)
    opt = mga.solve_optimum()
    assert opt.status == "optimal" and opt.path == "cold"
    mga.set_bound(opt.cost_musd, slack)
    mga.known.append(opt.measures)
    return mga, opt


def test_each_check_names_what_is_wrong_with_a_plan(tmp_path):
    """The checks of a plan, one by one, on made-up results of the tie case at ε = 0.

    The optimum hosts all 1000 H100e in A. A "max hosted B" result claiming hosted B = 0 is
    beaten by a known plan (the min-hosted-A plan has hosted B = 1000, inside the bound); a result
    costing 1 % above C* is outside the bound ε = 0; a result that did not end optimal is not
    kept; the true max plan (hosted B = 1000 at cost C*) passes.
    """
    from dataclasses import replace

    from optimizer.alternatives import PlanSpec
    from optimizer.warm import PointResult

    mga, opt = _tie_model(tmp_path)
    lo_a = mga.solve_plan(PlanSpec("min hosted A", "min", "hosted A", (("hosted A", 1.0),)))
    assert lo_a.status == "optimal" and lo_a.measures["hosted B"] == pytest.approx(1000.0)
    assert lo_a.path == "warm" and lo_a.check == ""
    plan = PlanSpec("max hosted B", "max", "hosted B", (("hosted B", -1.0),))
    good = mga.solve_plan(plan)
    assert good.status == "optimal" and good.measures["hosted B"] == pytest.approx(1000.0)
    g = mga.objective(plan.weights)
    ok = PointResult("optimal", "optimal", float(g @ mga.solver.x), 0.0, 0.1, True)
    assert mga.check(plan, g, ok, good) == ""
    stale = replace(good, measures={**good.measures, "hosted B": 0.0})
    assert "a known plan inside the bound does better" in mga.check(plan, g, ok, stale)
    dear = replace(good, cost_musd=1.01 * C_51)
    assert "above the bound" in mga.check(plan, g, ok, dear)
    stopped = PointResult("no_solution", "time_limit", None, None, 0.1, True)
    assert mga.check(plan, g, stopped, good) == "ended no_solution (time_limit)"
    off = PointResult("optimal", "optimal", float(g @ mga.solver.x) + 5.0, 0.0, 0.1, True)
    assert "reported" in mga.check(plan, g, off, good)
    assert "another objective" in mga.check(plan, -g, ok, good)


def test_a_stale_warm_model_falls_back_to_a_cold_solve(tmp_path, monkeypatch):
    """A warm re-solve whose objective change never reached HiGHS is caught and solved cold.

    The tie case at ε = 0 (derivation above: every range spans the tie). The persistent model is
    made to miss every update (as when an in-place change goes unseen), so each warm re-solve
    solves the previous objective. Every warm plan must be found wanting by the checks, solved from
    scratch and reported with path "warm, then cold"; the ranges are the derived ones.
    """
    from optimizer.warm import WarmSolver

    monkeypatch.setattr(WarmSolver, "_update", lambda self, h, arr, offset: None)
    path = write_case(tmp_path / "tie", two_regions())
    out = tmp_path / "tie.xlsx"
    code, lines, err = run_alt(path, "--slack", "0", "-o", str(out))
    assert code == 0, err
    plans = lines[1:-1]
    assert {p["path"] for p in plans} == {"warm, then cold"}
    assert all("another objective" in p["check"] for p in plans)
    assert all(p["warm"] is False for p in plans)
    r = ranges_of(lines)
    assert r["hosted B"]["max"] == pytest.approx(1000.0, rel=1e-6)
    assert r["hosted A"]["min"] == pytest.approx(0.0, abs=1e-6)
    assert r["capital A"]["max"] == pytest.approx(20.0, rel=1e-6)
    assert lines[-1]["paths"] == {"warm": 0, "cold": 0, "warm, then cold": len(plans)}
    ws = openpyxl.load_workbook(out)["Plans"]
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    path_col, check_col = header.index("path"), header.index("check")
    assert rows[0][path_col] == "cold" and rows[0][check_col] is None  # the optimum
    assert {r[path_col] for r in rows[1:]} == {"warm, then cold"}
    run = {r[0]: r[1] for r in openpyxl.load_workbook(out)["Run"].iter_rows(values_only=True)}
    assert run["plans_warm_then_cold"] == len(plans) and run["plans_warm"] == 0


def test_a_warm_re_solve_that_stops_is_solved_cold(tmp_path, monkeypatch):
    """A warm re-solve that ends without a solution (a time limit, an interrupt) is not a failed
    plan: it is solved again from scratch. Here every second warm attempt is made to stop; the
    ranges are those of the ε = 0.1 case derived above, and the paths say which plans fell back."""
    from optimizer.warm import PointResult, WarmSolver

    real = WarmSolver.solve
    calls = {"n": 0}

    def flaky(self, sf, warm=True):
        if self.h is not None and warm:
            calls["n"] += 1
            if calls["n"] % 2:
                self.h, self._sig, self._x = None, None, None
                return PointResult("no_solution", "time_limit", None, None, 0.01, True)
        return real(self, sf, warm)

    monkeypatch.setattr(WarmSolver, "solve", flaky)
    path = write_case(tmp_path / "eps", two_regions(capex_b=40.0))
    code, lines, err = run_alt(path, "--slack", "0.1", "-o", str(tmp_path / "eps.xlsx"))
    assert code == 0, err
    plans = lines[1:-1]
    fell = [p for p in plans if p["path"] == "warm, then cold"]
    assert fell and all(p["check"] == "warm: ended no_solution (time_limit)" for p in fell)
    assert all(p["status"] == "optimal" for p in plans)
    moved = 0.1 * C_51 / (30.0 * crf(0.10, 20) / 1000.0)
    r = ranges_of(lines)
    assert r["hosted B"]["max"] == pytest.approx(moved, rel=1e-5)
    assert r["hosted A"]["min"] == pytest.approx(1000.0 - moved, rel=1e-5)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--slack", "nan"], "--slack nan: nan is not a finite number — a number between 0 and 10"),
        (["--slack", "inf"], "--slack inf: inf is not a finite number"),
        (["--slack", "11"], "--slack 11.0: 11 is above 10"),
        (["--slack", "-0.1"], "--slack -0.1: -0.1 is negative"),
        (["--time-limit", "nan"], "--time-limit nan: nan is not a finite number"),
        (["--time-limit", "-1"], "--time-limit -1.0: -1 is negative"),
        (["--threads", "0"], "--threads 0: 0 is below the minimum 1"),
    ],
)
def test_bad_options_exit_2_before_reading(tmp_path, args, expected):
    """Options are checked by the Settings sheet's own rules before anything is read or solved
    (the input is valid: only the option is wrong; no plan is printed, no workbook written)."""
    path = write_case(tmp_path / "o", two_regions())
    out = tmp_path / "o.xlsx"
    code, lines, err = run_alt(path, *args, "-o", str(out))
    assert code == 2, err
    assert expected in err
    assert lines == [] and not out.exists()


def test_settings_slack_above_the_limit_names_its_cell(tmp_path):
    """Settings mga_slack follows the same rule as --slack, with its cell."""
    case = two_regions()
    case["Settings"].append({"key": "mga_slack", "value": 20})
    code, lines, err = run_alt(write_case(tmp_path / "s", case), "-o", str(tmp_path / "s.xlsx"))
    assert code == 2, err
    assert "Settings!B" in err and "20 is above 10" in err


def test_a_warm_re_solve_over_its_budget_is_stopped_and_solved_cold(tmp_path):
    """With a warm budget of ~0 s a re-solve from a basis stops at its first look at the clock
    (one that needs no iteration ends optimal before, and is kept) and the plan is solved cold
    without that budget (the time limit of the study: none), so every plan is optimal with the
    derived values of the tie (hosted B from 0 to 1000 H100e at ε = 0)."""
    from optimizer.alternatives import extreme_plans

    mga, _opt = _tie_model(tmp_path)
    mga.warm_budget_s = 1e-9
    out = {p.name: mga.solve_plan(p) for p in extreme_plans(mga.measures)}
    fell = [r for r in out.values() if r.path == "warm, then cold"]
    assert fell and all(r.check.startswith("warm: ended") for r in fell)
    assert all(r.check == "" for r in out.values() if r.path == "warm")
    assert all(r.status == "optimal" for r in out.values())
    assert out["max hosted B"].measures["hosted B"] == pytest.approx(1000.0, rel=1e-6)
    assert out["min hosted B"].measures["hosted B"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("case", ["tie", "bet"])
def test_primal_re_solves_give_the_dual_ones_ranges(tmp_path, monkeypatch, case):
    """``warm_simplex="primal"`` re-solves each plan from the previous basis with the primal simplex
    (only the objective changed, so that basis is primal feasible) and ends at the same ranges.

    ``tie``: the exact tie at ε = 0.02 (an LP; every range spans the tie, derived above). ``bet``:
    the fusion MIP at ε = 1 % (the bet unfunded inside the bound, derived above), whose plan is
    enumerated when its relaxation funds a fraction: the assignments after the first move bounds,
    so they go back to the dual simplex. Every plan must stay warm, HiGHS must be asked for the
    primal simplex once per plan and for the dual right after, and the ranges must equal the dual
    re-solves' (1e-6).
    """
    import highspy

    from optimizer.alternatives import AltConfig, run_alternatives
    from optimizer.data_io import load_inputs

    path = write_case(tmp_path / case, two_regions() if case == "tie" else fusion_case())
    data = load_inputs(path)
    asked: list[int] = []
    original = highspy.Highs.setOptionValue

    def spy(self, name, value):
        if name == "simplex_strategy":
            asked.append(int(value))
        return original(self, name, value)

    monkeypatch.setattr(highspy.Highs, "setOptionValue", spy)
    ranges = {}
    for method in ("dual", "primal"):
        asked.clear()
        res = run_alternatives(
            data, AltConfig(slack=0.02 if case == "tie" else 0.01, warm_simplex=method)
        )
        assert all(p.status == "optimal" and p.path == "warm" for p in res.plans)
        ranges[method] = res.ranges().set_index("measure")[["min", "max"]]
        if method == "dual":
            assert 4 not in asked
        else:
            assert asked == [4, 1] * len(res.plans)
    for measure, row in ranges["dual"].iterrows():
        for col in ("min", "max"):
            a, b = row[col], ranges["primal"].loc[measure, col]
            if a is None or (isinstance(a, float) and math.isnan(a)):
                assert b is None or math.isnan(b)
            else:
                assert b == pytest.approx(a, rel=1e-6, abs=1e-6), (measure, col)


def test_benchmark_sets_each_plan_beside_its_own_cold_solve() -> None:
    """``benchmarks/alternatives.py --cold-plans --json`` on tiny: every timed plan is solved warm
    and again cold in a fresh HiGHS, the two optima of its measure agree, and the figures of the
    fair yardstick are printed (no time asserted: a smoke test of the benchmark's arithmetic)."""
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [
            sys.executable,
            str(root / "benchmarks" / "alternatives.py"),
            str(root / "tests" / "data" / "tiny"),
            "--plans",
            "3",
            "--skip",
            "1",
            "--cold-plans",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert [p["plan"] for p in out["plans"]] == ["max capital A", "min capital B", "max capital B"]
    assert all(p["optima_agree"] for p in out["plans"])
    assert all(p["cold_seconds"] > 0 for p in out["plans"])
    assert "warm_over_own_cold_median" in out
