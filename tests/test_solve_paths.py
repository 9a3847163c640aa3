"""How ``solve`` answers a MIP: the LP relaxation first, branch and bound only when it is fractional.

Hand cases are the DESIGN §5.1 worked check (``hand_cases.base_case``: 1 MW of data center needed,
optimum 24.338171 $M) with the data-center tech ``dc`` built in whole modules (``integer_modules``
TRUE is the default): ``build = module_size · n`` with ``n`` integer.

* module 0.4 MW: the relaxation takes n = 2.5 (fractional); the MIP needs n = 3 (1.2 MW), so its
  optimum is the §5.1 one plus 0.2 MW of data center: 24.338171 + 0.2 · 10 · CRF(0.1, 20).
* module 0.5 MW: the relaxation takes n = 2, already integral; the MIP optimum is the §5.1 one.
"""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo
import pytest

from optimizer import build_model, load_inputs
from optimizer.solve import SolveOptions, solve

try:
    from hand_cases import base_case, write_case
    from test_hand_cases import _bet_case  # the bet case and its derivation
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.hand_cases import base_case, write_case
    from tests.test_hand_cases import _bet_case

OPTIMUM_5_1 = 24.338171


def crf(i: float, life: float) -> float:
    """Capital recovery factor, DESIGN §5."""
    return i * (1 + i) ** life / ((1 + i) ** life - 1)


def _modules(tmp_path: Path, size: float, **tech_cost: float) -> Path:
    case = base_case()
    case["Technologies"][0]["module_size"] = size
    case["TechCosts"][0].update(tech_cost)
    case["Settings"].append({"key": "mip_gap", "value": 1e-9})
    return write_case(tmp_path / f"modules_{size}", case)


def _solve(folder: Path, relaxation_first: bool):
    model = build_model(load_inputs(folder))
    sol = solve(model, SolveOptions(relaxation_first=relaxation_first, threads=1))
    return model, sol


def test_fractional_relaxation_still_branches(tmp_path: Path) -> None:
    """module 0.4 MW: relaxation n = 2.5 is fractional, so branch and bound runs and gives n = 3.

    MIP optimum = 24.338171 + 0.2 MW · 10 $M/MW · CRF(0.1, 20) = 24.338171 + 0.234919 $M.
    """
    model, sol = _solve(_modules(tmp_path, 0.4), relaxation_first=True)
    assert sol.status == "optimal"
    assert [c[0] for c in sol.solver_calls] == [
        "lp_relaxation (fractional)",
        "mip",
        "duals_lp",
    ]
    assert sol.objective == pytest.approx(OPTIMUM_5_1 + 0.2 * 10 * crf(0.1, 20), rel=1e-6)
    assert sol.solve_seconds == pytest.approx(sum(s for _, s in sol.solver_calls))
    n = [v.value for v in model.component_data_objects() if v.is_variable_type() and v.is_integer()]
    assert n == [pytest.approx(3.0)]
    _, direct = _solve(_modules(tmp_path, 0.4), relaxation_first=False)
    assert [c[0] for c in direct.solver_calls] == ["mip", "duals_lp"]
    assert sol.objective == pytest.approx(direct.objective, rel=1e-9)


def test_integral_relaxation_takes_the_shortcut(tmp_path: Path) -> None:
    """module 0.5 MW: relaxation n = 2 is integral → one LP, the §5.1 optimum 24.338171, gap 0.

    Its duals are the relaxation's: every cost of §5.1 scales with demand and n is free to move in
    the relaxation, so one more H100e of inference demand costs 24.338171 / 1000 $M (the demand
    row's dual). The old path (n fixed at 2, LP re-solved) is degenerate there — 1 MW of data center
    exactly fills 1 MW of IT — and HiGHS may return another of its optimal duals (0.023164: the
    data-center capital counted as sunk); the relaxation's dual is also optimal for that LP.
    """
    folder = _modules(tmp_path, 0.5)
    model, sol = _solve(folder, relaxation_first=True)
    assert sol.status == "optimal" and sol.is_mip
    assert [c[0] for c in sol.solver_calls] == ["lp_relaxation (integral)"]
    assert sol.mip_gap == 0.0
    assert sol.objective == pytest.approx(OPTIMUM_5_1, rel=1e-6)
    (row,) = list(model.c_demand_balance.values())
    assert sol.dual(row) == pytest.approx(OPTIMUM_5_1 / 1000, rel=1e-6)
    _, direct = _solve(folder, relaxation_first=False)
    assert [c[0] for c in direct.solver_calls] == ["mip", "duals_lp"]
    assert sol.objective == pytest.approx(direct.objective, rel=1e-9)


