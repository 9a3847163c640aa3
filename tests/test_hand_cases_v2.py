"""Hand-solved micro-cases of DESIGN v2 (issue 15), checked through the CLI.

Same conventions as ``test_hand_cases.py`` (whose shorthand is used here: ``ACC``, ``DC``, ``E1``,
``CHIPS``, ``crf``, ``df``): every case is the §5.1 worked case plus the changes its docstring lists,
and every expected number is derived from DESIGN.md alone. Two-year cases use model years 2030 and
2031 (``len`` 1 each, base 2030, d = 0.05), so ``DF_2030 = 1`` and ``DF_2031 = 1/1.05``.
"""

from __future__ import annotations

import pytest

try:
    from hand_cases import base_case, region, run_cli, set_setting, write_case
    from test_hand_cases import ACC, CHIPS, DC, E1, check, crf, grid_musd, solve
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.hand_cases import base_case, region, run_cli, set_setting, write_case
    from tests.test_hand_cases import ACC, CHIPS, DC, E1, check, crf, grid_musd, solve

D31 = 1 / 1.05  # DF_2031 = DP_2031 with d = 0.05, base 2030
A5 = crf(0.1, 5)  # accelerator annuity per model year alive
A20 = crf(0.1, 20)  # data-center (and fab) annuity per model year online


def two_years(case):
    """Model years 2030 and 2031, each standing for one year."""
    case["Years"] = [{"year": 2030}, {"year": 2031}]


# ============================================================================ GridAccess
def test_grid_access_region_row_beats_all_region_row_beats_regions_column(tmp_path):
    """Regions A: grid_max_mw 1, grid_price_usd 50. GridAccess: (all regions, all years: max_mw 2,
    price 100) and (A, all years: price 40).

    price: A's own row gives 40 → 40 (not the all-region 100, not the Regions 50).
    max_mw: A's row does not give it, the all-region row does → 2 MW (not the Regions 1 MW, which
    could not carry the 1.2 MW load and would leave demand unserved).
    So the §5.1 plan with energy 1.2 MW x 8760 h x 40 $ = 0.42048 $M instead of 0.5256.
    """
    case = base_case()
    case["Regions"][0].update(grid_max_mw=1, grid_price_usd=50)
    case["GridAccess"] = [
        {"region": None, "year": None, "max_mw": 2, "price_usd": 100},
        {"region": "A", "year": None, "max_mw": None, "price_usd": 40},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * A5 + DC * A20,
        energy=grid_musd(1.2, 40),
        supply_chain=CHIPS,
        capital_musd=20.0,
    )


def test_grid_price_interpolated_by_year(tmp_path):
    """Years 2030, 2031; demand 1000 H100e in both. GridAccess (A, 2030, price 40) and (A, 2032,
    price 60): 2031 lies between → 40 + (60 − 40)·1/2 = 50 $/MWh.

    Plan: 1000 chips deployed in 2030 serve both years (life 5); 1 MW of dc built in 2030.
    capital: (ACC·CRF(.1,5) + DC·CRF(.1,20))·(DF_2030 + DF_2031); chips bought in 2030: CHIPS;
    energy: 1.2 MW at 40 $ in 2030 + 1.2 MW at 50 $ in 2031 discounted: E(40) + E(50)/1.05.
    """
    case = base_case()
    two_years(case)
    case["Demand"][0]["year"] = None
    case["GridAccess"] = [
        {"region": "A", "year": 2030, "price_usd": 40},
        {"region": "A", "year": 2032, "price_usd": 60},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=(ACC * A5 + DC * A20) * (1 + D31),
        energy=grid_musd(1.2, 40) + grid_musd(1.2, 50) * D31,
        supply_chain=CHIPS,
    )


