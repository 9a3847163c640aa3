r"""Capital: who finances each build and at what cost (DESIGN §5, constraint 11 and the capital line).

Symbols
-------
=========================  ========================================  ======  ======================
code                       math                                      unit    source
=========================  ========================================  ======  ======================
``v_fin[j,k,r,v]``         :math:`fin_{j,k,r,v}`                     $M      decision
``capex[k,r,v]``           capital cost per unit of capacity         $M      TechCosts.capex_musd
``system_capex_usd_v``     system capex per chip                     $       Accelerators
``budget[j,v]``            partner budget                            $M/yr   PartnerBudgets
``AF[j,k,r,v]``            annuity factor of a dollar of capital     —       derived (§5)
=========================  ========================================  ======  ======================

The market (``j = market``) finances at the wacc of the region where the asset stands, has no budget and
ignores PartnerRules (§5.2). Where the market is the only possible financier, ``fin`` equals
``capex · build`` exactly, so no variable is created and the annuity is charged on ``build`` directly:
the same optimum with fewer columns.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family, Scale
from optimizer.data_io import InputData
from optimizer.linear import Lin
from optimizer.schema import ACCELERATOR

MARKET = "market"
CAPEX = Scale("TechCosts", "capex_musd", 1.0, "$M financed per unit of capacity")
SYSTEM_CAPEX = Scale("Accelerators", "system_capex_usd", 1e6, "$ ÷ 10⁶ = $M financed per chip")

CONTRACT = Contract(
    name="finance",
    variables=(Family("v_fin", ("j", "k", "r", "v"), "$M", "capital raised from financier j"),),
    expressions=(
        Family(
            "capital", ("j", "k", "r", "v"), "$M", "capital raised (undiscounted), by financier"
        ),
    ),
    # fin_items: one (key, amount, class, r, v, life, lead, financiers) per FIN_ROWS row, what
    # diagnose names a c_finance row by
    sets=("FIN", "FIN_ROWS", "BUDGET_ROWS", "fin_items"),
    constraints=("c_finance", "c_budget"),
    costs=("capital",),
    units=(CAPEX, SYSTEM_CAPEX),
)


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""Financing balance, partner budgets and the capital cost.

    .. math::

        \sum_j fin_{j,k,r,v} = capex_{k,r,v} \cdot build_{k,r,v}, \qquad
        \sum_j fin_{j,accelerator,r,v} = \tfrac{system\_capex\_usd_v}{10^6}\, deploy_{r,v}

        \sum_{k,r} fin_{j,k,r,v} \le budget_{j,v} \cdot len_v \qquad \forall j, v

        \text{capital cost} = \sum_{j,k,r,v} AF_{j,k,r,v}\, fin_{j,k,r,v}
    """
    dv = m.derived
    techs = data.tech
    market = data.settings.market_finance
    partners = list(data.partners.index)

    # (item, amount $M as Lin of the asset variable, class, region, vintage, life, lead)
    items: list[tuple[tuple, Lin, str, str, int, float, float]] = []
    for k, r, v in m.BUILD:
        c = data.capex[(k, r, v)] / CAPEX.per * dv.cap_unit(k)  # $M per model unit of capacity
        if c > 0:
            items.append(
                (
                    (k, r, v),
                    Lin().add(c, m.v_build[k, r, v]),
                    techs[k]["class"],
                    r,
                    v,
                    float(techs[k]["life"]),
                    float(techs[k]["lead"]),
                )
            )
    for r, v in m.DEPLOY:
        c = float(data.accelerators.at[v, "system_capex_usd"]) / SYSTEM_CAPEX.per * dv.unit
        if c > 0:
            items.append(
                (
                    (ACCELERATOR, r, v),
                    Lin().add(c, m.v_deploy[r, v]),
                    ACCELERATOR,
                    r,
                    v,
                    dv.acc_life[v],
                    0.0,
                )
            )

    def in_service(cls: str, v: int, life: float, lead: float) -> list[int]:
        if cls == ACCELERATOR:
            return [y for y in dv.years if dv.alive(v, y)]
        return [y for y in dv.years if dv.online(lead, life, v, y)]

    fin_index, fin_items = [], []
    m.capital = {}  # (financier, k, r, v) → Lin of $M raised, for results
    for key, amount, cls, r, v, life, lead in items:
        js = [j for j in partners if data.partner_allowed[(j, r, cls)]]
        k = key[0]
        if not js:
            if market:
                years = in_service(cls, v, life, lead)
                wacc = float(data.region[r]["wacc"])
                m.costs.annuity("capital", (MARKET, *key), amount, wacc, life, years)
                m.capital[(MARKET, k, r, v)] = amount
            else:
                var = amount.vars[0]
                var.fix(0.0)
            continue
        fins = js + ([MARKET] if market else [])
        for j in fins:
            fin_index.append((j, k, r, v))
        fin_items.append((key, amount, cls, r, v, life, lead, fins))
    m.FIN = pyo.Set(initialize=fin_index, dimen=4, ordered=True)
    m.v_fin = pyo.Var(
        m.FIN, within=pyo.NonNegativeReals, doc="capital raised from financier j ($M)"
    )
    m.fin_items = fin_items
    m.FIN_ROWS = pyo.Set(initialize=list(range(len(fin_items))), ordered=True)
    m.c_finance = pyo.Constraint(m.FIN_ROWS, rule=finance_rule)

    by_jv: dict[tuple[str, int], list] = defaultdict(list)
    # one lookup per partner, not per financed item (a pandas .at costs ~35 µs: 0.7 s at XL)
    partner_wacc = {j: float(data.partners.at[j, "wacc"]) for j in partners}
    for _key, _amount, cls, r, v, life, lead, fins in fin_items:
        k = _key[0]
        years = in_service(cls, v, life, lead)
        for j in fins:
            var = m.v_fin[j, k, r, v]
            i = float(data.region[r]["wacc"]) if j == MARKET else partner_wacc[j]
            m.costs.annuity("capital", (j, k, r, v), var, i, life, years)
            m.capital[(j, k, r, v)] = Lin().add(1.0, var)
            if j != MARKET:
                by_jv[(j, v)].append(var)
    m.fin_by_partner_year = by_jv
    m.BUDGET_ROWS = pyo.Set(initialize=list(by_jv), dimen=2, ordered=True)
    m.c_budget = pyo.Constraint(m.BUDGET_ROWS, rule=budget_rule)


def finance_rule(m: pyo.ConcreteModel, i: int):
    r"""Every dollar of capex is raised from someone (constraint 11).

    .. math:: \sum_j fin_{j,k,r,v} = capex_{k,r,v} \cdot build_{k,r,v}
    """
    key, amount, _cls, r, v, _life, _lead, fins = m.fin_items[i]
    e = Lin()
    for j in fins:
        e.add(1.0, m.v_fin[j, key[0], r, v])
    e.add_lin(amount, -1.0)
    return e.expr() == 0.0


def budget_rule(m: pyo.ConcreteModel, j: str, v: int):
    r"""A partner's capital in a period stays within its budget (constraint 11).

    .. math:: \sum_{k,r} fin_{j,k,r,v} \le budget_{j,v} \cdot len_v
    """
    e = Lin()
    for var in m.fin_by_partner_year[(j, v)]:
        e.add(1.0, var)
    return e.expr() <= m.data.budget.get((j, v), 0.0) * m.derived.length[v]
