"""Hand-solved micro-cases (STYLE "Tests, four layers", layer 1), checked through the CLI.

Every expected number is derived from DESIGN.md alone (§5 formulas, §5.2 conventions) and written out
in the test as arithmetic; none was copied from a run. Each case is the §5.1 worked case
(:func:`hand_cases.base_case`) plus the changes its docstring lists.

Shorthand used in the derivations (all money in $M):

* ``CRF(i, L) = i(1+i)^L / ((1+i)^L - 1)``; the market finances at the region's ``wacc`` (0.10 here).
* ``DF_y = sum_{t=0}^{len_y-1} (1+d)^-(y+t-y0)``, ``DP_y = (1+d)^-(y-y0)``; ``d`` = 0.05 unless set.
* ``ACC`` = accelerator system capex of 1000 chips = 1000 x 10,000 $ = 10 $M, annuity ``CRF(0.1, 5)``
  per model year alive.
* ``DC`` = 1 MW of data center = 10 $M, annuity ``CRF(0.1, 20)`` per model year online.
* ``E1`` = 1.2 MW (1 MW IT x pue 1.2) of grid for a year at 50 $/MWh = 1.2 x 8760 x 50 / 1e6
  = 0.5256 $M.
* Buying chips: ``use = deploy / len_y`` chips per year, each at the external price, every year of the
  period: ``DF_y x deploy / len_y x price / 1e6``.
* Serving one H100e costs about 24,338 $ a year, far below the 200,000 $ unserved penalty, so demand
  is always served unless a case says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

try:  # pytest puts tests/ on sys.path (rootdir-relative "prepend" import mode, no __init__.py)
    from hand_cases import Case, base_case, region, run_cli, set_setting, write_case
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.hand_cases import Case, base_case, region, run_cli, set_setting, write_case

HOURS = 8760.0
LINES = ("capital", "fixed_om", "energy", "carbon", "supply_chain", "unserved", "bets")
MIP = ("--mip-gap", "1e-9")


# ----------------------------------------------------------------------------- arithmetic helpers
def crf(i: float, life: float) -> float:
    """Capital recovery factor, DESIGN §5: i(1+i)^L/((1+i)^L-1), 1/L when i = 0."""
    if i == 0:
        return 1.0 / life
    return i * (1 + i) ** life / ((1 + i) ** life - 1)


def df(year: int, length: int, base: int = 2030, d: float = 0.05) -> float:
    """DF_y: the discounted sum of the `length` years of period `year`."""
    return sum((1 + d) ** -(year + t - base) for t in range(length))


def dp(year: int, base: int = 2030, d: float = 0.05) -> float:
    """DP_y: a lump sum in `year`, discounted to `base`."""
    return (1 + d) ** -(year - base)


def grid_musd(mw: float, price: float = 50.0, hours: float = HOURS) -> float:
    """Cost of `mw` MW flat over `hours` hours at `price` $/MWh, in $M."""
    return mw * hours * price / 1e6


ACC = 10.0  # $M: 1000 chips x 10,000 $ system capex
DC = 10.0  # $M: 1 MW x 10 $M/MW
E1 = grid_musd(1.2)  # 0.5256 $M: one year of 1.2 MW at 50 $/MWh
CHIPS = 20.0  # $M: 1000 chips x 20,000 $


# ----------------------------------------------------------------------------- harness
def solve(tmp_path: Path, case: Case, *args: str) -> dict[str, Any]:
    return run_cli(write_case(tmp_path / "case", case), *args)


def check(
    summary: dict[str, Any],
    *,
    unserved_h100e: float = 0.0,
    capital_musd: float | None = None,
    **lines: float,
) -> None:
    """Assert status, every cost line (0 where not given), their sum as the objective, and extras."""
    unknown = set(lines) - set(LINES)
    assert not unknown, unknown
    assert summary["status"] == "optimal", summary
    expected = {name: lines.get(name, 0.0) for name in LINES}
    objective = sum(expected.values())
    got = {name: summary[f"cost_{name}_musd"] for name in LINES}
    assert summary["objective_musd"] == pytest.approx(objective, rel=1e-6), (expected, got)
    for name in LINES:
        assert got[name] == pytest.approx(expected[name], rel=1e-6, abs=1e-6), (name, expected, got)
    assert summary["unserved_h100e"] == pytest.approx(unserved_h100e, rel=1e-6, abs=1e-6), summary
    if capital_musd is not None:
        assert summary["capital_musd"] == pytest.approx(capital_musd, rel=1e-6), summary


def years(case: Case, *rows: dict[str, Any]) -> None:
    case["Years"] = [dict(r) for r in rows]


def demand(case: Case, *rows: tuple[str | None, str, int | None, float]) -> None:
    case["Demand"] = [{"region": r, "segment": g, "year": y, "h100e": h} for (r, g, y, h) in rows]


# ============================================================================ §5.1 worked check
def test_worked_check_5_1(tmp_path: Path) -> None:
    """DESIGN §5.1, verbatim.

    1000 chips (1 H100e each) serve the 1000 H100e: system capex 10 $M at CRF(0.1,5) = 2.637975;
    IT 1 MW needs 1 MW of dc: 10 $M at CRF(0.1,20) = 1.174596 (DF_2030 = 1, one year of life each);
    chips bought: use = 1000/1 per year x 20,000 $ = 20.0; grid 1.2 MW x 8760 h x 50 $ = 0.5256.
    Objective 24.338171; capital raised = 10 + 10 = 20.
    """
    s = solve(tmp_path, base_case())
    assert s["objective_musd"] == pytest.approx(24.338171, rel=1e-6)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )
    assert s["cost_capital_musd"] == pytest.approx(2.637975 + 1.174596, rel=1e-6)


# ============================================================================ time and money
def test_discounting_base_year_rate_and_last_period_length(tmp_path: Path) -> None:
    """DF/DP with two model years, a base year before them, d = 0.08 and last_period_length 3.

    Years 2030 (len 2) and 2032 (len = last_period_length = 3); base_year 2028; discount_rate 0.08;
    demand 1000 in both years. Vintage-2030 chips live 5 years: alive(2030, 2032) since 2032 < 2035,
    so 1000 chips deployed in 2030 serve both years; 1 MW dc (life 20) built 2030 is online both years.
      DF_2030 = 1.08^-2 + 1.08^-3;  DF_2032 = 1.08^-4 + 1.08^-5 + 1.08^-6.
      capital = (10 CRF(.1,5) + 10 CRF(.1,20)) (DF_2030 + DF_2032)   (annuities in service in horizon)
      chips   = DF_2030 x (1000 / len 2) x 20,000 $ = 10 DF_2030
      energy  = 0.5256 (DF_2030 + DF_2032)
    """
    case = base_case()
    set_setting(case, "base_year", 2028)
    set_setting(case, "discount_rate", 0.08)
    set_setting(case, "last_period_length", 3)
    years(case, {"year": 2030}, {"year": 2032})
    demand(case, ("A", "inference", 2030, 1000), ("A", "inference", 2032, 1000))
    df30 = df(2030, 2, base=2028, d=0.08)
    df32 = df(2032, 3, base=2028, d=0.08)
    s = solve(tmp_path, case)
    check(
        s,
        capital=(ACC * crf(0.1, 5) + DC * crf(0.1, 20)) * (df30 + df32),
        energy=E1 * (df30 + df32),
        supply_chain=df30 * 1000 / 2 * 20000 / 1e6,
        capital_musd=20.0,
    )


def test_asset_life_ends_inside_horizon(tmp_path: Path) -> None:
    """online(k,v,y) ⇔ v + lead ≤ y < v + lead + life: a dc of life 5 built 2030 is gone in 2035.

    Years 2030, 2035 (len 5 each, last_period_length 5, d 0.05); demand 1000 both years.
    dc life 5; TechCosts dc capex 10 in 2030 and 20 in 2035 (interpolated only at model years).
    Chips (life 5) are alive only in their own model year, so 1000 are deployed in each year.
      dc built 2030 is online in 2030 only (2035 is not < 2035) → 1 MW must be rebuilt in 2035 at 20:
      dc capital = 10 CRF(.1,5) DF_2030 + 20 CRF(.1,5) DF_2035   (a wrong `≤` would keep the 2030
      dc and pay 10 CRF(.1,5) (DF30+DF35) instead)
      acc capital = 10 CRF(.1,5) DF_2030 + 10 CRF(.1,5) DF_2035
      chips = DF_y x 1000/5 x 20,000 $ = 4 DF_y per year; energy 0.5256 DF_y per year.
    """
    case = base_case()
    set_setting(case, "last_period_length", 5)
    years(case, {"year": 2030}, {"year": 2035})
    demand(case, ("A", "inference", 2030, 1000), ("A", "inference", 2035, 1000))
    case["Technologies"] = [{"tech": "dc", "class": "datacenter", "life": 5}]
    case["TechCosts"] = [
        {"tech": "dc", "region": None, "year": 2030, "capex_musd": 10},
        {"tech": "dc", "region": None, "year": 2035, "capex_musd": 20},
    ]
    df30, df35 = df(2030, 5), df(2035, 5)
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) * (df30 + df35) + crf(0.1, 5) * (10 * df30 + 20 * df35),
        energy=E1 * (df30 + df35),
        supply_chain=4.0 * (df30 + df35),
        capital_musd=10 + 10 + 10 + 20,
    )


def test_lead_time(tmp_path: Path) -> None:
    """A dc with lead 5: built 2030, online from 2035; annuities only while online.

    Years 2030, 2035 (last_period_length left at its default = last step = 5); demand 0 in 2030
    (explicit row, or 2035's value would be held flat backwards) and 1000 in 2035.
    dc: lead 5, life 20, capex 10 in 2030 falling to 5 in 2035.
      A dc built 2035 is online from 2040, outside the horizon, so the 2035 IT (1 MW) needs 1 MW built
      in 2030 at 10 $M; it is online in 2035 only: dc capital = 10 CRF(.1,20) DF_2035.
      (Ignoring the lead would build in 2035 at 5 $M; paying from 2030 would add DF_2030.)
      Chips: 1000 of vintage 2035 (vintage 2030 flat): capital 10 CRF(.1,5) DF_2035, bought
      4 DF_2035; energy 0.5256 DF_2035. Nothing happens in 2030.
    """
    case = base_case()
    case["Settings"] = [{"key": "base_year", "value": 2030}]
    years(case, {"year": 2030}, {"year": 2035})
    demand(case, ("A", "inference", 2030, 0), ("A", "inference", 2035, 1000))
    case["Technologies"] = [{"tech": "dc", "class": "datacenter", "life": 20, "lead": 5}]
    case["TechCosts"] = [
        {"tech": "dc", "region": None, "year": 2030, "capex_musd": 10},
        {"tech": "dc", "region": None, "year": 2035, "capex_musd": 5},
    ]
    df35 = df(2035, 5)
    s = solve(tmp_path, case)
    check(
        s,
        capital=(ACC * crf(0.1, 5) + DC * crf(0.1, 20)) * df35,
        energy=E1 * df35,
        supply_chain=4.0 * df35,
        capital_musd=20.0,
    )


def test_accelerator_vintages_interpolated_and_alive(tmp_path: Path) -> None:
    """Accelerator vintages resolved by §4.2 interpolation; alive(v,y) ⇔ v ≤ y < v + life_acc(v).

    Years 2030, 2035 (len 5, last 5). Accelerators rows 2030: 1 H100e/chip and 2040: 3 H100e/chip
    (both 1 kW, 10,000 $, life 10) → vintage 2035 = 2 H100e/chip. Demand 1000 (2030), 2000 (2035).
      2030: deploy 1000 v2030 chips (1 MW IT). They are alive in 2035 (2035 < 2040) and keep drawing
      power, so 2035 needs only 1000 more H100e = 500 v2035 chips; IT 2035 = 1.5 MW.
      acc capital = 10 CRF(.1,10)(DF30 + DF35) + 5 CRF(.1,10) DF35
      dc: 1 MW in 2030 + 0.5 MW in 2035 (building the 0.5 MW early would add its DF30 annuity):
      dc capital = 10 CRF(.1,20)(DF30 + DF35) + 5 CRF(.1,20) DF35
      chips = DF30 x 1000/5 x 0.02 + DF35 x 500/5 x 0.02 = 4 DF30 + 2 DF35
      energy = 0.5256 DF30 + (1.5 x 1.2 x 8760 x 50 / 1e6 = 0.7884) DF35
    """
    case = base_case()
    set_setting(case, "last_period_length", 5)
    years(case, {"year": 2030}, {"year": 2035})
    demand(case, ("A", "inference", 2030, 1000), ("A", "inference", 2035, 2000))
    case["Accelerators"] = [
        {
            "year": 2030,
            "h100e_per_chip": 1,
            "kw_per_chip": 1.0,
            "system_capex_usd": 10000,
            "life": 10,
        },
        {
            "year": 2040,
            "h100e_per_chip": 3,
            "kw_per_chip": 1.0,
            "system_capex_usd": 10000,
            "life": 10,
        },
    ]
    df30, df35 = df(2030, 5), df(2035, 5)
    s = solve(tmp_path, case)
    check(
        s,
        capital=crf(0.1, 10) * (10 * (df30 + df35) + 5 * df35)
        + crf(0.1, 20) * (10 * (df30 + df35) + 5 * df35),
        energy=E1 * df30 + grid_musd(1.5 * 1.2) * df35,
        supply_chain=4 * df30 + 2 * df35,
        capital_musd=10 + 5 + 10 + 5,
    )


def test_accelerator_life_ends_redeploy(tmp_path: Path) -> None:
    """alive(2030, 2035) is false for life 5 (2035 is not < 2035): chips are bought twice.

    Years 2030, 2035 (len 5, last 5); demand 1000 both years; dc life 20 built once in 2030.
      acc capital = 10 CRF(.1,5) DF30 + 10 CRF(.1,5) DF35
      dc capital  = 10 CRF(.1,20)(DF30 + DF35)
      chips = 4 DF30 + 4 DF35; energy = 0.5256 (DF30 + DF35)
    """
    case = base_case()
    set_setting(case, "last_period_length", 5)
    years(case, {"year": 2030}, {"year": 2035})
    demand(case, ("A", "inference", 2030, 1000), ("A", "inference", 2035, 1000))
    df30, df35 = df(2030, 5), df(2035, 5)
    s = solve(tmp_path, case)
    check(
        s,
        capital=(ACC * crf(0.1, 5) + DC * crf(0.1, 20)) * (df30 + df35),
        energy=E1 * (df30 + df35),
        supply_chain=4 * (df30 + df35),
        capital_musd=10 + 10 + 10,
    )


def test_fixed_om_on_total_capacity_including_existing(tmp_path: Path) -> None:
    """Fixed O&M = Σ_y DF_y fixed_om cap[k,r,y], cap including existing capacity.

    Years 2030, 2035 (len 5, last 5); demand 1000 both years; chips life 10 (alive both years:
    one deployment). dc fixed_om 0.5 $M/MW/yr; ExistingCapacity dc 0.5 MW (never retires);
    build 0.5 MW in 2030.
      fixed O&M = 0.5 x (0.5 + 0.5) x (DF30 + DF35)
      capital   = 10 CRF(.1,10)(DF30 + DF35) + 0.5 x 10 CRF(.1,20)(DF30 + DF35)
      chips     = DF30 x 1000/5 x 0.02 = 4 DF30;  energy = 0.5256 (DF30 + DF35)
    """
    case = base_case()
    set_setting(case, "last_period_length", 5)
    years(case, {"year": 2030}, {"year": 2035})
    demand(case, ("A", "inference", 2030, 1000), ("A", "inference", 2035, 1000))
    case["Accelerators"][0]["life"] = 10
    case["TechCosts"][0]["fixed_om_musd"] = 0.5
    case["ExistingCapacity"] = [{"tech": "dc", "region": "A", "capacity": 0.5, "retire_year": None}]
    df30, df35 = df(2030, 5), df(2035, 5)
    s = solve(tmp_path, case)
    check(
        s,
        capital=(ACC * crf(0.1, 10) + 5 * crf(0.1, 20)) * (df30 + df35),
        fixed_om=0.5 * 1.0 * (df30 + df35),
        energy=E1 * (df30 + df35),
        supply_chain=4 * df30,
        capital_musd=10 + 5,
    )


def test_existing_capacity_retire_year(tmp_path: Path) -> None:
    """ExistingCapacity is available in model years < retire_year.

    Years 2030, 2035 (len 5, last 5); demand 1000 both years; chips life 5 (deployed in each year).
    Existing dc 1 MW with retire_year 2035: serves 2030 only, so 1 MW is built in 2035
    (building it in 2030 would add a DF30 annuity).
      dc capital = 10 CRF(.1,20) DF35; acc capital = 10 CRF(.1,5)(DF30 + DF35)
      chips = 4 (DF30 + DF35); energy = 0.5256 (DF30 + DF35)
    """
    case = base_case()
    set_setting(case, "last_period_length", 5)
    years(case, {"year": 2030}, {"year": 2035})
    demand(case, ("A", "inference", 2030, 1000), ("A", "inference", 2035, 1000))
    case["ExistingCapacity"] = [{"tech": "dc", "region": "A", "capacity": 1.0, "retire_year": 2035}]
    df30, df35 = df(2030, 5), df(2035, 5)
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) * (df30 + df35) + DC * crf(0.1, 20) * df35,
        energy=E1 * (df30 + df35),
        supply_chain=4 * (df30 + df35),
        capital_musd=10 + 10 + 10,
    )


def test_existing_fleet(tmp_path: Path) -> None:
    """ExistingFleet adds h100e to compute and kw_it/1000 to IT while year < retire_year; no cost.

    Rows: 400 H100e / 400 kW never retiring, and 500 H100e / 500 kW with retire_year 2030 (not
    available in 2030). So 600 new chips: acc capital 6 CRF(.1,5); IT = 0.4 + 0.6 = 1 MW →
    dc 10 CRF(.1,20); chips 600 x 20,000 $ = 12; energy 0.5256. Capital raised 6 + 10.
    """
    case = base_case()
    case["ExistingFleet"] = [
        {"region": "A", "h100e": 400, "kw_it": 400, "retire_year": None},
        {"region": "A", "h100e": 500, "kw_it": 500, "retire_year": 2030},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=6 * crf(0.1, 5) + DC * crf(0.1, 20),
        energy=E1,
        supply_chain=12.0,
        capital_musd=16.0,
    )


# ============================================================================ §4.2 resolution
def test_interpolation_linear_flat_and_region_rows_win(tmp_path: Path) -> None:
    """§4.2: linear between given years, flat outside; region rows beat all-region rows.

    One model year 2035 (base 2035).
      TechCosts dc: all-region rows 2030: 100, 2040: 100 (would give 100) lose to region-A rows
      2030: 10, 2040: 30 → capex 20 at 2035 (linear).
      Commodities accelerator price rows 2020: 40,000 and 2025: 20,000 → 20,000 (flat after last).
      Demand A inference rows 2040: 1000 and 2050: 3000 → 1000 (flat before first).
      Accelerators: only vintage 2030 → held flat for 2035.
    capital = 10 CRF(.1,5) + 20 CRF(.1,20); chips 20; energy 0.5256.
    """
    case = base_case()
    case["Settings"] = [
        {"key": "base_year", "value": 2035},
        {"key": "last_period_length", "value": 1},
    ]
    years(case, {"year": 2035})
    case["TechCosts"] = [
        {"tech": "dc", "region": None, "year": 2030, "capex_musd": 100},
        {"tech": "dc", "region": None, "year": 2040, "capex_musd": 100},
        {"tech": "dc", "region": "A", "year": 2030, "capex_musd": 10},
        {"tech": "dc", "region": "A", "year": 2040, "capex_musd": 30},
    ]
    case["Commodities"] = [
        {"commodity": "accelerator", "year": 2020, "external_price_usd": 40000},
        {"commodity": "accelerator", "year": 2025, "external_price_usd": 20000},
    ]
    demand(case, ("A", "inference", 2040, 1000), ("A", "inference", 2050, 3000))
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + 20 * crf(0.1, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=10 + 20,
    )


def test_demand_region_rows_beat_all_region_rows(tmp_path: Path) -> None:
    """Demand rows with a blank region apply to every region unless that region has its own rows.

    Regions A and B, identical. Demand: (all regions, inference, all years) 500 and (A, inference,
    2030) 1000 → A 1000, B 500: 1500 H100e in total; every host costs the same.
      capital = 15 CRF(.1,5) + 15 CRF(.1,20); chips 1500 x 0.02 = 30; energy 1.5 x 0.5256.
    """
    case = base_case()
    case["Regions"] = [region("A"), region("B")]
    demand(case, (None, "inference", None, 500), ("A", "inference", 2030, 1000))
    s = solve(tmp_path, case)
    check(
        s,
        capital=15 * crf(0.1, 5) + 15 * crf(0.1, 20),
        energy=1.5 * E1,
        supply_chain=30.0,
        unserved_h100e=0.0,
    )


# ============================================================================ 1. power
def test_power_grid_limit_and_availability(tmp_path: Path) -> None:
    """Constraint 1: grid ≤ grid_max_mw; gen ≤ cf·cap with cf = availability (no profile).

    grid_max 1 MW, load 1.2 MW. Tech `diesel` (power, life 10, capex 1 $M/MW, availability 0.5,
    variable 100 $/MWh) covers the rest. Grid (50 $/MWh, no capital) is cheaper than diesel
    (≥ 100 $/MWh), so the grid runs at its 1 MW limit; diesel gen 0.2 MW → cap 0.2/0.5 = 0.4 MW.
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + 0.4 x 1 CRF(.1,10)
      energy  = 1 MW x 8760 x 50 / 1e6 + 0.2 MW x 8760 x 100 / 1e6 = 0.438 + 0.1752
    """
    case = base_case()
    case["Regions"][0]["grid_max_mw"] = 1.0
    case["Technologies"].append(
        {
            "tech": "diesel",
            "class": "power",
            "life": 10,
            "availability": 0.5,
            "variable_cost_usd": 100,
        }
    )
    case["TechCosts"].append({"tech": "diesel", "region": None, "year": None, "capex_musd": 1})
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 0.4 * crf(0.1, 10),
        energy=grid_musd(1.0) + grid_musd(0.2, price=100),
        supply_chain=CHIPS,
        capital_musd=20.4,
    )


def test_profile_overrides_availability_only_for_its_slice(tmp_path: Path) -> None:
    """A Profiles row replaces availability for its (tech, region, slice); other slices keep it.

    Two slices s1, s2 of one day, 4380 h each; no grid (grid_max 0). `solar` (power, life 20,
    capex 1 $M/MW, availability 0.5). Profiles: (solar, all regions, s1) 0.1 and (solar, A, s1) 1.0;
    the region row wins → cf(s1) = 1.0, cf(s2) = availability 0.5.
      Load 1.2 MW in both slices → cap ≥ 1.2/1.0 and ≥ 1.2/0.5 = 2.4 MW.
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + 2.4 CRF(.1,20); energy 0.
    """
    case = base_case()
    case["Regions"][0]["grid_max_mw"] = 0
    case["TimeSlices"] = [
        {"slice": "s1", "day": "d1", "hours": 4380},
        {"slice": "s2", "day": "d1", "hours": 4380},
    ]
    case["Technologies"].append(
        {"tech": "solar", "class": "power", "life": 20, "availability": 0.5}
    )
    case["TechCosts"].append({"tech": "solar", "region": None, "year": None, "capex_musd": 1})
    case["Profiles"] = [
        {"tech": "solar", "region": None, "slice": "s1", "cf": 0.1},
        {"tech": "solar", "region": "A", "slice": "s1", "cf": 1.0},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 2.4 * crf(0.1, 20),
        supply_chain=CHIPS,
    )


# ============================================================================ 2. storage
def _solar_battery_case(slices: list[dict[str, Any]], dark: list[str]) -> Case:
    case = base_case()
    case["TimeSlices"] = slices
    case["Technologies"] += [
        {"tech": "solar", "class": "power", "life": 20},
        {"tech": "battery", "class": "storage", "life": 10, "duration_h": 0.5, "efficiency": 0.8},
    ]
    case["TechCosts"] += [
        {"tech": "solar", "region": None, "year": None, "capex_musd": 1},
        {"tech": "battery", "region": None, "year": None, "capex_musd": 1},
    ]
    case["Profiles"] = [{"tech": "solar", "region": "A", "slice": h, "cf": 0.0} for h in dark]
    return case


def test_storage_efficiency_on_charge_and_duration(tmp_path: Path) -> None:
    """Constraint 2: soc[h] = soc[prev h] + eff·ch[h] − dis[h], cyclic in the day; soc ≤ dur·cap.

    Slices s1 (sun, cf 1) and s2 (dark, cf 0 by profile), one day, 4380 h each; no grid.
    battery: duration 0.5 h, efficiency 0.8, capex 1 $M/MW, life 10; solar capex 1, life 20.
      s2 needs dis = 1.2 MW. Cycle: soc1 = soc2 + 0.8 ch1, soc2 = soc1 − 1.2 → ch1 = 1.5 MW.
      solar cap = 1.2 + 1.5 = 2.7 MW. soc1 − soc2 = 1.2 MWh ≤ 0.5 cap → battery cap = 2.4 MW
      (> ch 1.5). Any other schedule (charging in s2, discharging in s1) only grows both.
      (Efficiency on discharge would need 1.5 MWh of soc → 3.0 MW.)
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + 2.7 CRF(.1,20) + 2.4 CRF(.1,10); energy 0.
    """
    case = _solar_battery_case(
        [{"slice": "s1", "day": "d1", "hours": 4380}, {"slice": "s2", "day": "d1", "hours": 4380}],
        dark=["s2"],
    )
    case["Regions"][0]["grid_max_mw"] = 0
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 2.7 * crf(0.1, 20) + 2.4 * crf(0.1, 10),
        supply_chain=CHIPS,
    )


def test_storage_cyclic_within_each_day_nothing_across_days(tmp_path: Path) -> None:
    """Storage state of charge is cyclic within each day; no energy carried from one day to another.

    Day d1: s1 (sun) and s2 (dark); day d2: s3 (dark); 2920 h each. Grid 10 MW at 1000 $/MWh.
      d1 as in the efficiency case: solar 2.7 MW + battery 2.4 MW serve s1 and s2
      (per MW of s2: 1.25 CRF(.1,20) + 2 CRF(.1,10) ≈ 0.47 $M/yr vs grid 2920 x 1000/1e6 = 2.92).
      d2 has one slice: soc3 = soc3 + 0.8 ch3 − dis3 → dis3 = 0.8 ch3, no net energy, so s3 is
      served by grid: 1.2 MW x 2920 h x 1000 $ = 3.504 $M. (Carrying d1's charge into d2 would be
      cheaper, so a chain across days shows up in the objective.)
    """
    case = _solar_battery_case(
        [
            {"slice": "s1", "day": "d1", "hours": 2920},
            {"slice": "s2", "day": "d1", "hours": 2920},
            {"slice": "s3", "day": "d2", "hours": 2920},
        ],
        dark=["s2", "s3"],
    )
    case["Regions"][0]["grid_price_usd"] = 1000
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 2.7 * crf(0.1, 20) + 2.4 * crf(0.1, 10),
        energy=grid_musd(1.2, price=1000, hours=2920),
        supply_chain=CHIPS,
    )


# ============================================================================ 4 & 6. dc, demand, unserved
def test_unserved_partial_when_grid_limits_it(tmp_path: Path) -> None:
    """Constraints 1, 3, 4, 6: grid 0.6 MW caps load → IT ≤ 0.5 MW → 500 served, 500 unserved.

    capital = 5 CRF(.1,5) + 5 CRF(.1,20); chips 500 x 0.02 = 10; energy 0.6 MW x 0.438 = 0.2628;
    unserved = 500 x 200,000 $ (default penalty) / 1e6 = 100.
    """
    case = base_case()
    case["Regions"][0]["grid_max_mw"] = 0.6
    s = solve(tmp_path, case)
    check(
        s,
        capital=5 * crf(0.1, 5) + 5 * crf(0.1, 20),
        energy=grid_musd(0.6),
        supply_chain=10.0,
        unserved=100.0,
        unserved_h100e=500.0,
        capital_musd=10.0,
    )


def test_chips_external_not_allowed_all_unserved(tmp_path: Path) -> None:
    """chips_external_allowed FALSE: no buying into the region; no fab, no other region → no chips.

    All 1000 H100e unserved at the default 200,000 $ → 200 $M; nothing is built.
    """
    case = base_case()
    case["Regions"][0]["chips_external_allowed"] = False
    s = solve(tmp_path, case)
    check(s, unserved=200.0, unserved_h100e=1000.0, capital_musd=0.0)


def test_unserved_penalty_setting(tmp_path: Path) -> None:
    """unserved_penalty_usd 10,000 $ < the ≈24,338 $ it costs to serve one H100e → serve nothing.

    Serving is linear with no fixed cost: per H100e 20,000 (chip) + 10,000 CRF(.1,5) + 10,000
    CRF(.1,20) + 525.6 > 10,000. Objective = 1000 x 10,000 / 1e6 = 10.
    """
    case = base_case()
    set_setting(case, "unserved_penalty_usd", 10000)
    s = solve(tmp_path, case)
    check(s, unserved=10.0, unserved_h100e=1000.0)


# ============================================================================ 5 & 7. compute, sovereignty
def _two_region_hosts(case: Case) -> None:
    """Region B: same as A but grid at 10 $/MWh and dc capex 10; region A's dc costs 20 (its own row)."""
    case["Regions"] = [region("A"), region("B", grid_price_usd=10)]
    case["TechCosts"].append({"tech": "dc", "region": "A", "year": None, "capex_musd": 20})


def test_sovereignty_min_domestic(tmp_path: Path) -> None:
    """Constraint 7: serve[g,c,c,y] ≥ min_domestic · (D − unserved).

    A (dc 20 $M/MW, grid 50) and B (dc 10, grid 10); demand A inference 1000. Serving in B is
    cheaper per H100e (dc 0.001 x 10 CRF vs 0.001 x 20 CRF, grid 10 vs 50 $/MWh), so without a rule
    all goes to B; min_domestic_inference(A) = 0.5 keeps 500 in A.
      capital = 10 CRF(.1,5) + (0.5 x 20 + 0.5 x 10) CRF(.1,20)
      energy  = 0.6 MW x 8760 x 50 / 1e6 + 0.6 MW x 8760 x 10 / 1e6 = 0.2628 + 0.05256
    """
    case = base_case()
    _two_region_hosts(case)
    case["Regions"][0]["min_domestic_inference"] = 0.5
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + 15 * crf(0.1, 20),
        energy=grid_musd(0.6) + grid_musd(0.6, price=10),
        supply_chain=CHIPS,
        capital_musd=10 + 15,
    )


