"""``build_model(data)``: the Pyomo model of DESIGN §5, read top to bottom like its table of contents.

Sets and derived constants are declared here; each part of the mathematics is one component in
``optimizer/components`` (listed in :data:`COMPONENTS`, in build order) with one ``add_to(m, data)``
and a declared ``CONTRACT`` (:mod:`optimizer.components.contract`). Components append linear terms
to the shared registries on ``m.reg`` (electricity injections and loads, commodity supply and use),
and charge their costs undiscounted through ``m.costs`` (:class:`Costs`, which applies ``DF_y``,
``DP_y`` and $→$M here, once). :func:`populate` checks that each component declared on the model
exactly what its contract lists.

Other forms of the model (the stochastic extensive form of §8) are studies built *on* this module:
they register themselves with :func:`register_form` and :func:`build_model` dispatches to them by
``bet_mode``, so this module imports none of them (``optimizer/__init__.py`` imports
:mod:`optimizer.stochastic`, which registers ``stochastic``; the four public calls keep working).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from optimizer.components import (
    bets,
    capacity,
    chips,
    compute,
    finance,
    firm,
    objective,
    policy,
    power,
)
from optimizer.components.contract import Contract, ContractError
from optimizer.data_io import InputData
from optimizer.linear import Lin, index_order, lin_registry

#: the components in build order (each reads what the ones before it declared)
COMPONENTS: tuple[ModuleType, ...] = (
    capacity,  # build, modules, capacity, limits (10)
    compute,  # accelerators, data centers, compute, demand, sovereignty (4-7)
    chips,  # fabs and the chip chain (8-9)
    power,  # generation, grid, storage, electricity balance (1-3)
    firm,  # firm capacity over the peak (15, v2)
    policy,  # emissions and clean share (13-14)
    finance,  # capital from partners and the market (11)
    bets,  # R&D bets (12)
    objective,  # net present cost
)


class ModelError(Exception):
    """The model cannot be built from these inputs (e.g. a mode not available yet)."""


def crf(i: float, life: float) -> float:
    """Capital recovery factor ``CRF(i, L) = i(1+i)^L / ((1+i)^L − 1)``, and ``1/L`` when i = 0."""
    if i == 0:
        return 1.0 / life
    g = (1.0 + i) ** life
    return i * g / (g - 1.0)


@dataclass
class Derived:
    """Constants derived once from the data (DESIGN §5 "Derived constants")."""

    years: list[int]
    y0: int
    length: dict[int, int]
    df: dict[int, float]  # DF_y: annual flows of period y, discounted
    dp: dict[int, float]  # DP_y: a lump sum in year y
    acc_life: dict[int, float]
    bet_mode: str
    unit: float = 1.0  # chips, fab output and compute are modelled in units of `unit` (see derive)
    fab_techs: frozenset[str] = frozenset()
    outcome: dict[str, bool] = field(default_factory=dict)  # bet → succeeds in this model
    fund_free: bool = (
        False  # a failed bet may still be funded (outcome copies of the stochastic form)
    )
    infeasible: list[str] = field(default_factory=list)  # constant-only constraints found violated

    def cap_unit(self, k: str) -> float:
        """Model units per user unit of capacity: fabs count output in ``unit``s, the rest as given."""
        return self.unit if k in self.fab_techs else 1.0

    def online(self, lead: float, life: float, v: int, y: int) -> bool:
        """``online(k,v,y) ⇔ v + lead ≤ y < v + lead + life``."""
        return v + lead <= y < v + lead + life

    def alive(self, v: int, y: int) -> bool:
        """``alive(v,y) ⇔ v ≤ y < v + life_acc(v)``."""
        return v <= y < v + self.acc_life[v]

    def annuity(self, i: float, life: float, lead: float, v: int) -> float:
        """``AF = CRF(i, life) · Σ_{y: online(k,v,y)} DF_y`` for a dollar of capital."""
        return crf(i, life) * sum(self.df[y] for y in self.years if self.online(lead, life, v, y))

    def acc_annuity(self, i: float, v: int) -> float:
        """Annuity factor of accelerator capital of vintage v (life_acc(v), alive(v,y))."""
        return crf(i, self.acc_life[v]) * sum(self.df[y] for y in self.years if self.alive(v, y))


def model_unit(data: InputData) -> float:
    """The model unit of chips, fab output and compute for ``data`` (see :func:`derive`)."""
    peak = max(data.demand.values(), default=0.0)
    return 10.0 ** max(0, math.floor(math.log10(peak)) - 3) if peak > 0 else 1.0


def derive(
    data: InputData,
    bet_mode: str | None = None,
    outcome: dict[str, bool] | None = None,
    unit: float | None = None,
) -> Derived:
    """Discount factors, period lengths, lives, units and bet outcomes used by every component.

    ``outcome`` (bet → succeeds) describes one outcome copy of the stochastic form (§8); without it
    every bet succeeds (``succeed``) or fails (``fail``) as ``bet_mode`` says. ``unit`` overrides
    the model unit of ``data`` (:func:`model_unit`): the copies of a stochastic form share one, so
    that a first-stage variable tied across copies counts the same chips in each.
    """
    s = data.settings
    years = list(data.years)
    d, y0 = s.discount_rate, s.base_year
    length = dict(data.period_length)
    df = {y: sum((1 + d) ** -(y + t - y0) for t in range(length[y])) for y in years}
    dp = {y: (1 + d) ** -(y - y0) for y in years}
    acc_life = (
        {int(y): float(data.accelerators.at[y, "life"]) for y in years}
        if len(data.accelerators)
        else {}
    )
    # Demand reaches 1e9 H100e in large studies; solvers want numbers near 1. Chips, fab output and
    # compute are therefore modelled in units of a power of ten that brings the largest demand to
    # ~1e3 (1 for small cases, so hand-sized cases keep their natural units). Results convert back.
    if unit is None:
        unit = model_unit(data)
    fabs = frozenset(data.techs_of("fab"))
    mode = bet_mode or s.bet_mode
    copy = outcome is not None
    if outcome is None:
        outcome = {b: mode != "fail" for b in data.bets.index}
    return Derived(years, y0, length, df, dp, acc_life, mode, unit, fabs, dict(outcome), copy)


def build_model(data: InputData, bet_mode: str | None = None) -> pyo.ConcreteModel:
    """Build the deterministic planning model of DESIGN §5 for ``data``.

    Parameters
    ----------
    data : the resolved input.
    bet_mode : ``succeed``, ``fail`` or ``stochastic`` to override Settings ``bet_mode`` (DESIGN §8).

    Returns
    -------
    pyo.ConcreteModel
        the deterministic model, or for ``bet_mode = stochastic`` with bets present the extensive form
        of :mod:`optimizer.stochastic` (one block per outcome).
    """
    mode = bet_mode or data.settings.bet_mode
    if (len(data.bets) or data.outcomes) and mode in _FORMS:
        return _FORMS[mode](data)
    m = pyo.ConcreteModel(name="ai_infrastructure_plan")
    populate(m, data, derive(data, mode))
    return m


_FORMS: dict[str, Callable[[InputData], pyo.ConcreteModel]] = {}


def register_form(bet_mode: str, builder: Callable[[InputData], pyo.ConcreteModel]) -> None:
    """Make :func:`build_model` return ``builder(data)`` for ``bet_mode`` when the data has bets.

    How a study built on :func:`populate` (the stochastic extensive form) is reached through the
    public ``build_model`` without this module importing it (module doc).
    """
    _FORMS[bet_mode] = builder


def registries() -> SimpleNamespace:
    """The shared registries components append linear terms to (``m.reg``), all empty."""
    return SimpleNamespace(
        injection=lin_registry(),  # (r, y, h) → MW into the electricity balance
        load=lin_registry(),  # (r, y) → MW flat load
        supply=lin_registry(),  # (m, r, y) → units/yr into the commodity balance
        use=lin_registry(),  # (m, r, y) → units/yr out of the commodity balance
        cost={c: lin_registry() for c in objective.CATEGORIES},  # category → key → $M (NPV)
    )


class Costs:
    r"""Where every cost enters the objective: components give undiscounted amounts per year,
    this class discounts them (``DF_y`` for a flow over the period of y, ``DP_y`` for a lump sum,
    ``AF`` for a capital annuity) and converts $ to $M, once (DESIGN §5 objective).

    The coefficient is built left to right, ``DF_y · f₁ · f₂ ⋯`` then ``÷ 10⁶`` for amounts in $:
    the factors are passed separately so that each product is formed in one fixed order (the
    standard form is bit-identical to the one the components built by hand before).
    """

    def __init__(self, m: pyo.Block, derived: Derived) -> None:
        self.reg = m.reg.cost
        self.dv = derived
        self.owner: Contract | None = None  # the component being built (its declared categories)

    def _line(self, category: str, key: Any) -> Lin:
        if self.owner is not None and category not in self.owner.costs:
            raise ContractError(
                f"{self.owner.name} charges {category!r}, which its CONTRACT.costs does not list"
            )
        return self.reg[category][key]

    def _coef(self, base: float, factors: Sequence[float], usd: bool) -> float:
        c = base
        for f in factors:
            c = c * f
        return c / 1e6 if usd else c

    def annual(
        self, category: str, key: Any, year: int, var: Any, *factors: float, usd: bool = True
    ) -> None:
        r"""A yearly flow ``f₁·f₂⋯ · var`` in each year of the period of ``year``:
        :math:`DF_y \cdot f_1 f_2 \cdots \, var` (÷ 10⁶ when the amount is in $)."""
        self._line(category, key).add(self._coef(self.dv.df[year], factors, usd), var)

    def annual_lin(
        self, category: str, key: Any, year: int, lin: Lin, *factors: float, usd: bool = True
    ) -> None:
        """:meth:`annual` of a linear expression (its constant included)."""
        self._line(category, key).add_lin(lin, self._coef(self.dv.df[year], factors, usd))

    def annual_array(
        self,
        category: str,
        key: Any,
        years: np.ndarray,
        var: Any,
        *factors: np.ndarray,
        usd: bool = True,
    ) -> None:
        """:meth:`annual` for many terms at once: term k is ``factors[·][k] · var[ordinal k]``
        (``var`` a variable component, all its elements in index order) in ``years[k]`` (zero
        coefficients dropped, as :meth:`Lin.add`); the line remembers them as one run
        (:meth:`Lin.add_elements`)."""
        known = np.array(self.dv.years, dtype=np.int64)
        df = np.array([self.dv.df[y] for y in self.dv.years], dtype=np.float64)
        coefs = df[np.searchsorted(known, years)] if len(years) else np.zeros(0)
        for f in factors:
            coefs = coefs * f
        if usd:
            coefs = coefs / 1e6
        data = index_order(var)
        if len(data) != len(coefs):
            raise ValueError(f"{var.name}: {len(coefs)} coefficients for {len(data)} elements")
        self._line(category, key).add_elements(
            var, data, np.arange(len(data), dtype=np.int64), coefs
        )

    def lump(self, category: str, key: Any, year: int, var: Any, amount_musd: float) -> None:
        r"""A payment of ``amount_musd · var`` in ``year``: :math:`DP_y \cdot amount \cdot var`."""
        self._line(category, key).add(self.dv.dp[year] * amount_musd, var)

    def annuity(
        self,
        category: str,
        key: Any,
        term: Lin | Any,
        rate: float,
        life: float,
        years: Sequence[int],
    ) -> None:
        r"""Capital ``term`` ($M) repaid as :math:`CRF(rate, life) \cdot term` in each model year of
        ``years`` (those the asset is in service): :math:`AF = CRF \cdot \sum_{y} DF_y`."""
        af = crf(rate, life) * sum(self.dv.df[y] for y in years)
        if isinstance(term, Lin):
            self._line(category, key).add_lin(term, af)
        else:
            self._line(category, key).add(af, term)

    def undiscount(self, dual: float, year: int, per: float = 1.0) -> float:
        """A dual of a row of model year ``year`` ($M of net present cost per unit) as undiscounted
        $ per unit and year, per ``per`` (the slice's hours, the model unit): ``dual·10⁶/(DF_y·per)``."""
        return dual * 1e6 / (self.dv.df[year] * per)


def populate(
    m: pyo.Block,
    data: InputData,
    derived: Derived,
    components: Sequence[ModuleType] = COMPONENTS,
) -> pyo.Block:
    """Declare the whole deterministic model on ``m`` (a model or a block) for ``data``.

    The stochastic extensive form (§8) calls this once per outcome on its own block, so the
    components never know about scenarios. ``components`` (default :data:`COMPONENTS`) builds part
    of the model (the benchmark of constraints 1–6). Raises :class:`ContractError` when a component
    declares something its ``CONTRACT`` does not list, or misses something it lists.
    """
    m.data = data
    m.derived = derived
    m.reg = registries()
    m.costs = Costs(m, derived)
    m.contracts = tuple(c.CONTRACT for c in components)
    with PauseGC():
        for comp in components:
            before = _declared_names(m)
            m.costs.owner = comp.CONTRACT
            comp.add_to(m, data)
            _check_contract(m, comp.CONTRACT, _declared_names(m) - before)
    m.costs.owner = None
    return m


def _declared_names(m: pyo.Block) -> set[str]:
    """Names of the variables and constraint families on ``m`` (what a contract must list)."""
    return {
        c.local_name for c in m.component_objects((pyo.Var, pyo.Constraint), descend_into=False)
    }


def _check_contract(m: pyo.Block, contract: Contract, added: set[str]) -> None:
    listed = {f.name for f in contract.variables} | set(contract.constraints)
    extra = sorted(added - listed)
    if extra:
        raise ContractError(
            f"component {contract.name} declared {', '.join(extra)} without listing it in its CONTRACT"
        )
    missing = sorted(
        n
        for n in listed | {f.name for f in contract.expressions} | set(contract.sets)
        if not hasattr(m, n)
    )
    if missing:
        raise ContractError(
            f"component {contract.name} lists {', '.join(missing)} in its CONTRACT but did not declare it"
        )
