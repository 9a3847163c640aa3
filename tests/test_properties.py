"""Properties that must hold for any solved instance (layer 1 of RELIABILITY.md's advice).

Balances close, cost lines add up to the objective, duals have economic signs; and metamorphic
properties on the tiny instance: scaling every money figure by k scales the objective by k; the order of
input rows, an unused expensive technology and a region with no demand change nothing.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.data_io import load_inputs
from optimizer.model import build_model
from optimizer.results import summary, tables
from optimizer.solve import solve

# Every column holding money (or a price), and the partner budgets that bound money.
MONEY = {
    "Settings": [],
    "Years": ["carbon_price_usd"],
    "Regions": ["grid_price_usd"],
    "Technologies": ["variable_cost_usd"],
    "TechCosts": ["capex_musd", "fixed_om_musd"],
    "Accelerators": ["system_capex_usd"],
    "Commodities": ["external_price_usd"],
    "ChipRoutes": ["cost_usd"],
    "PartnerBudgets": ["budget_musd"],
    "Bets": ["rd_cost_musd"],
}


@pytest.fixture(scope="module")
def tiny_solution(tiny_path):
    return solve(build_model(load_inputs(tiny_path)))


def _copy(tiny_path: Path, dst: Path) -> Path:
    shutil.copytree(tiny_path, dst)
    return dst


def _edit(folder: Path, sheet: str, fn) -> None:
    f = folder / f"{sheet}.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    fn(df).to_csv(f, index=False)


def _objective(folder: Path) -> float:
    sol = solve(build_model(load_inputs(folder)))
    assert sol.status == "optimal"
    return sol.objective


def test_cost_lines_sum_to_objective(tiny_solution):
    s = summary(tiny_solution)
    total = sum(v for k, v in s.items() if k.startswith("cost_"))
    assert total == pytest.approx(s["objective_musd"], rel=1e-9)


def test_demand_balances_close(tiny_solution):
    t = tables(tiny_solution)
    data = tiny_solution.model.data
    got = defaultdict(float)
    for row in t["Compute"].itertuples():
        got[(row.segment, row.consumer, row.year)] += row.served + row.unserved
    assert set(got) == set(data.demand)
    for key, d in data.demand.items():
        assert got[key] == pytest.approx(d, rel=1e-7)


def test_electricity_balances_close(tiny_solution):
    m = tiny_solution.model
    val = lambda v: v.value or 0.0  # noqa: E731
    for r, y, h in m.ELECTRICITY_ROWS:
        inj = m.reg.injection.get((r, y, h))
        supply = inj.value(val) if inj is not None else 0.0
        load = m.reg.load[(r, y)].value(val) if (r, y) in m.reg.load else 0.0
        assert supply == pytest.approx(load, abs=1e-6)


def test_duals_have_economic_signs(tiny_solution):
    t = tables(tiny_solution)["Prices"]
    compute = t[t.price == "compute"]["value"]
    assert len(compute) and (compute > 0).all(), "serving one more H100e must cost something"
    budget = t[t.price == "budget"]["value"]
    assert (budget >= -1e-9).all(), "more budget can never raise the cost"
    elec = t[(t.price == "electricity") & (t.region == "A")]["value"]
    assert (elec > 0).all(), "region A has load, so its electricity is worth something"


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(k=st.sampled_from([0.5, 2.0, 3.0, 10.0]))
def test_scaling_money_scales_objective(k, tiny_path, tmp_path_factory):
    """Every cost, price and budget × k (and the unserved penalty) ⇒ objective × k, same plan."""
    base = _objective(tiny_path)
    folder = _copy(tiny_path, tmp_path_factory.mktemp("scaled") / "case")
    for sheet, cols in MONEY.items():

        def scale(df, cols=cols, sheet=sheet):
            for c in cols:
                df[c] = [str(float(v) * k) if v != "" else "" for v in df[c]]
            if sheet == "Settings":
                df.loc[df.key == "unserved_penalty_usd", "value"] = str(200000 * k)
            return df

        _edit(folder, sheet, scale)
    assert _objective(folder) == pytest.approx(k * base, rel=1e-6)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000))
def test_row_order_changes_nothing(seed, tiny_path, tmp_path_factory):
    """Shuffling the rows of every order-free sheet leaves the optimum unchanged."""
    base = _objective(tiny_path)
    folder = _copy(tiny_path, tmp_path_factory.mktemp("shuffled") / "case")
    # TimeSlices order is chronological (storage cycles follow it) and Years must increase: not shuffled.
    for f in folder.glob("*.csv"):
        if f.stem in ("TimeSlices", "Years"):
            continue
        _edit(folder, f.stem, lambda df: df.sample(frac=1.0, random_state=seed))
    assert _objective(folder) == pytest.approx(base, rel=1e-7)


def test_unused_expensive_tech_changes_nothing(tiny_path, tmp_path):
    base = _objective(tiny_path)
    folder = _copy(tiny_path, tmp_path / "case")
    _edit(
        folder,
        "Technologies",
        lambda df: pd.concat(
            [df, pd.DataFrame([{"tech": "gold_plated", "class": "power", "life": "20"}])]
        ).fillna(""),
    )
    _edit(
        folder,
        "TechCosts",
        lambda df: pd.concat(
            [
                df,
                pd.DataFrame(
                    [{"tech": "gold_plated", "capex_musd": "1000", "fixed_om_musd": "50"}]
                ),
            ]
        ).fillna(""),
    )
    assert _objective(folder) == pytest.approx(base, rel=1e-7)


def test_isolated_region_without_demand_changes_nothing(tiny_path, tmp_path):
    """A region with no demand, cut off from chips and from serving anyone, cannot change the plan."""
    base = _objective(tiny_path)
    folder = _copy(tiny_path, tmp_path / "case")
    _edit(
        folder,
        "Regions",
        lambda df: pd.concat(
            [df, pd.DataFrame([{"region": "Z", "name": "Zed", "chips_external_allowed": "FALSE"}])]
        ).fillna(""),
    )
    _edit(
        folder,
        "ChipRoutes",
        lambda df: pd.concat([df, pd.DataFrame([{"to": "Z", "allowed": "FALSE"}])]).fillna(""),
    )
    _edit(
        folder,
        "ComputeRoutes",
        lambda df: pd.concat([df, pd.DataFrame([{"host": "Z", "allowed": "FALSE"}])]).fillna(""),
    )
    assert _objective(folder) == pytest.approx(base, rel=1e-7)
