"""The component contract (optimizer/components/contract.py): what a component adds is declared, and
the readers built on the declarations (stochastic form, results, costs) see everything it adds."""

from __future__ import annotations

import ast
import types
from dataclasses import replace

import pyomo.environ as pyo
import pytest

from optimizer.components import objective
from optimizer.components.contract import (
    Contract,
    ContractError,
    Family,
    declared,
    variables,
)
from optimizer.data_io import load_inputs
from optimizer.model import COMPONENTS, build_model, derive, populate
from optimizer.solve import SolveOptions, solve
from optimizer.stochastic import first_stage_year, nonanticipative
from tests.conftest import ROOT


def _component(name: str, add_to, **contract) -> types.SimpleNamespace:
    return types.SimpleNamespace(CONTRACT=Contract(name=name, **contract), add_to=add_to)


def _with(extra: types.SimpleNamespace) -> tuple:
    """The model's components with ``extra`` built just before the objective."""
    assert COMPONENTS[-1] is objective
    return (*COMPONENTS[:-1], extra, objective)


def test_an_undeclared_year_indexed_variable_fails_the_build(tiny_path):
    """Adding a variable indexed by a year without declaring it would leave it out of the
    stochastic form's non-anticipativity silently: populate refuses it and names it."""
    data = load_inputs(tiny_path)

    def add_to(m, data):
        m.v_rogue = pyo.Var(list(data.years), within=pyo.NonNegativeReals)

    rogue = _component("rogue", add_to)
    with pytest.raises(ContractError, match=r"rogue declared v_rogue"):
        populate(pyo.ConcreteModel(), data, derive(data), _with(rogue))


def test_an_undeclared_constraint_family_fails_the_build(tiny_path):
    data = load_inputs(tiny_path)

    def add_to(m, data):
        m.c_rogue = pyo.Constraint(expr=m.v_build[next(iter(m.BUILD))] <= 1.0)

    with pytest.raises(ContractError, match=r"c_rogue"):
        populate(pyo.ConcreteModel(), data, derive(data), _with(_component("rogue", add_to)))


def test_a_declared_but_missing_family_fails_the_build(tiny_path):
    data = load_inputs(tiny_path)
    ghost = _component("ghost", lambda m, data: None, variables=(Family("v_ghost", ("r", "y")),))
    with pytest.raises(ContractError, match=r"ghost lists v_ghost"):
        populate(pyo.ConcreteModel(), data, derive(data), _with(ghost))


def test_a_cost_in_an_undeclared_category_fails_the_build(tiny_path):
    data = load_inputs(tiny_path)

    def add_to(m, data):
        m.v_extra = pyo.Var(list(data.years), within=pyo.NonNegativeReals)
        y = data.years[0]
        m.costs.annual("energy", ("extra", y), y, m.v_extra[y], 1.0)

    extra = _component("extra", add_to, variables=(Family("v_extra", ("y",)),))
    with pytest.raises(ContractError, match=r"extra charges 'energy'"):
        populate(pyo.ConcreteModel(), data, derive(data), _with(extra))


def test_a_variable_without_a_year_must_state_its_stage():
    with pytest.raises(ContractError, match=r"v_x\['b'\] has no year index"):
        Contract(name="x", variables=(Family("v_x", ("b",)),))


def test_stage_is_read_from_the_year_in_which_a_variable_acts():
    """DESIGN §5.2 v2: ``active[r,v,y]`` by its operating year y; ``build``/``fin`` by vintage v."""
    assert Family("active", ("r", "v", "y")).stage_position() == 2
    assert Family("v_build", ("k", "r", "v")).stage_position() == 2
    assert Family("v_fin", ("j", "k", "r", "v")).stage_position() == 3
    assert Family("v_gen", ("p", "r", "y", "h")).stage_position() == 1 + 1
    assert Family("v_fund", ("b",), first_stage=True).stage_position() is None


