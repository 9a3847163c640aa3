"""Hedging plans: one plan for uncertain futures, with risk aversion (DESIGN §8.1, issue 18)."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pyomo.environ as pyo
import pytest

from optimizer.data_io import InputError, load_inputs
from optimizer.model import build_model
from optimizer.solve import SolveOptions, solve
from optimizer.stochastic import cvar, first_stage_values, leaves, stage_year
from tests.test_cli import run

EXACT = SolveOptions(mip_gap=1e-9)


def write_chip_case(
    folder,
    outcomes: str = "outcome,probability,scenario\nlow,0.6,low\nhigh,0.4,high\n",
    cvar_weight: float = 0.0,
    cvar_alpha: float = 0.9,
    extra_settings: str = "",
    scenarios: str = (
        "scenario,sheet,where,column,op,value\n"
        "low,Demand,year=2031,h100e,set,600\n"
        "central,Demand,year=2031,h100e,set,1000\n"
        "high,Demand,year=2031,h100e,set,1400\n"
    ),
):
    """A newsvendor for chips: buy early and cheap, or late and dear, before demand is known.

    One region, years 2030–2031 (d = 0, so DF = 1 each), inference demand 0 in 2030 and D in 2031
    (D = 1000 in the base data; the Outcomes pick D by scenario). A chip is 1 H100e, 0 kW, no system
    capex, life 5: a chip deployed in 2030 serves 2031. The only cost is the chip's external price:
    $1000 in 2030 and $3000 in 2031, i.e. 0.001 and 0.003 $M a chip; unserved compute costs $5000.
    stage_year 2031: the 2030 deployment x is the first stage, shared by every future; in 2031
    each future buys what is missing at 0.003. A leaf's cost is ``0.001·x + 0.003·max(D − x, 0)``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "Settings": "key,value\nbase_year,2030\ndiscount_rate,0\nlast_period_length,1\n"
        "bet_mode,stochastic\nmip_gap,1e-9\nunserved_penalty_usd,5000\nstage_year,2031\n"
        f"cvar_weight,{cvar_weight}\ncvar_alpha,{cvar_alpha}\n{extra_settings}",
        "Years": "year\n2030\n2031\n",
        "Regions": "region,pue\nR,1.0\n",
        "TimeSlices": "slice,day,hours\nh1,d1,8760\n",
        "Technologies": "tech,class,life\ndc,datacenter,20\n",
        "TechCosts": "tech,region,year,capex_musd\ndc,,,0\n",
        "Accelerators": "year,h100e_per_chip,kw_per_chip,system_capex_usd,life\n2030,1,0,0,5\n",
        "Commodities": "commodity,year,external_price_usd\naccelerator,2030,1000\n"
        "accelerator,2031,3000\n",
        "Demand": "region,segment,year,h100e\nR,inference,2030,0\nR,inference,2031,1000\n",
        "Scenarios": scenarios,
        "Outcomes": outcomes,
    }
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def deployed_2030(model) -> float:
    """x: chips deployed in 2030 (a first-stage value, equal in every leaf)."""
    fs = first_stage_values(model)
    return sum(v for (name, idx), v in fs.items() if name == "v_deploy" and idx[1] == 2030)


def test_two_outcome_demand_hedge(tmp_path):
    """Two futures: D = 600 (p 0.6) or D = 1400 (p 0.4); first stage x = chips bought in 2030.

    Cost of a leaf: 0.001·x + 0.003·max(D − x, 0). E[cost] is piecewise linear in x with slopes
    0.001 − 0.003·P(D > x): below 600 that is 0.001 − 0.003 = −0.002; between 600 and 1400 it is
    0.001 − 0.4·0.003 = −0.0002 (a chip bought early for the high future saves 0.003 with
    probability 0.4 = 0.0012 > its 0.001); above 1400 +0.001. So the hedge buys x* = 1400 now —
    neither the low future's 600 nor the mean future's 920.

    - RP = 0.001·1400 = 1.4 $M in both leaves (min = max = 1.4).
    - EV (mean demand 0.6·600 + 0.4·1400 = 920): x = 920. EEV = 0.92 + 0.4·0.003·480 = 1.496;
      VSS = 1.496 − 1.4 = 0.096.
    - WS: 0.6 (low) and 1.4 (high): 0.6·0.6 + 0.4·1.4 = 0.92; EVPI = 1.4 − 0.92 = 0.48.
    """
    case = write_chip_case(tmp_path / "case")
    data = load_inputs(case)
    assert [lf.name for lf in leaves(data)] == ["low", "high"]
    assert stage_year(data) == 2031
    sol = solve(build_model(data), EXACT)
    assert sol.status == "optimal"
    assert deployed_2030(sol.model) == pytest.approx(1400, rel=1e-6)
    assert sol.objective == pytest.approx(1.4, rel=1e-6)

    out = tmp_path / "r.xlsx"
    p = run("solve", str(case), "--json", "-o", str(out))
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["objective_musd"] == pytest.approx(1.4, rel=1e-6)
    assert s["expected_cost_musd"] == pytest.approx(1.4, rel=1e-6)
    assert s["cost_musd[low]"] == pytest.approx(1.4, rel=1e-6)
    assert s["cost_musd[high]"] == pytest.approx(1.4, rel=1e-6)
    assert s["probability[low]"] == pytest.approx(0.6)
    assert s["cost_min_musd"] == pytest.approx(1.4, rel=1e-6)
    assert s["cost_max_musd"] == pytest.approx(1.4, rel=1e-6)
    assert s["cvar_musd"] == pytest.approx(1.4, rel=1e-6)
    assert s["vss_musd"] == pytest.approx(0.096, rel=1e-6)
    assert s["evpi_musd"] == pytest.approx(0.48, rel=1e-6)
    fs = list(openpyxl.load_workbook(out)["FirstStage"].iter_rows(values_only=True))
    head = fs[0]
    assert head[:7] == ("kind", "tech", "region", "partner", "year", "value", "unit")
    deploy = [r for r in fs[1:] if r[0] == "deploy"]
    assert len(deploy) == 1 and deploy[0][4] == 2030
    assert deploy[0][5] == pytest.approx(1400, rel=1e-6)