def test_compute_routes_most_specific_row(tmp_path: Path) -> None:
    """Constraint 5: serve only on allowed ComputeRoutes; the most specific row wins.

    A (dc 20, grid 50), B (dc 10, grid 10); demand A inference 1000 and A training 1000.
    Routes: (B→A, any segment) FALSE, (B→A, training) TRUE → training may use B, inference may not.
      Inference in A: dc 1 MW x 20, grid 0.5256; training in B (cheaper): dc 1 MW x 10, grid
      1.2 x 8760 x 10 / 1e6 = 0.10512. 2000 chips: capital 20 CRF(.1,5), bought 40.
    """
    case = base_case()
    _two_region_hosts(case)
    demand(case, ("A", "inference", 2030, 1000), ("A", "training", 2030, 1000))
    case["ComputeRoutes"] = [
        {"host": "B", "consumer": "A", "segment": None, "allowed": False},
        {"host": "B", "consumer": "A", "segment": "training", "allowed": True},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=20 * crf(0.1, 5) + (20 + 10) * crf(0.1, 20),
        energy=E1 + grid_musd(1.2, price=10),
        supply_chain=40.0,
        capital_musd=20 + 30,
    )


# ============================================================================ 9. chips, routes
def test_chip_routes_denied_and_shipping_cost(tmp_path: Path) -> None:
    """Constraint 9 with ChipRoutes: A can't buy (chips_external_allowed FALSE), dc only in A.

    Regions A (no external purchase), B, C; TechCosts dc only for A (no capex elsewhere = no build).
    ChipRoutes: (B→A, all) FALSE; (C→A, all) TRUE at 100 $; (C→A, accelerator) TRUE at 5000 $ —
    the most specific row wins, so C→A accelerators cost 5000 $/unit.
      1000 chips bought in C (or in B and sent via C, same cost) and shipped C→A:
      supply chain = 1000 x (20,000 + 5000) / 1e6 = 25. capital and energy as in §5.1.
    """
    case = base_case()
    case["Regions"] = [region("A", chips_external_allowed=False), region("B"), region("C")]
    case["TechCosts"] = [{"tech": "dc", "region": "A", "year": None, "capex_musd": 10}]
    case["ChipRoutes"] = [
        {"from": "B", "to": "A", "commodity": None, "allowed": False, "cost_usd": None},
        {"from": "C", "to": "A", "commodity": None, "allowed": True, "cost_usd": 100},
        {"from": "C", "to": "A", "commodity": "accelerator", "allowed": True, "cost_usd": 5000},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20),
        energy=E1,
        supply_chain=25.0,
        capital_musd=20.0,
    )


