"""Linear-term accumulators, lazy linear rows, and the model's standard form.

Components append (coefficient, variable) pairs and constants to shared registries (:class:`Lin`),
and balances are built once from them with Pyomo's ``LinearExpression``, the cheapest way to build a
sum (0.5 µs a term against 2.8 µs for Python ``sum``; PERFORMANCE.md).

The big constraint families are :class:`LinConstraint` s whose rules return ``Lin.le/eq/ge`` rows:
each row keeps its Lin and becomes a Pyomo expression only if something asks for it (the LP writer,
``con.body``). :func:`standard_form` reads those lists directly and gives ``solve.compile_model``
exactly the matrix Pyomo's ``LinearStandardFormCompiler`` would (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from itertools import chain
from typing import Any
from weakref import ref as weakref_ref

import numpy as np
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.gc_manager import PauseGC
from pyomo.common.numeric_types import native_numeric_types, value
from pyomo.core.base import Constraint, Objective, SortComponents, minimize
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.initializer import IndexedCallInitializer
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression, SumExpression
from pyomo.repn.plugins.standard_form import RowEntry

logger = logging.getLogger(__name__)


class Lin:
    """A linear expression under construction: ``const + Σ coefs[i]·vars[i]``."""

    __slots__ = ("const", "coefs", "vars")

    def __init__(self, const: float = 0.0) -> None:
        self.const = const
        self.coefs: list[float] = []
        self.vars: list[Any] = []

    def add(self, coef: float, var: Any) -> Lin:
        """Append ``coef·var`` (zero coefficients are dropped, as the solver would)."""
        if coef != 0.0:
            self.coefs.append(coef)
            self.vars.append(var)
        return self

    def add_lin(self, other: Lin, factor: float = 1.0) -> Lin:
        """Append ``factor·other``."""
        if factor == 0.0:
            return self
        self.const += factor * other.const
        if factor == 1.0:
            self.coefs.extend(other.coefs)
        else:
            # a list comprehension, not a generator: extend() from a generator is ~2x slower
            self.coefs.extend([factor * c for c in other.coefs])
        self.vars.extend(other.vars)
        return self

    @property
    def has_vars(self) -> bool:
        """True when at least one variable appears."""
        return bool(self.vars)

    def expr(self, drop_const: bool = False) -> LinearExpression:
        """The Pyomo expression (optionally without the constant, for ``body ≤ rhs − const`` forms).

        The same object as ``LinearExpression(constant=, linear_coefs=, linear_vars=)`` builds (a
        non-zero constant, then one ``MonomialTermExpression`` per term), with the argument list
        made here: that constructor's ``map``/``zip`` path costs 3x more (3.8 µs against 1.2 µs for
        five terms, measured).
        """
        args: list[Any] = [] if drop_const or not self.const else [self.const]
        args += [MonomialTermExpression((c, v)) for c, v in zip(self.coefs, self.vars, strict=True)]
        return LinearExpression(args)

    def le(self, ub: float, drop_const: bool = False) -> Row:
        """The row ``expr(drop_const) <= ub`` for a :class:`LinConstraint` rule (built lazily)."""
        return Row(LE, self, drop_const, ub)

    def eq(self, rhs: float, drop_const: bool = False) -> Row:
        """The row ``expr(drop_const) == rhs`` for a :class:`LinConstraint` rule (built lazily)."""
        return Row(EQ, self, drop_const, rhs)

    def ge(self, lb: float, drop_const: bool = False) -> Row:
        """The row ``expr(drop_const) >= lb`` for a :class:`LinConstraint` rule (built lazily)."""
        return Row(GE, self, drop_const, lb)

    def value(self, val: Any) -> float:
        """Evaluate with ``val(var)`` giving each variable's value."""
        return self.const + sum(c * val(v) for c, v in zip(self.coefs, self.vars, strict=True))


LE, EQ, GE = 1, 0, -1