def test_grid_co2_by_year_prices_carbon(tmp_path):
    """One year; Regions grid_co2_t 0 but GridAccess (A, 2030, co2_t 0.5); carbon price 100 $/t.

    E = 1.2 MW x 8760 h x 0.5 t/MWh = 5256 t; carbon = 5256 x 100 / 1e6 = 0.5256 $M.
    """
    case = base_case()
    case["Years"] = [{"year": 2030, "carbon_price_usd": 100}]
    case["GridAccess"] = [{"region": "A", "year": 2030, "co2_t": 0.5}]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * A5 + DC * A20,
        energy=E1,
        carbon=1.2 * 8760 * 0.5 * 100 / 1e6,
        supply_chain=CHIPS,
    )


# ============================================================================ value of compute
def test_value_usd_below_the_cost_of_serving_leaves_demand_unserved(tmp_path):
    """Demand: (A, inference, 2030, 1000 H100e, no value) and (A, training, 2030, 500 H100e, value
    50,000 $), plus a value-only row (all regions, segments and years: value 10,000 $).

    inference takes the value-only row's 10,000 $ (no more specific row gives value_usd): below the
    ≈24,338 $ a served H100e costs → all 1000 unserved: 1000 x 10,000 / 1e6 = 10 $M.
    training is worth 50,000 $ > 24,338 $ → served: the §5.1 plan at half size (every cost is linear
    in the chips: capital (ACC·CRF(.1,5) + DC·CRF(.1,20))/2, chips CHIPS/2, energy E1/2).
    """
    case = base_case()
    case["Demand"] = [
        {"region": "A", "segment": "inference", "year": 2030, "h100e": 1000, "value_usd": None},
        {"region": "A", "segment": "training", "year": 2030, "h100e": 500, "value_usd": 50000},
        {"region": None, "segment": None, "year": None, "h100e": None, "value_usd": 10000},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        unserved_h100e=1000,
        capital=(ACC * A5 + DC * A20) / 2,
        energy=E1 / 2,
        supply_chain=CHIPS / 2,
        unserved=10.0,
    )


# ============================================================================ start_year
@pytest.mark.parametrize(("start", "dc_built"), [(2031, 0.0), (2032, 1.0)])
def test_committed_data_center_start_year(tmp_path, start, dc_built):
    """Years 2030, 2031; demand 0 in 2030 and 1000 H100e in 2031; ExistingCapacity dc 1 MW with
    start_year ``start``.

    Chips are deployed in 2031 (vintage 2031: the 2030 Accelerators row held flat); deploying in
    2030 would only add a year of annuity. Costs, all in 2031 (× DF_2031 = 1/1.05): accelerator
    capital ACC·CRF(.1,5), chips CHIPS, energy E1.
    start 2031: the committed 1 MW counts in 2031 → no data center is built.
    start 2032: it counts from 2032, after the horizon → 1 MW built in 2031: + DC·CRF(.1,20)·DF_2031.
    """
    case = base_case()
    two_years(case)
    case["Demand"] = [
        {"region": "A", "segment": "inference", "year": 2030, "h100e": 0},
        {"region": "A", "segment": "inference", "year": 2031, "h100e": 1000},
    ]
    case["ExistingCapacity"] = [
        {"tech": "dc", "region": "A", "capacity": 1, "start_year": start, "retire_year": None}
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=(ACC * A5 + dc_built * DC * A20) * D31,
        energy=E1 * D31,
        supply_chain=CHIPS * D31,
        capital_musd=10.0 + dc_built * DC,
    )