# ============================================================================ 8 & 9. fabs
def test_fab_chain_inputs_electricity_and_external_max(tmp_path: Path) -> None:
    """Constraints 8, 9: a fab makes accelerators from HBM; external purchase capped.

    afab: fab, life 10, output accelerator, variable 25,000 $/unit, electricity 8.76 MWh/unit,
    capex 0.001 $M per unit/yr; FabInputs 2 hbm per accelerator; hbm bought at 1000 $;
    accelerators bought at 20,000 $ up to external_max 600/yr.
      A fab chip costs 25,000 + 2 x 1000 + 8.76 x 50 + 1000 CRF(.1,10) ≈ 27,600 $ > 20,000 $, so
      buy the 600 allowed and make 400 (fab capacity 400 units/yr).
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + 400 x 0.001 CRF(.1,10)
      supply  = 600 x 20,000 + 400 x 25,000 + 800 x 1000 = 12 + 10 + 0.8 = 22.8 $M
      load    = 1.2 MW + 8.76 x 400 / 8760 = 1.6 MW → energy 1.6 x 8760 x 50 / 1e6 = 0.7008
    """
    case = base_case()
    case["Technologies"].append(
        {
            "tech": "afab",
            "class": "fab",
            "life": 10,
            "variable_cost_usd": 25000,
            "output": "accelerator",
            "electricity_mwh": 8.76,
        }
    )
    case["TechCosts"].append({"tech": "afab", "region": None, "year": None, "capex_musd": 0.001})
    case["FabInputs"] = [{"tech": "afab", "commodity": "hbm", "quantity": 2}]
    case["Commodities"] = [
        {
            "commodity": "accelerator",
            "year": None,
            "external_price_usd": 20000,
            "external_max": 600,
        },
        {"commodity": "hbm", "year": None, "external_price_usd": 1000, "external_max": None},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 0.4 * crf(0.1, 10),
        energy=grid_musd(1.6),
        supply_chain=22.8,
        capital_musd=20.4,
    )