class Row:
    """A linear row kept as its :class:`Lin` until someone asks for the Pyomo expression.

    ``expression()`` is exactly the relational expression the rule would otherwise have returned
    (``lin.expr(drop_const) <= bound``, ``==`` or ``>=``), so the LP is the same either way.
    The Lin must not change after the rule returns it.
    """

    __slots__ = ("sense", "lin", "drop_const", "bound")

    def __init__(self, sense: int, lin: Lin, drop_const: bool, bound: float) -> None:
        self.sense = sense
        self.lin = lin
        self.drop_const = drop_const
        self.bound = bound

    def expression(self) -> Any:
        """The Pyomo relational expression of this row."""
        body = self.lin.expr(self.drop_const)
        if self.sense == LE:
            return body <= self.bound
        if self.sense == GE:
            return body >= self.bound
        return body == self.bound


class LinConstraintData(ConstraintData):
    """A constraint whose row is held as a :class:`Row` (its ``Lin``), not as Pyomo expressions.

    The big families (one row per region, year, slice and tech) are most of the model: holding
    them as coefficient and variable lists saves building one ``MonomialTermExpression`` per
    nonzero, a ``LinearExpression`` and a relational expression per row (measured: about half of
    the build, and of the model's memory), and :func:`standard_form` reads the lists directly.
    Everything that asks for the expression (``expr``, ``body``, bounds, the LP writer) gets it:
    it is built then, and the object becomes an ordinary ``ConstraintData`` (as Pyomo's own
    templatized constraints do).
    """

    __slots__ = ()

    def _materialize(self) -> None:
        row = self._expr
        self.__class__ = ConstraintData
        if row.__class__ is Row:
            ConstraintData.set_value(self, row.expression())

    @property
    def expr(self) -> Any:
        """The relational expression (built on first use)."""
        self._materialize()
        return self._expr

    def to_bounded_expression(self, evaluate_bounds: bool = False) -> Any:
        """As ``ConstraintData.to_bounded_expression``, after building the expression."""
        self._materialize()
        return self.to_bounded_expression(evaluate_bounds)

    def set_value(self, expr: Any) -> None:
        """Keep a :class:`Row` as it is; anything else makes this an ordinary ``ConstraintData``."""
        if expr.__class__ is Row:
            self._expr = expr
            return
        self.__class__ = ConstraintData
        ConstraintData.set_value(self, expr)


class LinConstraint(IndexedConstraint):
    """An indexed ``Constraint`` whose rule returns ``Lin.le/eq/ge`` rows (see LinConstraintData).

    Declared like any constraint: ``m.c_x = LinConstraint(m.X, rule=x_rule)``.
    """

    _ComponentDataClass = LinConstraintData

    def construct(self, data: Any = None) -> None:
        """Call the rule for every index and store its rows directly.

        Pyomo's ``Constraint.construct`` goes through an initializer object, index validation and
        ``_setitem_when_not_present`` for each row (about 1.5 µs); this loop creates each
        ``LinConstraintData`` with the four fields Pyomo's own ``TemplateConstraintData`` sets.
        Anything but a plain rule function over a finite set goes through Pyomo's path.
        """
        rule = self._rule
        if (
            self._constructed
            or data is not None
            or rule.__class__ is not IndexedCallInitializer
            or not self.index_set().isfinite()
        ):
            return super().construct(data)
        self._constructed = True
        if self._anonymous_sets is not None:
            for s in self._anonymous_sets:
                s.construct()
        fcn = rule._fcn
        block = self.parent_block()
        ref = weakref_ref(self)
        store = self._data
        skip = Constraint.Skip
        try:
            for index in self.index_set():
                row = fcn(block, *index) if index.__class__ is tuple else fcn(block, index)
                if row.__class__ is Row:
                    con = LinConstraintData.__new__(LinConstraintData)
                    con._component = ref
                    con._active = True
                    con._index = index
                    con._expr = row
                    store[index] = con
                elif row is not skip:
                    self._setitem_when_not_present(index, row)
        except Exception:
            logger.error("Rule failed when generating rows for LinConstraint %s", self.name)
            raise


