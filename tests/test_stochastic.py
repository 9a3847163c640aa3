"""The two-stage stochastic plan for R&D bets (DESIGN §8, issue 8)."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.data_io import load_inputs
from optimizer.model import build_model
from optimizer.solve import SolveOptions, solve
from optimizer.stochastic import measures
from tests.test_cli import run

EXACT = SolveOptions(mip_gap=1e-9)


def write_bet_case(folder, rd_cost=0.3, probability=0.5, gas_usd=100.0, fusion_usd=0.0):
    """One region, years 2030–2031 (one year each, d = 0 so DF = DP = 1), one 8760 h slice.

    1000 chips (1 H100e, 1 kW, free) serve 1000 H100e of inference in 2031 only, so the load is 1 MW in
    2031 (pue 1). Gas costs ``gas_usd``/MWh with free capacity; fusion (free capacity, ``fusion_usd``/MWh,
    up to 1 MW built per year) becomes available in 2031 only if the bet, decided in 2030, is funded and
    succeeds. Data centers are free.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "Settings": "key,value\nbase_year,2030\ndiscount_rate,0\nlast_period_length,1\nbet_mode,stochastic\nmip_gap,1e-9\n",
        "Years": "year\n2030\n2031\n",
        "Regions": "region,pue\nR,1.0\n",
        "TimeSlices": "slice,day,hours\nh1,d1,8760\n",
        "Technologies": f"tech,class,life,variable_cost_usd\ngas,power,30,{gas_usd}\nfusion,power,30,{fusion_usd}\ndc,datacenter,20,0\n",
        "TechCosts": "tech,region,year,capex_musd,max_build\ngas,,,0,\nfusion,,,0,1\ndc,,,0,\n",
        "Accelerators": "year,h100e_per_chip,kw_per_chip,system_capex_usd,life\n2030,1,1,0,5\n",
        "Commodities": "commodity,year,external_price_usd\naccelerator,,0\n",
        "Demand": "region,segment,year,h100e\nR,inference,2030,0\nR,inference,2031,1000\n",
        "Bets": f"bet,tech,rd_cost_musd,decide_year,available_year,probability\nfusion_rd,fusion,{rd_cost},2030,2031,{probability}\n",
    }
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_hand_derived_bet(tmp_path):
    """Gas energy in 2031: 1 MW × 8760 h × $100 = 0.876 $M; fusion energy is free; R&D costs 0.3 $M.

    - succeed: fund (0.3 < 0.876) and use fusion → 0.3.
    - fail: never fund, burn gas → 0.876.
    - stochastic (p = 0.5): funding costs 0.3 and saves 0.876 with probability 0.5 (0.438 > 0.3), so fund:
      RP = 0.3 + 0.5·0 + 0.5·0.876 = 0.738.
    - wait-and-see: 0.3 if it succeeds, 0.876 if it fails → 0.588; EVPI = 0.738 − 0.588 = 0.15.
    - EV problem: fusion up to 0.5·1 MW if funded: fund (0.3 < 0.5·0.876) → same first stage as RP, so
      EEV = RP and VSS = 0.
    - worth of the bet: without it, 0.876; with it, 0.738 → 0.138.
    """
    case = write_bet_case(tmp_path / "case")
    gas = 8760 * 100 / 1e6
    p = run("solve", str(case), "--json", "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["objective_musd"] == pytest.approx(0.3 + 0.5 * gas, rel=1e-6)
    assert s["evpi_musd"] == pytest.approx(0.5 * 0.3, rel=1e-6)
    assert s["vss_musd"] == pytest.approx(0.0, abs=1e-9)
    assert s["cost_min_musd"] == pytest.approx(0.3, rel=1e-6)
    assert s["cost_max_musd"] == pytest.approx(0.3 + gas, rel=1e-6)
    for mode, expected in (("succeed", 0.3), ("fail", gas)):
        p = run(
            "solve", str(case), "--bet-mode", mode, "--json", "-o", str(tmp_path / f"{mode}.xlsx")
        )
        assert json.loads(p.stdout)["objective_musd"] == pytest.approx(expected, rel=1e-6)
    import openpyxl

    bets = list(openpyxl.load_workbook(tmp_path / "r.xlsx")["Bets"].iter_rows(values_only=True))
    header, row = bets[0], bets[2]  # bets[1] is the units row
    assert row[header.index("funded")] == 1
    assert row[header.index("worth_musd")] == pytest.approx(gas - (0.3 + 0.5 * gas), rel=1e-6)


def test_unfunded_when_too_dear(tmp_path):
    """R&D at 0.5 $M > 0.5 × 0.876 expected saving: the stochastic plan does not fund → 0.876."""
    case = write_bet_case(tmp_path / "case", rd_cost=0.5)
    s = solve(build_model(load_inputs(case)), EXACT)
    assert s.objective == pytest.approx(8760 * 100 / 1e6, rel=1e-6)
    assert s.model.scen["fusion_rd+"].v_fund["fusion_rd"].value == pytest.approx(0.0)


def _objectives(case):
    data = load_inputs(case)
    return {
        m: solve(build_model(data, bet_mode=m), EXACT).objective
        for m in ("succeed", "stochastic", "fail")
    }


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rd=st.floats(0.0, 2.0),
    p=st.floats(0.0, 1.0),
    gas=st.floats(10.0, 300.0),
    fusion=st.floats(0.0, 50.0),
)
def test_bracketing_and_measures_on_generated_cases(rd, p, gas, fusion, tmp_path_factory):
    """succeed ≤ stochastic ≤ fail; VSS ≥ 0 and EVPI ≥ 0 (to solver tolerance)."""
    case = write_bet_case(tmp_path_factory.mktemp("g") / "case", rd, round(p, 3), gas, fusion)
    o = _objectives(case)
    tol = 1e-7 * max(1.0, abs(o["fail"]))
    assert o["succeed"] <= o["stochastic"] + tol
    assert o["stochastic"] <= o["fail"] + tol
    data = load_inputs(case)
    sol = solve(build_model(data), EXACT)
    meas = measures(data, sol.objective, sol.model, EXACT)
    assert meas["vss_musd"] >= -tol and meas["evpi_musd"] >= -tol