def test_fab_max_region_share(tmp_path: Path) -> None:
    """Constraint 8: prod[f,r,y] ≤ max_region_share_f · Σ_r' prod[f,r',y].

    Regions A, B, both chips_external_allowed FALSE (only fabs supply chips); dc only in A.
    afab (output accelerator, life 10, variable 5000 $/unit, max_region_share 0.5): capex
    0.001 $M/(unit/yr) in A, 0.002 in B. Unconstrained, A would make all 1000; the 0.5 share
    forces 500 in A and 500 in B, shipped B→A free.
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + (500 x 0.001 + 500 x 0.002) CRF(.1,10)
      supply  = 1000 x 5000 / 1e6 = 5;  energy 0.5256 (A only; fab draws no electricity)
    """
    case = base_case()
    case["Regions"] = [
        region("A", chips_external_allowed=False),
        region("B", chips_external_allowed=False),
    ]
    case["Technologies"].append(
        {
            "tech": "afab",
            "class": "fab",
            "life": 10,
            "variable_cost_usd": 5000,
            "output": "accelerator",
            "max_region_share": 0.5,
        }
    )
    case["TechCosts"] = [
        {"tech": "dc", "region": "A", "year": None, "capex_musd": 10},
        {"tech": "afab", "region": "A", "year": None, "capex_musd": 0.001},
        {"tech": "afab", "region": "B", "year": None, "capex_musd": 0.002},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 1.5 * crf(0.1, 10),
        energy=E1,
        supply_chain=5.0,
        capital_musd=21.5,
    )


