"""Term algebra and lazy rows: :class:`Lin` (a linear expression under construction), :class:`Row`
(a row kept as its Lin), and :class:`LinConstraint` (a constraint family whose rule returns Rows).

Components append (coefficient, variable) pairs and constants to shared registries of :class:`Lin`
(:func:`lin_registry`), and balances are built once from them with Pyomo's ``LinearExpression``,
the cheapest way to build a sum (0.5 µs a term against 2.8 µs for Python ``sum``; PERFORMANCE.md).
A :class:`LinConstraint` row keeps its Lin and becomes a Pyomo expression only if something asks
for it (the LP writer, ``con.body``); the hand-off (:mod:`optimizer.linear.handoff`) reads the Lin.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any
from weakref import ref as weakref_ref

from pyomo.core.base import Constraint, minimize
from pyomo.core.base.constraint import ConstraintData, IndexedConstraint
from pyomo.core.base.initializer import IndexedCallInitializer
from pyomo.core.base.objective import ObjectiveData, ScalarObjective
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

logger = logging.getLogger(__name__)


class Lin:
    """A linear expression under construction: ``const + Σ coefs[i]·vars[i]``.

    ``runs`` remembers where whole stretches of terms are elements of one variable component
    (added by :meth:`add_elements`, carried along by :meth:`add_lin`): ``(start, end, component,
    ordinals)`` says ``vars[start:end]`` are the component's elements of those ordinals (index
    order, :func:`~optimizer.linear.arrays.index_order`). The hand-off maps such a stretch to
    columns with one numpy gather instead of one dictionary lookup per term (the 1M-term
    objective of XL). ``None`` when there is none.
    """

    __slots__ = ("const", "coefs", "vars", "runs")

    def __init__(self, const: float = 0.0) -> None:
        self.const = const
        self.coefs: list[float] = []
        self.vars: list[Any] = []
        self.runs: list[tuple[int, int, Any, Any]] | None = None

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
        if other.runs:
            off = len(self.vars)
            shifted = [(s + off, e + off, comp, o) for s, e, comp, o in other.runs]
            self.runs = shifted if self.runs is None else self.runs + shifted
        self.vars.extend(other.vars)
        return self

    def add_elements(self, comp: Any, data: list[Any], ordinals: Any, coefs: Any) -> Lin:
        """Append ``coefs[k] · data[ordinals[k]]`` for every k, zero coefficients dropped (as
        :meth:`add`), and remember the stretch as a run (class doc).

        ``data`` is ``index_order(comp)``: the component's elements, element ``k`` of ordinal ``k``;
        ``ordinals`` and ``coefs`` are numpy arrays of one length.
        """
        keep = coefs != 0.0
        if not keep.all():
            ordinals, coefs = ordinals[keep], coefs[keep]
        if not len(ordinals):
            return self
        start = len(self.vars)
        self.coefs.extend(coefs.tolist())
        self.vars.extend([data[k] for k in ordinals.tolist()])
        run = (start, len(self.vars), comp, ordinals)
        self.runs = [run] if self.runs is None else [*self.runs, run]
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


_OBJ_ARGS = ObjectiveData._args_  # the slot ObjectiveData keeps its expression in


class LinObjective(ScalarObjective):
    """A minimised objective held as a :class:`Lin` until something asks for its expression.

    ``m.objective = LinObjective(total, doc=...)``. The planner's objective sums every cost term
    (1M at XL): its ``LinearExpression`` is one ``MonomialTermExpression`` and one tuple per term,
    built for nothing when the model only goes to HiGHS (measured at XL: 0.26 s of build and a
    third of the objects the garbage collector then walks). Every reader of a Pyomo objective
    goes through the ``_args_`` slot (``expr``, ``args``, ``value()``, the LP writer); here it
    builds ``lin.expr()`` on first use, exactly the expression ``Objective(expr=lin.expr())``
    holds (as Pyomo's templatized objectives do). Setting an expression replaces the Lin. The
    hand-off reads :meth:`pending_lin` (or the Lin its expression came from, :attr:`lin_source`)
    without building anything. The Lin must not change after it is given.
    """

    def __init__(self, lin: Lin, **kwd: Any) -> None:
        self._lin = lin
        self.lin_source: tuple[Any, Lin] | None = None
        self._pending: Lin | None = None
        kwd.setdefault("sense", minimize)
        super().__init__(expr=0.0, **kwd)

    def construct(self, data: Any = None) -> None:
        """Construct with a placeholder, then hold the Lin in its place."""
        if self._constructed:
            return
        super().construct(data)
        self._pending = self._lin

    @property
    def _args_(self) -> tuple[Any, ...]:
        lin = self.__dict__.get("_pending")
        if lin is not None:
            self._pending = None
            expr = lin.expr()
            _OBJ_ARGS.__set__(self, (expr,))
            self.lin_source = (expr, lin)
        return _OBJ_ARGS.__get__(self)

    @_args_.setter
    def _args_(self, value: tuple[Any, ...]) -> None:
        self.__dict__["_pending"] = None
        _OBJ_ARGS.__set__(self, value)

    def pending_lin(self) -> Lin | None:
        """The Lin while no expression has been built from it (else None)."""
        return self.__dict__.get("_pending")