# ============================================================================ FabInputs by year
def test_hbm_per_accelerator_rising_by_year(tmp_path):
    """Years 2030, 2031; demand 1000 H100e in 2030 and 2000 in 2031. Accelerators cannot be bought:
    a packaging fab ``pack`` (life 20, capex 0.001 $M per accelerator/yr) makes them from HBM
    bought at 100 $ a stack; FabInputs (pack, hbm, 2030, 4) and (pack, hbm, 2031, 8).

    Plan: 1000 chips deployed (and packaged) in 2030 and 1000 more in 2031; 1000/yr of pack
    capacity built in 2030 serves both years; dc 1 MW in 2030 and 1 MW more in 2031.
    capital: ACC·CRF(.1,5)·(1 + DF31) + ACC·CRF(.1,5)·DF31            accelerators, vintages 2030, 2031
           + DC·CRF(.1,20)·(1 + DF31) + DC·CRF(.1,20)·DF31            data centers
           + 1 $M·CRF(.1,20)·(1 + DF31)                               pack fab (1000 x 0.001 $M)
    energy: 1.2 MW in 2030, 2.4 MW in 2031: E1·(1 + 2·DF31)
    supply chain: 4 HBM x 1000 x 100 $ = 0.4 $M in 2030; 8 x 1000 x 100 $ = 0.8 $M in 2031.
    Packaging the 2031 chips in 2030 at 4 HBM would save 0.4 $M·DF31 but add a year of accelerator
    annuity (ACC·CRF(.1,5) = 2.64 $M): not optimal.
    """
    case = base_case()
    two_years(case)
    case["Demand"] = [
        {"region": "A", "segment": "inference", "year": 2030, "h100e": 1000},
        {"region": "A", "segment": "inference", "year": 2031, "h100e": 2000},
    ]
    case["Technologies"].append(
        {"tech": "pack", "class": "fab", "life": 20, "output": "accelerator"}
    )
    case["TechCosts"].append({"tech": "pack", "region": None, "year": None, "capex_musd": 0.001})
    case["Commodities"] = [
        {"commodity": "accelerator", "year": None, "external_price_usd": None},
        {"commodity": "hbm", "year": None, "external_price_usd": 100},
    ]
    case["FabInputs"] = [
        {"tech": "pack", "commodity": "hbm", "year": 2030, "quantity": 4},
        {"tech": "pack", "commodity": "hbm", "year": 2031, "quantity": 8},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * A5 * (1 + 2 * D31) + DC * A20 * (1 + 2 * D31) + 1.0 * A20 * (1 + D31),
        energy=E1 * (1 + 2 * D31),
        supply_chain=0.4 + 0.8 * D31,
    )


# ============================================================================ the two §4 fixes
def test_empty_demand_sheet_solves_to_nothing(tmp_path):
    """§4.1: a Demand sheet with no rows is zero demand: nothing is needed, nothing is built,
    objective 0 (an energy-only study solves)."""
    folder = write_case(tmp_path / "case", base_case())
    (folder / "Demand.csv").write_text("region,segment,year,h100e\n")
    s = run_cli(folder)
    check(s)


def test_blank_year_accelerator_row_solves_like_the_dated_row(tmp_path):
    """§4.2: the §5.1 Accelerators row with its year blank applies to vintage 2030 → 24.338171."""
    case = base_case()
    case["Accelerators"][0]["year"] = None
    s = solve(tmp_path, case)
    assert s["objective_musd"] == pytest.approx(24.338171, rel=1e-6)
    check(s, capital=ACC * A5 + DC * A20, energy=E1, supply_chain=CHIPS, capital_musd=20.0)


