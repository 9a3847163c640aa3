"""The planner's own hand-off (``optimizer.linear``) against Pyomo's, and array-built rows against
the rules they stand for (issue 5).

``compile_model`` reads array-built families (:class:`ArrayConstraint`) as numpy arrays and every
other row from its ``Lin``; whatever it does, the matrix must be the one Pyomo's
``LinearStandardFormCompiler`` gives for the same model, and each array-built row, asked for as a
Pyomo constraint, must be exactly the expression its rule in ``components/power.py`` returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from pyomo.core.expr.compare import compare_expressions
from pyomo.environ import Constraint
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimizer.components import power
from optimizer.data_io import load_inputs
from optimizer.linear import ArrayConstraint
from optimizer.model import build_model
from optimizer.solve import RowDuals, compile_model

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import SIZES, generate  # noqa: E402

ARRAY_FAMILIES = {
    "c_gen_limit": power.gen_limit_rule,
    "c_charge_limit": power.charge_limit_rule,
    "c_discharge_limit": power.discharge_limit_rule,
    "c_soc_limit": power.soc_limit_rule,
    "c_soc_balance": power.soc_balance_rule,
    "c_electricity_balance": power.electricity_balance_rule,
}


@pytest.fixture(scope="module")
def s_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated benchmark instance of size S (seeded: the same files every time)."""
    return generate(SIZES["S"], tmp_path_factory.mktemp("gen") / "S")


def _matrix(sf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, value) triplets of the compiled HighsLp's column-wise matrix."""
    a = sf.lp.a_matrix_
    start = np.asarray(a.start_, dtype=np.int64)
    cols = np.repeat(np.arange(len(start) - 1), np.diff(start))
    return np.asarray(a.index_, dtype=np.int64), cols, np.asarray(a.value_, dtype=float)


def _assert_same_as_pyomo(model, sf) -> None:
    """``sf`` (compiled first, from the arrays) equals Pyomo's compiler on ``model``, rows and
    columns aligned by name: the same columns, rows, senses, matrix, right-hand sides, costs."""
    ref = LinearStandardFormCompiler().write(model, mixed_form=True)  # materialises every row
    cols = [v.name for v in sf.columns]
    rows = [(e[0].name, int(e[1])) for e in sf.rows]
    ref_cols = [v.name for v in ref.columns]
    ref_rows = [(e[0].name, int(e[1])) for e in ref.rows]
    assert len(set(cols)) == len(cols) and sorted(cols) == sorted(ref_cols)
    assert len(set(rows)) == len(rows) and sorted(rows) == sorted(ref_rows)
    col_at = {n: i for i, n in enumerate(ref_cols)}
    row_at = {n: i for i, n in enumerate(ref_rows)}
    pc = np.array([col_at[n] for n in cols], dtype=np.int64)
    pr = np.array([row_at[n] for n in rows], dtype=np.int64)

    # the matrix, as sets of (row, column) → value in Pyomo's numbering
    r, c, v = _matrix(sf)
    ours = dict(zip(zip(pr[r].tolist(), pc[c].tolist(), strict=True), v.tolist(), strict=True))
    a = ref.A.tocoo()
    theirs = dict(
        zip(zip(a.row.tolist(), a.col.tolist(), strict=True), a.data.tolist(), strict=True)
    )
    assert ours.keys() == theirs.keys()
    assert all(ours[k] == pytest.approx(theirs[k], rel=1e-15, abs=0) for k in ours)

    sense = np.array([s for _n, s in rows])
    lo, hi = np.asarray(sf.lp.row_lower_), np.asarray(sf.lp.row_upper_)
    rhs = np.where(sense >= 0, hi, lo)
    assert np.array_equal(rhs, np.asarray(ref.rhs, dtype=float)[pr])
    assert np.array_equal(np.asarray(sf.lp.col_cost_), ref.c.toarray().ravel()[pc])
    assert sf.offset == pytest.approx(float(ref.c_offset[0]) if len(ref.c_offset) else 0.0)
    # column bounds as Pyomo resolves them, one variable at a time
    inf = float("inf")
    lb = np.array([-inf if x.lb is None else x.lb for x in sf.columns], dtype=float)
    ub = np.array([inf if x.ub is None else x.ub for x in sf.columns], dtype=float)
    assert np.array_equal(np.asarray(sf.lp.col_lower_), lb)
    assert np.array_equal(np.asarray(sf.lp.col_upper_), ub)


