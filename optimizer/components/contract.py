r"""The component contract: what each part of the model declares it adds, and the readers built on it.

Every module in ``optimizer/components`` is one part of the mathematics of DESIGN §5. It exposes two
things, and nothing outside the module has to be edited to learn about it:

``CONTRACT``
    a :class:`Contract` listing what ``add_to`` declares on the block:

    - ``variables``: one :class:`Family` per Pyomo ``Var`` (``v_build`` …), with the *names of its
      index positions* (``("k", "r", "v")``). Two names are years: ``v`` is the vintage or period of a
      decision (the year it is taken: build, deploy, fin), ``y`` the model year in which something
      operates. The stochastic form reads the stage of every variable from these names
      (:meth:`Family.stage_position`, DESIGN §5.2 v2): a variable with a ``y`` is first-stage by
      ``y`` (the year in which it acts: ``active[r,v,y]`` by y), otherwise by ``v``; a variable with
      no year must say ``first_stage=True`` (``fund[b]``) or ``False``.
    - ``expressions``: the public expressions other components and the results read, each a mapping
      index → :class:`~optimizer.linear.Lin` held on the block under ``name`` (``cap[k,r,y]``). ``over``
      names the ordered Set that gives the order in which readers list them (default: the mapping's).
    - ``sets``: the index Sets readers may iterate (``DEMAND``, ``ELECTRICITY_ROWS`` …).
    - ``constraints``: the constraint families (``c_gen_limit`` …), the names in the LP file; the
      snapshot test takes one LP snapshot per component from this list.
    - ``costs``: the objective categories (``objective.CATEGORIES``) the component charges.
    - ``units``: :class:`Scale` s, one per input column whose value enters the constraint matrix
      scaled by a fixed factor (``kW ÷ 1000``): the code applies ``scale.per`` and the input check on
      too-small coefficients (data_io) reads the same declaration.

``add_to(m, data)``
    declares exactly what ``CONTRACT`` lists (``optimizer.model.populate`` raises
    :class:`ContractError` on any undeclared or missing ``Var``, constraint family or expression).

Costs are declared *undiscounted*, per year (the way Switch registers per-period cost components and
discounts once): a component calls ``m.costs.annual(...)`` (a flow in each model year it is taken
for), ``m.costs.lump(...)`` (a payment in one year) or ``m.costs.annuity(...)`` (a capital annuity
paid in every year an asset is in service), and :class:`optimizer.model.Costs` applies ``DF_y`` /
``DP_y`` and $→$M in one place. Duals of rows of one model year are undone by
``optimizer.model.Costs.undiscount`` (the prices of results.py).

Readers: :func:`declared` (a declared component of a block by name), :func:`expression_items`,
:func:`variables` (every declared variable family of a block, in component order), :func:`contracts`.

Adding a variable, an expression or a constraint family is described step by step, with a worked
example, in ``docs/adding-a-constraint.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: index names that stand for a year: ``y`` a model year of operation, ``v`` a vintage / decision year
YEAR_NAMES = ("y", "v")


class ContractError(Exception):
    """A component declares on the model something its ``CONTRACT`` does not list (or vice versa)."""


@dataclass(frozen=True)
class Family:
    """A variable or expression family: its attribute name and the names of its index positions."""

    name: str
    index: tuple[str, ...]
    unit: str = ""
    doc: str = ""
    first_stage: bool | None = None  # only for a family with no year index (DESIGN §8: ``fund``)
    over: str | None = None  # expressions: the ordered Set that lists the index in reading order

    @property
    def year_position(self) -> int | None:
        """Position of the year that decides the stage: the operating year ``y``, else the vintage ``v``."""
        for name in YEAR_NAMES:
            if name in self.index:
                return self.index.index(name)
        return None

    def stage_position(self) -> int | None:
        """Like :attr:`year_position`, but ``None`` only for a family declared ``first_stage``.

        Raises :class:`ContractError` for a family without a year that does not say its stage.
        """
        pos = self.year_position
        if pos is None and self.first_stage is None:
            raise ContractError(
                f"{self.name}{list(self.index)} has no year index: declare first_stage=True/False"
            )
        return pos


@dataclass(frozen=True)
class Scale:
    """An input column that enters the matrix divided by ``per`` (``kW`` ÷ 1000 = MW)."""

    sheet: str
    column: str
    per: float
    meaning: str

    @property
    def factor(self) -> float:
        """What the model multiplies the input value by."""
        return 1.0 / self.per


@dataclass(frozen=True)
class Contract:
    """What one component declares on the model (module doc)."""

    name: str
    variables: tuple[Family, ...] = ()
    expressions: tuple[Family, ...] = ()
    sets: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    costs: tuple[str, ...] = ()
    units: tuple[Scale, ...] = field(default=())

    def __post_init__(self) -> None:
        for fam in self.variables:
            fam.stage_position()  # a variable without a year must state its stage

    def unit(self, sheet: str, column: str) -> Scale:
        """The declared scale of ``sheet.column`` (KeyError if this component declares none)."""
        for s in self.units:
            if (s.sheet, s.column) == (sheet, column):
                return s
        raise KeyError(f"{self.name} declares no unit scale for {sheet}.{column}")

    def names(self) -> set[str]:
        """Every attribute name this contract declares (variables, expressions, sets, constraints)."""
        return (
            {f.name for f in self.variables}
            | {f.name for f in self.expressions}
            | set(self.sets)
            | set(self.constraints)
        )


def contracts(block: Any) -> tuple[Contract, ...]:
    """The contracts of the components that built ``block`` (``optimizer.model.populate``)."""
    return block.contracts


def declared(block: Any, name: str) -> Any:
    """The component or expression mapping ``name`` of a block, which some contract must declare."""
    for c in contracts(block):
        if name in c.names():
            return getattr(block, name)
    raise ContractError(f"no component declares {name!r}")


def _family(block: Any, name: str) -> Family:
    for c in contracts(block):
        for fam in (*c.variables, *c.expressions):
            if fam.name == name:
                return fam
    raise ContractError(f"no component declares the variable or expression {name!r}")


def expression_items(block: Any, name: str) -> Iterator[tuple[Any, Any]]:
    """(index, Lin) of a declared expression, in the order of its ``over`` Set (else its own)."""
    fam = _family(block, name)
    mapping = getattr(block, name)
    if fam.over is None:
        yield from mapping.items()
        return
    for key in getattr(block, fam.over):
        if key in mapping:
            yield key, mapping[key]


def variables(block: Any) -> Iterable[tuple[Family, Any]]:
    """(declaration, Pyomo Var) of every declared variable family of ``block``, in component order."""
    for c in contracts(block):
        for fam in c.variables:
            comp = getattr(block, fam.name, None)
            if comp is not None:
                yield fam, comp
