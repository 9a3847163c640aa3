"""Hand-solved micro-cases of DESIGN v2 (issue 15), checked through the CLI.

Same conventions as ``test_hand_cases.py`` (whose shorthand is used here: ``ACC``, ``DC``, ``E1``,
``CHIPS``, ``crf``, ``df``): every case is the §5.1 worked case plus the changes its docstring lists,
and every expected number is derived from DESIGN.md alone. Two-year cases use model years 2030 and
2031 (``len`` 1 each, base 2030, d = 0.05), so ``DF_2030 = 1`` and ``DF_2031 = 1/1.05``.
"""

from __future__ import annotations

import pytest

try:
    from hand_cases import base_case, run_cli, write_case
    from test_hand_cases import ACC, CHIPS, DC, E1, check, crf, grid_musd, solve
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.hand_cases import base_case, run_cli, write_case
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