@pytest.mark.parametrize("which", ["tiny", "S"])
def test_compiled_matrix_equals_pyomo_compiler(which, tiny_path, s_path):
    """The fast path (array families read as arrays) gives Pyomo's standard form."""
    model = build_model(load_inputs(tiny_path if which == "tiny" else s_path))
    sf = compile_model(model)
    read_as_arrays = sf.rows.array_components()
    assert set(ARRAY_FAMILIES) <= set(read_as_arrays), read_as_arrays
    _assert_same_as_pyomo(model, sf)


def test_stochastic_extensive_form_takes_the_fast_path_and_matches(tiny_path):
    """The extensive form (one block per bet outcome, objective Σ_o p_o·NPC_o as one linear
    expression) is read by the fast path, array families in every block, and equals Pyomo's."""
    from optimizer.linear import standard_form

    model = build_model(load_inputs(tiny_path), bet_mode="stochastic")
    assert standard_form(model) is not None
    sf = compile_model(model)
    assert len(model.OUTCOMES) >= 2
    assert set(ARRAY_FAMILIES) <= set(sf.rows.array_components())
    _assert_same_as_pyomo(model, sf)


def test_fixed_variable_reads_row_by_row_and_still_matches(tiny_path):
    """A fixed variable in an array-built row sends that family through the row-by-row path
    (the fixed value folded into the right-hand side), with the same result as Pyomo's."""
    model = build_model(load_inputs(tiny_path))
    var = next(iter(model.v_gen.values()))
    var.fix(1.25)
    sf = compile_model(model)
    assert "c_gen_limit" not in sf.rows.array_components()
    assert "c_electricity_balance" not in sf.rows.array_components()
    _assert_same_as_pyomo(model, sf)


@pytest.mark.parametrize("which", ["tiny", "S"])
def test_array_rows_materialise_as_their_rules(which, tiny_path, s_path):
    """Every row of every array-built family, asked for as a Pyomo constraint, is exactly the
    expression its rule returns; indices without a row are those the rule skips."""
    model = build_model(load_inputs(tiny_path if which == "tiny" else s_path))
    for name, rule in ARRAY_FAMILIES.items():
        comp = getattr(model, name)
        assert isinstance(comp, ArrayConstraint)
        assert len(comp) > 0, f"{name} has no rows"
        for index in comp.index_set():
            expected = rule(model, *index)
            if index not in comp:
                assert expected is Constraint.Skip, index
                continue
            got = comp[index].expr
            want = expected.expression()
            assert compare_expressions(got, want), f"{name}[{index}]: {got} != {want}"
            assert str(got) == str(want)


def test_row_positions_and_duals_map_back(tiny_path):
    """``rows[i]`` is the row object of matrix row i, and a dual vector maps back to each row
    object (array-built rows through their component, others through a dict)."""
    model = build_model(load_inputs(tiny_path))
    sf = compile_model(model)
    n = len(sf.rows)
    duals = RowDuals(sf.rows, np.arange(n, dtype=float))
    seen = 0
    for i, (con, _sense) in enumerate(sf.rows):
        if isinstance(con.parent_component(), ArrayConstraint):
            assert sf.rows.position(con) == i
            assert sf.rows[i][0] is con
            seen += 1
        got = duals.get(con)
        # a ranged row has two matrix rows; its dual is the last one's (as a dict over rows)
        assert got == i or (got == i + 1 and sf.rows[i + 1][0] is con)
    assert seen > 0 and len(duals) == n
    assert duals.get(model.c_electricity_balance[next(iter(model.c_electricity_balance))]) >= 0


def test_a_row_of_fixed_variables_is_checked_up_to_rounding():
    """0.84 = x + y with x, y fixed at 0.3 and 0.54 sums to 0.8399999999999999: a check on numbers
    that holds (the stochastic measures meet it); 0.85 does not, and says so."""
    import pyomo.environ as pyo
    from pyomo.common.errors import InfeasibleConstraintException

    from optimizer.linear import standard_form

    def model(rhs: float) -> pyo.ConcreteModel:
        m = pyo.ConcreteModel()
        m.x, m.y, m.z = pyo.Var(), pyo.Var(), pyo.Var(bounds=(0, 1))
        m.x.fix(0.3)
        m.y.fix(0.54)
        assert 0.3 + 0.54 != 0.84  # the rounding this test is about
        m.c = pyo.Constraint(expr=m.x + m.y == rhs)
        m.d = pyo.Constraint(expr=m.z >= 0.5)
        m.o = pyo.Objective(expr=m.z)
        return m

    form = standard_form(model(0.84))
    assert form is not None and len(form.rows) == 1  # only d: c holds and is dropped
    with pytest.raises(InfeasibleConstraintException, match=r"'c'"):
        standard_form(model(0.85))