def test_shortcut_duals_equal_the_fixed_lp_duals_where_unique(tmp_path: Path) -> None:
    """The fusion bet of ``test_hand_cases._bet_case`` with rd 1000 $M, bet_mode succeed: funding
    would cost at least 0.024 · 1000 · DP_2035 ≈ 18.7 $M even fractionally (1.2 of 50 MW) to save
    ≈ 5.9 $M, so fund = 0 in the relaxation too — integral, shortcut taken.

    Every row's dual equals the old path's (MIP, then the LP with fund fixed at 0) to 1e-9
    relative, except the rows on the unfunded tech itself (its generation limit and the bet's build
    row): with fund fixed at 0 and build ≥ 0 both holding, their duals are not unique in the fixed
    LP, and the relaxation's are among its optimal ones.
    """
    case = _bet_case(rd_cost=1000)
    case["Settings"] += [
        {"key": "bet_mode", "value": "succeed"},
        {"key": "mip_gap", "value": 1e-9},
    ]
    folder = write_case(tmp_path / "bet", case)
    model, sol = _solve(folder, relaxation_first=True)
    model_b, direct = _solve(folder, relaxation_first=False)
    assert [c[0] for c in sol.solver_calls] == ["lp_relaxation (integral)"]
    assert sol.objective == pytest.approx(direct.objective, rel=1e-9)

    def duals(m, s) -> dict[str, float]:
        return {
            c.name: s.duals[c]
            for c in m.component_data_objects(pyo.Constraint, active=True)
            if not (c.name.startswith("c_bet_build") or c.name.startswith("c_gen_limit[fusion"))
        }

    got, want = duals(model, sol), duals(model_b, direct)
    assert got.keys() == want.keys() and len(got) >= 12
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_infeasible_relaxation_answers_the_mip(tmp_path: Path) -> None:
    """Existing 2 MW of dc above its max_capacity 1 MW: cap = 2 + build ≤ 1 has no solution with
    build ≥ 0, so the relaxation is infeasible and so is the MIP; no branch and bound is run."""
    case = base_case()
    case["Technologies"][0]["module_size"] = 0.5
    case["TechCosts"][0]["max_capacity"] = 1.0
    case["ExistingCapacity"] = [{"tech": "dc", "region": "A", "capacity": 2.0}]
    folder = write_case(tmp_path / "infeasible", case)
    _, sol = _solve(folder, relaxation_first=True)
    assert sol.status == "infeasible"
    assert [c[0] for c in sol.solver_calls] == ["lp_relaxation (infeasible)"]


def test_capacity_and_load_columns_equal_their_expressions() -> None:
    """``v_capacity[k,r,y]`` and ``v_load[r,y]`` are exact substitutes: at the optimum of tiny_v2
    each equals the expression it stands for (``cap`` with its existing capacity, ``load`` with
    pue · λ · IT and the fabs' electricity), and every per-slice row holds the column."""
    model = build_model(load_inputs(Path(__file__).parent / "data" / "tiny_v2"))
    sol = solve(model, SolveOptions(threads=1))
    assert sol.status == "optimal"
    assert len(model.CAP_COLUMNS) and len(model.LOAD_COLUMNS)
    for key in model.CAP_COLUMNS:
        cap = model.cap[key].value(lambda v: v.value)
        assert model.v_capacity[key].value == pytest.approx(cap, rel=1e-7, abs=1e-7), key
    for key in model.LOAD_COLUMNS:
        load = model.reg.load[key].value(lambda v: v.value)
        assert model.v_load[key].value == pytest.approx(load, rel=1e-7, abs=1e-7), key
    (p, r, y) = model.CAP_COLUMNS.first()
    row = next(c for k, c in model.c_gen_limit.items() if k[:3] == (p, r, y))
    assert any(v is model.v_capacity[p, r, y] for v in _vars(row))


def _vars(con) -> list:
    from pyomo.core.expr.visitor import identify_variables

    return list(identify_variables(con.body))