@pytest.mark.parametrize("p, mode", [(1.0, "succeed"), (0.0, "fail")])
def test_certain_bets_equal_deterministic_modes(tiny_path, tmp_path, p, mode):
    """With every probability 1 (0), the stochastic plan is the succeed (fail) plan."""
    case = shutil.copytree(tiny_path, tmp_path / "case")
    f = case / "Bets.csv"
    f.write_text(f.read_text().replace(",0.5\n", f",{p}\n"))
    o = _objectives(case)
    assert o["stochastic"] == pytest.approx(o[mode], rel=1e-7)


def test_row_order_changes_nothing(tmp_path):
    a = write_bet_case(tmp_path / "a")
    b = write_bet_case(tmp_path / "b")
    t = (b / "Technologies.csv").read_text().splitlines()
    (b / "Technologies.csv").write_text("\n".join([t[0], *reversed(t[1:])]) + "\n")
    assert _objectives(a)["stochastic"] == pytest.approx(_objectives(b)["stochastic"], rel=1e-9)


@pytest.mark.parametrize("method", ["ef", "ph"])
def test_mpisppy_matches_the_extensive_form(tmp_path, method):
    """The same scenario creator under mpi-sppy: its EF, and PH's first stage evaluated exactly,
    both give the built-in extensive form's optimum (0.738 $M, derived in test_hand_derived_bet)."""
    case = write_bet_case(tmp_path / "case")
    p = run("solve", str(case), "--mpisppy", method, "--json", "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["mpisppy_objective_musd"] == pytest.approx(0.738, rel=1e-6)
    assert s["objective_musd"] == pytest.approx(0.738, rel=1e-6)
    if method == "ph":
        assert s["ph_lower_bound_musd"] <= 0.738 + 1e-9


def test_measures_can_be_skipped(tmp_path):
    """--no-measures solves only the extensive form: same objective, no VSS/EVPI in the Summary."""
    case = write_bet_case(tmp_path / "case")
    p = run("solve", str(case), "--no-measures", "--json", "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["objective_musd"] == pytest.approx(0.3 + 0.5 * 8760 * 100 / 1e6, rel=1e-6)
    assert "vss_musd" not in s and "evpi_musd" not in s