def lin_registry() -> defaultdict:
    """A dict that creates an empty :class:`Lin` on first access."""
    return defaultdict(Lin)


# ------------------------------------------------------------------------------ standard form
@dataclass
class LinearForm:
    """``min c·x + offset`` s.t. ``A x (=, ≤, ≥) rhs``: the fields of Pyomo's ``LinearStandardFormInfo``
    that ``solve.compile_model`` reads, with ``A`` as CSC arrays (``indptr``, ``indices``, ``data``)."""

    columns: list[Any]
    rows: list[tuple[Any, int]]  # (constraint data, 0 for =, 1 for ≤, -1 for ≥)
    rhs: np.ndarray
    c: np.ndarray  # dense objective coefficients, one per column
    offset: float
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray


_MONOMIAL = frozenset({MonomialTermExpression})


def _monomial(coef: float, var: Any) -> MonomialTermExpression:
    return MonomialTermExpression((coef, var))


class _NotSimple(Exception):
    """An expression the fast path does not read (params, nonlinear terms, several objectives)."""


def standard_form(model: Any) -> LinearForm | None:
    """The model in mixed standard form, exactly as ``LinearStandardFormCompiler(mixed_form=True)``.

    Same columns in the same order (each variable component's non-fixed elements, components in the
    order first met in the objective then the constraints, columns without a nonzero dropped), same
    rows (one per equality, ``≤`` then ``≥`` for a ranged row, constant rows dropped), same matrix.
    It reads the ``LinearExpression`` terms that :class:`Lin` builds directly instead of walking
    every expression with Pyomo's generic visitor, and builds the matrix with numpy alone (the
    compiler's first use imports ``scipy.stats``: ~1.5 s). PERFORMANCE.md: the hand-off was as slow
    as the build itself.

    Returns ``None`` (the caller falls back to Pyomo's compiler) for anything it does not read: an
    expression that is not a sum of ``coef·var`` with numeric coefficients, a maximisation, or a
    number of active objectives other than one.
    """
    try:
        # Millions of small objects are alive: a cyclic-GC pass on every allocation burst would
        # dominate (measured 2x at the base case), as Pyomo's own compiler knows.
        with PauseGC():
            return _standard_form(model)
    except _NotSimple:
        return None


def _in_index_order(comp: Any, sorter: Any) -> Any:
    """The component's data in index order, read straight from its dict when that is the order.

    A dense component's data are stored as its index set is iterated (0.1 µs an element to
    check) instead of looked up index by index (about 2 µs: 1 s for 500k elements).
    """
    data = getattr(comp, "_data", None)
    if data is not None and comp.is_indexed() and list(data) == list(comp.index_set()):
        return data.values()
    return comp.values(sorter)


def _constraint_data(model: Any, sorter: Any) -> Any:
    """``model.component_data_objects(Constraint, active=True, sort=sorter)``, faster, as one
    list per component.

    The same blocks and components in the same order; References (which that method
    de-duplicates) send the whole model through it instead.
    """
    comps = list(model.component_objects(Constraint, active=True, sort=sorter, descend_into=True))
    if any(c.is_reference() for c in comps):
        yield list(model.component_data_objects(Constraint, active=True, sort=sorter))
        return
    for comp in comps:
        if comp.is_indexed():
            yield [con for con in _in_index_order(comp, sorter) if con._active]
        elif comp._data and comp.active:  # a scalar constraint, unless skipped
            yield [comp]