# ============================================================================ idle chips (active, fleet_on)
def test_idling_lowers_cost_by_exactly_the_energy_saved(tmp_path):
    """Years 2030, 2031; demand 1000 H100e in 2030 and 0 in 2031.

    The 1000 chips deployed in 2030 are alive in 2031 (life 5) but nothing needs them. v1 made them
    run (active = deploy): 1.2 MW for a year in 2031, E1·DF31. v2 lets them idle (active ≤ deploy):
    no power in 2031, and nothing else changes (capital is sunk; the data center built in 2030 is
    online in 2031 either way). So the v2 optimum is the v1 one minus exactly E1·DF31:
      v1 = (ACC·CRF(.1,5) + DC·CRF(.1,20))·(1 + DF31) + CHIPS + E1 + E1·DF31
      v2 = v1 − E1·DF31;  idle_h100e = 1000 (1000 chips x 1 H100e idle in 2031).
    """
    case = base_case()
    two_years(case)
    case["Demand"] = [
        {"region": "A", "segment": "inference", "year": 2030, "h100e": 1000},
        {"region": "A", "segment": "inference", "year": 2031, "h100e": 0},
    ]
    s = solve(tmp_path, case)
    v1 = (ACC * A5 + DC * A20) * (1 + D31) + CHIPS + E1 + E1 * D31
    assert s["objective_musd"] == pytest.approx(v1 - E1 * D31, rel=1e-6)
    check(s, capital=(ACC * A5 + DC * A20) * (1 + D31), energy=E1, supply_chain=CHIPS)
    assert s["idle_h100e"] == pytest.approx(1000, rel=1e-6)
    fleet = _sheet(tmp_path, "Fleet")
    row = fleet[(fleet.vintage == 2030) & (fleet.year == 2031)].iloc[0]
    assert (row.deployed, row.active, row.idle) == pytest.approx((1000, 0, 1000), abs=1e-6)
    assert (row.active_h100e, row.idle_h100e) == pytest.approx((0, 1000), abs=1e-6)


def test_existing_fleet_idles_to_free_space_for_a_better_vintage(tmp_path):
    """One year 2030; demand 2000 H100e. The data center space is fixed: ExistingCapacity dc 1 MW
    and max_capacity 1 MW (no more can be built). The ExistingFleet holds 500 H100e drawing 1000 kW
    (2 kW per H100e) — it fills the 1 MW. The new vintage gives 2 H100e per chip at 1 kW.

    v1 (fleet always on): no room for new chips → 500 served, 1500 unserved at 200,000 $ = 300 $M.
    v2: the fleet idles and 1000 new chips (1 MW) serve all 2000 H100e — 2000 H100e/MW against the
    fleet's 500, and the penalty makes serving everything worth it:
      capital = 1000 x 10,000 $ = 10 $M · CRF(.1,5); chips = 1000 x 20,000 $ = 20 $M;
      energy = 1.2 MW (1 MW x pue) → E1. No data-center capital (existing).
      idle_h100e = 500 (the fleet); Fleet sheet: existing row active_h100e 0, idle_h100e 500.
    """
    case = base_case()
    case["Demand"][0]["h100e"] = 2000
    case["Accelerators"][0].update(h100e_per_chip=2, kw_per_chip=1.0)
    case["TechCosts"][0]["max_capacity"] = 1
    case["ExistingCapacity"] = [{"tech": "dc", "region": "A", "capacity": 1}]
    case["ExistingFleet"] = [{"region": "A", "h100e": 500, "kw_it": 1000}]
    s = solve(tmp_path, case)
    check(s, capital=ACC * A5, energy=E1, supply_chain=CHIPS, capital_musd=10.0)
    assert s["idle_h100e"] == pytest.approx(500, rel=1e-6)
    fleet = _sheet(tmp_path, "Fleet")
    old = fleet[fleet.vintage == "existing"].iloc[0]
    assert (old.active_h100e, old.idle_h100e) == pytest.approx((0, 500), abs=1e-6)
    new = fleet[fleet.vintage == 2030].iloc[0]
    assert (new.deployed, new.active, new.active_h100e) == pytest.approx((1000, 1000, 2000))


def test_it_load_factor_scales_energy_only(tmp_path):
    """Settings it_load_factor λ = 0.8: running chips draw 0.8 of nameplate, so the grid carries
    1.2 MW x 0.8 = 0.96 MW: energy 0.8·E1. The data center still holds the 1 MW nameplate (DC·CRF).
    """
    case = base_case()
    set_setting(case, "it_load_factor", 0.8)
    s = solve(tmp_path, case)
    check(s, capital=ACC * A5 + DC * A20, energy=0.8 * E1, supply_chain=CHIPS)


