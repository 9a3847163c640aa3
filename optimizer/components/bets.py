r"""R&D bets that unlock a power technology (DESIGN §5 constraint 12, §8).

Symbols
-------
===================  ===========================  =====  ==============
code                 math                         unit   source
===================  ===========================  =====  ==============
``v_fund[b]``        :math:`fund_b \in \{0,1\}`   —      decision
``rd_cost_b``        R&D cost                     $M     Bets
``decide_b``         year the bet is paid         year   Bets
``available_b``      first buildable year         year   Bets
===================  ===========================  =====  ==============

``succeed``: funding is a decision and the tech is buildable only if every bet on it is funded.
``fail``: the tech is never built (its build variables do not exist) and nothing is funded.
Build variables before ``available_year`` never exist (see ``capacity.buildable``).
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family
from optimizer.data_io import InputData
from optimizer.linear import Lin

CONTRACT = Contract(
    name="bets",
    variables=(Family("v_fund", ("b",), "0/1", "1 if the bet's R&D is funded", first_stage=True),),
    sets=("BETS", "BET_GATE"),
    constraints=("c_bet_build",),
    costs=("bets",),
)


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""Funding decisions, the build gate and the R&D cost.

    .. math::

        build_{k,r,v} \le max\_build_{k,r,v} \cdot len_v \cdot fund_b \qquad
        \forall b,\ k = tech_b,\ v \ge available\_year_b

        \text{bet cost} = \sum_b DP_{decide_b} \cdot rd\_cost_b \cdot fund_b
    """
    dv = m.derived
    bets = list(data.bets.index)
    m.BETS = pyo.Set(initialize=bets, ordered=True)
    m.v_fund = pyo.Var(m.BETS, within=pyo.Binary, doc="1 if the bet's R&D is funded")
    gate = []
    for b in bets:
        succeeds = dv.outcome.get(b, True)
        if not succeeds and not dv.fund_free:
            m.v_fund[b].fix(0)  # deterministic ``fail``: funding buys nothing
            continue
        k = data.bets.at[b, "tech"]
        if succeeds:
            gate += [(b, kk, r, v) for (kk, r, v) in m.BUILD if kk == k]
        cost = float(data.bets.at[b, "rd_cost_musd"])
        if cost:
            m.costs.lump("bets", b, int(data.bets.at[b, "decide_year"]), m.v_fund[b], cost)
    m.BET_GATE = pyo.Set(initialize=gate, dimen=4, ordered=True)
    m.c_bet_build = pyo.Constraint(m.BET_GATE, rule=bet_build_rule)


def bet_build_rule(m: pyo.ConcreteModel, b: str, k: str, r: str, v: int):
    r"""A bet's tech is built only if the bet is funded (constraint 12).

    .. math:: build_{k,r,v} \le max\_build_{k,r,v} \cdot len_v \cdot fund_b
    """
    mb = m.data.max_build[(k, r, v)] * m.derived.length[v] / m.derived.cap_unit(k)
    return Lin().add(1.0, m.v_build[k, r, v]).add(-mb, m.v_fund[b]).expr() <= 0.0