def _standard_form(model: Any) -> LinearForm:
    sorter = SortComponents.ORDERED_INDICES  # the compiler's default (FileDeterminism.ORDERED)
    col_of: dict[int, int] = {}
    columns: list[Any] = []

    def record(var: Any) -> None:
        for v in _in_index_order(var.parent_component(), sorter):
            if not v.fixed:
                col_of[id(v)] = len(columns)
                columns.append(v)

    col_get = col_of.get
    native = native_numeric_types

    def slow_terms(args: Any, cols: list[int], vals: list[float]) -> float:
        """One term at a time: records new variable components, folds fixed variables."""
        const = 0.0
        for arg in args:
            acls = arg.__class__
            if acls is MonomialTermExpression:
                coef, var = arg._args_
                if coef.__class__ not in native:
                    raise _NotSimple
            elif acls in native:
                const += arg
                continue
            elif arg.is_variable_type():
                coef, var = 1, arg
            else:
                raise _NotSimple
            j = col_get(id(var))
            if j is None:
                if var.fixed:
                    const += coef * var.value
                    continue
                record(var)
                j = col_of[id(var)]
            cols.append(j)
            vals.append(coef)
        return const

    def terms(expr: Any, cols: list[int], vals: list[float]) -> float:
        """Append expr's (column, coefficient) terms; return its constant (fixed variables included)."""
        cls = expr.__class__
        if cls in native:
            return float(expr)
        if cls is not LinearExpression:
            return slow_terms(expr.args if cls is SumExpression else (expr,), cols, vals)
        args = expr.args
        const = 0.0
        if args and args[0].__class__ in native:
            const, args = args[0], args[1:]
        # Whole-row list operations instead of a Python loop per term: the body is a constant and
        # MonomialTermExpressions as Lin.expr builds it; anything else takes the slow path.
        if set(map(type, args)) - _MONOMIAL:
            return slow_terms(expr.args, cols, vals)
        coefs = [t._args_[0] for t in args]
        row = list(map(col_get, map(id, [t._args_[1] for t in args])))
        if None in row or set(map(type, coefs)) - native:
            return slow_terms(expr.args, cols, vals)
        cols += row
        vals += coefs
        return const

    objectives = list(model.component_data_objects(Objective, active=True, sort=sorter))
    if len(objectives) != 1 or objectives[0].sense != minimize:
        raise _NotSimple
    obj_cols: list[int] = []
    obj_vals: list[float] = []
    offset = terms(objectives[0].expr, obj_cols, obj_vals)

    rows: list[tuple[Any, int]] = []
    rhs: list[float] = []
    row_ptr = [0]
    cols: list[int] = []
    vals: list[float] = []

    def add_row(con: Any) -> None:
        """One constraint, row by row (ranged rows give two; constant rows are checked)."""
        row = con._expr if con.__class__ is LinConstraintData else None
        if row.__class__ is Row and row.bound.__class__ in native:
            # as Row.expression() would be read: the Lin's constant is in the body unless
            # dropped; a lazy row is never ranged, so one matrix row with its own sense
            lin = row.lin
            start = len(cols)
            r = list(map(col_get, map(id, lin.vars)))
            if None in r:
                const = slow_terms(map(_monomial, lin.coefs, lin.vars), cols, vals)
            else:
                cols.extend(r)
                vals.extend(lin.coefs)
                const = 0.0
            if not row.drop_const:
                const += lin.const
            if len(cols) > start:
                rows.append(RowEntry(con, row.sense))
                rhs.append(row.bound - const)
                row_ptr.append(len(cols))
                return
            lb = row.bound if row.sense <= 0 else None
            ub = row.bound if row.sense >= 0 else None
        else:
            lb, body, ub = con.to_bounded_expression()
            if lb is None and ub is None:
                return
            if lb.__class__ not in native_numeric_types and lb is not None:
                lb = value(lb)
            if ub.__class__ not in native_numeric_types and ub is not None:
                ub = value(ub)
            start = len(cols)
            const = terms(body, cols, vals)
        if len(cols) == start:
            if (lb is None or lb <= const) and (ub is None or ub >= const):
                return
            raise InfeasibleConstraintException(
                f"model contains a trivially infeasible constraint, '{con.name}'"
            )
        end = len(cols)
        if lb == ub:
            rows.append(RowEntry(con, 0))
            rhs.append(ub - const)
            row_ptr.append(end)
            return
        if ub is not None:
            rows.append(RowEntry(con, 1))
            rhs.append(ub - const)
            row_ptr.append(end)
        if lb is not None:
            if ub is not None:  # the same terms again for the ≥ row
                cols.extend(cols[start:end])
                vals.extend(vals[start:end])
            rows.append(RowEntry(con, -1))
            rhs.append(lb - const)
            row_ptr.append(len(cols))

    def lazy_rows(cons: list[Any]) -> bool:
        """A whole component of lazy rows in a few list operations; False if it is not one."""
        exprs = [c._expr if c.__class__ is LinConstraintData else None for c in cons]
        if set(map(type, exprs)) != {Row} or set(e.bound.__class__ for e in exprs) - native:
            return False
        lins = [e.lin for e in exprs]
        lens = list(map(len, [lin.vars for lin in lins]))
        if 0 in lens:  # a row without terms needs the constant-row check
            return False
        allvars = list(chain.from_iterable([lin.vars for lin in lins]))
        r = list(map(col_get, map(id, allvars)))
        if None in r:  # new variable components (recorded in term order, as row by row would)
            for v, j in zip(allvars, r, strict=True):
                if j is None and col_get(id(v)) is None:
                    if v.fixed:  # folded into the right-hand side: row by row
                        return False
                    record(v)
            r = list(map(col_get, map(id, allvars)))
        cols.extend(r)
        vals.extend(chain.from_iterable([lin.coefs for lin in lins]))
        rows.extend(map(RowEntry, cons, [e.sense for e in exprs]))
        # as Row.expression() would be read: the Lin's constant is in the body unless dropped
        rhs.extend([e.bound - (0.0 if e.drop_const else e.lin.const) for e in exprs])
        row_ptr.extend((np.cumsum(lens) + row_ptr[-1]).tolist())
        return True

    for cons in _constraint_data(model, sorter):
        if lazy_rows(cons):
            continue
        for con in cons:
            add_row(con)

    n = len(columns)
    r_idx = np.repeat(
        np.arange(len(rows), dtype=np.int64), np.diff(np.asarray(row_ptr, dtype=np.int64))
    )
    c_idx = np.asarray(cols, dtype=np.int64)
    try:
        v = np.asarray(vals, dtype=np.float64)
    except (TypeError, ValueError) as exc:  # a Pyomo object as a coefficient of a Lin
        raise _NotSimple from exc
    cols.clear()  # free the Python lists before the sort below allocates
    vals.clear()
    # CSC, duplicates summed and zeros dropped (as scipy's sum_duplicates/eliminate_zeros)
    order = np.lexsort((r_idx, c_idx))
    r_idx, c_idx, v = r_idx[order], c_idx[order], v[order]
    if len(v):
        first = np.ones(len(v), dtype=bool)
        first[1:] = (r_idx[1:] != r_idx[:-1]) | (c_idx[1:] != c_idx[:-1])
        starts = np.flatnonzero(first)
        v = np.add.reduceat(v, starts)
        r_idx, c_idx = r_idx[starts], c_idx[starts]
        keep = v != 0.0
        r_idx, c_idx, v = r_idx[keep], c_idx[keep], v[keep]
    c_dense = np.zeros(n)
    np.add.at(c_dense, np.asarray(obj_cols, dtype=np.int64), np.asarray(obj_vals, dtype=np.float64))
    counts = np.bincount(c_idx, minlength=n)
    active = (counts > 0) | (c_dense != 0.0)
    if not active.all():
        new = np.cumsum(active) - 1
        c_idx = new[c_idx]
        columns = [col for col, a in zip(columns, active, strict=True) if a]
        c_dense = c_dense[active]
        counts = counts[active]
    indptr = np.zeros(len(columns) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return LinearForm(
        columns,
        rows,
        np.asarray(rhs, dtype=np.float64),
        c_dense,
        float(offset),
        indptr,
        r_idx,
        v,
    )
