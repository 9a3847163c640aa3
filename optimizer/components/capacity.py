r"""Capacity: what is built, when, and how much is in service (DESIGN §5, constraint 10).

Symbols
-------
=====================  ==========================  ==================  ======================
code                   math                        unit                source
=====================  ==========================  ==================  ======================
``v_build[k,r,v]``     :math:`build_{k,r,v}`       capacity (period)   decision
``v_modules[k,r,v]``   :math:`n_{k,r,v}`           modules             decision (integer)
``m.cap[k,r,y]``       :math:`cap_{k,r,y}`         capacity            expression
``existing``           :math:`existing_{k,r,y}`    capacity            ExistingCapacity
``max_build``          :math:`max\_build_{k,r,v}`  capacity/yr         TechCosts
``max_capacity``       :math:`max\_capacity`       capacity            TechCosts
=====================  ==========================  ==================  ======================

A build variable exists only where ``capex_musd`` resolves (§5.2: otherwise the tech cannot be built
there) and, for a bet's tech, from its ``available_year`` on (never in ``fail`` mode).
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family, Scale
from optimizer.data_io import InputData
from optimizer.linear import Lin

MODULE_SIZE = Scale("Technologies", "module_size", 1.0, "capacity per module")

CONTRACT = Contract(
    name="capacity",
    variables=(
        Family("v_build", ("k", "r", "v"), "capacity (period)", "capacity added in period v"),
        Family("v_modules", ("k", "r", "v"), "modules", "whole modules built"),
    ),
    expressions=(Family("cap", ("k", "r", "y"), "capacity", "capacity in service", over="CAP"),),
    sets=("BUILD", "MODULAR", "CAP", "MAX_CAPACITY"),
    constraints=("c_modules", "c_max_capacity"),
    units=(MODULE_SIZE,),
)


def buildable(m: pyo.ConcreteModel, data: InputData) -> list[tuple[str, str, int]]:
    """The sparse index of ``build``: (k, r, v) with a resolving capex that comes online within the
    horizon, minus what bets forbid."""
    dv = m.derived
    first_year: dict[str, int] = {}
    blocked: set[str] = set()
    for _b, row in data.bets.iterrows():
        k = row["tech"]
        first_year[k] = max(first_year.get(k, -(10**9)), int(row["available_year"]))
        if not dv.outcome.get(_b, True):
            blocked.add(k)  # any failed bet on a tech blocks it (§5.2)
    # A build that would come online only after the horizon has no annuity, no O&M and no use: it
    # would be free and meaningless, so it is not offered.
    out = []
    for k, r, v in data.capex:
        if k in blocked or v < first_year.get(k, -(10**9)):
            continue
        lead, life = float(data.tech[k]["lead"]), float(data.tech[k]["life"])
        if not any(dv.online(lead, life, v, y) for y in dv.years):
            continue
        out.append((k, r, v))
    return out


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""Build variables, integer modules, capacity in service, and the build limits.

    .. math::

        cap_{k,r,y} = existing_{k,r,y} + \sum_{v:\,online(k,v,y)} build_{k,r,v}

        build_{k,r,v} \le max\_build_{k,r,v} \cdot len_v \qquad \text{(a bound on } build)

        build_{k,r,v} = module\_size_k \cdot n_{k,r,v},\; n \in \mathbb{Z}_{\ge 0}
        \qquad \text{when integer\_modules and module\_size are given}

        cap_{k,r,y} \le max\_capacity_{k,r,y} \qquad \forall (k,r,y) \text{ where given}
    """
    dv = m.derived
    techs = data.tech
    build_index = buildable(m, data)
    m.BUILD = pyo.Set(initialize=build_index, dimen=3, ordered=True)

    def build_bounds(_m, k, r, v):
        mb = data.max_build.get((k, r, v))
        return (0.0, None if mb is None else mb * dv.length[v] / dv.cap_unit(k))

    m.v_build = pyo.Var(
        m.BUILD, bounds=build_bounds, doc="capacity added in period v (total over the period)"
    )

    modular = [
        (k, r, v)
        for (k, r, v) in build_index
        if data.settings.integer_modules
        and techs[k]["module_size"] is not None
        and not _isnan(techs[k]["module_size"])
    ]
    m.MODULAR = pyo.Set(initialize=modular, dimen=3, ordered=True)
    m.v_modules = pyo.Var(m.MODULAR, within=pyo.NonNegativeIntegers, doc="whole modules built")
    m.c_modules = pyo.Constraint(m.MODULAR, rule=modules_rule)

    # cap[k,r,y] as linear term lists (shared by every component that limits operation by capacity)
    cap: dict[tuple[str, str, int], Lin] = {}
    for (k, r, y), c in data.existing.items():
        if c > 0 and k in techs:
            cap.setdefault((k, r, y), Lin()).const += c / dv.cap_unit(k)
    by_kr: dict[tuple[str, str], list[int]] = defaultdict(list)
    for k, r, v in build_index:
        by_kr[(k, r)].append(v)
    for (k, r), vs in by_kr.items():
        lead, life = float(techs[k]["lead"]), float(techs[k]["life"])
        for v in vs:
            var = m.v_build[k, r, v]
            for y in dv.years:
                if dv.online(lead, life, v, y):
                    cap.setdefault((k, r, y), Lin()).add(1.0, var)
    m.cap = cap
    m.CAP = pyo.Set(initialize=sorted(cap, key=_cap_order(data)), dimen=3, ordered=True)

    limited = []
    for key in m.CAP:
        mc = data.max_capacity.get(key)
        if mc is None:
            continue
        mc /= dv.cap_unit(key[0])
        if cap[key].has_vars:
            limited.append(key)
        elif cap[key].const > mc + 1e-9:
            k, r, y = key
            u = dv.cap_unit(k)
            dv.infeasible.append(
                f"existing capacity of {k} in {r} in {y} ({cap[key].const * u:g}) is above its max_capacity "
                f"({mc * u:g}) (TechCosts)"
            )
    m.MAX_CAPACITY = pyo.Set(initialize=limited, dimen=3, ordered=True)
    m.c_max_capacity = pyo.Constraint(m.MAX_CAPACITY, rule=max_capacity_rule)


def modules_rule(m: pyo.ConcreteModel, k: str, r: str, v: int):
    r"""Whole modules.

    .. math:: build_{k,r,v} = module\_size_k \cdot n_{k,r,v} \qquad \forall (k,r,v) \in MODULAR
    """
    size = float(m.data.tech[k]["module_size"]) / MODULE_SIZE.per / m.derived.cap_unit(k)
    return m.v_build[k, r, v] == size * m.v_modules[k, r, v]


def max_capacity_rule(m: pyo.ConcreteModel, k: str, r: str, y: int):
    r"""Total capacity limit, existing capacity included (§5.2).

    .. math:: cap_{k,r,y} \le max\_capacity_{k,r,y}
    """
    e = m.cap[(k, r, y)]
    limit = m.data.max_capacity[(k, r, y)] / m.derived.cap_unit(k)
    return e.expr(drop_const=True) <= limit - e.const


def _isnan(x) -> bool:
    return isinstance(x, float) and x != x


def _cap_order(data: InputData):
    tpos = {k: i for i, k in enumerate(data.techs.index)}
    rpos = {r: i for i, r in enumerate(data.regions.index)}
    return lambda key: (tpos.get(key[0], 0), rpos.get(key[1], 0), key[2])
