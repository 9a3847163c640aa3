"""``build_model(data)``: the Pyomo model of DESIGN §5, read top to bottom like its table of contents.

Sets and derived constants are declared here; each part of the mathematics is one component in
``optimizer/components`` with one ``add_to(m, data)``. Components append linear terms to the shared
registries on ``m.reg`` (electricity injections and loads, commodity supply and use, cost lines), and
this module closes the balances and the objective from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from optimizer.components import (
    bets,
    capacity,
    chips,
    compute,
    finance,
    objective,
    policy,
    power,
)
from optimizer.data_io import InputData
from optimizer.linear import lin_registry


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


def derive(
    data: InputData, bet_mode: str | None = None, outcome: dict[str, bool] | None = None
) -> Derived:
    """Discount factors, period lengths, lives, units and bet outcomes used by every component.

    ``outcome`` (bet → succeeds) describes one outcome copy of the stochastic form (§8); without it
    every bet succeeds (``succeed``) or fails (``fail``) as ``bet_mode`` says.
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
    peak = max(data.demand.values(), default=0.0)
    unit = 10.0 ** max(0, math.floor(math.log10(peak)) - 3) if peak > 0 else 1.0
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
    if mode == "stochastic" and len(data.bets):
        from optimizer.stochastic import build_stochastic

        return build_stochastic(data)
    m = pyo.ConcreteModel(name="ai_infrastructure_plan")
    populate(m, data, derive(data, mode))
    return m


def registries() -> SimpleNamespace:
    """The shared registries components append linear terms to (``m.reg``), all empty."""
    return SimpleNamespace(
        injection=lin_registry(),  # (r, y, h) → MW into the electricity balance
        load=lin_registry(),  # (r, y) → MW flat load
        supply=lin_registry(),  # (m, r, y) → units/yr into the commodity balance
        use=lin_registry(),  # (m, r, y) → units/yr out of the commodity balance
        cost={c: lin_registry() for c in objective.CATEGORIES},  # category → key → $M (NPV)
    )


def populate(m: pyo.Block, data: InputData, derived: Derived) -> pyo.Block:
    """Declare the whole deterministic model on ``m`` (a model or a block) for ``data``.

    The stochastic extensive form (§8) calls this once per outcome on its own block, so the
    components never know about scenarios.
    """
    m.data = data
    m.derived = derived
    m.reg = registries()
    with PauseGC():
        capacity.add_to(m, data)  # build, modules, capacity, limits (10)
        compute.add_to(m, data)  # accelerators, data centers, compute, demand, sovereignty (4-7)
        chips.add_to(m, data)  # fabs and the chip chain (8-9)
        power.add_to(m, data)  # generation, grid, storage, electricity balance (1-3)
        policy.add_to(m, data)  # emissions and clean share (13-14)
        finance.add_to(m, data)  # capital from partners and the market (11)
        bets.add_to(m, data)  # R&D bets (12)
        objective.add_to(m, data)  # net present cost
    return m