# ============================================================================ 9a, 9b
def test_import_cap_blank_region_caps_each_region_on_its_own(tmp_path):
    """Regions A and B, demand 1000 H100e in each; ImportLimits (accelerator, blank region, blank
    year, 600): each region may receive (buy + ship in) at most 600 accelerators a year.

    Chips come only from outside (no fab), so at most 600 + 600 = 1200 chips exist; a cap on the
    sum would allow 600. 1200 chips serve 1200 H100e, 800 are unserved at 200,000 $ = 160 $M.
    The 1200 chips cost 1.2 x the §5.1 plan line by line (all linear, data centers in both regions).
    """
    case = base_case()
    case["Regions"] = [region("A"), region("B")]
    case["Demand"] = [
        {"region": "A", "segment": "inference", "year": 2030, "h100e": 1000},
        {"region": "B", "segment": "inference", "year": 2030, "h100e": 1000},
    ]
    case["ImportLimits"] = [
        {"commodity": "accelerator", "region": None, "year": None, "max_units": 600}
    ]
    s = solve(tmp_path, case)
    check(
        s,
        unserved_h100e=800,
        capital=1.2 * (ACC * A5 + DC * A20),
        energy=1.2 * E1,
        supply_chain=1.2 * CHIPS,
        unserved=800 * 200000 / 1e6,
        capital_musd=1.2 * 20,
    )


def test_import_cap_on_one_region_binds_on_ship_in(tmp_path):
    """Regions A (consumer, the only data centers) and S (the only buyer: A has
    chips_external_allowed FALSE); ImportLimits (accelerator, A, 2030, 700). A receives its chips
    by ship-in from S, capped at 700 → 700 served, 300 unserved at 200,000 $ = 60 $M; the 700
    chips cost 0.7 x the §5.1 plan (shipping is free)."""
    case = base_case()
    case["Regions"] = [region("A", chips_external_allowed=False), region("S")]
    case["TechCosts"][0]["region"] = "A"
    case["ImportLimits"] = [
        {"commodity": "accelerator", "region": "A", "year": 2030, "max_units": 700}
    ]
    s = solve(tmp_path, case)
    check(
        s,
        unserved_h100e=300,
        capital=0.7 * (ACC * A5 + DC * A20),
        energy=0.7 * E1,
        supply_chain=0.7 * CHIPS,
        unserved=60.0,
    )


@pytest.mark.parametrize(
    ("reexport", "t_buys", "shipping"),
    [(True, False, 0.0), (False, False, 5.0), (False, True, 0.0)],
)
def test_reexport_false_closes_the_transshipment_path(tmp_path, reexport, t_buys, shipping):
    """Regions A (consumer; data centers only here; cannot buy), T (transit) and S (buys chips).
    ChipRoutes: S→A costs 5,000 $ a chip; S→T and T→A are free.

    T reexport TRUE: chips go S→T→A for free: the §5.1 plan (supply chain 20 $M).
    T reexport FALSE and T cannot buy: T ships out at most what it makes or buys (9a) = 0, so the
    chips go S→A directly: + 1000 x 5,000 $ = 5 $M.
    T reexport FALSE but T may buy: T ships out what it buys itself (9a allows it): free again.
    """
    case = base_case()
    case["Regions"] = [
        region("A", chips_external_allowed=False),
        region("T", chips_external_allowed=t_buys, reexport=reexport),
        region("S"),
    ]
    case["TechCosts"][0]["region"] = "A"
    case["ChipRoutes"] = [{"from": "S", "to": "A", "commodity": None, "cost_usd": 5000}]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * A5 + DC * A20,
        energy=E1,
        supply_chain=CHIPS + shipping,
        capital_musd=20.0,
    )


