"""The standard-form hand-off: the model's rows and columns as the arrays HiGHS takes.

:func:`standard_form` reads :class:`~optimizer.linear.terms.Lin` rows and
:class:`~optimizer.linear.arrays.ArrayRows` directly and gives ``solve.compile_model`` exactly the
matrix Pyomo's ``LinearStandardFormCompiler`` would (benchmarks/RESULTS.md; tests/test_linear.py);
:class:`RowMap` maps each matrix row back to its constraint without creating one object per
array-built row.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.gc_manager import PauseGC
from pyomo.common.numeric_types import native_numeric_types, value
from pyomo.core.base import Constraint, Objective, SortComponents, minimize
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression, SumExpression
from pyomo.repn.plugins.standard_form import RowEntry

from optimizer.linear.arrays import ArrayConstraint, ArrayRows, _in_index_order, index_order
from optimizer.linear.terms import LinConstraintData, LinObjective, Row

_FIXED = attrgetter("_fixed")


class RowMap(Sequence):
    """The rows of a standard form, ``rows[i] = RowEntry(constraint data, sense)``, without creating
    one entry per array-built row: those are kept as (component, ordinals) segments and their row
    objects are made only when an entry is asked for (duals, IIS names)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._segs: list[Any] = []  # a list of RowEntry, or (component, ordinals array, sense)
        self._n = 0
        self._array_segs: dict[int, tuple[int, np.ndarray | None]] = {}

    def _plain(self) -> list[Any]:
        if not self._segs or not isinstance(self._segs[-1], list):
            self._starts.append(self._n)
            self._segs.append([])
        return self._segs[-1]

    def append(self, entry: Any) -> None:
        """Append one ordinary row."""
        self._plain().append(entry)
        self._n += 1

    def extend(self, entries: Any) -> None:
        """Append ordinary rows."""
        seg = self._plain()
        k = len(seg)
        seg.extend(entries)
        self._n += len(seg) - k

    def add_array(self, comp: ArrayConstraint, ordinals: np.ndarray | None, n: int) -> None:
        """Append ``n`` rows of an array-built component: its rows ``ordinals`` (None: all, in order)."""
        self._array_segs[id(comp)] = (self._n, ordinals)
        self._starts.append(self._n)
        self._segs.append((comp, ordinals, n))
        self._n += n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        s = bisect_right(self._starts, i) - 1
        seg, k = self._segs[s], i - self._starts[s]
        if isinstance(seg, list):
            return seg[k]
        comp, ordinals, _n = seg
        o = k if ordinals is None else int(ordinals[k])
        return RowEntry(comp[comp._rows.index[o]], comp._rows.sense)

    def __iter__(self) -> Iterator[Any]:
        for seg in self._segs:
            if isinstance(seg, list):
                yield from seg
            else:
                comp, ordinals, n = seg
                index, sense = comp._rows.index, comp._rows.sense
                for k in range(n):
                    yield RowEntry(comp[index[k if ordinals is None else int(ordinals[k])]], sense)

    def senses(self) -> np.ndarray:
        """The sense of every row (0 ``=``, 1 ``≤``, -1 ``≥``) as one array."""
        parts = []
        for seg in self._segs:
            if isinstance(seg, list):
                parts.append(np.fromiter((s for _c, s in seg), dtype=np.int64, count=len(seg)))
            else:
                parts.append(np.full(seg[2], seg[0]._rows.sense, dtype=np.int64))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def position(self, con: Any) -> int | None:
        """The row of an array-built constraint's row object (None: not array-built here)."""
        comp = con.parent_component()
        seg = self._array_segs.get(id(comp))
        if seg is None:
            return None
        start, ordinals = seg
        o = comp.ordinal(con.index())
        if o is None:
            return None
        if ordinals is None:
            return start + o
        k = int(np.searchsorted(ordinals, o))
        return start + k if k < len(ordinals) and ordinals[k] == o else None

    def array_components(self) -> list[str]:
        """Names of the components whose rows were read as arrays (in row order)."""
        return [seg[0].local_name for seg in self._segs if not isinstance(seg, list)]

    def plain_entries(self) -> Iterator[Any]:
        """The ordinary rows' entries (row objects exist for them), in row order, with positions."""
        for start, seg in zip(self._starts, self._segs, strict=True):
            if isinstance(seg, list):
                for k, entry in enumerate(seg):
                    yield start + k, entry


