"""Issue 15, the data side of DESIGN v2: new sheets and columns are read, validated and resolved (§4.1,
§4.2, §5.2 "v2 additions"), and every user path (validate, --annotate, template, convert, scenarios)
knows them from the schema.

The expected resolved values are derived from the §4.2 rules by hand in each docstring.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import cli
from optimizer.data_io import InputError, load_inputs
from optimizer.schema import SHEETS_BY_NAME

try:
    from hand_cases import Case, base_case, region, set_setting, write_case
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.hand_cases import Case, base_case, region, set_setting, write_case


def load(tmp_path: Path, case: Case):
    return load_inputs(write_case(tmp_path / "case", case))


def problems(tmp_path: Path, case: Case) -> list[str]:
    with pytest.raises(InputError) as info:
        load(tmp_path, case)
    return [str(p) for p in info.value.problems]


def three_years(case: Case) -> None:
    case["Years"] = [{"year": 2030}, {"year": 2035}, {"year": 2040}]


# ----------------------------------------------------------------------------- GridAccess
def test_grid_access_precedence_column_by_column_and_interpolation(tmp_path):
    """Regions A, B with Regions columns grid_max_mw 5, grid_price_usd 50, grid_co2_t 0.2.

    GridAccess rows: (A, 2030, max 10, price 40), (A, 2040, max 30), (all, 2030, price 60, co2 0.4),
    (all, 2040, price 80).

    A, max_mw: A's own rows give 10 @2030 and 30 @2040 → 2035 interpolated: 20.
    A, price_usd: of A's rows only 2030 gives it (40) → held flat: 40, 40, 40.
    A, co2_t: no A row gives it → the all-region rows: only 2030 gives 0.4 → 0.4 everywhere.
    B, max_mw: no B row, no all-region row gives it → the Regions column: 5.
    B, price_usd: all-region rows 60 @2030, 80 @2040 → 60, 70, 80.
    """
    case = base_case()
    three_years(case)
    case["Regions"] = [
        region("A", grid_max_mw=5, grid_price_usd=50, grid_co2_t=0.2),
        region("B", grid_max_mw=5, grid_price_usd=50, grid_co2_t=0.2),
    ]
    case["GridAccess"] = [
        {"region": "A", "year": 2030, "max_mw": 10, "price_usd": 40, "co2_t": None},
        {"region": "A", "year": 2040, "max_mw": 30, "price_usd": None, "co2_t": None},
        {"region": None, "year": 2030, "max_mw": None, "price_usd": 60, "co2_t": 0.4},
        {"region": None, "year": 2040, "max_mw": None, "price_usd": 80, "co2_t": None},
    ]
    d = load(tmp_path, case)
    ys = (2030, 2035, 2040)
    assert [d.grid_max[("A", y)] for y in ys] == pytest.approx([10, 20, 30])
    assert [d.grid_price[("A", y)] for y in ys] == pytest.approx([40, 40, 40])
    assert [d.grid_co2[("A", y)] for y in ys] == pytest.approx([0.4, 0.4, 0.4])
    assert [d.grid_max[("B", y)] for y in ys] == pytest.approx([5, 5, 5])
    assert [d.grid_price[("B", y)] for y in ys] == pytest.approx([60, 70, 80])
    assert [d.grid_co2[("B", y)] for y in ys] == pytest.approx([0.4, 0.4, 0.4])


def test_grid_access_absent_is_the_regions_columns(tmp_path):
    """No GridAccess sheet: every (r, y) takes the Regions columns (v1)."""
    d = load(tmp_path, base_case())
    assert d.grid_max == {("A", 2030): 10.0}
    assert d.grid_price == {("A", 2030): 50.0}
    assert d.grid_co2 == {("A", 2030): 0.0}


def test_grid_access_errors_name_the_cell(tmp_path):
    """A blank-year row beside year rows of one region, a duplicate (region, year), an unknown
    region, a negative price: each named by its cell."""
    case = base_case()
    case["GridAccess"] = [
        {"region": "A", "year": None, "max_mw": 3, "price_usd": None},
        {"region": "A", "year": 2030, "max_mw": 4, "price_usd": None},
        {"region": "A", "year": 2030, "max_mw": 5, "price_usd": None},
        {"region": "Z", "year": None, "max_mw": None, "price_usd": -1},
    ]
    lines = problems(tmp_path, case)
    text = "\n".join(lines)
    assert "GridAccess!B2: rows for region=A mix a blank year with given years for max_mw" in text
    assert "GridAccess!A4: duplicate row for region=A, year=2030 (also row 3)" in text
    assert "GridAccess!A5: unknown region 'Z'" in text
    assert "GridAccess!D5: -1 is negative" in text


# ----------------------------------------------------------------------------- ImportLimits
def test_import_limits_blank_region_caps_each_region(tmp_path):
    """Rows: (accelerator, all regions, 2030, 100), (accelerator, all, 2040, 300), (accelerator, B,
    all years, 50).

    A: the all-region rows → 100, 200 (interpolated at 2035), 300 — A's own cap, not a share of a sum.
    B: its own row wins → 50 in every year. No row for other commodities → no cap (no key).
    """
    case = base_case()
    three_years(case)
    case["Regions"] = [region("A"), region("B")]
    case["ImportLimits"] = [
        {"commodity": "accelerator", "region": None, "year": 2030, "max_units": 100},
        {"commodity": "accelerator", "region": None, "year": 2040, "max_units": 300},
        {"commodity": "accelerator", "region": "B", "year": None, "max_units": 50},
    ]
    d = load(tmp_path, case)
    assert {k: v for k, v in d.import_max.items() if k[1] == "A"} == pytest.approx(
        {
            ("accelerator", "A", 2030): 100,
            ("accelerator", "A", 2035): 200,
            ("accelerator", "A", 2040): 300,
        }
    )
    assert {k: v for k, v in d.import_max.items() if k[1] == "B"} == pytest.approx(
        {("accelerator", "B", y): 50 for y in (2030, 2035, 2040)}
    )


def test_import_limits_need_a_known_commodity_and_a_number(tmp_path):
    case = base_case()
    case["ImportLimits"] = [
        {"commodity": None, "region": "A", "year": None, "max_units": 5},
        {"commodity": "gpu", "region": "A", "year": None, "max_units": 5},
        {"commodity": "accelerator", "region": "A", "year": None, "max_units": None},
    ]
    text = "\n".join(problems(tmp_path, case))
    assert "ImportLimits!A2: blank commodity" in text
    assert "ImportLimits!A3: unknown commodity 'gpu'" in text
    assert "ImportLimits!D4: blank max_units" in text


# ----------------------------------------------------------------------------- FabInputs by year
def test_fab_inputs_by_year_are_interpolated(tmp_path):
    """(pack, hbm, 2030, 4) and (pack, hbm, 2040, 8): 4, 6, 8 in 2030, 2035, 2040; (pack, substrate,
    blank year, 1) applies to every year."""
    case = base_case()
    three_years(case)
    case["Technologies"].append(
        {"tech": "pack", "class": "fab", "life": 20, "output": "accelerator"}
    )
    case["FabInputs"] = [
        {"tech": "pack", "commodity": "hbm", "year": 2030, "quantity": 4},
        {"tech": "pack", "commodity": "hbm", "year": 2040, "quantity": 8},
        {"tech": "pack", "commodity": "substrate", "year": None, "quantity": 1},
    ]
    d = load(tmp_path, case)
    assert d.fab_inputs == pytest.approx(
        {
            ("pack", "hbm", 2030): 4,
            ("pack", "hbm", 2035): 6,
            ("pack", "hbm", 2040): 8,
            **{("pack", "substrate", y): 1 for y in (2030, 2035, 2040)},
        }
    )


def test_fab_inputs_duplicates_and_mixed_years_are_errors(tmp_path):
    """§5.2: duplicate (tech, commodity, year) rows, or a blank-year row beside year rows of the same
    (tech, commodity), are input errors."""
    case = base_case()
    case["Technologies"].append(
        {"tech": "pack", "class": "fab", "life": 20, "output": "accelerator"}
    )
    case["FabInputs"] = [
        {"tech": "pack", "commodity": "hbm", "year": 2030, "quantity": 4},
        {"tech": "pack", "commodity": "hbm", "year": 2030, "quantity": 5},
        {"tech": "pack", "commodity": "die", "year": None, "quantity": 1},
        {"tech": "pack", "commodity": "die", "year": 2030, "quantity": 1},
    ]
    text = "\n".join(problems(tmp_path, case))
    assert (
        "FabInputs!A3: duplicate row for tech=pack, commodity=hbm, year=2030 (also row 2)" in text
    )
    assert "FabInputs!C4: rows for tech=pack, commodity=die mix a blank year" in text


# ----------------------------------------------------------------------------- start_year
def test_start_year_counts_from_the_first_model_year_at_or_after_it(tmp_path):
    """Years 2030, 2035, 2040. ExistingCapacity dc 2 MW start 2033 retire 2040: counts in 2035 only
    (2030 < 2033; 2035 ≥ 2033 and < 2040; 2040 is not < 2040). ExistingFleet 100 H100e / 50 kW from
    2035 (blank retire) and a row with h100e 0 (adds nothing, §5.2)."""
    case = base_case()
    three_years(case)
    case["ExistingCapacity"] = [
        {"tech": "dc", "region": "A", "capacity": 2, "start_year": 2033, "retire_year": 2040}
    ]
    case["ExistingFleet"] = [
        {"region": "A", "h100e": 100, "kw_it": 50, "start_year": 2035, "retire_year": None},
        {"region": "A", "h100e": 0, "kw_it": 70, "start_year": None, "retire_year": None},
    ]
    d = load(tmp_path, case)
    assert d.existing == {("dc", "A", 2035): 2.0}
    assert d.fleet_h100e == {("A", 2035): 100.0, ("A", 2040): 100.0}
    assert d.fleet_kw == {("A", 2035): 50.0, ("A", 2040): 50.0}


def test_start_not_before_retire_is_an_error(tmp_path):
    case = base_case()
    case["ExistingCapacity"] = [
        {"tech": "dc", "region": "A", "capacity": 2, "start_year": 2040, "retire_year": 2035}
    ]
    text = "\n".join(problems(tmp_path, case))
    assert "ExistingCapacity!D2: start_year 2040 is not before retire_year 2035" in text


# ----------------------------------------------------------------------------- Demand value_usd
def test_value_usd_resolves_by_consumer_segment_year(tmp_path):
    """Regions A, B; years 2030, 2035, 2040; penalty setting 150,000.

    Rows: (A, inference, 2030, 100 H100e, value 50,000), (A, inference, 2040, 300, value 90,000),
    (B, training, blank year, 10, blank value), and a value-only row (all, all, all, blank h100e,
    value 20,000).
    A inference: 50k, 70k, 90k (its own rows interpolated). B training: no B row gives value_usd →
    the all-rows level: 20,000. Demand: A inference 100, 200, 300; B training 10.
    Without the value-only row, B training takes the penalty: 150,000.
    """
    case = base_case()
    three_years(case)
    case["Regions"] = [region("A"), region("B")]
    set_setting(case, "unserved_penalty_usd", 150000)
    case["Demand"] = [
        {"region": "A", "segment": "inference", "year": 2030, "h100e": 100, "value_usd": 50000},
        {"region": "A", "segment": "inference", "year": 2040, "h100e": 300, "value_usd": 90000},
        {"region": "B", "segment": "training", "year": None, "h100e": 10, "value_usd": None},
        {"region": None, "segment": None, "year": None, "h100e": None, "value_usd": 20000},
    ]
    d = load(tmp_path, case)
    ys = (2030, 2035, 2040)
    assert [d.demand[("inference", "A", y)] for y in ys] == pytest.approx([100, 200, 300])
    assert [d.demand[("training", "B", y)] for y in ys] == pytest.approx([10, 10, 10])
    assert [d.unserved_value[("inference", "A", y)] for y in ys] == pytest.approx(
        [50000, 70000, 90000]
    )
    assert [d.unserved_value[("training", "B", y)] for y in ys] == pytest.approx([20000] * 3)
    assert set(d.unserved_value) == set(d.demand)
    case["Demand"].pop()
    d = load(tmp_path / "2", case)
    assert [d.unserved_value[("training", "B", y)] for y in ys] == pytest.approx([150000] * 3)


def test_blank_h100e_needs_a_value_usd(tmp_path):
    """A row giving neither h100e nor value_usd is still refused (h100e stays required)."""
    case = base_case()
    case["Demand"].append(
        {"region": "A", "segment": "training", "year": 2030, "h100e": None, "value_usd": None}
    )
    text = "\n".join(problems(tmp_path, case))
    assert "Demand!D3: blank h100e" in text and "unless the row gives value_usd" in text


# ----------------------------------------------------------------------------- the two §4 fixes
def test_empty_demand_sheet_is_zero_demand(tmp_path):
    """§4.1: a Demand sheet with no rows is valid (an energy-only study)."""
    folder = write_case(tmp_path / "case", base_case())
    (folder / "Demand.csv").write_text("region,segment,year,h100e\n")
    d = load_inputs(folder)
    assert d.demand == {} and d.unserved_value == {}
    result = CliRunner().invoke(cli.main, ["validate", str(folder)])
    assert result.exit_code == 0, result.output


def test_blank_year_accelerator_row_applies_to_every_vintage(tmp_path):
    """§4.2: one Accelerators row with a blank year gives every model year that row's values; a
    column no row gives takes its default (life 5)."""
    case = base_case()
    three_years(case)
    case["Accelerators"] = [
        {"year": None, "h100e_per_chip": 2, "kw_per_chip": 1.5, "system_capex_usd": 9000}
    ]
    d = load(tmp_path, case)
    assert list(d.accelerators.index) == [2030, 2035, 2040]
    assert d.accelerators["h100e_per_chip"].tolist() == [2.0] * 3
    assert d.accelerators["life"].tolist() == [5.0] * 3


def test_accelerators_mixing_blank_and_given_years_is_an_error(tmp_path):
    case = base_case()
    case["Accelerators"].append({"year": None, "h100e_per_chip": 2, "kw_per_chip": 1.5})
    text = "\n".join(problems(tmp_path, case))
    assert "Accelerators!A3: rows mix a blank year with given years for h100e_per_chip" in text


# ----------------------------------------------------------------------------- scalars
def test_it_load_factor_and_capacity_credit_defaults(tmp_path):
    """λ defaults to 1; capacity_credit defaults to availability for power and storage techs."""
    case = base_case()
    case["Technologies"] += [
        {"tech": "gas", "class": "power", "life": 30, "availability": 0.9},
        {"tech": "wind", "class": "power", "life": 25, "capacity_credit": 0.15},
        {"tech": "bat", "class": "storage", "life": 15, "duration_h": 4, "availability": 0.95},
    ]
    d = load(tmp_path, case)
    assert d.settings.it_load_factor == 1.0
    assert d.tech["gas"]["capacity_credit"] == 0.9
    assert d.tech["wind"]["capacity_credit"] == 0.15
    assert d.tech["bat"]["capacity_credit"] == 0.95
    assert bool(d.region["A"]["reexport"]) is True
    assert d.region["A"]["reserve_margin"] is None


@pytest.mark.parametrize(("value", "message"), [(0, "is not above 0"), (1.5, "is above 1")])
def test_it_load_factor_range(tmp_path, value, message):
    case = base_case()
    set_setting(case, "it_load_factor", value)
    text = "\n".join(problems(tmp_path, case))
    assert "Settings!B4:" in text and message in text


# ----------------------------------------------------------------------------- user paths
def test_template_and_convert_carry_the_v2_sheets(tmp_path):
    """The template has every v2 sheet and column from the schema; a CSV case with GridAccess,
    ImportLimits and the new columns converts to a workbook and back without losing a value."""
    t = tmp_path / "T.xlsx"
    assert CliRunner().invoke(cli.main, ["template", str(t)]).exit_code == 0
    wb = openpyxl.load_workbook(t)
    for sheet in ("GridAccess", "ImportLimits"):
        assert [c.value for c in wb[sheet][1]] == list(SHEETS_BY_NAME[sheet].column_names)
    headers = {s: [c.value for c in wb[s][1]] for s in ("Regions", "Demand", "FabInputs")}
    assert {"reexport", "reserve_margin"} <= set(headers["Regions"])
    assert "value_usd" in headers["Demand"] and "year" in headers["FabInputs"]
    assert "unless the row gives value_usd" in wb["Demand"]["D1"].comment.text

    case = base_case()
    case["GridAccess"] = [{"region": "A", "year": 2030, "max_mw": 7, "price_usd": 45}]
    case["ImportLimits"] = [{"commodity": "accelerator", "region": None, "max_units": 5000}]
    case["Regions"][0].update(reexport=False, reserve_margin=0.15)
    case["Demand"][0]["value_usd"] = 90000
    set_setting(case, "it_load_factor", 0.8)
    folder = write_case(tmp_path / "csv", case)
    x = tmp_path / "c.xlsx"
    assert CliRunner().invoke(cli.main, ["convert", str(folder), str(x)]).exit_code == 0
    back = tmp_path / "back"
    assert CliRunner().invoke(cli.main, ["convert", str(x), str(back)]).exit_code == 0
    for src in (x, back):
        d = load_inputs(src)
        assert d.grid_max[("A", 2030)] == 7 and d.grid_price[("A", 2030)] == 45
        assert d.import_max == {("accelerator", "A", 2030): 5000}
        assert not d.region["A"]["reexport"] and d.region["A"]["reserve_margin"] == 0.15
        assert d.unserved_value[("inference", "A", 2030)] == 90000
        assert d.settings.it_load_factor == 0.8


def test_annotate_marks_a_bad_v2_cell(tmp_path):
    case = base_case()
    case["GridAccess"] = [{"region": "A", "year": 2030, "max_mw": "lots"}]
    folder = write_case(tmp_path / "csv", case)
    out = tmp_path / "annotated.xlsx"
    result = CliRunner().invoke(cli.main, ["validate", str(folder), "--annotate", str(out)])
    assert result.exit_code == 2 and "GridAccess!C2: text 'lots' where a number belongs" in (
        result.stderr
    )
    wb = openpyxl.load_workbook(out)
    assert wb["GridAccess"]["C2"].comment is not None


def test_scenario_can_change_and_add_v2_rows(tmp_path):
    """A scenario sets Regions.reexport and adds a GridAccess row naming every key (op set)."""
    from optimizer.data_io import read_raw
    from optimizer.scenarios import plan_runs

    case = base_case()
    case["Scenarios"] = [
        {
            "scenario": "s",
            "sheet": "Regions",
            "where": "region=A",
            "column": "reexport",
            "op": "set",
            "value": "FALSE",
        },
        {
            "scenario": "s",
            "sheet": "GridAccess",
            "where": "region=A;year=2030",
            "column": "max_mw",
            "op": "set",
            "value": 3,
        },
    ]
    raw = read_raw(write_case(tmp_path / "csv", case))
    base, scen = plan_runs(raw, names=["s"])
    assert base.data.region["A"]["reexport"] and base.data.grid_max[("A", 2030)] == 10  # unchanged
    d = scen.data
    assert not d.region["A"]["reexport"] and d.grid_max[("A", 2030)] == 3