# ============================================================================ 10. build limits
def _dc2(case: Case) -> None:
    """A second, dearer data-center tech (capex 30 $M/MW, life 20, no limits)."""
    case["Technologies"].append({"tech": "dc2", "class": "datacenter", "life": 20})
    case["TechCosts"].append({"tech": "dc2", "region": None, "year": None, "capex_musd": 30})


def test_max_build_times_period_length(tmp_path: Path) -> None:
    """Constraint 10: build[k,r,v] ≤ max_build · len_v.

    Years 2030 (len 2) and 2032 (last_period_length 1); demand 1000 both years (chips life 5,
    one deployment in 2030: 500/yr bought in 2030-31). dc max_build 0.25 MW/yr → 0.5 MW in the 2030
    period; the other 0.5 MW from dc2 (30 $M/MW), all online in both years.
      capital = (10 CRF(.1,5) + (0.5 x 10 + 0.5 x 30) CRF(.1,20)) (DF30 + DF32)
      DF30 = 1 + 1.05^-1, DF32 = 1.05^-2; chips 10 DF30; energy 0.5256 (DF30 + DF32)
    """
    case = base_case()
    years(case, {"year": 2030}, {"year": 2032})
    demand(case, ("A", "inference", 2030, 1000), ("A", "inference", 2032, 1000))
    case["TechCosts"][0]["max_build"] = 0.25
    _dc2(case)
    df30, df32 = df(2030, 2), df(2032, 1)
    s = solve(tmp_path, case)
    check(
        s,
        capital=(ACC * crf(0.1, 5) + 20 * crf(0.1, 20)) * (df30 + df32),
        energy=E1 * (df30 + df32),
        supply_chain=10 * df30,
        capital_musd=10 + 5 + 15,
    )


def test_max_capacity_includes_existing(tmp_path: Path) -> None:
    """Constraint 10 / §5.2: max_capacity bounds total capacity including existing.

    Existing dc 0.4 MW; dc max_capacity 0.7 → build 0.3; the last 0.3 MW from dc2 (30 $M/MW).
      capital = 10 CRF(.1,5) + (0.3 x 10 + 0.3 x 30) CRF(.1,20)
    """
    case = base_case()
    case["TechCosts"][0]["max_capacity"] = 0.7
    case["ExistingCapacity"] = [{"tech": "dc", "region": "A", "capacity": 0.4, "retire_year": None}]
    _dc2(case)
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + 12 * crf(0.1, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=10 + 3 + 9,
    )


