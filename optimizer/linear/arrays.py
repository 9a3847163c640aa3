"""Array-built rows: constraint families held as numpy arrays (:class:`ArrayRows`,
:class:`ArrayConstraint`), with no Python object per row until one is asked for.

The largest families (generation, storage and the electricity balance: ~90% of the rows at scale)
are built this way: terms as (variable component, ordinal, coefficient) per row, plus shared Lins
such as ``cap[k,r,y]`` repeated on many rows. :class:`InjectionView` shows such rows as the
``key → Lin`` registry they replace. The hand-off (:mod:`optimizer.linear.handoff`) reads the
arrays directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from weakref import ref as weakref_ref

import numpy as np
from pyomo.core.base import SortComponents
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.indexed_component import normalize_index
from pyomo.core.base.set import Any as Any_set

from optimizer.linear.terms import Lin, LinConstraintData, Row


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


def _in_index_order(comp: Any, sorter: Any) -> Any:
    """The component's data in index order, read straight from its dict when that is the order.

    A dense component's data are stored as its index set is iterated (0.1 µs an element to
    check) instead of looked up index by index (about 2 µs: 1 s for 500k elements).
    """
    data = getattr(comp, "_data", None)
    if data is not None and comp.is_indexed() and list(data) == list(comp.index_set()):
        return data.values()
    return comp.values(sorter)