def test_every_model_variable_is_declared_and_first_stage_by_its_declared_year(tiny_path):
    """On the tiny case in stochastic mode: the non-anticipative set is exactly the declared variables
    whose stage year is before T*, plus fund; and every Var on a block is declared."""
    data = load_inputs(tiny_path)
    data = replace(data, settings=replace(data.settings, bet_mode="stochastic"))
    model = build_model(data)
    t_star = first_stage_year(data)
    block = model.scen[model.OUTCOMES.first()]
    on_block = {v.local_name for v in block.component_objects(pyo.Var, descend_into=False)}
    families = {fam.name: fam for fam, _comp in variables(block)}
    assert on_block == set(families)
    expected = set()
    for name, fam in families.items():
        pos = fam.stage_position()
        for idx, var in getattr(block, name).items():
            key = idx if isinstance(idx, tuple) else (idx,)
            if fam.first_stage if pos is None else key[pos] < t_star:
                expected.add(id(var))
    got = {id(v) for v in nonanticipative(block, t_star)}
    assert got == expected
    assert any(declared(block, "v_build")[k].index()[2] < t_star for k in declared(block, "BUILD"))


def test_undiscount_inverts_the_discounting_of_an_annual_cost(tiny_path):
    """A $ amount per year charged in year y enters the objective as DF_y·a/10⁶; ``undiscount``
    of that coefficient gives a back (the prices of results.py rely on it)."""
    data = load_inputs(tiny_path)
    m = populate(pyo.ConcreteModel(), data, derive(data))
    y = data.years[-1]
    m.costs.owner = None
    m.costs.annual("energy", ("probe",), y, m.v_unserved[next(iter(m.DEMAND))], 1234.5)
    coef = m.reg.cost["energy"][("probe",)].coefs[0]
    assert coef == pytest.approx(m.derived.df[y] * 1234.5 / 1e6, rel=1e-15)
    assert m.costs.undiscount(coef, y) == pytest.approx(1234.5, rel=1e-12)
    assert m.derived.df[y] != 1.0  # not vacuous: a period of several discounted years