# ============================================================================ 15 firm capacity
@pytest.mark.parametrize(("margin", "gas_mw"), [(None, 0.0), (0.0, 0.0), (0.25, 0.3)])
def test_reserve_margin_forces_firm_capacity(tmp_path, margin, gas_mw):
    """Grid 1.2 MW (just the §5.1 load); a gas plant (capex 1 $M/MW, life 20, availability 1 →
    capacity credit 1, 1000 $/MWh so it never runs); it_load_factor 0.5.

    Energy: λ halves what the chips draw: 0.6 MW of grid → 0.5·E1.
    Peak (nameplate, λ not applied): 1.2 MW. reserve_margin blank: no row; 0: grid 1.2 ≥ 1.2, no gas.
    0.25: firm needed 1.25 x 1.2 = 1.5 MW; grid gives 1.2 → 0.3 MW of gas: + 0.3 x 1 $M x CRF(.1,20).
    """
    case = base_case()
    case["Regions"][0].update(grid_max_mw=1.2, reserve_margin=margin)
    set_setting(case, "it_load_factor", 0.5)
    case["Technologies"].append(
        {"tech": "gas", "class": "power", "life": 20, "variable_cost_usd": 1000}
    )
    case["TechCosts"].append({"tech": "gas", "region": None, "year": None, "capex_musd": 1})
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * A5 + DC * A20 + gas_mw * 1.0 * A20,
        energy=0.5 * E1,
        supply_chain=CHIPS,
        capital_musd=20.0 + gas_mw,
    )


def test_capacity_credit_decides_which_firm_capacity_is_built(tmp_path):
    """As the 0.25 margin case above (0.3 MW of firm capacity short), plus wind (capex 0.5 $M/MW,
    life 20, availability 0 — it never generates — capacity_credit 0.8).

    0.3 MW firm from wind needs 0.3 / 0.8 = 0.375 MW x 0.5 $M = 0.1875 $M of capital, against gas's
    0.3 MW x 1 $M = 0.3 $M: wind is built, 0.1875 x CRF(.1,20).
    """
    case = base_case()
    case["Regions"][0].update(grid_max_mw=1.2, reserve_margin=0.25)
    set_setting(case, "it_load_factor", 0.5)
    case["Technologies"] += [
        {"tech": "gas", "class": "power", "life": 20, "variable_cost_usd": 1000},
        {"tech": "wind", "class": "power", "life": 20, "availability": 0, "capacity_credit": 0.8},
    ]
    case["TechCosts"] += [
        {"tech": "gas", "region": None, "year": None, "capex_musd": 1},
        {"tech": "wind", "region": None, "year": None, "capex_musd": 0.5},
    ]
    s = solve(tmp_path, case)
    check(
        s,
        capital=ACC * A5 + DC * A20 + 0.375 * 0.5 * A20,
        energy=0.5 * E1,
        supply_chain=CHIPS,
        capital_musd=20.0 + 0.1875,
    )


def _sheet(tmp_path, name):
    """A sheet of the results workbook :func:`solve` wrote for the case."""
    import pandas as pd

    return pd.read_excel(tmp_path / "case_results.xlsx", sheet_name=name)


def test_every_constraint_family_has_a_sentence_for_the_iis():
    """An infeasibility explanation names each row in the user's terms (DESIGN §4.3).

    Every constraint family built on ``tiny_v2`` (tiny plus every v2 sheet and column, so 4a, 9a,
    9b and 15 are present) must have its own sentence in ``optimizer.diagnose``; a family without
    one would be shown as its raw Pyomo name (``c_import_limit[accelerator,A,2030]``).
    """
    import pyomo.environ as pyo

    from optimizer.data_io import load_inputs
    from optimizer.diagnose import describe_row
    from optimizer.model import build_model
    from tests.conftest import DATA

    m = build_model(load_inputs(DATA / "tiny_v2"))
    families = {}
    for comp in m.component_objects(pyo.Constraint, active=True):
        for con in comp.values():
            families.setdefault(comp.local_name, con)
            break
    assert {"c_active_limit", "c_no_reexport", "c_import_limit", "c_firm_capacity"} <= set(families)
    raw = {name for name, con in families.items() if describe_row(con) == con.name}
    assert not raw, f"no IIS sentence for {sorted(raw)}"