@pytest.mark.parametrize(
    ("beta", "x_star", "objective"),
    [(0.0, 1000, 1.36), (0.02, 1000, 1.36 + 0.02 * 2.2), (0.1, 1400, 1.4 + 0.1 * 1.4)],
)
def test_cvar_moves_first_stage_toward_bad_outcome(tmp_path, beta, x_star, objective):
    """Three futures D = 600, 1000, 1400 (p 0.3, 0.4, 0.3), α = 0.7: the tail is the worst 30 %.

    Risk-neutral: slopes of E[cost] are 0.001 − 0.003·P(D > x): −0.0011 on (600, 1000) (P = 0.7)
    and +0.0001 on (1000, 1400) (P = 0.3), so x* = 1000 and E = 1.0 + 0.3·0.003·400 = 1.36.

    CVaR_0.7: for x < 1400 the high future is the most costly and holds exactly the tail's 0.3 of
    probability, so CVaR = cost_high = 0.001·x + 0.003·(1400 − x), slope −0.002. The objective
    E + β·CVaR has slope 0.0001 − 0.002·β on (1000, 1400): β* = 0.05. Below it x* stays 1000
    (β = 0.02: 1.36 + 0.02·(1.0 + 1.2) = 1.404); above it the plan moves 400 chips toward the bad
    future, x* = 1400 (β = 0.1: every leaf costs 1.4, CVaR = 1.4, objective 1.4 + 0.14 = 1.54).
    """
    outcomes = "outcome,probability,scenario\nlow,0.3,low\ncentral,0.4,central\nhigh,0.3,high\n"
    case = write_chip_case(tmp_path / "c", outcomes, cvar_weight=beta, cvar_alpha=0.7)
    sol = solve(build_model(load_inputs(case)), EXACT)
    assert sol.status == "optimal"
    assert deployed_2030(sol.model) == pytest.approx(x_star, rel=1e-6)
    assert sol.objective == pytest.approx(objective, rel=1e-6)


def test_cvar_of_a_discrete_distribution():
    """CVaR_α averages the worst 1 − α of probability: costs 1, 2, 10 with p 0.5, 0.3, 0.2.

    α = 0.8: the tail 0.2 is the cost 10 alone → 10. α = 0.5: the worst 0.5 is 10 (0.2) and 2
    (0.3) → (2 + 0.6)/0.5 = 5.2. α = 0: the mean 0.5 + 0.6 + 2 = 3.1. α = 0.9: half of the
    10-leaf's probability → 10.
    """
    c, p = [1.0, 2.0, 10.0], [0.5, 0.3, 0.2]
    assert cvar(c, p, 0.8) == pytest.approx(10.0)
    assert cvar(c, p, 0.5) == pytest.approx(5.2)
    assert cvar(c, p, 0.0) == pytest.approx(3.1)
    assert cvar(c, p, 0.9) == pytest.approx(10.0)


