r"""The objective: net present cost in $M, one expression per cost category of DESIGN §5.

.. math::

    \min\ & \sum_{j,k,r,v} AF_{j,k,r,v}\, fin_{j,k,r,v}                                  && \text{capital} \\
    + & \sum_{k,r,y} DF_y\, fixed\_om_{k,r,y}\, cap_{k,r,y}                               && \text{fixed O\&M} \\
    + & \sum_y \tfrac{DF_y}{10^6} \sum_{r,h} hours_h \big(\sum_p vc_p\, gen + grid\_price_r\, grid\big) && \text{energy} \\
    + & \sum_y \tfrac{DF_y}{10^6}\, carbon\_price_y\, E_y                                 && \text{carbon} \\
    + & \sum_y \tfrac{DF_y}{10^6} \sum_r \big(\sum_f vc_f\, prod + \sum_m price\, buy + \sum cost\, ship\big) && \text{supply chain} \\
    + & \sum_y \tfrac{DF_y}{10^6}\, unserved\_penalty \sum_{g,c} unserved_{g,c,y}           && \text{unserved} \\
    + & \sum_b DP_{decide_b}\, rd\_cost_b\, fund_b                                         && \text{bets}

Each component has already added its terms to ``m.reg.cost[category]``; fixed O&M is added here because
it is a property of capacity in service, whatever the asset.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family
from optimizer.data_io import InputData
from optimizer.linear import Lin, LinObjective

CATEGORIES = ("capital", "fixed_om", "energy", "carbon", "supply_chain", "unserved", "bets")

CONTRACT = Contract(
    name="objective",
    expressions=(
        Family("cost_lines", ("category",), "$M", "net present cost of each category"),
        Family("total_cost", (), "$M", "net present cost (the objective's expression)"),
    ),
    costs=("fixed_om",),
)


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    """Fixed O&M on capacity in service, one expression per category, and their sum as the objective."""
    dv = m.derived
    for (k, r, y), cap in m.cap.items():
        om = data.fixed_om.get((k, r, y))
        if om:
            m.costs.annual_lin("fixed_om", (k, r, y), y, cap, om, dv.cap_unit(k), usd=False)
    totals = {}
    for cat in CATEGORIES:
        e = Lin()
        for part in m.reg.cost[cat].values():
            e.add_lin(part)
        totals[cat] = e
    m.cost_lines = totals
    total = Lin()
    for cat in CATEGORIES:
        total.add_lin(totals[cat])
    m.total_cost = total  # the stochastic form weighs each outcome's total (stochastic.py)
    # the expression is built only if something asks for it; the hand-off reads the Lin
    m.objective = LinObjective(total, doc="net present cost ($M)")