def test_integer_modules(tmp_path: Path) -> None:
    """integer_modules TRUE (default): dc in 0.4 MW modules (MIP, --mip-gap 1e-9).

    1 MW needed: 3 modules = 1.2 MW for 12 $M, vs 2 modules + 0.2 MW of dc2 = 8 + 6 = 14 $M.
      capital = 10 CRF(.1,5) + 12 CRF(.1,20)
    """
    case = base_case()
    case["Technologies"][0]["module_size"] = 0.4
    _dc2(case)
    s = solve(tmp_path, case, *MIP)
    check(
        s,
        capital=ACC * crf(0.1, 5) + 12 * crf(0.1, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=22.0,
    )


def test_integer_modules_off(tmp_path: Path) -> None:
    """integer_modules FALSE: module techs are continuous → 1 MW of dc, the §5.1 optimum."""
    case = base_case()
    set_setting(case, "integer_modules", False)
    case["Technologies"][0]["module_size"] = 0.4
    _dc2(case)
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


# ============================================================================ 11. finance
def _partner(case: Case, wacc: float, budget: float, **budget_row: Any) -> None:
    case["Partners"] = [{"partner": "P", "wacc": wacc, "home_region": "A"}]
    case["PartnerBudgets"] = [{"partner": "P", "year": None, "budget_musd": budget, **budget_row}]


def test_partner_wacc_and_budget(tmp_path: Path) -> None:
    """AF = CRF(i_j, life): partner P (wacc 0.05, 12 $M/yr) vs the market at the region's 0.10.

    P saves, per $ financed: dc CRF(.1,20) − CRF(.05,20) = 0.0372 > acc CRF(.1,5) − CRF(.05,5)
    = 0.0328, so P's 12 $M fund the dc (10) and 2 $M of accelerators; the market the other 8.
      capital = 10 CRF(.05,20) + 2 CRF(.05,5) + 8 CRF(.1,5)
    """
    case = base_case()
    _partner(case, wacc=0.05, budget=12)
    s = solve(tmp_path, case)
    check(
        s,
        capital=10 * crf(0.05, 20) + 2 * crf(0.05, 5) + 8 * crf(0.1, 5),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


def test_partner_budget_times_period_length(tmp_path: Path) -> None:
    """Constraint 11: Σ fin[j,·,·,v] ≤ budget[j,v] · len_v.

    Years 2030 (len 2), 2032 (last 1); demand 1000 both years; all capital raised in 2030 (chips
    life 5 and dc alive in both years). P: wacc 0.05, 6 $M/yr → 12 $M for the 2030 period: dc 10 +
    acc 2 (savings order as in the partner case); market 8 $M of acc. Annuities run both years:
      capital = (10 CRF(.05,20) + 2 CRF(.05,5) + 8 CRF(.1,5)) (DF30 + DF32)
      chips 10 DF30; energy 0.5256 (DF30 + DF32)
    """
    case = base_case()
    years(case, {"year": 2030}, {"year": 2032})
    demand(case, ("A", "inference", 2030, 1000), ("A", "inference", 2032, 1000))
    _partner(case, wacc=0.05, budget=6)
    df30, df32 = df(2030, 2), df(2032, 1)
    s = solve(tmp_path, case)
    check(
        s,
        capital=(10 * crf(0.05, 20) + 2 * crf(0.05, 5) + 8 * crf(0.1, 5)) * (df30 + df32),
        energy=E1 * (df30 + df32),
        supply_chain=10 * df30,
        capital_musd=20.0,
    )


def test_partner_rules_most_specific_and_tie(tmp_path: Path) -> None:
    """PartnerRules: the most specific matching row wins; a tie between disagreeing rows → FALSE.

    P: wacc 0.05, budget 100. Rules: (P, all, all) FALSE; (P, A, datacenter) TRUE;
    (P, A, all) FALSE; (P, all, accelerator) TRUE.
      dc in A: (P, A, datacenter) is the most specific → allowed → financed at CRF(.05,20).
      accelerators in A: (P, A, ·) and (P, ·, accelerator) tie and disagree → FALSE → market.
      capital = 10 CRF(.05,20) + 10 CRF(.1,5)
    """
    case = base_case()
    _partner(case, wacc=0.05, budget=100)
    case["PartnerRules"] = [
        {"partner": "P", "region": None, "class": None, "allowed": False},
        {"partner": "P", "region": "A", "class": "datacenter", "allowed": True},
        {"partner": "P", "region": "A", "class": None, "allowed": False},
        {"partner": "P", "region": None, "class": "accelerator", "allowed": True},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=10 * crf(0.05, 20) + 10 * crf(0.1, 5),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


def test_market_finance_false(tmp_path: Path) -> None:
    """market_finance FALSE: only partners finance, even a partner dearer than the market.

    P: wacc 0.12 (above region A's 0.10), budget 100. With the market off P pays everything:
      capital = 10 CRF(.12,5) + 10 CRF(.12,20)
    """
    case = base_case()
    set_setting(case, "market_finance", False)
    _partner(case, wacc=0.12, budget=100)
    s = solve(tmp_path, case)
    check(
        s,
        capital=10 * crf(0.12, 5) + 10 * crf(0.12, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


def test_market_finance_default_beats_dear_partner(tmp_path: Path) -> None:
    """Same as the market_finance FALSE case with the default TRUE: the market (0.10) is cheaper
    than P (0.12), so P finances nothing and the result is the §5.1 optimum."""
    case = base_case()
    _partner(case, wacc=0.12, budget=100)
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


# ============================================================================ 13, 14. emissions, clean
def _solar(case: Case, capex: float = 10) -> None:
    """A clean, always-available power tech at `capex` $M/MW (10 → 1.1746 $M/MW-yr ≈ 134 $/MWh)."""
    case["Technologies"].append({"tech": "solar", "class": "power", "life": 20, "clean": True})
    case["TechCosts"].append({"tech": "solar", "region": None, "year": None, "capex_musd": capex})


def test_emission_cap(tmp_path: Path) -> None:
    """Constraint 13: E_y = Σ hours·grid_co2·grid ≤ co2_cap_y.

    Grid 0.5 t/MWh at 50 $/MWh; cap 2628 t = 0.6 MW x 8760 h x 0.5 t. Solar costs ≈134 $/MWh
    (> 50), so the grid runs to the cap: grid 0.6 MW, solar 0.6 MW.
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + 0.6 x 10 CRF(.1,20); energy 0.6 x 0.438 = 0.2628
    """
    case = base_case()
    case["Regions"][0]["grid_co2_t"] = 0.5
    years(case, {"year": 2030, "co2_cap_t": 0.6 * HOURS * 0.5})
    _solar(case)
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 6 * crf(0.1, 20),
        energy=grid_musd(0.6),
        supply_chain=CHIPS,
        capital_musd=26.0,
    )


def test_clean_share(tmp_path: Path) -> None:
    """Constraint 14: Σ_h hours Σ_clean gen ≥ min_clean_share · 8760 · load; grid is never clean.

    min_clean_share 0.25 of 1.2 MW → solar 0.3 MW (dearer than grid, so no more); grid 0.9 MW.
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + 0.3 x 10 CRF(.1,20); energy 0.9 x 0.438 = 0.3942
    """
    case = base_case()
    case["Regions"][0]["min_clean_share"] = 0.25
    _solar(case)
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 3 * crf(0.1, 20),
        energy=grid_musd(0.9),
        supply_chain=CHIPS,
        capital_musd=23.0,
    )


def test_carbon_price(tmp_path: Path) -> None:
    """Carbon line: Σ_y DF_y/1e6 · carbon_price_y · E_y, E counting both grid and power techs.

    carbon 100 $/t; grid 0.5 t/MWh at 50 $/MWh, max 0.7 MW; gas (power, life 20, capex
    0.1 $M/MW, variable 20 $/MWh, 0.9 t/MWh). Per MWh: grid 50 + 50 = 100 $; gas 20 + 90 +
    0.1e6 CRF(.1,20)/8760 ≈ 111.3 $ → grid at its 0.7 MW limit, gas 0.5 MW (without the carbon
    price gas, ≈21 $/MWh, would take everything).
      carbon  = 8760 x (0.7 x 0.5 + 0.5 x 0.9) x 100 / 1e6 = 0.7008
      energy  = 8760 x (0.7 x 50 + 0.5 x 20) / 1e6 = 0.3942
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + 0.5 x 0.1 CRF(.1,20)
    """
    case = base_case()
    case["Regions"][0].update(grid_co2_t=0.5, grid_max_mw=0.7)
    years(case, {"year": 2030, "carbon_price_usd": 100})
    case["Technologies"].append(
        {"tech": "gas", "class": "power", "life": 20, "variable_cost_usd": 20, "co2_t": 0.9}
    )
    case["TechCosts"].append({"tech": "gas", "region": None, "year": None, "capex_musd": 0.1})
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 0.05 * crf(0.1, 20),
        energy=HOURS * (0.7 * 50 + 0.5 * 20) / 1e6,
        carbon=HOURS * (0.7 * 0.5 + 0.5 * 0.9) * 100 / 1e6,
        supply_chain=CHIPS,
        capital_musd=20.05,
    )


# ============================================================================ 12. bets
def _bet_case(rd_cost: float) -> Case:
    """Years 2030, 2035, 2040 (len 5); grid 200 $/MWh; a fusion bet decided 2035, available 2040."""
    case = base_case()
    set_setting(case, "last_period_length", 5)
    years(case, {"year": 2030}, {"year": 2035}, {"year": 2040})
    demand(case, *[("A", "inference", y, 1000) for y in (2030, 2035, 2040)])
    case["Regions"][0]["grid_price_usd"] = 200
    case["Technologies"].append({"tech": "fusion", "class": "power", "life": 20})
    case["TechCosts"].append(
        {"tech": "fusion", "region": None, "year": None, "capex_musd": 1, "max_build": 10}
    )
    case["Bets"] = [
        {
            "bet": "fbet",
            "tech": "fusion",
            "rd_cost_musd": rd_cost,
            "decide_year": 2035,
            "available_year": 2040,
            "probability": 0.5,
        }
    ]
    return case


def _bet_common() -> dict[str, float]:
    """Chips (life 5) deployed each model year; dc built once in 2030; grid 1.2 MW at 200 $/MWh."""
    dfs = [df(y, 5) for y in (2030, 2035, 2040)]
    return {
        "capital": (ACC * crf(0.1, 5) + DC * crf(0.1, 20)) * sum(dfs),
        "supply_chain": 4 * sum(dfs),
        "grid_per_year": grid_musd(1.2, price=200),  # 2.1024 $M
    }


def test_bet_succeed_funded(tmp_path: Path) -> None:
    """--bet-mode succeed: funding is a decision; fusion buildable from 2040 only if funded.

    Grid costs 1.2 x 8760 x 200 / 1e6 = 2.1024 $M/yr. Funding costs rd 1 $M at DP_2035 = 1.05^-5
    plus 1.2 MW of fusion (capex 1, life 20) built 2040: 1.2 CRF(.1,20) DF_2040; it saves
    2.1024 DF_2040 ≈ 5.9 ≫ 0.78 + 0.39, so fund = 1 and the 2040 grid is replaced.
      capital = common + 1.2 CRF(.1,20) DF40; energy = 2.1024 (DF30 + DF35); bets = DP35 x 1
    """
    c = _bet_common()
    df30, df35, df40 = df(2030, 5), df(2035, 5), df(2040, 5)
    s = solve(tmp_path, _bet_case(rd_cost=1), "--bet-mode", "succeed", *MIP)
    check(
        s,
        capital=c["capital"] + 1.2 * crf(0.1, 20) * df40,
        energy=c["grid_per_year"] * (df30 + df35),
        supply_chain=c["supply_chain"],
        bets=dp(2035) * 1,
        capital_musd=3 * 10 + 10 + 1.2,
    )


def test_bet_fail(tmp_path: Path) -> None:
    """--bet-mode fail: fusion is never built, nothing is worth funding → grid all three periods."""
    c = _bet_common()
    dfs = [df(y, 5) for y in (2030, 2035, 2040)]
    s = solve(tmp_path, _bet_case(rd_cost=1), "--bet-mode", "fail", *MIP)
    check(
        s,
        capital=c["capital"],
        energy=c["grid_per_year"] * sum(dfs),
        supply_chain=c["supply_chain"],
        capital_musd=40.0,
    )


def test_bet_succeed_not_worth_funding(tmp_path: Path) -> None:
    """bet_mode succeed (from Settings), rd 100 $M: DP35 x 100 ≈ 78 > the ≈5.9 $M saving → fund 0.

    Same as the fail case: grid in every period, no bet cost.
    """
    c = _bet_common()
    dfs = [df(y, 5) for y in (2030, 2035, 2040)]
    case = _bet_case(rd_cost=100)
    set_setting(case, "bet_mode", "succeed")
    s = solve(tmp_path, case, *MIP)
    check(
        s,
        capital=c["capital"],
        energy=c["grid_per_year"] * sum(dfs),
        supply_chain=c["supply_chain"],
        capital_musd=40.0,
    )


def test_bets_several_on_one_tech_all_funded(tmp_path: Path) -> None:
    """§5.2: several bets on one tech must all be funded; each rd cost discounted at its DP_decide.

    The succeed case plus a second bet on fusion, rd 1 $M decided in 2030 (DP_2030 = 1).
    Both funded (1 + 0.78 + 0.39 ≪ 5.9 saved): bets = 1 x DP_2030 + 1 x DP_2035; rest as succeed.
    """
    c = _bet_common()
    df30, df35, df40 = df(2030, 5), df(2035, 5), df(2040, 5)
    case = _bet_case(rd_cost=1)
    case["Bets"].append(
        {
            "bet": "fbet2",
            "tech": "fusion",
            "rd_cost_musd": 1,
            "decide_year": 2030,
            "available_year": 2040,
            "probability": 0.5,
        }
    )
    s = solve(tmp_path, case, "--bet-mode", "succeed", *MIP)
    check(
        s,
        capital=c["capital"] + 1.2 * crf(0.1, 20) * df40,
        energy=c["grid_per_year"] * (df30 + df35),
        supply_chain=c["supply_chain"],
        bets=dp(2030) * 1 + dp(2035) * 1,
        capital_musd=41.2,
    )


def test_storage_ignores_availability(tmp_path: Path) -> None:
    """§5.2: `availability` applies to power techs only — a battery with availability 0.5 is
    sized exactly as in the efficiency case (2.4 MW), not doubled."""
    case = _solar_battery_case(
        [{"slice": "s1", "day": "d1", "hours": 4380}, {"slice": "s2", "day": "d1", "hours": 4380}],
        dark=["s2"],
    )
    case["Regions"][0]["grid_max_mw"] = 0
    case["Technologies"][-1]["availability"] = 0.5
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + 2.7 * crf(0.1, 20) + 2.4 * crf(0.1, 10),
        supply_chain=CHIPS,
    )


def test_no_capex_no_build_but_existing_counts(tmp_path: Path) -> None:
    """§5.2: no capex resolving for (region, year) → build = 0 there; existing capacity still counts.

    Regions A and B; dc capex only for B, but B has no grid (grid_max 0, no power tech) so it can't
    host chips. A has 0.6 MW of existing dc and cannot build more: IT ≤ 0.6 MW → 600 served.
      capital = 6 CRF(.1,5); chips 600 x 0.02 = 12; energy 0.72 MW x 0.438 = 0.31536;
      unserved 400 x 200,000 / 1e6 = 80.
    """
    case = base_case()
    case["Regions"] = [region("A"), region("B", grid_max_mw=0)]
    case["TechCosts"] = [{"tech": "dc", "region": "B", "year": None, "capex_musd": 10}]
    case["ExistingCapacity"] = [{"tech": "dc", "region": "A", "capacity": 0.6, "retire_year": None}]
    s = solve(tmp_path, case)
    check(
        s,
        capital=6 * crf(0.1, 5),
        energy=grid_musd(0.72),
        supply_chain=12.0,
        unserved=80.0,
        unserved_h100e=400.0,
        capital_musd=6.0,
    )


def test_bet_stochastic_default_mode(tmp_path: Path) -> None:
    """bet_mode stochastic (the Settings default, no override): two outcomes, p = 0.5 each.

    T* = 2040 (the earliest available_year): everything of 2030 and 2035, and `fund`, is shared;
    2040 differs by outcome. Funding is worth it in expectation: 0.5 x DF40 x (2.1024 − 1.2
    CRF(.1,20)) ≈ 2.74 > DP35 x 1 ≈ 0.78 → fund = 1, paid in both outcomes.
      succeed copy: fusion 1.2 MW built 2040, no grid in 2040; fail copy: grid in 2040.
      capital = common + 0.5 x 1.2 CRF(.1,20) DF40; energy = 2.1024 (DF30 + DF35 + 0.5 DF40)
      bets = DP35 x 1; capital raised (expected) = 40 + 0.5 x 1.2
    """
    c = _bet_common()
    df30, df35, df40 = df(2030, 5), df(2035, 5), df(2040, 5)
    s = solve(tmp_path, _bet_case(rd_cost=1), *MIP)
    check(
        s,
        capital=c["capital"] + 0.5 * 1.2 * crf(0.1, 20) * df40,
        energy=c["grid_per_year"] * (df30 + df35 + 0.5 * df40),
        supply_chain=c["supply_chain"],
        bets=dp(2035) * 1,
        capital_musd=40 + 0.5 * 1.2,
    )


def test_chip_routes_are_directional(tmp_path: Path) -> None:
    """§5.2: ChipRoutes are directional. A row denying A→B leaves B→A allowed at cost 0.

    A can't buy (chips_external_allowed FALSE) and is the only place with dc capex; B buys the
    1000 chips and ships them B→A for free: the §5.1 numbers.
    """
    case = base_case()
    case["Regions"] = [region("A", chips_external_allowed=False), region("B")]
    case["TechCosts"] = [{"tech": "dc", "region": "A", "year": None, "capex_musd": 10}]
    case["ChipRoutes"] = [{"from": "A", "to": "B", "commodity": None, "allowed": False}]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


def test_fab_two_level_chain_unpriced_input(tmp_path: Path) -> None:
    """A two-level chain: hbm has no price (can't be bought, §5.2) so an hbm fab makes it.

    As the fab-chain case (afab: 2 hbm per accelerator, 25,000 $/unit, 8.76 MWh/unit, capex
    0.001; accelerators bought at 20,000 $ up to 600/yr) but no Commodities row for hbm; hbmfab
    (fab, output hbm, life 10, variable 500 $/unit, capex 0.0001 $M per unit/yr) supplies it.
    A made chip ≈ 25,000 + 2 x (500 + 16) + 438 + 163 > 20,000 → buy 600, make 400 from 800 hbm.
      capital = 10 CRF(.1,5) + 10 CRF(.1,20) + (400 x 0.001 + 800 x 0.0001) CRF(.1,10)
      supply  = 600 x 20,000 + 400 x 25,000 + 800 x 500 = 12 + 10 + 0.4 = 22.4 $M
      energy  = (1.2 + 0.4) MW x 8760 x 50 / 1e6 = 0.7008
    """
    case = base_case()
    case["Technologies"] += [
        {
            "tech": "afab",
            "class": "fab",
            "life": 10,
            "variable_cost_usd": 25000,
            "output": "accelerator",
            "electricity_mwh": 8.76,
        },
        {"tech": "hbmfab", "class": "fab", "life": 10, "variable_cost_usd": 500, "output": "hbm"},
    ]
    case["TechCosts"] += [
        {"tech": "afab", "region": None, "year": None, "capex_musd": 0.001},
        {"tech": "hbmfab", "region": None, "year": None, "capex_musd": 0.0001},
    ]
    case["FabInputs"] = [{"tech": "afab", "commodity": "hbm", "quantity": 2}]
    case["Commodities"] = [
        {"commodity": "accelerator", "year": None, "external_price_usd": 20000, "external_max": 600}
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20) + (0.4 + 0.08) * crf(0.1, 10),
        energy=grid_musd(1.6),
        supply_chain=22.4,
        capital_musd=20.48,
    )