def write_grid_case(folder):
    """Two futures (p 0.5 each): A has a grid (10 MW at $10/MWh), B has none (Regions grid_max_mw
    set to 0), so B's model has no grid variables at all. Load 1 MW flat in 2030 and 2031 (an
    existing fleet of 1000 H100e at 1000 kW, pue 1, serving demand of 1000); gas costs $100/MWh
    with free capacity; data centers are free. stage_year 2031.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "Settings": "key,value\nbase_year,2030\ndiscount_rate,0\nlast_period_length,1\n"
        "bet_mode,stochastic\nmip_gap,1e-9\nstage_year,2031\n",
        "Years": "year\n2030\n2031\n",
        "Regions": "region,pue,grid_max_mw,grid_price_usd\nR,1.0,10,10\n",
        "TimeSlices": "slice,day,hours\nh1,d1,8760\n",
        "Technologies": "tech,class,life,variable_cost_usd\ngas,power,30,100\ndc,datacenter,20,0\n",
        "TechCosts": "tech,region,year,capex_musd\ngas,,,0\ndc,,,0\n",
        "ExistingFleet": "region,h100e,kw_it\nR,1000,1000\n",
        "Accelerators": "year,h100e_per_chip,kw_per_chip,system_capex_usd,life\n2030,1,1,0,5\n",
        "Commodities": "commodity,year,external_price_usd\naccelerator,,0\n",
        "Demand": "region,segment,year,h100e\nR,inference,2030,1000\nR,inference,2031,1000\n",
        "Scenarios": "scenario,sheet,where,column,op,value\nno_grid,Regions,region=R,grid_max_mw,set,0\n",
        "Outcomes": "outcome,probability,scenario\nA,0.5,\nB,0.5,no_grid\n",
    }
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_first_stage_variable_missing_from_a_leaf_is_zero_everywhere(tmp_path):
    """grid[R,2030,h1] is first-stage (2030 < 2031) and exists in A only, so it is 0 in A too.

    2030: 1 MW from gas in both leaves, 8760·100/1e6 = 0.876 $M. 2031 (second stage): A imports at
    $10 (0.0876), B burns gas (0.876). RP = 0.876 + 0.5·0.0876 + 0.5·0.876 = 1.3578.
    (Were the grid left free in A's 2030, A would import then too: 0.5·(0.0876 + 0.0876) +
    0.5·(0.876 + 0.876) = 0.9636 — the plan would depend on knowing the future.)
    """
    case = write_grid_case(tmp_path / "g")
    sol = solve(build_model(load_inputs(case)), EXACT)
    assert sol.status == "optimal"
    m = sol.model
    assert ("v_grid", ("R", 2030, "h1")) in m.absent_first_stage
    assert m.scen["A"].v_grid["R", 2030, "h1"].value == pytest.approx(0.0, abs=1e-9)
    assert m.scen["A"].v_grid["R", 2031, "h1"].value == pytest.approx(1.0, rel=1e-6)
    assert sol.objective == pytest.approx(0.876 + 0.5 * 0.0876 + 0.5 * 0.876, rel=1e-6)


# --- validation ---------------------------------------------------------------------------------


def _problems(case) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_inputs(case)
    return [str(p) for p in exc.value.problems]


def test_probability_outside_0_1(tmp_path):
    """A probability of 1.2 is outside 0..1 and named at its cell."""
    case = write_chip_case(
        tmp_path / "c", "outcome,probability,scenario\nlow,1.2,low\nhigh,-0.2,high\n"
    )
    msgs = _problems(case)
    assert any(m.startswith("Outcomes!B2") for m in msgs), msgs
    assert any(m.startswith("Outcomes!B3") for m in msgs), msgs


def test_probabilities_not_summing_to_one(tmp_path):
    """0.6 + 0.5 = 1.1: the whole probability column is named; 1 ± 1e-7 is accepted."""
    case = write_chip_case(
        tmp_path / "c", "outcome,probability,scenario\nlow,0.6,low\nhigh,0.5,high\n"
    )
    msgs = _problems(case)
    assert any("Outcomes!B2:B3" in m and "sum to 1.1" in m for m in msgs), msgs
    ok = write_chip_case(
        tmp_path / "ok", "outcome,probability,scenario\nlow,0.6,low\nhigh,0.4000001,high\n"
    )
    assert len(load_inputs(ok).outcomes) == 2


def test_unknown_scenario_and_bad_stage_year(tmp_path):
    """An Outcomes scenario not in Scenarios, a stage_year that is not a model year, cvar_alpha 1."""
    case = write_chip_case(
        tmp_path / "c",
        "outcome,probability,scenario\nlow,0.6,lowww\nhigh,0.4,high\n",
        cvar_alpha=1.0,
    )
    settings = (case / "Settings.csv").read_text().replace("stage_year,2031", "stage_year,2035")
    (case / "Settings.csv").write_text(settings)
    msgs = _problems(case)
    assert any(m.startswith("Outcomes!C2") and "unknown scenario 'lowww'" in m for m in msgs), msgs
    assert any("stage_year 2035 is not a model year" in m for m in msgs), msgs
    assert any("cvar_alpha 1" in m for m in msgs), msgs


def test_invalid_future_named(tmp_path):
    """A scenario that breaks the data (a negative demand) is reported with its outcome."""
    scen = (
        "scenario,sheet,where,column,op,value\nlow,Demand,year=2031,h100e,set,-5\n"
        "high,Demand,year=2031,h100e,set,1400\n"
    )
    case = write_chip_case(tmp_path / "c", scenarios=scen)
    msgs = _problems(case)
    assert any("(in outcome low, scenario low)" in m for m in msgs), msgs


def test_tree_too_large_refused_at_once(tmp_path):
    """20 bets × 2 futures = 2,097,152 copies: refused by validate and solve before any build,
    naming the copies and the one limit (256 copies, shared with the reliability checks)."""
    case = write_chip_case(tmp_path / "c")
    (case / "Technologies.csv").write_text(
        "tech,class,life\ndc,datacenter,20\n" + "".join(f"f{i},power,30\n" for i in range(20))
    )
    (case / "TechCosts.csv").write_text(
        "tech,region,year,capex_musd,max_build\ndc,,,0,\n"
        + "".join(f"f{i},,,1,1\n" for i in range(20))
    )
    (case / "Bets.csv").write_text(
        "bet,tech,rd_cost_musd,decide_year,available_year,probability\n"
        + "".join(f"b{i},f{i},1,2030,2031,0.5\n" for i in range(20))
    )
    p = run("validate", str(case))
    assert p.returncode == 2
    assert "2,097,152 copies" in p.stderr and "at most 256 copies" in p.stderr, p.stderr
    # and the variables they would hold, to judge memory: one copy is the plan with every bet
    # succeeding (built here on its own, as bet_mode succeed without the Outcomes sheet)
    one = tmp_path / "one"
    shutil.copytree(case, one)
    (one / "Outcomes.csv").unlink()
    settings = (one / "Settings.csv").read_text().replace("bet_mode,stochastic", "bet_mode,succeed")
    (one / "Settings.csv").write_text(settings)
    model = build_model(load_inputs(one))
    n = sum(len(v) for v in model.component_objects(pyo.Var, descend_into=True))
    assert n > 20  # a build of each of the 20 bet techs at least
    want = f"about {n:,} variables each: ~{2_097_152 * n:,} variables in the extensive form"
    assert want in p.stderr, p.stderr
    p = run("solve", str(case), "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 2
    assert "2,097,152 copies" in p.stderr and want in p.stderr, p.stderr
    p = run("solve", str(one), "--bet-mode", "stochastic", "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 2  # the --bet-mode guard: 2^20 copies of the base future
    assert f"~{1_048_576 * n:,} variables" in p.stderr, p.stderr
    with pytest.raises(InputError, match="2,097,152 copies"):
        load_inputs(case)


def test_outcomes_ignored_outside_stochastic_mode(tmp_path):
    """bet_mode succeed plans for the base data (D = 1000 bought in 2030: 1.0 $M) and says so.

    An Outcomes sheet beside bet_mode succeed is how the shipped base is meant (its futures wait
    for ``--bet-mode stochastic``), so the run prints an ``info:`` line, never a ``warning:``, and
    records it in the Run sheet as ``input_notes``; with ``--bet-mode stochastic`` the line, which
    suggests exactly that, is not printed.
    """
    case = write_chip_case(tmp_path / "c")
    p = run("solve", str(case), "--bet-mode", "succeed", "--json", "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["objective_musd"] == pytest.approx(1.0, rel=1e-6)
    settings = (case / "Settings.csv").read_text().replace("stochastic", "succeed")
    (case / "Settings.csv").write_text(settings)
    data = load_inputs(case)
    assert any("Outcomes sheet is used only" in n for n in data.notes)
    assert not any("Outcomes sheet" in w for w in data.warnings)
    out = tmp_path / "plain.xlsx"
    p = run("solve", str(case), "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert "info: the Outcomes sheet is used only with bet_mode stochastic" in p.stderr, p.stderr
    assert "warning:" not in p.stderr, p.stderr
    wb = openpyxl.load_workbook(out, read_only=True)
    info = {r[0]: r[1] for r in wb["Run"].iter_rows(min_row=2, values_only=True)}
    wb.close()
    assert "Outcomes sheet is used only" in info["input_notes"]
    assert "input_warnings" not in info
    p = run("validate", str(case))
    assert p.returncode == 0, p.stderr
    assert "info: the Outcomes sheet is used only" in p.stderr and "warning:" not in p.stderr
    p = run("solve", str(case), "--bet-mode", "stochastic", "--no-measures", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert "Outcomes sheet" not in p.stderr, p.stderr


def test_compare_hedged_against_central_plan(tmp_path):
    """compare sets the hedged first stage (1400 chips in 2030, from the two-outcome case) beside
    the central plan's (bet_mode succeed plans for the base demand of 1000: 1000 chips in 2030),
    and reads the hedge's Summary metrics; expectations, not sums over leaves."""
    case = write_chip_case(tmp_path / "c")
    hedged, central = tmp_path / "hedged.xlsx", tmp_path / "central.xlsx"
    assert run("solve", str(case), "--no-measures", "-o", str(hedged)).returncode == 0
    p = run("solve", str(case), "--bet-mode", "succeed", "-o", str(central))
    assert p.returncode == 0, p.stderr
    out = tmp_path / "cmp.xlsx"
    p = run("compare", str(central), str(hedged), "-o", str(out))
    assert p.returncode == 0, p.stderr
    wb = openpyxl.load_workbook(out)
    rows = list(wb["FirstStage"].iter_rows(values_only=True))
    head = rows[0]
    deploy = [r for r in rows[1:] if r[0] == "deploy" and r[3] == 2030]
    assert len(deploy) == 1
    assert deploy[0][head.index("central")] == pytest.approx(1000, rel=1e-6)
    assert deploy[0][head.index("hedged")] == pytest.approx(1400, rel=1e-6)
    summary = {r[0]: r for r in wb["Summary"].iter_rows(values_only=True)}
    assert summary["expected_cost_musd"][2] == pytest.approx(1.4, rel=1e-6)
    assert summary["stage_year"][2] == 2031