@dataclass
class LinearForm:
    """``min c·x + offset`` s.t. ``A x (=, ≤, ≥) rhs``: the fields of Pyomo's ``LinearStandardFormInfo``
    that ``solve.compile_model`` reads, with ``A`` as CSC arrays (``indptr``, ``indices``, ``data``)."""

    columns: list[Any]
    rows: RowMap  # RowEntry(constraint data, 0 for =, 1 for ≤, -1 for ≥) per row
    rhs: np.ndarray
    c: np.ndarray  # dense objective coefficients, one per column
    offset: float
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    # (first, end, component): columns first..end-1 are a whole variable component, in index order
    segments: list[tuple[int, int, Any]] = field(default_factory=list)


_MONOMIAL = frozenset({MonomialTermExpression})


def _monomial(coef: float, var: Any) -> MonomialTermExpression:
    return MonomialTermExpression((coef, var))


class _NotSimple(Exception):
    """An expression the fast path does not read (params, nonlinear terms, several objectives)."""


class _FixedMet(Exception):
    """A fixed variable in a Lin read as arrays: read its expression instead."""


CONSTANT_ROW_TOL = 1e-9
"""Relative tolerance of a row left without variables (every term fixed)."""


def _constant_row_holds(lb: float | None, const: float, ub: float | None) -> bool:
    """``lb ≤ const ≤ ub`` up to rounding.

    A row whose variables are all fixed is a check on numbers: fixed values summed in another order
    than the solver computed them differ in the last bits (the stochastic measures fix a first
    stage from another solve; its balance rows came out ~1e-13 off). Pyomo's compiler compares
    exactly and calls such a row infeasible; HiGHS would accept it within its 1e-7 tolerance.
    """
    tol = CONSTANT_ROW_TOL * max(1.0, abs(const))
    return (lb is None or lb <= const + tol) and (ub is None or ub >= const - tol)


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


def _constraint_data(model: Any, sorter: Any) -> Any:
    """``model.component_data_objects(Constraint, active=True, sort=sorter)``, faster, as one
    list per component (an :class:`ArrayConstraint` whose arrays are intact: the component).

    The same blocks and components in the same order; References (which that method
    de-duplicates) send the whole model through it instead.
    """
    comps = list(model.component_objects(Constraint, active=True, sort=sorter, descend_into=True))
    if any(c.is_reference() for c in comps):
        yield list(model.component_data_objects(Constraint, active=True, sort=sorter))
        return
    for comp in comps:
        if isinstance(comp, ArrayConstraint):
            if comp.arrays_intact():
                yield comp
                continue
            comp._fill()
        if comp.is_indexed():
            yield [con for con in _in_index_order(comp, sorter) if con._active]
        elif comp._data and comp.active:  # a scalar constraint, unless skipped
            yield [comp]


def _standard_form(model: Any) -> LinearForm:
    """Read the objective, then every active constraint component in order (module doc)."""
    sf = _Compiler()
    sf.objective(model)
    for cons in _constraint_data(model, sf.sorter):
        if isinstance(cons, ArrayConstraint):
            if sf.array_rows(cons):
                continue
            cons._fill()
            cons = [con for con in cons.values(sf.sorter) if con._active]
        if sf.lazy_rows(cons):
            continue
        for con in cons:
            sf.add_row(con)
    sf.flush()
    return sf.result()


