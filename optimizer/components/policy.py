r"""Emissions, the emission cap and the clean-energy share (DESIGN §5, constraints 13–14).

Symbols
-------
====================  ==================================  ========  ==================
code                  math                                unit      source
====================  ==================================  ========  ==================
``m.emissions[y]``    :math:`E_y`                         tCO2/yr   expression
``co2_p``             emissions per MWh                   t/MWh     Technologies.co2_t
``grid_co2[r,y]``     grid emission factor                t/MWh     GridAccess / Regions
``co2_cap_y``         cap (all regions together)          tCO2/yr   Years.co2_cap_t
``carbon_price_y``    carbon price                        $/tCO2    Years.carbon_price_usd
``min_clean_share``   clean share of load                 share     Regions
====================  ==================================  ========  ==================
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family, Scale
from optimizer.data_io import InputData
from optimizer.linear import Lin

CONTRACT = Contract(
    name="policy",
    expressions=(Family("emissions", ("y",), "tCO2/yr", "emissions of the coalition"),),
    sets=("EMISSION_CAP", "CLEAN_ROWS"),
    constraints=("c_emission_cap", "c_clean_share"),
    costs=("carbon",),
    units=(
        Scale("Technologies", "co2_t", 1.0, "tCO2 per MWh"),
        Scale("Regions", "grid_co2_t", 1.0, "tCO2 per MWh"),
        Scale("GridAccess", "co2_t", 1.0, "tCO2 per MWh"),
        Scale("TimeSlices", "hours", 1.0, "hours weighting the slice"),
        Scale("Regions", "min_clean_share", 1.0, "share"),
    ),
)


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""Emissions by year and region, the carbon price, the cap and the clean share.

    .. math::

        E_y = \sum_{r,h} hours_h \Big(\sum_p co2_p\, gen_{p,r,y,h} + grid\_co2_{r,y}\, grid_{r,y,h}\Big)

        \text{carbon cost} = \sum_y DF_y / 10^6 \cdot carbon\_price_y \cdot E_y
    """
    dv = m.derived
    hours = data.slice_hours
    techs = data.tech
    by_ry: dict[tuple[str, int], Lin] = defaultdict(Lin)
    for p, r, y, h in m.GEN:
        co2 = float(techs[p]["co2_t"])
        if co2:
            by_ry[(r, y)].add(hours[h] * co2, m.v_gen[p, r, y, h])
    for r, y, h in m.GRID:
        co2 = data.grid_co2[(r, y)]
        if co2:
            by_ry[(r, y)].add(hours[h] * co2, m.v_grid[r, y, h])
    total: dict[int, Lin] = defaultdict(Lin)
    for (_r, y), e in by_ry.items():
        total[y].add_lin(e)
    m.emissions = dict(total)
    for y, e in total.items():
        price = data.carbon_price.get(y, 0.0)
        if price:
            m.costs.annual_lin("carbon", y, y, e, price)

    m.EMISSION_CAP = pyo.Set(
        initialize=[y for y in dv.years if y in data.co2_cap and y in total], ordered=True
    )
    m.c_emission_cap = pyo.Constraint(m.EMISSION_CAP, rule=emission_cap_rule)

    clean = {p for p in data.techs_of("power") if bool(techs[p]["clean"])}
    clean_gen: dict[tuple[str, int], Lin] = defaultdict(Lin)
    for p, r, y, h in m.GEN:
        if p in clean:
            clean_gen[(r, y)].add(hours[h], m.v_gen[p, r, y, h])
    m.clean_gen = dict(clean_gen)
    rows = [
        (r, y)
        for (r, y) in m.reg.load
        if float(data.region[r]["min_clean_share"]) > 0
        and (m.reg.load[(r, y)].has_vars or m.reg.load[(r, y)].const > 0)
    ]
    m.CLEAN_ROWS = pyo.Set(initialize=rows, dimen=2, ordered=True)
    m.c_clean_share = pyo.Constraint(m.CLEAN_ROWS, rule=clean_share_rule)


def emission_cap_rule(m: pyo.ConcreteModel, y: int):
    r"""Coalition-wide emission cap (constraint 13).

    .. math:: E_y \le co2\_cap_y
    """
    return m.emissions[y].expr() <= m.data.co2_cap[y]


def clean_share_rule(m: pyo.ConcreteModel, r: str, y: int):
    r"""Clean generation covers a share of the region's load (constraint 14).

    .. math:: \sum_h hours_h \sum_{p\ clean} gen_{p,r,y,h} \ge min\_clean\_share_r \cdot 8760 \cdot load_{r,y}
    """
    share = float(m.data.region[r]["min_clean_share"])
    e = Lin()
    cg = m.clean_gen.get((r, y))
    if cg is not None:
        e.add_lin(cg)
    e.add_lin(m.reg.load[(r, y)], -share * 8760.0)
    if not e.has_vars:
        return pyo.Constraint.Skip
    return e.expr(drop_const=True) >= -e.const