def test_impossible_leaves_are_not_built(tmp_path):
    """A future of probability 0 and the success of a bet of probability 0 are not leaves.

    The two-outcome chip case plus a third future 'central' of probability 0 and an R&D bet b0 of
    probability 0 on a power tech nobody needs: 3 futures × 2 bet outcomes = 6 combinations, of
    which 2 can happen (low and high, b0 failing). The plan is the two-outcome hedge (1400 chips,
    1.4 $M: test_two_outcome_demand_hedge) and b0 is not funded (its R&D costs 1 and buys nothing).
    The same tree comes from `--change 'Bets.probability set 0'` on a bet of probability 0.5.
    """
    outcomes = "outcome,probability,scenario\nlow,0.6,low\ncentral,0,central\nhigh,0.4,high\n"
    case = write_chip_case(tmp_path / "c", outcomes)
    (case / "Technologies.csv").write_text("tech,class,life\ndc,datacenter,20\nf0,power,30\n")
    (case / "TechCosts.csv").write_text(
        "tech,region,year,capex_musd,max_build\ndc,,,0,\nf0,,,1,1\n"
    )
    bets = "bet,tech,rd_cost_musd,decide_year,available_year,probability\nb0,f0,1,2030,2031,{p}\n"
    (case / "Bets.csv").write_text(bets.format(p=0))
    data = load_inputs(case)
    assert [(lf.name, lf.probability) for lf in leaves(data)] == [
        ("low/b0-", 0.6),
        ("high/b0-", 0.4),
    ]
    sol = solve(build_model(data), EXACT)
    assert sol.status == "optimal"
    assert deployed_2030(sol.model) == pytest.approx(1400, rel=1e-6)
    assert sol.objective == pytest.approx(1.4, rel=1e-6)
    assert first_stage_values(sol.model)[("v_fund", "b0")] == pytest.approx(0.0, abs=1e-9)

    (case / "Bets.csv").write_text(bets.format(p=0.5))
    assert len(leaves(load_inputs(case))) == 4
    p = run(
        "solve", str(case), "--change", "Bets.probability set 0", "--no-measures", "--json",
        "-o", str(tmp_path / "r.xlsx"),
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["objective_musd"] == pytest.approx(1.4, rel=1e-6)
    assert sorted(k for k in s if k.startswith("probability[")) == [
        "probability[high/b0-]",
        "probability[low/b0-]",
    ]


def _ph(case, out, *opts: str) -> dict:
    p = run("solve", str(case), "--mpisppy", "ph", *opts, "--no-measures", "--json", "-o", str(out))
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    # the closing note is the Summary's reason, not "stopped before proving optimality (optimal)"
    assert f"note: {s['message']}" in p.stderr
    return s


def test_ph_reports_its_iteration_limit_bound_and_gap(tmp_path):
    """PH stopped after one pass over the leaves is reported as feasible, not optimal.

    The two-outcome chip case (test_two_outcome_demand_hedge). PH's iteration 0 solves each leaf on
    its own: low buys 600 in 2030 (0.6 $M), high 1400 (1.4 $M); its lower bound is their expectation
    0.6·0.6 + 0.4·1.4 = 0.92 (the wait-and-see value) and its first stage their mean x = 920. With
    an iteration limit of 1 that is the plan; evaluated exactly it costs the EEV of 1.496 $M, so
    the gap to the bound is (1.496 − 0.92)/1.496 = 0.38503. The optimum 1.4 lies in between.
    """
    case = write_chip_case(tmp_path / "c")
    s = _ph(case, tmp_path / "r.xlsx", "--ph-iterations", "1", "--ph-rho", "0.5")
    assert s["mpisppy_status"] == "iteration_limit"
    assert s["status"] == "feasible"
    assert "iteration limit (1)" in s["message"] and "38.50%" in s["message"]
    assert s["ph_iteration_limit"] == 1 and s["ph_rho"] == 0.5
    assert s["ph_lower_bound_musd"] == pytest.approx(0.92, rel=1e-6)
    assert s["objective_musd"] == pytest.approx(1.496, rel=1e-6)
    assert s["mpisppy_objective_musd"] == pytest.approx(1.496, rel=1e-6)
    assert s["ph_gap"] == pytest.approx((1.496 - 0.92) / 1.496, rel=1e-6)
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    deploy = [r for r in wb["FirstStage"].iter_rows(values_only=True) if r[0] == "deploy"]
    assert deploy[0][5] == pytest.approx(920, rel=1e-6)


def test_ph_converged_is_not_called_optimal_without_a_bound(tmp_path):
    """PH whose iterates agree has converged, but that does not make its plan optimal.

    The same case with a small rho: PH converges (its metric below --ph-convthresh) to a first
    stage whose exact cost is at least the optimum 1.4 $M, while its bound stays at 0.92 — far
    more than the MIP gap apart, so the Summary says feasible and why, not optimal.
    """
    case = write_chip_case(tmp_path / "c")
    s = _ph(
        case, tmp_path / "r.xlsx", "--ph-iterations", "400", "--ph-rho", "0.001",
        "--ph-convthresh", "1e-6",
    )  # fmt: skip
    assert s["mpisppy_status"] == "converged"
    assert s["ph_iterations"] < 400 and s["ph_convthresh"] == 1e-6 and s["ph_conv"] < 1e-6
    assert s["objective_musd"] >= 1.4 - 1e-9
    assert s["ph_lower_bound_musd"] == pytest.approx(0.92, rel=1e-6)
    assert s["ph_gap"] == pytest.approx(1 - 0.92 / s["objective_musd"], rel=1e-6)
    assert s["status"] == "feasible"
    assert "converged, but its bound does not prove the plan optimal" in s["message"]


def test_futures_of_different_size_share_one_model_unit(tmp_path):
    """Ties count the same chips in every leaf, whatever each future's demand.

    The chip case with low D = 600 (p 0.6) and high D = 14,000 (p 0.4). Each model alone counts
    chips in units of a power of ten bringing its peak demand near 1e3: 1 for low, 10 for high, so
    the leaves must share one unit. By hand: E[cost] has slope −0.002 below 600, then
    0.001 − 0.4·0.003 = −0.0002 up to 14,000, then +0.001: buy x* = 14,000 in 2030, every leaf
    costs 14 $M. (With a unit per leaf, x_low = x_high ties 1 chip of the low leaf to 10 of the
    high one.)
    """
    scen = (
        "scenario,sheet,where,column,op,value\nlow,Demand,year=2031,h100e,set,600\n"
        "high,Demand,year=2031,h100e,set,14000\n"
    )
    case = write_chip_case(tmp_path / "c", scenarios=scen)
    data = load_inputs(case)
    sol = solve(build_model(data), EXACT)
    assert sol.status == "optimal"
    assert deployed_2030(sol.model) * sol.model.scen["low"].derived.unit == pytest.approx(14000)
    assert {sol.model.scen[n].derived.unit for n in sol.model.OUTCOMES} == {10.0}
    assert sol.objective == pytest.approx(14.0, rel=1e-6)
    p = run("solve", str(case), "--json", "-o", str(tmp_path / "r.xlsx"))
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["cost_musd[low]"] == pytest.approx(14.0, rel=1e-6)
    assert s["cost_musd[high]"] == pytest.approx(14.0, rel=1e-6)
    # EV: mean demand 0.6·600 + 0.4·14,000 = 5,960 bought early; EEV = 5.96 + 0.4·0.003·8,040
    assert s["vss_musd"] == pytest.approx(5.96 + 0.4 * 0.003 * 8040 - 14.0, rel=1e-6)
    fs = openpyxl.load_workbook(tmp_path / "r.xlsx")["FirstStage"]
    deploy = [r for r in fs.iter_rows(values_only=True) if r[0] == "deploy"]
    assert deploy[0][5] == pytest.approx(14000, rel=1e-6)


def test_compare_reads_a_first_stage_sheet_with_its_chart_pivot(tmp_path):
    """A FirstStage sheet with capital carries a pivot for its chart to the right of the table (a
    blank column, then region and first-stage capital): compare reads the table alone. The base's
    hedged plan has one; before, compare failed on the repeated region column."""
    case = write_chip_case(tmp_path / "c")
    hedged, central = tmp_path / "hedged.xlsx", tmp_path / "central.xlsx"
    assert run("solve", str(case), "--no-measures", "-o", str(hedged)).returncode == 0
    assert run("solve", str(case), "--bet-mode", "succeed", "-o", str(central)).returncode == 0
    wb = openpyxl.load_workbook(hedged)
    ws = wb["FirstStage"]
    col = ws.max_column + 2
    ws.cell(1, col, "region")
    ws.cell(1, col + 1, "first-stage capital ($M)")
    ws.cell(2, col, "R")
    ws.cell(2, col + 1, 1.4)
    wb.save(hedged)
    out = tmp_path / "cmp.xlsx"
    p = run("compare", str(central), str(hedged), "-o", str(out))
    assert p.returncode == 0, p.stderr
    rows = list(openpyxl.load_workbook(out)["FirstStage"].iter_rows(values_only=True))
    head = rows[0]
    deploy = [r for r in rows[1:] if r[0] == "deploy" and r[3] == 2030]
    assert deploy[0][head.index("hedged")] == pytest.approx(1400, rel=1e-6)
    assert deploy[0][head.index("central")] == pytest.approx(1000, rel=1e-6)


def test_compare_shows_what_progressive_hedging_reported(tmp_path):
    """compare's Summary carries a PH run's mpisppy_*/ph_* metrics beside a run without them.

    The two runs of the two-outcome chip case: the extensive form (optimum 1.4 $M) and PH stopped
    after one pass (test_ph_reports_its_iteration_limit_bound_and_gap: bound 0.92, plan 1.496 $M,
    gap 0.38503, limit 1, rho 0.5). Every metric of MpiSppyResult.summary has its row.
    """
    case = write_chip_case(tmp_path / "c")
    ef, ph = tmp_path / "ef.xlsx", tmp_path / "ph.xlsx"
    assert run("solve", str(case), "--no-measures", "-o", str(ef)).returncode == 0
    _ph(case, ph, "--ph-iterations", "1", "--ph-rho", "0.5")
    out = tmp_path / "cmp.xlsx"
    p = run("compare", str(ef), str(ph), "-o", str(out))
    assert p.returncode == 0, p.stderr
    rows = {r[0]: r[1:] for r in openpyxl.load_workbook(out)["Summary"].iter_rows(values_only=True)}
    head = rows["metric"]
    assert head[:3] == ("ef", "ph", "ph − ef")
    assert rows["mpisppy_method"][:2] == (None, "ph")
    assert rows["mpisppy_status"][:2] == (None, "iteration_limit")
    assert rows["ph_lower_bound_musd"][1] == pytest.approx(0.92, rel=1e-6)
    assert rows["ph_gap"][1] == pytest.approx((1.496 - 0.92) / 1.496, rel=1e-6)
    assert rows["ph_iteration_limit"][1] == 1 and rows["ph_rho"][1] == 0.5
    assert rows["ph_gap"][0] is None and rows["ph_gap"][2] is None
    assert rows["objective_musd"][2] == pytest.approx(1.496 - 1.4, rel=1e-6)
    from optimizer.compare import MPISPPY_METRICS, MPISPPY_TEXT_METRICS
    from optimizer.mpisppy_bridge import MpiSppyResult, PHOptions

    keys = MpiSppyResult("ph", 1.0, {}, 0.5, 1, False, 1.0, PHOptions()).summary()
    assert set(keys) == set(MPISPPY_TEXT_METRICS) | set(MPISPPY_METRICS)


@pytest.mark.parametrize("status", ["feasible", "no_solution"])
def test_evpi_is_not_made_from_an_unsolved_leaf(tmp_path, monkeypatch, status):
    """A wait-and-see leaf stopped before its optimum (its time limit) gives no EVPI, and says why.

    The two-outcome chip case: WS is low 0.6 $M and high 1.4 $M (test_two_outcome_demand_hedge).
    Before, a leaf without a solution counted as 0 $M (EVPI 0.56 too large, unsaid) and a stopped
    one as its upper bound.
    """
    import importlib

    from optimizer.stochastic import measures

    case = write_chip_case(tmp_path / "c")
    data = load_inputs(case)
    model = build_model(data)
    rp = solve(model, SolveOptions(threads=1))
    solve_mod = importlib.import_module("optimizer.solve")
    real = solve_mod.solve

    def stopped_high(m, options=None, *args, **kwargs):
        sol = real(m, options, *args, **kwargs)
        if m.name == "ws_high":
            sol.status = status  # as HiGHS leaves a leaf stopped by its time limit
            sol.objective = sol.objective if status == "feasible" else None
        return sol

    monkeypatch.setattr(solve_mod, "solve", stopped_high)
    meas = measures(data, rp.objective, model, SolveOptions(threads=1))
    assert meas["ws_musd[low]"] == pytest.approx(0.6, rel=1e-6)
    assert meas["ws_musd[high]"] is None
    assert meas["evpi_musd"] is None and meas["ws_expected_musd"] is None
    assert meas["evpi_note"] == f"wait-and-see not solved to optimality for high ({status})"


def test_base_futures_carry_demand_and_efficiency():
    """The shipped base's low and high futures change demand and chip energy efficiency from 2028.

    REPORT §7.5 (shared/data) builds each demand case as IT GW × fleet H100e per MW IT, the latter
    from 800 in 2025 growing +30 %/yr to 2030 then +20 %/yr (central), +25/+15 (low), +35/+25
    (high). So that each future's chips draw the power of its own case, the H100e per kW of new
    chips (h100e_per_chip / kw_per_chip) is the central one × the ratio of the future's path to
    the central path: for 2030 (1.25/1.30)^5 = 0.82194 (low), (1.35/1.30)^5 = 1.20778 (high); for
    2040 also × (1.15/1.20)^10 = 0.65303 (low) and (1.25/1.20)^10 = 1.50375 (high). Chips of
    2026–27 are the same in every future (decided before stage_year 2028), and so is their
    compute per chip; demand keeps its factors (low × 0.4484, high × 2.7444 in 2030).
    """
    from tests.conftest import ROOT

    data = load_inputs(ROOT / "inputs" / "base")
    assert stage_year(data) == 2028
    futures = {lf.future: lf.data for lf in leaves(data) if all(not ok for ok in lf.bets.values())}
    central = futures["central"].accelerators

    def per_kw(acc, y):
        return acc.at[y, "h100e_per_chip"] / acc.at[y, "kw_per_chip"]

    want = {
        "low": {2030: (1.25 / 1.30) ** 5, 2040: (1.25 / 1.30) ** 5 * (1.15 / 1.20) ** 10},
        "high": {2030: (1.35 / 1.30) ** 5, 2040: (1.35 / 1.30) ** 5 * (1.25 / 1.20) ** 10},
    }
    for name, by_year in want.items():
        acc = futures[name].accelerators
        for y, ratio in by_year.items():
            assert per_kw(acc, y) / per_kw(central, y) == pytest.approx(ratio, rel=1e-3), (name, y)
        for y in (2026, 2027):
            assert acc.at[y, "kw_per_chip"] == central.at[y, "kw_per_chip"]
        assert (acc["h100e_per_chip"] == central["h100e_per_chip"]).all()
    d = {k: sum(v for (r, s, y), v in f.demand.items() if y == 2030) for k, f in futures.items()}
    assert d["low"] / d["central"] == pytest.approx(0.4484, rel=1e-3)
    assert d["high"] / d["central"] == pytest.approx(2.7444, rel=1e-3)


def test_ph_stops_at_the_time_limit(tmp_path):
    """PH under a time limit already spent stops after its first iteration and says so.

    The converging case of test_ph_converged_is_not_called_optimal_without_a_bound (rho 0.001,
    up to 400 iterations) with a limit of 1e-9 s: mpi-sppy looks at the clock after each
    iteration, so PH ends after iteration 1, unconverged, status time_limit (before: the limit was
    not passed to PH, which ran until it converged). Its bound is still iteration 0's, 0.92.
    """
    from optimizer.mpisppy_bridge import PHOptions, run_mpisppy

    data = load_inputs(write_chip_case(tmp_path / "c"))
    r = run_mpisppy(
        data,
        "ph",
        ph=PHOptions(iterations=400, rho=0.001, convthresh=1e-6),
        options=SolveOptions(time_limit_s=1e-9, threads=1),
        evaluate=False,
    )
    assert (r.status, r.iterations, r.converged) == ("time_limit", 1, False)
    assert r.time_limit_s == 1e-9
    assert r.lower_bound == pytest.approx(0.92, rel=1e-6)
    assert r.summary()["mpisppy_status"] == "time_limit"
    from dataclasses import replace

    from cli import _ph_not_optimal

    why = _ph_not_optimal(replace(r, objective=1.496), None, data)  # its plan's exact cost
    assert why.startswith(
        "progressive hedging stopped at the time limit (1e-09 s) after 1 iteration"
    )
    assert "within 38.50% of the optimum" in why


def test_ph_plan_is_evaluated_after_another_highs_pool(tmp_path):
    """PH's plan is evaluated exactly even when HiGHS ran in the process at another thread count.

    HiGHS keeps one thread pool per process, started by its first run; mpi-sppy's leaf solves
    (Pyomo's appsi) ran at HiGHS's default, and the planner's evaluation of PH's plan under
    ``--threads 1`` then failed at once ("HiGHS: Not Set", exit 1, on the 12-leaf base). Here a
    HiGHS run at 2 threads comes first, in a fresh interpreter (the pool lives as long as it); the
    run must end as test_ph_reports_its_iteration_limit_bound_and_gap: plan 1.496 $M, bound 0.92.
    """
    import subprocess
    import sys

    from tests.conftest import ROOT

    case = write_chip_case(tmp_path / "c")
    out = tmp_path / "r.xlsx"
    code = (
        "import os, highspy\n"
        "saved = os.dup(1); os.dup2(2, 1)  # HiGHS's banner to stderr: stdout is for --json\n"
        "h = highspy.Highs(); h.setOptionValue('output_flag', False)\n"
        "os.dup2(saved, 1)\n"
        "h.setOptionValue('threads', 2); h.addVar(0, 1); h.run()\n"
        "from cli import main\n"
        f"main(['solve', {str(case)!r}, '--mpisppy', 'ph', '--ph-iterations', '1', '--threads', '1',"
        f" '--no-measures', '--json', '-o', {str(out)!r}])\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["objective_musd"] == pytest.approx(1.496, rel=1e-6)
    assert s["ph_lower_bound_musd"] == pytest.approx(0.92, rel=1e-6)


def test_fixed_first_stage_is_put_inside_every_leafs_bounds(tmp_path):
    """A first stage fixed past a variable's bound is put on the bound shared by all leaves.

    A fixed variable is a constant to HiGHS, so its bounds no longer bind: PH's mean of twelve
    values at 11.84 was 11.840000000000002, past the bound 11.84, and a plan with a value further
    out would have been solved as if the bound were not there. The chip case's 2030 build has
    bounds [0, ∞); here the low leaf bounds it by 5 and the high leaf by 8, so one first stage fits
    both only within [0, 5]: 7 is fixed at 5 in both leaves (and reported), 5 + 1e-15 at 5 (a
    rounding error, not reported), −1e-12 at 0, and the 2030 deployment of 920 (no upper bound)
    stays 920.
    """
    from optimizer.stochastic import build_stochastic, fix_first_stage

    model = build_stochastic(load_inputs(write_chip_case(tmp_path / "c")))
    build = ("v_build", ("dc", "R", 2030))
    model.scen["low"].v_build["dc", "R", 2030].setub(5.0)
    model.scen["high"].v_build["dc", "R", 2030].setub(8.0)
    deploy, buy = ("v_deploy", ("R", 2030)), ("v_buy", ("accelerator", "R", 2030))
    for value, fixed, reported in (
        (7.0, 5.0, True),
        (5.0 + 1e-15, 5.0, False),
        (-1e-12, 0.0, False),
    ):
        moved = fix_first_stage(model, {build: value, deploy: 920.0, buy: 920.0})
        assert moved == ([(build, value, fixed)] if reported else [])
        for name in ("low", "high"):
            leaf = model.scen[name]
            assert leaf.v_build["dc", "R", 2030].fixed
            assert leaf.v_build["dc", "R", 2030].value == fixed
            assert leaf.v_deploy["R", 2030].value == 920.0


def _failing_leaf_solves(monkeypatch, calls: set[int]) -> None:
    """Make mpi-sppy's leaf solves number ``calls`` (1-based, in mpi-sppy's order) count as
    infeasible, as HiGHS once said of a leaf of the 12-leaf base in PH's iteration 1."""
    from mpisppy.utils import sputils
    from pyomo.opt import TerminationCondition

    real = sputils.not_good_enough_results
    seen = [0]

    def not_good_enough(results):
        seen[0] += 1
        if seen[0] in calls:
            results.solver.termination_condition = TerminationCondition.infeasible
            return True
        return real(results)

    monkeypatch.setattr(sputils, "not_good_enough_results", not_good_enough)


def _ph_run(tmp_path, iterations: int = 3):
    from optimizer.mpisppy_bridge import PHOptions, run_mpisppy

    data = load_inputs(write_chip_case(tmp_path / "c"))
    opts = SolveOptions(threads=1)
    return run_mpisppy(data, "ph", ph=PHOptions(iterations=iterations, rho=0.5), options=opts)


def test_ph_leaf_solve_without_solution_is_tried_again_and_reported(tmp_path, monkeypatch):
    """A leaf solve of PH without a solution is tried once more (an LP: interior point) and reported.

    The chip case (two leaves, low and high), three iterations of rho 0.5. mpi-sppy solves the
    leaves in order, low then high, each iteration; solve 3 is low's in iteration 1, made to fail.
    The second attempt is a real HiGHS solve of the same model, so PH ends exactly as a run
    without the failure (same plan cost, bound 0.92) — but the failure is on record, not only in
    mpi-sppy's printout ("Solve failed", after which it went on with the leaf's old solution).
    """
    clean = _ph_run(tmp_path / "a")
    assert clean.failures == ()
    _failing_leaf_solves(monkeypatch, {3})
    r = _ph_run(tmp_path / "b")
    assert [(f.iteration, f.leaf, f.termination, f.recovered) for f in r.failures] == [
        (1, "low", "infeasible", True)
    ]
    assert r.unrecovered == ()
    assert r.status == clean.status == "iteration_limit"
    assert r.objective == pytest.approx(clean.objective, rel=1e-9)
    assert r.lower_bound == pytest.approx(0.92, rel=1e-6)
    assert r.summary()["ph_failed_leaf_solves"] == (
        "iteration 1: leaf low infeasible, solved at a second attempt with the interior point method"
    )


def test_ph_leaf_without_solution_twice_is_not_hidden(tmp_path, monkeypatch):
    """A leaf without a solution at both attempts makes PH's status ``leaf_failed`` and says why.

    Solve 3 (low, iteration 1) and solve 5 (its second attempt, after high's solve 4) fail: PH
    goes on with low's iteration-0 solution, so its iterates mean little; its bound (iteration 0,
    where every leaf solved) holds and its plan is still evaluated exactly, and the Summary's
    message names the leaf instead of calling the stop a plain iteration limit.
    """
    from cli import _ph_not_optimal

    _failing_leaf_solves(monkeypatch, {3, 5})
    r = _ph_run(tmp_path)
    assert r.status == "leaf_failed" and r.summary()["mpisppy_status"] == "leaf_failed"
    assert [f.leaf for f in r.unrecovered] == ["low"]
    assert r.lower_bound == pytest.approx(0.92, rel=1e-6)
    assert r.objective >= 1.4 - 1e-9  # a first stage evaluated exactly costs at least the optimum
    why = _ph_not_optimal(r, None, load_inputs(tmp_path / "c"))
    assert why.startswith("progressive hedging went on without a solution of low (iteration 1,")


def test_ph_without_a_leaf_solution_in_iteration_0_stops_with_its_name(tmp_path, monkeypatch):
    """No solution for a leaf in PH's iteration 0, even at the second attempt: no bound, no plan.

    Solves 1 (low) and 3 (low's second attempt, after high's 2) fail; mpi-sppy stops PH with
    "Infeasibility detected; E_feas=0.6, E1=1.0"; the planner says which leaf instead.
    """
    from optimizer.mpisppy_bridge import LeafSolveError

    _failing_leaf_solves(monkeypatch, {1, 3})
    with pytest.raises(LeafSolveError, match="iteration 0 .*leaf low infeasible"):
        _ph_run(tmp_path)