class _Compiler:
    """The state of one :func:`standard_form` call: the columns met so far, and the rows read.

    Columns are recorded a whole variable component at a time, in the order terms first meet
    them (:meth:`record`); rows read one by one go to Python lists (``cols``, ``vals``,
    ``rhs``, ``row_ptr``) that :meth:`flush` turns into an array chunk; array-built components
    go straight to ``chunks`` (rows, columns, values) and ``rhs_chunks``, in row order.
    """

    def __init__(self) -> None:
        self.sorter = SortComponents.ORDERED_INDICES  # the compiler's default (ORDERED)
        self.col_of: dict[int, int] = {}
        self.col_get = self.col_of.get
        self.columns: list[Any] = []
        # variable component id → column of each ordinal (-1: fixed, no column); (first, end,
        # component) of each whole component recorded without a fixed element
        self.comp_cols: dict[int, np.ndarray] = {}
        # components recorded whole whose elements are not in col_of yet: id → (first, data)
        self.unmapped: dict[int, tuple[int, list[Any]]] = {}
        self.segments: list[tuple[int, int, Any]] = []
        self.obj_chunks: list[tuple[np.ndarray, np.ndarray]] = []  # (columns, values), term order
        self.offset = 0.0
        self.rows = RowMap()
        self.rhs: list[float] = []
        self.row_ptr = [0]
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.rhs_chunks: list[np.ndarray] = []
        self.flushed = 0  # rows already in chunks

    # ------------------------------------------------------------------ columns and terms
    def record(self, var: Any, only_whole: bool = False) -> bool:
        """Give columns to the whole component of ``var`` (its non-fixed elements, index order),
        unless it has them already; with ``only_whole``, only if none of its elements is fixed
        (False: nothing recorded).

        A component without a fixed element gets a contiguous run of columns and no entry per
        element in ``col_of``: array-built rows and array-held Lin terms find its columns through
        ``comp_cols`` (component first column + ordinal), and the dictionary is filled only if a
        term read one by one names one of its elements (:meth:`resolve`): 1.45M entries cost
        0.5 s at XL, where the big operational components are read only as arrays.
        """
        comp = var.parent_component()
        if id(comp) in self.comp_cols:
            return True
        columns, col_of = self.columns, self.col_of
        data = list(_in_index_order(comp, self.sorter))
        start = len(columns)
        fixed = _fixed_flags(data)
        if not any(fixed):
            # a whole component at once: its columns are contiguous and in index order
            columns.extend(data)
            self.comp_cols[id(comp)] = np.arange(start, start + len(data), dtype=np.int64)
            self.segments.append((start, len(columns), comp))
            self.unmapped[id(comp)] = (start, data)
            return True
        if only_whole:
            return False
        cols_k = np.full(len(data), -1, dtype=np.int64)
        for k, v in enumerate(data):
            if not fixed[k]:
                cols_k[k] = col_of[id(v)] = len(columns)
                columns.append(v)
        self.comp_cols[id(comp)] = cols_k
        return True

    def resolve(self, var: Any) -> None:
        """Make ``col_of`` know ``var`` (not fixed): record its component if new, and fill the
        dictionary for its component's elements if it has not been filled yet."""
        comp = var.parent_component()
        self.record(var)
        got = self.unmapped.pop(id(comp), None)
        if got is not None:
            start, data = got
            self.col_of.update(zip(map(id, data), range(start, start + len(data)), strict=True))

    def known(self, var: Any) -> bool:
        """True when ``var`` has a column (its component recorded, ``var`` not fixed)."""
        if self.col_get(id(var)) is not None:
            return True
        return id(var.parent_component()) in self.unmapped

    def slow_terms(self, args: Any, cols: list[int], vals: list[float]) -> float:
        """One term at a time: records new variable components, folds fixed variables."""
        col_get, native = self.col_get, native_numeric_types
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
                self.resolve(var)
                j = self.col_of[id(var)]
            cols.append(j)
            vals.append(coef)
        return const

    def terms(self, expr: Any, cols: list[int], vals: list[float]) -> float:
        """Append expr's (column, coefficient) terms; return its constant (fixed variables included)."""
        native, col_get = native_numeric_types, self.col_get
        cls = expr.__class__
        if cls in native:
            return float(expr)
        if cls is not LinearExpression:
            return self.slow_terms(expr.args if cls is SumExpression else (expr,), cols, vals)
        args = expr.args
        const = 0.0
        if args and args[0].__class__ in native:
            const, args = args[0], args[1:]
        # Whole-row list operations instead of a Python loop per term: the body is a constant and
        # MonomialTermExpressions as Lin.expr builds it; anything else takes the slow path.
        if set(map(type, args)) - _MONOMIAL:
            return self.slow_terms(expr.args, cols, vals)
        coefs = [t._args_[0] for t in args]
        tvars = [t._args_[1] for t in args]
        row = list(map(col_get, map(id, tvars)))
        if set(map(type, coefs)) - native:
            return self.slow_terms(expr.args, cols, vals)
        if None in row:
            # new variable components, recorded in the order the terms meet them (as the slow
            # path would); a fixed variable is folded into the constant by the slow path
            for v, j in zip(tvars, row, strict=True):
                if j is None and col_get(id(v)) is None:
                    if v.fixed:
                        return self.slow_terms(expr.args, cols, vals)
                    self.resolve(v)
            row = list(map(col_get, map(id, tvars)))
        cols += row
        vals += coefs
        return const

    def objective(self, model: Any) -> None:
        """The one active objective (a minimisation), else :class:`_NotSimple`.

        A :class:`LinObjective` is read from its Lin (:meth:`lin_objective`) while it holds no
        expression yet, or while its expression is still the one built from that Lin
        (``lin_source``); otherwise, or if the Lin holds a fixed variable, from the expression.
        """
        objectives = list(model.component_data_objects(Objective, active=True, sort=self.sorter))
        if len(objectives) != 1 or objectives[0].sense != minimize:
            raise _NotSimple
        obj = objectives[0]
        lin = None
        if obj.__class__ is LinObjective:
            lin = obj.pending_lin()
            if lin is None and obj.lin_source is not None and obj.lin_source[0] is obj.expr:
                lin = obj.lin_source[1]
        if lin is not None:
            try:
                self.offset = self.lin_objective(lin)
                return
            except _FixedMet:
                self.obj_chunks.clear()
        cols: list[int] = []
        vals: list[float] = []
        self.offset = self.terms(obj.expr, cols, vals)
        self._obj_chunk(cols, vals)

    def _obj_chunk(self, cols: Any, vals: Any) -> None:
        try:
            v = np.asarray(vals, dtype=np.float64)
        except (TypeError, ValueError) as exc:  # a Pyomo object as a coefficient
            raise _NotSimple from exc
        self.obj_chunks.append((np.asarray(cols, dtype=np.int64), v))

    def lin_objective(self, lin: Any) -> float:
        """Read ``lin`` as :meth:`terms` reads ``lin.expr()`` (the same columns recorded in the
        same order, the same coefficients in the same order), its runs as arrays; return its
        constant. Raises :class:`_FixedMet` at a fixed variable (the caller reads the expression:
        folding it into the constant must add in that path's order)."""
        vs, cs = lin.vars, lin.coefs
        if set(map(type, cs)) - native_numeric_types:
            raise _NotSimple
        pos = 0
        for s, e, comp, ords in lin.runs or ():
            if s == e:
                continue
            if pos < s:
                self._plain_objective(vs[pos:s], cs[pos:s])
            # a component met here first is recorded only if whole: with a fixed element, the
            # expression's path records it where its first non-fixed element is met
            if not self.record(comp, only_whole=True):
                raise _FixedMet
            cc = self.comp_cols[id(comp)]
            cols = cc[ords]
            # a fixed element has no column; the ends check that the ordinals still name them
            if cols.min() < 0 or self.columns[cols[0]] is not vs[s]:
                raise _FixedMet
            if self.columns[cols[-1]] is not vs[e - 1]:
                raise _FixedMet
            self.obj_chunks.append((cols, np.array(cs[s:e], dtype=np.float64)))
            pos = e
        if pos < len(vs):
            self._plain_objective(vs[pos:], cs[pos:])
        return lin.const

    def _plain_objective(self, vs: list[Any], cs: list[float]) -> None:
        """Terms read one by one (dictionary lookups), new components recorded in term order."""
        col_get = self.col_get
        r = list(map(col_get, map(id, vs)))
        if None in r:
            for v, j in zip(vs, r, strict=True):
                if j is None and col_get(id(v)) is None:
                    if v.fixed:
                        raise _FixedMet
                    self.resolve(v)
            r = list(map(col_get, map(id, vs)))
        self._obj_chunk(r, cs)

    # ------------------------------------------------------------------ rows read one by one
    def flush(self) -> None:
        """Move the rows in the Python lists to one array chunk."""
        n = len(self.row_ptr) - 1
        if not n:
            return
        r = np.repeat(
            np.arange(self.flushed, self.flushed + n, dtype=np.int64),
            np.diff(np.asarray(self.row_ptr, dtype=np.int64)),
        )
        try:
            v = np.asarray(self.vals, dtype=np.float64)
        except (TypeError, ValueError) as exc:  # a Pyomo object as a coefficient of a Lin
            raise _NotSimple from exc
        self.chunks.append((r, np.asarray(self.cols, dtype=np.int64), v))
        self.rhs_chunks.append(np.asarray(self.rhs, dtype=np.float64))
        self.flushed += n
        self.cols.clear()
        self.vals.clear()
        self.rhs.clear()
        self.row_ptr[:] = [0]

    def _lazy_row(self, con: Any, row: Row) -> tuple[float | None, float, float | None] | None:
        """A :class:`Row` read as ``Row.expression()`` would be: the Lin's constant is in the body
        unless dropped; never ranged, so one matrix row with its own sense. Returns None when
        the row was added, else (lb, constant, ub) of a row left without terms."""
        cols, vals = self.cols, self.vals
        lin = row.lin
        start = len(cols)
        r = list(map(self.col_get, map(id, lin.vars)))
        if None in r:
            const = self.slow_terms(map(_monomial, lin.coefs, lin.vars), cols, vals)
        else:
            cols.extend(r)
            vals.extend(lin.coefs)
            const = 0.0
        if not row.drop_const:
            const += lin.const
        if len(cols) > start:
            self.rows.append(RowEntry(con, row.sense))
            self.rhs.append(row.bound - const)
            self.row_ptr.append(len(cols))
            return None
        lb = row.bound if row.sense <= 0 else None
        ub = row.bound if row.sense >= 0 else None
        return lb, const, ub

    def add_row(self, con: Any) -> None:
        """One constraint, row by row (ranged rows give two; constant rows are checked)."""
        native = native_numeric_types
        cols, vals, rows, rhs, row_ptr = self.cols, self.vals, self.rows, self.rhs, self.row_ptr
        row = con._expr if con.__class__ is LinConstraintData else None
        start = len(cols)
        if row.__class__ is Row and row.bound.__class__ in native:
            left = self._lazy_row(con, row)
            if left is None:
                return
            lb, const, ub = left
        else:
            lb, body, ub = con.to_bounded_expression()
            if lb is None and ub is None:
                return
            if lb.__class__ not in native and lb is not None:
                lb = value(lb)
            if ub.__class__ not in native and ub is not None:
                ub = value(ub)
            const = self.terms(body, cols, vals)
        if len(cols) == start:
            if _constant_row_holds(lb, const, ub):
                return
            raise InfeasibleConstraintException(
                f"model contains a trivially infeasible constraint, '{con.name}' "
                f"({lb} <= {const} <= {ub} does not hold)"
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

    def lazy_rows(self, cons: list[Any]) -> bool:
        """A whole component of lazy rows in a few list operations; False if it is not one."""
        col_get = self.col_get
        exprs = [c._expr if c.__class__ is LinConstraintData else None for c in cons]
        if (
            set(map(type, exprs)) != {Row}
            or set(e.bound.__class__ for e in exprs) - native_numeric_types
        ):
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
                    self.resolve(v)
            r = list(map(col_get, map(id, allvars)))
        self.cols.extend(r)
        self.vals.extend(chain.from_iterable([lin.coefs for lin in lins]))
        self.rows.extend(map(RowEntry, cons, [e.sense for e in exprs]))
        # as Row.expression() would be read: the Lin's constant is in the body unless dropped
        self.rhs.extend([e.bound - (0.0 if e.drop_const else e.lin.const) for e in exprs])
        self.row_ptr.extend((np.cumsum(lens) + self.row_ptr[-1]).tolist())
        return True

    # ------------------------------------------------------------------ array-built rows
    def record_first_met(self, arr: ArrayRows) -> None:
        """Record the row family's new variable components in the order row-by-row reading
        would meet them: by row, then by place in the row (direct terms in array order, then
        the groups' terms)."""
        t_var, t_row, t_pos, _tc, g_row, g_lin, _gf = arr.arrays()
        found: list[tuple[int, int, int, Any]] = []  # (row, place class, place, a VarData)
        for c, var in enumerate(arr.vars):
            if id(var) in self.comp_cols:
                continue
            where = np.flatnonzero(t_var == c)
            if not len(where):
                continue
            r0 = t_row[where].min()
            j = int(where[t_row[where] == r0][0])
            found.append((int(r0), 0, j, index_order(var)[int(t_pos[j])]))
        known = self.known
        lin_new = [any(not known(v) and not v.fixed for v in lin.vars) for lin in arr.lins]
        if any(lin_new):
            seen: set[int] = set()
            for e in np.argsort(g_row, kind="stable").tolist():
                lin = arr.lins[g_lin[e]]
                if not lin_new[g_lin[e]]:
                    continue
                for p, v in enumerate(lin.vars):
                    comp = v.parent_component()
                    if not known(v) and not v.fixed and id(comp) not in seen:
                        seen.add(id(comp))
                        found.append((int(g_row[e]), 1, e * 10**6 + p, v))
        for *_key, v in sorted(found, key=lambda f: f[:3]):
            self.record(v)

    def _direct_columns(self, arr: ArrayRows) -> np.ndarray | None:
        """Column of every direct term (its component's column of that ordinal); None if fixed."""
        t_var, _t_row, t_pos = arr.arrays()[:3]
        t_col = np.empty(len(t_var), dtype=np.int64)
        for c, var in enumerate(arr.vars):
            sel = t_var == c
            cc = self.comp_cols.get(id(var))
            if cc is None:  # every element fixed (or an empty component)
                cc = np.full(max(len(var), 1), -1, dtype=np.int64)
            t_col[sel] = cc[t_pos[sel]]
        if len(t_col) and t_col.min() < 0:
            return None
        return t_col

    def _group_terms(self, arr: ArrayRows) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(rows, columns, values) of the group terms: each shared Lin resolved to columns once,
        then repeated on its rows; None when a group holds a fixed variable."""
        _tv, _tr, _tp, _tc, g_row, g_lin, g_factor = arr.arrays()
        lens = np.array([len(lin.vars) for lin in arr.lins], dtype=np.int64)
        lin_vars = list(chain.from_iterable(lin.vars for lin in arr.lins))
        lin_cols = list(map(self.col_get, map(id, lin_vars)))
        if None in lin_cols:
            for v, j in zip(lin_vars, lin_cols, strict=True):
                if j is None and not v.fixed:  # recorded by record_first_met, not in col_of yet
                    self.resolve(v)
            lin_cols = list(map(self.col_get, map(id, lin_vars)))
        if None in lin_cols:
            return None  # a fixed variable in a group: row by row folds it
        try:
            lin_coefs = np.fromiter(
                chain.from_iterable(lin.coefs for lin in arr.lins), dtype=np.float64
            )
        except (TypeError, ValueError) as exc:
            raise _NotSimple from exc
        lin_cols_a = np.asarray(lin_cols, dtype=np.int64)
        lin_start = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=lin_start[1:])
        cnt = lens[g_lin]
        total = int(cnt.sum())
        first = np.cumsum(cnt) - cnt
        offs = np.repeat(lin_start[:-1][g_lin] - first, cnt) + np.arange(total, dtype=np.int64)
        g_rows = np.repeat(g_row, cnt)
        return g_rows, lin_cols_a[offs], np.repeat(g_factor, cnt) * lin_coefs[offs]

    def array_rows(self, comp: ArrayConstraint) -> bool:
        """A whole :class:`ArrayConstraint` as arrays; False (read row by row) if a term is fixed."""
        arr = comp._rows
        n = len(arr.index)
        for var in arr.vars:
            # a fixed element is folded into the right-hand side: row by row, which also meets
            # (and records) the components in its own way around fixed elements
            if id(var) not in self.comp_cols and any(_fixed_flags(index_order(var))):
                return False
        self.record_first_met(arr)
        t_col = self._direct_columns(arr)
        if t_col is None:
            return False
        groups = self._group_terms(arr)
        if groups is None:
            return False
        g_rows, g_cols, g_vals = groups
        _tv, t_row, _tp, t_coef = arr.arrays()[:4]
        bound = arr.bounds()
        per_row = np.bincount(t_row, minlength=n) + np.bincount(g_rows, minlength=n)
        kept = per_row > 0
        if not kept.all():
            # rows without terms: a constant row is dropped if it holds, else infeasible
            _check_constant_rows(comp, arr, bound, kept)
            ordinals = np.flatnonzero(kept)
            new_row = np.cumsum(kept) - 1
            t_r, g_r = new_row[t_row], new_row[g_rows]
            bound = bound[kept]
        else:
            ordinals = None
            t_r, g_r = t_row, g_rows
        self.flush()
        # direct terms first, then group terms: stable sorting by (column, row) later sums any
        # duplicate in the order its row lists it, as reading the row would
        self.chunks.append(
            (
                np.concatenate([t_r, g_r]) + self.flushed,
                np.concatenate([t_col, g_cols]),
                np.concatenate([t_coef, g_vals]),
            )
        )
        self.rhs_chunks.append(bound)
        self.rows.add_array(comp, ordinals, len(bound))
        self.flushed += len(bound)
        return True

    # ------------------------------------------------------------------ the matrix
    def result(self) -> LinearForm:
        """The CSC matrix (duplicates summed, zeros dropped, columns without a nonzero dropped)."""
        chunks, columns, segments = self.chunks, self.columns, self.segments
        n = len(columns)
        if chunks:
            r_idx = np.concatenate([c[0] for c in chunks])
            c_idx = np.concatenate([c[1] for c in chunks])
            v = np.concatenate([c[2] for c in chunks])
        else:
            r_idx = c_idx = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        chunks.clear()
        r_idx, c_idx, v = _csc_entries(r_idx, c_idx, v)
        c_dense = np.zeros(n)
        if self.obj_chunks:
            # unbuffered: a column met twice (energy and carbon) sums in term order
            np.add.at(
                c_dense,
                np.concatenate([c for c, _v in self.obj_chunks]),
                np.concatenate([v for _c, v in self.obj_chunks]),
            )
        counts = np.bincount(c_idx, minlength=n)
        active = (counts > 0) | (c_dense != 0.0)
        if not active.all():
            new = np.cumsum(active) - 1
            c_idx = new[c_idx]
            columns = [col for col, a in zip(columns, active, strict=True) if a]
            c_dense = c_dense[active]
            counts = counts[active]
            segments = [
                (int(new[s]), int(new[s]) + int(active[s:e].sum()), comp)
                for s, e, comp in segments
                if active[s:e].all()
            ]
        indptr = np.zeros(len(columns) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return LinearForm(
            columns,
            self.rows,
            np.concatenate(self.rhs_chunks) if self.rhs_chunks else np.zeros(0),
            c_dense,
            float(self.offset),
            indptr,
            r_idx,
            v,
            segments,
        )


def _fixed_flags(data: list[Any]) -> list[bool]:
    """``v.fixed`` of each variable; ``VarData.fixed`` is a property over the ``_fixed`` slot,
    read directly here (0.1 s at 500k)."""
    if data and data[0].__class__ is VarData:
        return list(map(_FIXED, data))
    return [v.fixed for v in data]


def _check_constant_rows(
    comp: ArrayConstraint, arr: ArrayRows, bound: np.ndarray, kept: np.ndarray
) -> None:
    """Rows of an array family left without terms must hold as numbers (else infeasible)."""
    sense = arr.sense
    for i in np.flatnonzero(~kept).tolist():
        b = float(bound[i])
        if not _constant_row_holds(b if sense <= 0 else None, 0.0, b if sense >= 0 else None):
            name = comp[arr.index[i]].name
            raise InfeasibleConstraintException(
                f"model contains a trivially infeasible constraint, '{name}'"
            )


def _csc_entries(
    r_idx: np.ndarray, c_idx: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries sorted by (column, row), duplicates summed and zeros dropped (as scipy's
    ``sum_duplicates``/``eliminate_zeros``); the sort is stable, so duplicates sum in row order."""
    if not len(v):
        return r_idx, c_idx, v
    # one int64 key (column · rows + row) sorted stably: the order of np.lexsort((r, c)) at
    # half its cost (XL: 4.6M entries)
    key = c_idx * (int(r_idx.max()) + 1) + r_idx
    order = np.argsort(key, kind="stable")
    key = key[order]
    r_idx, c_idx, v = r_idx[order], c_idx[order], v[order]
    first = np.ones(len(v), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    if not first.all():
        starts = np.flatnonzero(first)
        v = np.add.reduceat(v, starts)
        r_idx, c_idx = r_idx[starts], c_idx[starts]
    keep = v != 0.0
    if not keep.all():
        r_idx, c_idx, v = r_idx[keep], c_idx[keep], v[keep]
    return r_idx, c_idx, v