def _held(h) -> dict[str, np.ndarray]:
    """What a ``Highs`` holds after ``passModel``: every array of its LP, as numpy arrays."""
    lp = h.getLp()
    a = lp.a_matrix_
    return {
        "shape": np.array([lp.num_col_, lp.num_row_]),
        "cost": np.asarray(lp.col_cost_),
        "offset": np.array([lp.offset_]),
        "col_lower": np.asarray(lp.col_lower_),
        "col_upper": np.asarray(lp.col_upper_),
        "row_lower": np.asarray(lp.row_lower_),
        "row_upper": np.asarray(lp.row_upper_),
        "start": np.asarray(a.start_),
        "index": np.asarray(a.index_),
        "value": np.asarray(a.value_),
        "integer": np.array([int(x) for x in lp.integrality_ if int(x)]),
    }


@pytest.mark.parametrize("which", ["tiny", "S", "tiny_bets"])
def test_arrays_handed_over_as_the_highs_lp(which, tiny_path, s_path):
    """``StandardForm.pass_to`` (the arrays straight to ``passModel``, what ``solve`` does) leaves
    HiGHS holding bit for bit the model ``passModel(sf.lp)`` gives, and the same solve: the
    objective, the point and the row duals are equal to the last bit (an LP, and a MIP whose
    integer columns are handed over too)."""
    from dataclasses import replace

    import highspy

    data = load_inputs(s_path if which == "S" else tiny_path)
    if which == "tiny_bets":  # the tiny case with its bets decided by the model: binaries
        data = replace(data, settings=replace(data.settings, bet_mode="succeed"))
    fast, slow = compile_model(build_model(data)), compile_model(build_model(data))
    got = []
    for sf, via_lp in ((fast, False), (slow, True)):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        assert (h.passModel(sf.lp) if via_lp else sf.pass_to(h)) == highspy.HighsStatus.kOk
        held = _held(h)
        h.run()
        sol = h.getSolution()
        held["objective"] = np.array([h.getInfo().objective_function_value])
        held["x"] = np.asarray(sol.col_value)
        held["dual"] = np.asarray(sol.row_dual)
        got.append(held)
    assert which != "tiny_bets" or len(got[0]["integer"]) > 0
    assert fast.nonzeros == len(got[0]["value"]) > 0
    for key, arr in got[0].items():
        assert np.array_equal(arr, got[1][key]), key


def test_objective_is_read_from_its_lin_without_building_it(tiny_path, s_path):
    """The objective (a ``LinObjective``) reaches HiGHS from its Lin, its runs as arrays, and no
    expression is built; asked for, the expression is exactly ``total_cost.expr()``; read again
    from that expression's Lin, or from a new expression set in its place, the costs follow."""
    import pyomo.environ as pyo

    model = build_model(load_inputs(s_path))
    total = model.total_cost
    assert total.runs and model.objective.pending_lin() is total
    sf = compile_model(model)
    assert model.objective.pending_lin() is total  # nothing built
    expr = model.objective.expr
    assert model.objective.pending_lin() is None
    assert compare_expressions(expr, total.expr())
    again = compile_model(model)  # the expression is still the Lin's: read from the Lin
    assert np.array_equal(np.asarray(again.lp.col_cost_), np.asarray(sf.lp.col_cost_))
    assert again.offset == sf.offset
    for i, v in enumerate(sf.columns):
        v.set_value(float(i % 7))
    assert pyo.value(model.objective) == pytest.approx(total.value(lambda v: v.value), rel=1e-12)
    model.objective.expr = expr + 5.0
    moved = compile_model(model)
    assert moved.offset == pytest.approx(sf.offset + 5.0)
    assert np.array_equal(np.asarray(moved.lp.col_cost_), np.asarray(sf.lp.col_cost_))
    _assert_same_as_pyomo(model, moved)


def test_fixed_variable_in_the_objective_reads_the_expression(tiny_path):
    """A fixed variable among the objective's array-held terms: the objective is read from its
    expression (the fixed value folded into the offset), as Pyomo's compiler reads it."""
    model = build_model(load_inputs(tiny_path))
    energy = model.reg.cost["energy"][("gen",)]
    var = energy.vars[len(energy.vars) // 2]
    var.fix(2.5)
    sf = compile_model(model)
    assert model.objective.pending_lin() is None  # the expression was read
    assert all(v is not var for v in sf.columns)
    _assert_same_as_pyomo(model, sf)
