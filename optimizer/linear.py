"""Linear-term accumulators, lazy linear rows, and the model's standard form.

Components append (coefficient, variable) pairs and constants to shared registries (:class:`Lin`),
and balances are built once from them with Pyomo's ``LinearExpression``, the cheapest way to build a
sum (0.5 µs a term against 2.8 µs for Python ``sum``; PERFORMANCE.md).

Constraint families are :class:`LinConstraint` s whose rules return ``Lin.le/eq/ge`` rows: each
row keeps its Lin and becomes a Pyomo expression only if something asks for it (the LP writer,
``con.body``). The largest families (generation, storage and the electricity balance: ~90% of the
rows at scale) are :class:`ArrayConstraint` s, built as arrays (:class:`ArrayRows`: terms as
(variable component, ordinal, coefficient) per row, plus shared Lins such as ``cap[k,r,y]``
repeated on many rows), with no Python object per row until one is asked for.
:func:`standard_form` reads both directly and gives ``solve.compile_model`` exactly the matrix
Pyomo's ``LinearStandardFormCompiler`` would (benchmarks/RESULTS.md; tests/test_linear.py).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any
from weakref import ref as weakref_ref

import numpy as np
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.gc_manager import PauseGC
from pyomo.common.numeric_types import native_numeric_types, value
from pyomo.core.base import Constraint, Objective, SortComponents, minimize
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.indexed_component import normalize_index
from pyomo.core.base.initializer import IndexedCallInitializer
from pyomo.core.base.set import Any as Any_set
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression, SumExpression
from pyomo.repn.plugins.standard_form import RowEntry

logger = logging.getLogger(__name__)
_FIXED = attrgetter("_fixed")


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


# ------------------------------------------------------------------------------ array-built rows
def _ints(a: Any, n: int | None = None) -> np.ndarray:
    """``a`` as an int64 array (a scalar is broadcast to ``n`` elements)."""
    arr = np.asarray(a, dtype=np.int64)
    return np.full(n, int(arr), dtype=np.int64) if arr.ndim == 0 and n is not None else arr


def _floats(a: Any, n: int) -> np.ndarray:
    """``a`` as a float64 array of ``n`` elements (a scalar is broadcast)."""
    arr = np.asarray(a, dtype=np.float64)
    return np.full(n, float(arr)) if arr.ndim == 0 else arr


def index_order(var: Any) -> list[Any]:
    """The data of a variable component in index order: element ``k`` is ordinal ``k``.

    That is the order :func:`standard_form` gives the component's columns (``record``), so the
    column of ordinal ``k`` is the component's first column plus ``k`` (when none is fixed).
    """
    return list(_in_index_order(var, SortComponents.ORDERED_INDICES))


def fill_ordered_set(s: Any, values: list[Any]) -> None:
    """Fill an empty, constructed, insertion-ordered Pyomo ``Set`` with ``values`` in one step.

    ``Set(initialize=values)`` normalises and checks the dimension of every element one by one
    (0.6 µs each: 0.2 s for the 345k generation indices of L); the values here are tuples of
    strings and numbers built by the caller, already what that check yields, so they are stored
    as ``Set._update_impl`` stores them (a dict of value → None). Anything else (a set that is
    not empty, not insertion-ordered, with a filter or a domain) goes through ``Set.update``.
    """
    store = getattr(s, "_values", None)
    if (
        store.__class__ is dict
        and not store
        and s.is_constructed()
        and s._filter is None
        and s._validate is None
        and s._domain is Any_set
        and normalize_index.flatten
        and values
        and values[0].__class__ is tuple
        and len(values[0]) == s.dimen
    ):
        s._values = dict.fromkeys(values)
        s._ordered_values = None
        if len(s._values) != len(values):
            raise ValueError(f"{s.name}: duplicate elements")
        return
    s.update(values)


class ArrayRows:
    r"""The rows of one constraint family held as arrays, as linear-algebra modellers hold them.

    Row ``i`` (index ``index[i]``) is

    .. math::

        \sum_{t:\,row_t = i} coef_t \, x^{(var_t)}_{pos_t}
        \;+\; \sum_{g:\,grow_g = i} factor_g \cdot L_{lin_g}
        \quad (\le, =, \ge) \quad rhs_i

    where ``x^{(c)}_k`` is the element of ordinal ``k`` (index order) of the variable component
    ``vars[c]`` ("direct" terms), and ``L_j = const_j + \sum coefs_j \cdot vars_j`` is a shared
    :class:`Lin` ("group" terms: a capacity expression ``cap[k,r,y]`` that recurs on every slice
    row, the flat load ``load[r,y]``). As a :class:`Row` with ``drop_const=True``: the body has no
    constant, and the groups' constants move to the right-hand side,
    ``bound_i = rhs_i − Σ_g factor_g · const_{lin_g}`` (``−Σ…`` when ``rhs`` is ``None``, as a
    rule's ``e.le(-e.const, drop_const=True)`` gives).

    Term order inside a row is the order a rule would have added them: direct terms in the order
    of their arrays (blocks in the order added), then group terms in order. Zero coefficients and
    zero factors are dropped when added, as :meth:`Lin.add` and :meth:`Lin.add_lin` drop them.
    """

    def __init__(self, index: list[Any], sense: int, rhs: Any = None) -> None:
        self.index = index
        self.sense = sense
        self.rhs = None if rhs is None else _floats(rhs, len(index))
        self.vars: list[Any] = []
        self._var_pos: dict[int, int] = {}
        self._t: list[tuple[np.ndarray, ...]] = []  # blocks of (var, row, pos, coef)
        self.lins: list[Lin] = []
        self._lin_pos: dict[int, int] = {}
        self._g: list[tuple[np.ndarray, ...]] = []  # blocks of (row, lin, factor)
        self._frozen: tuple[np.ndarray, ...] | None = None
        self._csr: tuple[np.ndarray, ...] | None = None
        self._var_data: dict[int, list[Any]] = {}

    def __len__(self) -> int:
        return len(self.index)

    def _var_id(self, var: Any) -> int:
        c = self._var_pos.get(id(var))
        if c is None:
            if var.is_indexed() and len(var) != len(var.index_set()):
                raise ValueError(
                    f"{var.name}: array rows need a dense variable (ordinal = position)"
                )
            c = self._var_pos[id(var)] = len(self.vars)
            self.vars.append(var)
        return c

    def add_terms(self, var: Any, row: Any, pos: Any, coef: Any = 1.0, which: Any = None) -> None:
        """Append direct terms ``coef · var[pos]`` to rows ``row`` (a block of terms).

        ``var`` is a variable component, or a list of them with ``which`` (per term) choosing one:
        that interleaves several components in one block (``dis, ch, dis, ch…`` on one row).
        """
        row = _ints(row)
        n = len(row)
        pos = _ints(pos, n)
        coef = _floats(coef, n)
        if isinstance(var, list):
            ids = np.array([self._var_id(v) for v in var], dtype=np.int64)
            vid = ids[_ints(which, n)]
        else:
            vid = np.full(n, self._var_id(var), dtype=np.int64)
        keep = coef != 0.0
        if not keep.all():
            vid, row, pos, coef = vid[keep], row[keep], pos[keep], coef[keep]
        self._t.append((vid, row, pos, coef))
        self._frozen = self._csr = None

    def add_group(self, lins: list[Lin], row: Any, which: Any, factor: Any = 1.0) -> None:
        """Append group terms ``factor · lins[which]`` to rows ``row`` (each a whole :class:`Lin`)."""
        ids = []
        for lin in lins:
            j = self._lin_pos.get(id(lin))
            if j is None:
                j = self._lin_pos[id(lin)] = len(self.lins)
                self.lins.append(lin)
            ids.append(j)
        row = _ints(row)
        n = len(row)
        lin = np.asarray(ids, dtype=np.int64)[_ints(which, n)] if n else np.zeros(0, np.int64)
        factor = _floats(factor, n)
        keep = factor != 0.0
        if not keep.all():
            row, lin, factor = row[keep], lin[keep], factor[keep]
        self._g.append((row, lin, factor))
        self._frozen = self._csr = None

    def arrays(self) -> tuple[np.ndarray, ...]:
        """All blocks concatenated: ``(t_var, t_row, t_pos, t_coef, g_row, g_lin, g_factor)``."""
        if self._frozen is None:
            t = [np.concatenate(a) if a else np.zeros(0) for a in zip(*self._t, strict=True)]
            if not self._t:
                t = [np.zeros(0, np.int64)] * 3 + [np.zeros(0)]
            g = [np.concatenate(a) for a in zip(*self._g, strict=True)]
            if not self._g:
                g = [np.zeros(0, np.int64)] * 2 + [np.zeros(0)]
            self._frozen = (*t, *g)
        return self._frozen

    def bounds(self) -> np.ndarray:
        """``bound_i``: ``rhs_i`` minus the groups' constants, summed in term order (as Lin does)."""
        _tv, _tr, _tp, _tc, g_row, g_lin, g_factor = self.arrays()
        n = len(self.index)
        if len(g_row):
            lc = np.array([lin.const for lin in self.lins], dtype=np.float64)
            # bincount adds in array order from 0.0: the same sums as Lin's `const += f * c`
            const = np.bincount(g_row, weights=g_factor * lc[g_lin], minlength=n)
        else:
            const = np.zeros(n)
        return -const if self.rhs is None else self.rhs - const

    def _row_terms(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions (in :meth:`arrays`) of row ``i``'s direct and group terms, in row order."""
        if self._csr is None:
            t_var, t_row, _tp, _tc, g_row, _gl, _gf = self.arrays()
            n = len(self.index)
            t_order = np.argsort(t_row, kind="stable")
            g_order = np.argsort(g_row, kind="stable")
            t_ptr = np.searchsorted(t_row[t_order], np.arange(n + 1))
            g_ptr = np.searchsorted(g_row[g_order], np.arange(n + 1))
            self._csr = (t_order, t_ptr, g_order, g_ptr)
        t_order, t_ptr, g_order, g_ptr = self._csr
        return t_order[t_ptr[i] : t_ptr[i + 1]], g_order[g_ptr[i] : g_ptr[i + 1]]

    def lin(self, i: int, groups: bool = True) -> Lin:
        """Row ``i``'s body as the :class:`Lin` its rule would have built (direct terms, then groups)."""
        t_var, _tr, t_pos, t_coef, _gr, g_lin, g_factor = self.arrays()
        ts, gs = self._row_terms(i)
        e = Lin()
        for c, k, coef in zip(
            t_var[ts].tolist(), t_pos[ts].tolist(), t_coef[ts].tolist(), strict=True
        ):
            data = self._var_data.get(c)
            if data is None:
                data = self._var_data[c] = index_order(self.vars[c])
            e.add(coef, data[k])
        if groups:
            for j, f in zip(g_lin[gs].tolist(), g_factor[gs].tolist(), strict=True):
                e.add_lin(self.lins[j], f)
        return e

    def row(self, i: int) -> Row:
        """Row ``i`` as the :class:`Row` its rule would have returned."""
        e = self.lin(i)
        bound = -e.const if self.rhs is None else float(self.rhs[i]) - e.const
        return Row(self.sense, e, True, bound)


class ArrayConstraintData(LinConstraintData):
    """One row of an :class:`ArrayConstraint`: ``_expr`` is its ordinal until someone asks for the
    expression; then it becomes an ordinary ``ConstraintData`` with exactly the expression the
    family's rule would have built (:meth:`ArrayRows.row`)."""

    __slots__ = ()

    def _materialize(self) -> None:
        i = self._expr
        rows = self.parent_component()._rows
        self.__class__ = ConstraintData
        ConstraintData.set_value(self, rows.row(i).expression())


class ArrayConstraint(IndexedConstraint):
    """An indexed ``Constraint`` whose rows are an :class:`ArrayRows` (built with numpy, not a rule).

    ``m.c_x = ArrayConstraint(m.X, rows=ArrayRows(index, LE))`` with ``index`` ⊆ ``m.X`` (indices
    left out have no row, as a rule's ``Constraint.Skip``). :func:`standard_form` reads the arrays
    directly. Row objects are created only when something looks at the component as a Pyomo
    component (``m.c_x[i]``, ``in``, iteration, the LP writer): then all of them at once, in index
    order, each materialising its expression on first use (:class:`ArrayConstraintData`).
    """

    _ComponentDataClass = ArrayConstraintData

    def __init__(self, *args: Any, rows: ArrayRows, **kwds: Any) -> None:
        self._rows = rows
        self._filled = False
        self._ordinals: dict[Any, int] | None = None
        super().__init__(*args, **kwds)

    def construct(self, data: Any = None) -> None:
        """Nothing to call: the rows are already arrays (row objects come on demand)."""
        if self._constructed:
            return
        self._constructed = True
        if self._anonymous_sets is not None:
            for s in self._anonymous_sets:
                s.construct()

    def _fill(self) -> None:
        """Create every row object (lazy expressions), in index order; about 0.5 µs a row."""
        if self._filled:
            return
        self._filled = True
        ref = weakref_ref(self)
        store = self._data
        new = ArrayConstraintData.__new__
        cls = ArrayConstraintData
        for i, index in enumerate(self._rows.index):
            if index in store:  # never, unless set by hand before anything was read
                continue
            con = new(cls)
            con._component = ref
            con._active = True
            con._index = index
            con._expr = i
            store[index] = con

    def ordinal(self, index: Any) -> int | None:
        """The position of row ``index`` in :attr:`ArrayRows.index` (None: no such row)."""
        if self._ordinals is None:
            self._ordinals = {idx: i for i, idx in enumerate(self._rows.index)}
        return self._ordinals.get(index)

    def arrays_intact(self) -> bool:
        """True when the arrays still describe the rows: no row object yet, or every one still
        lazy and active (none replaced, deactivated or given another expression)."""
        if not self._filled:
            return True
        data = self._data
        return (
            len(data) == len(self._rows.index)
            and {c.__class__ for c in data.values()} == {ArrayConstraintData}
            and all(c._active for c in data.values())
        )

    # Every generic access first creates the row objects, then is Pyomo's own.
    def __len__(self) -> int:
        return len(self._rows.index) if not self._filled else super().__len__()

    def __contains__(self, idx: Any) -> bool:
        self._fill()
        return super().__contains__(idx)

    def __getitem__(self, index: Any) -> Any:
        self._fill()
        return super().__getitem__(index)

    def __setitem__(self, index: Any, val: Any) -> None:
        self._fill()
        super().__setitem__(index, val)

    def __delitem__(self, index: Any) -> None:
        self._fill()
        super().__delitem__(index)

    def keys(self, *args: Any, **kwds: Any) -> Any:
        """As ``IndexedComponent.keys`` (after creating the row objects)."""
        self._fill()
        return super().keys(*args, **kwds)

    def values(self, *args: Any, **kwds: Any) -> Any:
        """As ``IndexedComponent.values`` (after creating the row objects)."""
        self._fill()
        return super().values(*args, **kwds)

    def items(self, *args: Any, **kwds: Any) -> Any:
        """As ``IndexedComponent.items`` (after creating the row objects)."""
        self._fill()
        return super().items(*args, **kwds)

    def clear(self) -> None:
        """Remove every row (the arrays too)."""
        self._filled = True
        super().clear()

    def _create_objects_for_deepcopy(self, memo: Any, component_list: Any) -> Any:
        self._fill()
        return super()._create_objects_for_deepcopy(memo, component_list)

    def _pprint(self) -> Any:
        self._fill()
        return super()._pprint()


class InjectionView(Mapping):
    """A read-only ``key → Lin`` view of the direct terms of an :class:`ArrayRows` (one key a row).

    What a registry of :class:`Lin` s filled term by term would hold, built only for the rows
    asked for (the electricity injections ``m.reg.injection[r,y,h]`` of the balance rows); rows
    without direct terms are absent, as they would be from the registry.
    """

    def __init__(self, rows: ArrayRows, extra: dict[Any, Lin] | None = None) -> None:
        self._rows = rows
        self._extra = extra or {}
        self._pos: dict[Any, int] | None = None
        self._cache: dict[Any, Lin] = {}

    def _positions(self) -> dict[Any, int]:
        if self._pos is None:
            t_row = self._rows.arrays()[1]
            has = np.zeros(len(self._rows.index), dtype=bool)
            has[t_row] = True
            idx = self._rows.index
            self._pos = {idx[i]: i for i in np.flatnonzero(has).tolist()}
            for k in self._extra:
                self._pos.setdefault(k, -1)
        return self._pos

    def __getitem__(self, key: Any) -> Lin:
        got = self._cache.get(key)
        if got is not None:
            return got
        i = self._positions()[key]  # KeyError when absent
        lin = self._rows.lin(i, groups=False) if i >= 0 else Lin()
        extra = self._extra.get(key)
        if extra is not None:
            lin.add_lin(extra)
        self._cache[key] = lin
        return lin

    def __iter__(self) -> Iterator[Any]:
        return iter(self._positions())

    def __len__(self) -> int:
        return len(self._positions())


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


def lin_registry() -> defaultdict:
    """A dict that creates an empty :class:`Lin` on first access."""
    return defaultdict(Lin)


# ------------------------------------------------------------------------------ standard form
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
    sorter = SortComponents.ORDERED_INDICES  # the compiler's default (FileDeterminism.ORDERED)
    col_of: dict[int, int] = {}
    columns: list[Any] = []
    # variable component id → column of each ordinal (-1: fixed, no column); (first, end, component)
    # of each whole component recorded without a fixed element (its columns are first..end-1)
    comp_cols: dict[int, np.ndarray] = {}
    segments: list[tuple[int, int, Any]] = []

    def record(var: Any) -> None:
        comp = var.parent_component()
        data = list(_in_index_order(comp, sorter))
        start = len(columns)
        # VarData.fixed is a property over the `_fixed` slot: read the slot (0.1 s at 500k)
        fixed = list(map(_FIXED, data)) if data and data[0].__class__ is VarData else None
        if fixed is None:
            fixed = [v.fixed for v in data]
        if not any(fixed):
            # a whole component at once: its columns are contiguous and in index order
            columns.extend(data)
            col_of.update(zip(map(id, data), range(start, start + len(data)), strict=True))
            comp_cols[id(comp)] = np.arange(start, start + len(data), dtype=np.int64)
            segments.append((start, len(columns), comp))
            return
        cols_k = np.full(len(data), -1, dtype=np.int64)
        for k, v in enumerate(data):
            if not fixed[k]:
                cols_k[k] = col_of[id(v)] = len(columns)
                columns.append(v)
        comp_cols[id(comp)] = cols_k

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
        tvars = [t._args_[1] for t in args]
        row = list(map(col_get, map(id, tvars)))
        if set(map(type, coefs)) - native:
            return slow_terms(expr.args, cols, vals)
        if None in row:
            # new variable components, recorded in the order the terms meet them (as the slow
            # path would); a fixed variable is folded into the constant by the slow path
            for v, j in zip(tvars, row, strict=True):
                if j is None and col_get(id(v)) is None:
                    if v.fixed:
                        return slow_terms(expr.args, cols, vals)
                    record(v)
            row = list(map(col_get, map(id, tvars)))
        cols += row
        vals += coefs
        return const

    objectives = list(model.component_data_objects(Objective, active=True, sort=sorter))
    if len(objectives) != 1 or objectives[0].sense != minimize:
        raise _NotSimple
    obj_cols: list[int] = []
    obj_vals: list[float] = []
    offset = terms(objectives[0].expr, obj_cols, obj_vals)

    rows = RowMap()
    # Rows read one by one go to the Python lists below; array-built components and each flush
    # of the lists go to `chunks` (rows, columns, values) and `rhs_chunks`, in row order.
    rhs: list[float] = []
    row_ptr = [0]
    cols: list[int] = []
    vals: list[float] = []
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    rhs_chunks: list[np.ndarray] = []
    flushed = 0  # rows already in chunks

    def flush() -> None:
        nonlocal flushed
        n = len(row_ptr) - 1
        if not n:
            return
        r = np.repeat(
            np.arange(flushed, flushed + n, dtype=np.int64),
            np.diff(np.asarray(row_ptr, dtype=np.int64)),
        )
        try:
            v = np.asarray(vals, dtype=np.float64)
        except (TypeError, ValueError) as exc:  # a Pyomo object as a coefficient of a Lin
            raise _NotSimple from exc
        chunks.append((r, np.asarray(cols, dtype=np.int64), v))
        rhs_chunks.append(np.asarray(rhs, dtype=np.float64))
        flushed += n
        cols.clear()
        vals.clear()
        rhs.clear()
        row_ptr[:] = [0]

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

    def record_first_met(arr: ArrayRows) -> None:
        """Record the row family's new variable components in the order row-by-row reading
        would meet them: by row, then by place in the row (direct terms in array order, then
        the groups' terms)."""
        t_var, t_row, t_pos, _tc, g_row, g_lin, _gf = arr.arrays()
        found: list[tuple[int, int, int, Any]] = []  # (row, place class, place, a VarData)
        for c, var in enumerate(arr.vars):
            if id(var) in comp_cols:
                continue
            where = np.flatnonzero(t_var == c)
            if not len(where):
                continue
            r0 = t_row[where].min()
            j = int(where[t_row[where] == r0][0])
            found.append((int(r0), 0, j, index_order(var)[int(t_pos[j])]))
        lin_new = [
            any(col_get(id(v)) is None and not v.fixed for v in lin.vars) for lin in arr.lins
        ]
        if any(lin_new):
            seen: set[int] = set()
            for e in np.argsort(g_row, kind="stable").tolist():
                lin = arr.lins[g_lin[e]]
                if not lin_new[g_lin[e]]:
                    continue
                for p, v in enumerate(lin.vars):
                    comp = v.parent_component()
                    if col_get(id(v)) is None and not v.fixed and id(comp) not in seen:
                        seen.add(id(comp))
                        found.append((int(g_row[e]), 1, e * 10**6 + p, v))
        for *_key, v in sorted(found, key=lambda f: f[:3]):
            if col_get(id(v)) is None:
                record(v)

    def array_rows(comp: ArrayConstraint) -> bool:
        """A whole :class:`ArrayConstraint` as arrays; False (read row by row) if a term is fixed."""
        nonlocal flushed
        arr = comp._rows
        n = len(arr.index)
        t_var, t_row, t_pos, t_coef, g_row, g_lin, g_factor = arr.arrays()
        for var in arr.vars:
            # a fixed element is folded into the right-hand side: row by row, which also meets
            # (and records) the components in its own way around fixed elements
            if id(var) not in comp_cols and any(v.fixed for v in index_order(var)):
                return False
        record_first_met(arr)
        # direct terms: column = the component's column of that ordinal
        t_col = np.empty(len(t_var), dtype=np.int64)
        for c, var in enumerate(arr.vars):
            sel = t_var == c
            cc = comp_cols.get(id(var))
            if cc is None:  # every element fixed (or an empty component)
                cc = np.full(max(len(var), 1), -1, dtype=np.int64)
            t_col[sel] = cc[t_pos[sel]]
        if len(t_col) and t_col.min() < 0:
            return False
        # group terms: each shared Lin resolved to columns once, then repeated on its rows
        lens = np.array([len(lin.vars) for lin in arr.lins], dtype=np.int64)
        lin_cols = list(map(col_get, map(id, chain.from_iterable(lin.vars for lin in arr.lins))))
        if None in lin_cols:
            return False  # a fixed variable in a group: row by row folds it
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
        g_cols = lin_cols_a[offs]
        g_vals = np.repeat(g_factor, cnt) * lin_coefs[offs]
        bound = arr.bounds()
        per_row = np.bincount(t_row, minlength=n) + np.bincount(g_rows, minlength=n)
        kept = per_row > 0
        if not kept.all():
            # rows without terms: a constant row is dropped if it holds, else infeasible
            sense = arr.sense
            for i in np.flatnonzero(~kept).tolist():
                b = float(bound[i])
                if not _constant_row_holds(
                    b if sense <= 0 else None, 0.0, b if sense >= 0 else None
                ):
                    name = comp[arr.index[i]].name
                    raise InfeasibleConstraintException(
                        f"model contains a trivially infeasible constraint, '{name}'"
                    )
            ordinals = np.flatnonzero(kept)
            new_row = np.cumsum(kept) - 1
            t_r, g_r = new_row[t_row], new_row[g_rows]
            bound = bound[kept]
        else:
            ordinals = None
            t_r, g_r = t_row, g_rows
        flush()
        # direct terms first, then group terms: stable sorting by (column, row) later sums any
        # duplicate in the order its row lists it, as reading the row would
        chunks.append(
            (
                np.concatenate([t_r, g_r]) + flushed,
                np.concatenate([t_col, g_cols]),
                np.concatenate([t_coef, g_vals]),
            )
        )
        rhs_chunks.append(bound)
        rows.add_array(comp, ordinals, len(bound))
        flushed += len(bound)
        return True

    for cons in _constraint_data(model, sorter):
        if isinstance(cons, ArrayConstraint):
            if array_rows(cons):
                continue
            cons._fill()
            cons = [con for con in cons.values(sorter) if con._active]
        if lazy_rows(cons):
            continue
        for con in cons:
            add_row(con)
    flush()

    n = len(columns)
    if chunks:
        r_idx = np.concatenate([c[0] for c in chunks])
        c_idx = np.concatenate([c[1] for c in chunks])
        v = np.concatenate([c[2] for c in chunks])
    else:
        r_idx = c_idx = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    chunks.clear()
    # CSC, duplicates summed and zeros dropped (as scipy's sum_duplicates/eliminate_zeros)
    order = np.lexsort((r_idx, c_idx))
    r_idx, c_idx, v = r_idx[order], c_idx[order], v[order]
    if len(v):
        first = np.ones(len(v), dtype=bool)
        first[1:] = (r_idx[1:] != r_idx[:-1]) | (c_idx[1:] != c_idx[:-1])
        if not first.all():
            starts = np.flatnonzero(first)
            v = np.add.reduceat(v, starts)
            r_idx, c_idx = r_idx[starts], c_idx[starts]
        keep = v != 0.0
        if not keep.all():
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
        segments = [
            (int(new[s]), int(new[s]) + int(active[s:e].sum()), comp)
            for s, e, comp in segments
            if active[s:e].all()
        ]
    indptr = np.zeros(len(columns) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return LinearForm(
        columns,
        rows,
        np.concatenate(rhs_chunks) if rhs_chunks else np.zeros(0),
        c_dense,
        float(offset),
        indptr,
        r_idx,
        v,
        segments,
    )