def test_the_model_does_not_import_the_stochastic_study():
    """The deterministic model knows no study (no model → stochastic import)."""
    tree = ast.parse((ROOT / "optimizer" / "model.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    assert not any("stochastic" in n for n in names)


def test_build_model_still_returns_the_extensive_form_for_stochastic(tiny_path):
    model = build_model(load_inputs(tiny_path), bet_mode="stochastic")
    assert len(model.OUTCOMES) == 2


def test_capex_enters_the_matrix_by_the_declared_unit_scale(tiny_path):
    """The financing rows carry capex × the factor data_io's coefficient check reads (one declared
    ``Scale``): a component that scales capex differently from what it declares fails here, and a
    changed declaration moves the input check with it (test_validation's threshold test)."""
    from optimizer.components.finance import CONTRACT
    from optimizer.data_io import matrix_columns
    from optimizer.schema import ACCELERATOR

    data = load_inputs(tiny_path)
    m = build_model(data)
    dv = m.derived
    factors = matrix_columns()
    capex_f = factors[("TechCosts", "capex_musd")][0]
    system_f = factors[("Accelerators", "system_capex_usd")][0]
    assert capex_f == CONTRACT.unit("TechCosts", "capex_musd").factor
    amounts = [item[1] for item in m.fin_items]
    amounts += [e for (j, *_rest), e in m.capital.items() if e.vars and e.vars[0].local_name]
    seen = set()
    for lin in amounts:
        var = lin.vars[0]
        name = var.parent_component().local_name
        if name == "v_build":
            k, r, v = var.index()
            want = data.capex[(k, r, v)] * capex_f * dv.cap_unit(k)
        elif name == "v_deploy":
            r, v = var.index()
            want = float(data.accelerators.at[v, "system_capex_usd"]) * system_f * dv.unit
        else:
            continue
        assert lin.coefs[0] == pytest.approx(want, rel=1e-12)
        seen.add(ACCELERATOR if name == "v_deploy" else "tech")
    assert seen == {"tech", ACCELERATOR}


def test_a_finance_row_is_named_through_the_contract(tiny_path):
    """diagnose names a c_finance row by the financing item the finance component declares
    (``fin_items``), in the deterministic model and inside a stochastic scenario block."""
    from optimizer.diagnose import describe_row

    for mode in ("succeed", "stochastic"):
        m = build_model(load_inputs(tiny_path), bet_mode=mode)
        blocks = [m.scen[n] for n in m.OUTCOMES] if mode == "stochastic" else [m]
        for blk in blocks:
            items = declared(blk, "fin_items")
            i = next(iter(blk.c_finance))
            key, _amount, _cls, r, v, *_ = items[i]
            text = describe_row(blk.c_finance[i])
            assert text.startswith(f"the capital for {key[0]} in {r} built in {v} "), text


def _docs_example() -> types.ModuleType:
    """The component of the worked example in docs/adding-a-constraint.md, as written there."""
    text = (ROOT / "docs" / "adding-a-constraint.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    module = types.ModuleType("gridcap")
    exec(compile(code, "docs/adding-a-constraint.md", "exec"), module.__dict__)  # noqa: S102
    return module


def _cheap_grid(tiny_path):
    """tiny with a grid at 1 $/MWh, so that the optimum imports from it."""
    data = load_inputs(tiny_path)
    return replace(data, grid_price={key: 1.0 for key in data.grid_price})


def _solve_with_grid_cap(tiny_path, cap_mwh: float, fee_usd: float):
    from optimizer.components import power

    gridcap = _docs_example()
    data = _cheap_grid(tiny_path)
    data = replace(data, regions=data.regions.assign(grid_cap_mwh=cap_mwh, grid_fee_usd=fee_usd))
    at = COMPONENTS.index(power) + 1  # the docs' one line in COMPONENTS: after power
    m = populate(
        pyo.ConcreteModel(), data, derive(data), (*COMPONENTS[:at], gridcap, *COMPONENTS[at:])
    )
    sol = solve(m, SolveOptions(threads=1, mip_gap=1e-9))
    assert sol.status == "optimal"
    mwh = {key: pyo.value(m.v_grid_mwh[key]) for key in m.GRID_CAP}
    return sol.objective, mwh


def test_the_worked_example_of_the_docs_builds_binds_and_is_charged(tiny_path):
    """The gridcap component of docs/adding-a-constraint.md, added by its own code and one entry in
    the component list only: the contract accepts it, its variable is staged by its year, a slack
    cap leaves the optimum as it is, a cap at half of the imports binds (the plan imports no more
    and costs more), and a fee of f $/MWh raises the cost by Σ_y DF_y·f·mwh_y/10⁶ at the same plan
    (the fee is small against what the grid saves, so the plan stays). The grid costs 1 $/MWh
    here, so that tiny imports from it."""
    fam = {f.name: f for f in _docs_example().CONTRACT.variables}["v_grid_mwh"]
    assert fam.stage_position() == 1  # first-stage by y, read from its declaration
    data = _cheap_grid(tiny_path)
    plain_cost = solve(build_model(data), SolveOptions(threads=1, mip_gap=1e-9)).objective

    slack_cost, slack_mwh = _solve_with_grid_cap(tiny_path, 1e12, 0.0)
    assert slack_cost == pytest.approx(plain_cost, rel=1e-9)
    assert max(slack_mwh.values()) > 0  # the plan imports: the cap below can bind

    cap = max(slack_mwh.values()) / 2
    capped_cost, capped_mwh = _solve_with_grid_cap(tiny_path, cap, 0.0)
    assert max(capped_mwh.values()) <= cap * (1 + 1e-9)
    assert capped_cost > slack_cost * (1 + 1e-9)

    fee = 0.01
    fee_cost, fee_mwh = _solve_with_grid_cap(tiny_path, 1e12, fee)
    assert fee_mwh == pytest.approx(slack_mwh, rel=1e-6)
    dv = derive(data)
    charged = sum(dv.df[y] * fee * mwh / 1e6 for (_r, y), mwh in fee_mwh.items())
    assert charged > 0
    assert fee_cost - slack_cost == pytest.approx(charged, rel=1e-6)
