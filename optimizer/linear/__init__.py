"""Linear-term accumulators, lazy linear rows, and the model's standard form, in three modules:
:mod:`~optimizer.linear.terms` (term algebra and lazy rows), :mod:`~optimizer.linear.arrays`
(array-built rows) and :mod:`~optimizer.linear.handoff` (the standard form for HiGHS).

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
The objective is a :class:`LinObjective`, read from its Lin; stretches of a Lin that are elements
of one variable component (``Lin.runs``: the energy and carbon costs) are mapped to columns as
arrays (issue 20).
"""

from optimizer.linear.arrays import (
    ArrayConstraint,
    ArrayConstraintData,
    ArrayRows,
    InjectionView,
    fill_ordered_set,
    index_order,
)
from optimizer.linear.handoff import (
    CONSTANT_ROW_TOL,
    LinearForm,
    RowMap,
    standard_form,
)
from optimizer.linear.terms import (
    EQ,
    GE,
    LE,
    Lin,
    LinConstraint,
    LinConstraintData,
    LinObjective,
    Row,
    lin_registry,
)

__all__ = [
    "CONSTANT_ROW_TOL",
    "EQ",
    "GE",
    "LE",
    "ArrayConstraint",
    "ArrayConstraintData",
    "ArrayRows",
    "InjectionView",
    "Lin",
    "LinConstraint",
    "LinConstraintData",
    "LinObjective",
    "LinearForm",
    "Row",
    "RowMap",
    "fill_ordered_set",
    "index_order",
    "lin_registry",
    "standard_form",
]