def test_demand_two_wildcard_columns(tmp_path: Path) -> None:
    """§5.2: with two wildcard key columns, (r,g) > (r,·) > (·,g) > (·,·).

    Demand rows: (A, any segment) 700, (any region, inference) 300, (A, training) 200.
      A inference: (A,·) 700 beats (·,inference) 300 → 700; A training: (A,training) → 200.
      900 H100e: capital 9 CRF(.1,5) + 9 CRF(.1,20); chips 18; energy 0.9 x 0.5256.
    """
    case = base_case()
    demand(
        case,
        ("A", None, 2030, 700),
        (None, "inference", 2030, 300),
        ("A", "training", 2030, 200),
    )
    s = solve(tmp_path, case)
    check(
        s,
        capital=9 * crf(0.1, 5) + 9 * crf(0.1, 20),
        energy=0.9 * E1,
        supply_chain=18.0,
        capital_musd=18.0,
    )


def test_value_columns_resolved_on_their_own(tmp_path: Path) -> None:
    """§5.2: a blank cell in a resolved sheet is "not given here"; each column resolves alone.

    TechCosts dc: (all regions) capex 10; (A) capex blank, fixed_om 0.5. For A, capex comes from
    the all-region row (10), fixed_om from A's row (0.5 $M/MW/yr on 1 MW).
      The §5.1 optimum plus fixed O&M 0.5 x 1 x DF_2030 (= 1) = 0.5.
    """
    case = base_case()
    case["TechCosts"].append(
        {"tech": "dc", "region": "A", "year": None, "capex_musd": None, "fixed_om_musd": 0.5}
    )
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + DC * crf(0.1, 20),
        fixed_om=0.5,
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


