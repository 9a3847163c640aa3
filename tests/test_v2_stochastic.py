"""Issue 15: the v2 variables in the stochastic extensive form (DESIGN §5.2 v2, §8).

``active[r,v,y]`` and ``fleet_on[r,y]`` are first-stage by the year in which they act (the operating
year y < T*), found through the component contract's index names, not by a list in stochastic.py.
The instance is ``tests/data/tiny_v2`` (tiny plus every v2 sheet and column) with its fusion bet
(T* = 2035) solved as the extensive form over its two outcomes.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo
import pytest

from optimizer.data_io import load_inputs
from optimizer.model import build_model
from optimizer.results import summary, tables
from optimizer.solve import solve
from tests.conftest import DATA


def _stage_year(index: Any, years: set[int]) -> int | None:
    """The year a variable acts in, read from its index alone: the latest model year in it (an
    operating year y is never before the vintage v it goes with); None when it has no year."""
    key = index if isinstance(index, tuple) else (index,)
    found = [k for k in key if isinstance(k, int) and k in years]
    return max(found) if found else None


def first_stage_differences(model: pyo.ConcreteModel, tol: float = 1e-6) -> list[str]:
    """Every variable indexed before T* (and every ``fund``) whose value differs between outcome
    copies — independent of the contract: it walks every Var of every outcome block."""
    years = set(model.data.years)
    names = list(model.OUTCOMES)
    ref = model.scen[names[0]]
    out = []
    for var in ref.component_objects(pyo.Var, descend_into=False):
        for idx, v in var.items():
            y = _stage_year(idx, years)
            if not (var.local_name == "v_fund" or (y is not None and y < model.t_star)):
                continue
            for n in names[1:]:
                other = getattr(model.scen[n], var.local_name)
                if idx not in other:
                    continue
                a, b = v.value or 0.0, other[idx].value or 0.0
                if abs(a - b) > tol * max(1.0, abs(a)):
                    out.append(f"{var.local_name}{idx}: {a} in {names[0]}, {b} in {n}")
    return out


@pytest.fixture(scope="module")
def solved():
    data = load_inputs(DATA / "tiny_v2")
    m = build_model(data, bet_mode="stochastic")
    sol = solve(m)  # default threads: HiGHS fixes its pool at the first run in a process
    assert sol.status == "optimal"
    return m, sol


def test_v2_variables_before_t_star_are_tied_and_after_are_free(solved):
    """Structure: every active[r,v,y] and fleet_on[r,y] with y < T* has a non-anticipativity row
    tying it to the first outcome; none with y ≥ T* has (active[A,2035,2035] is a recourse)."""
    m, _sol = solved
    assert m.t_star == 2035
    tied = {(v.parent_component().local_name, v.index()) for v, _r in m.nonant_pairs}
    second = m.scen[m.OUTCOMES.at(2)]
    for name in ("v_active", "v_fleet_on"):
        comp = getattr(second, name)
        for idx in comp:
            y = idx[-1]
            assert ((name, idx) in tied) is (y < m.t_star), (name, idx)
    assert ("v_active", ("A", 2030, 2030)) in tied and ("v_fleet_on", ("A", 2030)) in tied
    assert ("v_active", ("B", 2035, 2035)) not in tied


def test_no_variable_indexed_before_t_star_differs_between_outcomes(solved):
    """The solved plan: every variable indexed by a year before T* (and fund) has one value."""
    m, _sol = solved
    assert first_stage_differences(m) == []


def test_the_check_fails_when_a_first_stage_variable_differs(solved):
    """The check above is not vacuous: a copy whose active[A,2030,2030] differs makes it fail."""
    m, _sol = solved
    var = m.scen[m.OUTCOMES.at(2)].v_active["A", 2030, 2030]
    before = var.value
    try:
        var.set_value((before or 0.0) + 10.0)
        diffs = first_stage_differences(m)
        assert len(diffs) == 1 and diffs[0].startswith("v_active('A', 2030, 2030)")
    finally:
        var.set_value(before)


def test_idle_h100e_is_the_expectation_over_outcomes(solved):
    """Summary idle_h100e = Σ_outcome p · (idle H100e of that outcome), read from the Fleet sheet."""
    m, sol = solved
    fleet = tables(sol)["Fleet"]
    expected = float((fleet["idle_h100e"] * fleet["probability"]).sum())
    assert summary(sol)["idle_h100e"] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # the ExistingFleet rows are reported as vintage "existing" beside the deployed vintages
    assert set(fleet["vintage"]) >= {"existing", 2030, 2035}