def test_market_finances_at_host_region_wacc(tmp_path: Path) -> None:
    """§5.2: the market finances at the wacc of the region where the asset is built.

    Regions A (wacc 0.10) and B (wacc 0.05), otherwise identical; demand in A, served from B
    (every annuity is cheaper there, nothing else differs):
      capital = 10 CRF(.05,5) + 10 CRF(.05,20); chips 20; energy 0.5256.
    """
    case = base_case()
    case["Regions"] = [region("A"), region("B", wacc=0.05)]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.05, 5) + DC * crf(0.05, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


def test_partner_budget_interpolated(tmp_path: Path) -> None:
    """PartnerBudgets are resolved by §4.2: rows 2030: 8 and 2034: 16 → 12 $M in model year 2032.

    One model year 2032 (base 2032, length 1); Accelerators/TechCosts rows are held flat. With
    12 $M from P (wacc 0.05) the split is the partner case's: dc 10 + acc 2 from P, acc 8 market.
      capital = 10 CRF(.05,20) + 2 CRF(.05,5) + 8 CRF(.1,5)
    """
    case = base_case()
    case["Settings"] = [
        {"key": "base_year", "value": 2032},
        {"key": "last_period_length", "value": 1},
    ]
    years(case, {"year": 2032})
    demand(case, ("A", "inference", 2032, 1000))
    case["Partners"] = [{"partner": "P", "wacc": 0.05}]
    case["PartnerBudgets"] = [
        {"partner": "P", "year": 2030, "budget_musd": 8},
        {"partner": "P", "year": 2034, "budget_musd": 16},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=10 * crf(0.05, 20) + 2 * crf(0.05, 5) + 8 * crf(0.1, 5),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


def test_integer_modules_mip_gap_from_settings(tmp_path: Path) -> None:
    """§5.2 "Honour mip_gap from Settings": the integer-modules case with mip_gap 1e-9 set in the
    Settings sheet (no CLI option) gives the exact MIP optimum, 10 CRF(.1,5) + 12 CRF(.1,20) + ..."""
    case = base_case()
    set_setting(case, "mip_gap", 1e-9)
    case["Technologies"][0]["module_size"] = 0.4
    _dc2(case)
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * crf(0.1, 5) + 12 * crf(0.1, 20),
        energy=E1,
        supply_chain=CHIPS,
        capital_musd=22.0,
    )


def test_sovereignty_applies_to_served_demand(tmp_path: Path) -> None:
    """Constraint 7 uses D − unserved: serve[g,A,A] ≥ 1.0 x (1000 − unserved).

    A: grid_max 0.6 MW → at most 0.5 MW IT → 500 H100e at home; B could host the rest cheaply
    but min_domestic_inference(A) = 1.0 forbids any foreign serving (serve_AA + serve_BA + u = 1000
    and serve_AA ≥ 1000 − u ⇒ serve_BA = 0). So 500 unserved (the model stays feasible):
      capital 5 CRF(.1,5) + 5 CRF(.1,20); chips 10; energy 0.6 x 0.438; unserved 500 x 0.2 = 100.
    """
    case = base_case()
    case["Regions"] = [
        region("A", grid_max_mw=0.6, min_domestic_inference=1.0),
        region("B"),
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=5 * crf(0.1, 5) + 5 * crf(0.1, 20),
        energy=grid_musd(0.6),
        supply_chain=10.0,
        unserved=100.0,
        unserved_h100e=500.0,
        capital_musd=10.0,
    )


def test_emission_cap_covers_all_regions(tmp_path: Path) -> None:
    """§5.2: the emission cap covers all regions together (Σ_r in E_y).

    Regions A and B (grid 0.5 t/MWh at 50 $/MWh), demand 1000 in each → load 2.4 MW in total.
    Cap 2628 t = 0.6 MW of grid in total; clean solar (capex 10, ≈134 $/MWh) supplies 1.8 MW.
      capital = 20 CRF(.1,5) + 20 CRF(.1,20) + 1.8 x 10 CRF(.1,20); energy 0.6 x 0.438; chips 40.
    """
    case = base_case()
    case["Regions"] = [region("A", grid_co2_t=0.5), region("B", grid_co2_t=0.5)]
    demand(case, ("A", "inference", 2030, 1000), ("B", "inference", 2030, 1000))
    years(case, {"year": 2030, "co2_cap_t": 0.6 * HOURS * 0.5})
    _solar(case)
    s = solve(tmp_path, case)
    check(
        s,
        capital=20 * crf(0.1, 5) + 20 * crf(0.1, 20) + 18 * crf(0.1, 20),
        energy=grid_musd(0.6),
        supply_chain=40.0,
        capital_musd=58.0,
    )
