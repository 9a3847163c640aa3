r"""Fabs and the chip supply chain (DESIGN §5, constraints 8–9).

Symbols
-------
=======================  ===============================  ============  ===================
code                     math                             unit          source
=======================  ===============================  ============  ===================
``v_prod[f,r,y]``        :math:`prod_{f,r,y}`             units/yr      decision
``v_buy[m,r,y]``         :math:`buy_{m,r,y}`              units/yr      decision
``v_ship[m,a,b,y]``      :math:`ship_{m,a,b,y}`           units/yr      decision
``q[f,m,y]``             :math:`q_{f,m}` of year y        units/unit    FabInputs
``price[m,y]``           external price                   $/unit        Commodities
``cost[m,a,b]``          shipping cost                    $/unit        ChipRoutes
``reexport_r``           may pass received units on       bool          Regions (v2)
``max_units[m,r,y]``     import cap                       units/yr      ImportLimits (v2)
``m.fab_load[r,y]``      fab electricity                  MW            expression
=======================  ===============================  ============  ===================

The network is pruned to what can matter: a region holds commodity m in year y only if m can reach it
(bought there, made there, or shipped in on allowed routes from such a region), and a shipment exists
only toward regions from which m can still reach a use. Transit through third regions is allowed, as
ChipRoutes are directional rules and nothing forbids it — except through a region whose ``reexport``
is FALSE (v2, constraint 9a): it ships out no more than it makes or buys, so a region that can
neither make nor buy m ships none out (pruned), and the others get a 9a row. Import caps (9b) bound
what a region receives, shipped in and bought together.
"""

from __future__ import annotations

from collections import defaultdict, deque

import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family, Scale
from optimizer.data_io import InputData
from optimizer.linear import Lin, LinConstraint

ELECTRICITY_MWH = Scale(
    "Technologies", "electricity_mwh", 8760.0, "MWh ÷ 8760 = MW of load per unit/yr"
)
QUANTITY = Scale("FabInputs", "quantity", 1.0, "units of input per unit of output")
MAX_REGION_SHARE = Scale("Technologies", "max_region_share", 1.0, "share of production")

CONTRACT = Contract(
    name="chips",
    variables=(
        Family("v_prod", ("f", "r", "y"), "units/yr", "fab output per year"),
        Family("v_buy", ("m", "r", "y"), "units/yr", "bought outside the coalition"),
        Family("v_ship", ("m", "a", "b", "y"), "units/yr", "shipped from a to b"),
    ),
    expressions=(Family("fab_load", ("r", "y"), "MW", "electricity drawn by fabs"),),
    sets=(
        "PROD",
        "FAB_SHARE",
        "BUY",
        "SHIP",
        "COMMODITY_ROWS",
        "EXTERNAL_MAX",
        "NO_REEXPORT",
        "IMPORT_LIMIT",
    ),
    constraints=(
        "c_fab_capacity",
        "c_fab_share",
        "c_commodity_balance",
        "c_external_max",
        "c_no_reexport",
        "c_import_limit",
    ),
    costs=("supply_chain",),
    units=(ELECTRICITY_MWH, QUANTITY, MAX_REGION_SHARE),
)


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""Production, purchases, shipments and the commodity balance.

    .. math::

        \sum_{f:\,output_f = m} prod_{f,r,y} + buy_{m,r,y} + \sum_{r'} ship_{m,r',r,y}
        = \sum_f q_{f,m}\, prod_{f,r,y} + \sum_{r'} ship_{m,r,r',y} + use_{m,r,y}

        load_{r,y} \mathrel{+}= fab\_load_{r,y} = \sum_f electricity\_mwh_f \, prod_{f,r,y} / 8760

    with :math:`q_{f,m}` the FabInputs quantity resolved for the model year y (v2), and the rows 9a
    (no re-export) and 9b (import limits) of the rules below.
    """
    # The order of the declarations below is the order of the columns and rows handed to HiGHS.
    made = _add_production(m, data)
    _add_fab_share(m, data)
    buy_index, ship_index = _trade_network(m, data)
    _add_purchases_and_shipments(m, data, buy_index, ship_index)
    keys = list(dict.fromkeys([*m.reg.supply, *m.reg.use]))
    m.COMMODITY_ROWS = pyo.Set(initialize=keys, dimen=3, ordered=True)
    m.c_commodity_balance = pyo.Constraint(m.COMMODITY_ROWS, rule=commodity_balance_rule)
    _add_external_max(m, data, buy_index)
    _add_trade_rules(m, data, made, buy_index, ship_index)


def _add_production(m: pyo.ConcreteModel, data: InputData) -> dict[tuple[str, str, int], list]:
    """``v_prod`` within capacity (8), what it supplies and uses, its load and its variable cost.

    Returns the production variables of each (commodity made, region, year).
    """
    techs = data.tech
    fabs = set(data.techs_of("fab"))
    m.PROD = pyo.Set(initialize=[key for key in m.CAP if key[0] in fabs], dimen=3, ordered=True)
    m.v_prod = pyo.Var(m.PROD, within=pyo.NonNegativeReals, doc="fab output per year")
    m.c_fab_capacity = pyo.Constraint(m.PROD, rule=fab_capacity_rule)

    u = m.derived.unit  # every commodity flow is in units of `u` (model.derive)
    # the bill of materials of the model year (FabInputs resolved by year, v2)
    inputs_of: dict[tuple[str, int], list[tuple[str, float]]] = defaultdict(list)
    for (f, c, y), q in data.fab_inputs.items():
        inputs_of[(f, y)].append((c, q))
    fab_load: dict[tuple[str, int], Lin] = {}
    made: dict[tuple[str, str, int], list] = defaultdict(list)
    for f, r, y in m.PROD:
        var = m.v_prod[f, r, y]
        m.reg.supply[(techs[f]["output"], r, y)].add(1.0, var)
        made[(techs[f]["output"], r, y)].append(var)
        for c, q in inputs_of[(f, y)]:
            m.reg.use[(c, r, y)].add(q / QUANTITY.per, var)
        mwh = float(techs[f]["electricity_mwh"])
        if mwh:
            fab_load.setdefault((r, y), Lin()).add(mwh * u / ELECTRICITY_MWH.per, var)
        vc = float(techs[f]["variable_cost_usd"])
        if vc:
            m.costs.annual("supply_chain", ("prod", f, r, y), y, var, vc, u)
    m.fab_load = fab_load
    for key, e in fab_load.items():
        m.reg.load[key].add_lin(e)
    return made


def _add_fab_share(m: pyo.ConcreteModel, data: InputData) -> None:
    """The concentration rows (8) of the fab techs with a ``max_region_share``."""
    share_rows = []
    prod_by_fy: dict[tuple[str, int], list] = defaultdict(list)
    for f, r, y in m.PROD:
        prod_by_fy[(f, y)].append(m.v_prod[f, r, y])
        s = data.tech[f]["max_region_share"]
        if s is not None and s == s:
            share_rows.append((f, r, y))
    m.prod_by_fy = prod_by_fy
    m.FAB_SHARE = pyo.Set(initialize=share_rows, dimen=3, ordered=True)
    m.c_fab_share = pyo.Constraint(m.FAB_SHARE, rule=fab_share_rule)


def _reexport(data: InputData) -> dict[str, bool]:
    return {r: bool(data.region[r]["reexport"]) for r in data.regions.index}


def _trade_network(
    m: pyo.ConcreteModel, data: InputData
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, str, int]]]:
    """The purchases (m, r, y) and shipments (m, a, b, y) that can matter (module doc: pruning).

    Reads where production supplies and uses each commodity, so it runs after :func:`_add_production`.
    """
    regions = list(data.regions.index)
    ext_ok = {r: bool(data.region[r]["chips_external_allowed"]) for r in regions}
    reexport = _reexport(data)
    out_routes: dict[tuple[str, str], list[str]] = defaultdict(list)
    in_routes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c, a, b in data.chip_routes:
        out_routes[(c, a)].append(b)
        in_routes[(c, b)].append(a)
    buy_index, ship_index = [], []
    for c in data.commodities:
        for y in m.derived.years:
            sources = {r for r in regions if (c, r, y) in m.reg.supply}
            if (c, y) in data.price:
                sources |= {r for r in regions if ext_ok[r]}
            sinks = {r for r in regions if (c, r, y) in m.reg.use}
            # a region that may not re-export passes nothing on unless it makes or buys m itself
            passes = {r for r in regions if reexport[r] or r in sources}
            reach = _closure(
                sources, lambda r, c=c, passes=passes: out_routes[(c, r)] if r in passes else ()
            )
            coreach = _closure(
                sinks, lambda r, c=c, passes=passes: [a for a in in_routes[(c, r)] if a in passes]
            )
            useful = reach & coreach
            if (c, y) in data.price:
                buy_index += [(c, r, y) for r in regions if ext_ok[r] and r in useful]
            ship_index += [
                (c, a, b, y)
                for a in regions
                if a in useful and a in passes
                for b in out_routes[(c, a)]
                if b in useful
            ]
    return buy_index, ship_index


def _add_purchases_and_shipments(
    m: pyo.ConcreteModel,
    data: InputData,
    buy_index: list[tuple[str, str, int]],
    ship_index: list[tuple[str, str, str, int]],
) -> None:
    """``v_buy`` and ``v_ship``, what they supply and use, and their costs."""
    u = m.derived.unit
    m.BUY = pyo.Set(initialize=buy_index, dimen=3, ordered=True)
    m.v_buy = pyo.Var(
        m.BUY, within=pyo.NonNegativeReals, doc="units bought outside the coalition per year"
    )
    m.SHIP = pyo.Set(initialize=ship_index, dimen=4, ordered=True)
    m.v_ship = pyo.Var(m.SHIP, within=pyo.NonNegativeReals, doc="units shipped per year")
    for c, r, y in buy_index:
        var = m.v_buy[c, r, y]
        m.reg.supply[(c, r, y)].add(1.0, var)
        m.costs.annual("supply_chain", ("buy", c, r, y), y, var, data.price[(c, y)], u)
    for c, a, b, y in ship_index:
        var = m.v_ship[c, a, b, y]
        m.reg.supply[(c, b, y)].add(1.0, var)
        m.reg.use[(c, a, y)].add(1.0, var)
        cost = data.chip_routes[(c, a, b)]
        if cost:
            m.costs.annual("supply_chain", ("ship", c, a, b, y), y, var, cost, u)


def _add_external_max(
    m: pyo.ConcreteModel, data: InputData, buy_index: list[tuple[str, str, int]]
) -> None:
    """The rows capping purchases outside the coalition, per commodity and year."""
    buys_by_cy: dict[tuple[str, int], list] = defaultdict(list)
    for c, r, y in buy_index:
        buys_by_cy[(c, y)].append(m.v_buy[c, r, y])
    m.buys_by_cy = buys_by_cy
    m.EXTERNAL_MAX = pyo.Set(
        initialize=[k for k in buys_by_cy if k in data.external_max], dimen=2, ordered=True
    )
    m.c_external_max = pyo.Constraint(m.EXTERNAL_MAX, rule=external_max_rule)


def _add_trade_rules(
    m: pyo.ConcreteModel,
    data: InputData,
    made: dict[tuple[str, str, int], list],
    buy_index: list[tuple[str, str, int]],
    ship_index: list[tuple[str, str, str, int]],
) -> None:
    """v2: no re-export (9a) and import limits (9b)."""
    reexport = _reexport(data)
    bought = {(c, r, y): m.v_buy[c, r, y] for c, r, y in buy_index}
    ship_out: dict[tuple[str, str, int], list] = defaultdict(list)
    ship_in: dict[tuple[str, str, int], list] = defaultdict(list)
    for c, a, b, y in ship_index:
        ship_out[(c, a, y)].append(m.v_ship[c, a, b, y])
        ship_in[(c, b, y)].append(m.v_ship[c, a, b, y])
    m.own_supply = {
        key: [*made.get(key, ()), *([bought[key]] if key in bought else [])] for key in ship_out
    }
    m.ship_out, m.ship_in, m.bought = ship_out, ship_in, bought
    m.NO_REEXPORT = pyo.Set(
        initialize=[key for key in ship_out if not reexport[key[1]]], dimen=3, ordered=True
    )
    m.c_no_reexport = LinConstraint(m.NO_REEXPORT, rule=no_reexport_rule)
    m.IMPORT_LIMIT = pyo.Set(
        initialize=[key for key in data.import_max if key in ship_in or key in bought],
        dimen=3,
        ordered=True,
    )
    m.c_import_limit = LinConstraint(m.IMPORT_LIMIT, rule=import_limit_rule)


def _closure(start: set[str], step) -> set[str]:
    seen, todo = set(start), deque(start)
    while todo:
        for n in step(todo.popleft()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def fab_capacity_rule(m: pyo.ConcreteModel, f: str, r: str, y: int):
    r"""Production within capacity (constraint 8).

    .. math:: prod_{f,r,y} \le cap_{f,r,y}
    """
    e = Lin().add(1.0, m.v_prod[f, r, y]).add_lin(m.cap[(f, r, y)], -1.0)
    return e.expr(drop_const=True) <= -e.const


def fab_share_rule(m: pyo.ConcreteModel, f: str, r: str, y: int):
    r"""No region makes more than its share of a fab tech's output (constraint 8, concentration).

    .. math:: prod_{f,r,y} \le max\_region\_share_f \sum_{r'} prod_{f,r',y}
    """
    s = float(m.data.tech[f]["max_region_share"]) / MAX_REGION_SHARE.per
    e = Lin().add(1.0, m.v_prod[f, r, y])
    for var in m.prod_by_fy[(f, y)]:
        e.add(-s, var)
    return e.expr() <= 0.0


def commodity_balance_rule(m: pyo.ConcreteModel, c: str, r: str, y: int):
    r"""Commodity balance (constraint 9); accelerators are used by deployment.

    .. math::

        \sum_{f:\,output_f=m} prod + buy + \sum_{r'} ship_{m,r',r} =
        \sum_f q_{f,m}\, prod + \sum_{r'} ship_{m,r,r'} + use_{m,r,y}
    """
    e = Lin()
    sup = m.reg.supply.get((c, r, y))
    if sup is not None:
        e.add_lin(sup)
    use = m.reg.use.get((c, r, y))
    if use is not None:
        e.add_lin(use, -1.0)
    return e.expr() == 0.0


def no_reexport_rule(m: pyo.ConcreteModel, c: str, r: str, y: int):
    r"""A region with ``reexport`` FALSE ships out no more than it makes and buys (constraint 9a, v2).

    .. math::

        \sum_{r'} ship_{m,r,r',y} \le \sum_{f:\,output_f = m} prod_{f,r,y} + buy_{m,r,y}
        \qquad \forall m, y;\ r: reexport_r = FALSE

    Provenance is not tracked (§5.2): units received may be used at home while what the region makes
    or buys is shipped out.
    """
    e = Lin()
    for var in m.ship_out[(c, r, y)]:
        e.add(1.0, var)
    for var in m.own_supply[(c, r, y)]:
        e.add(-1.0, var)
    return e.le(0.0)


def import_limit_rule(m: pyo.ConcreteModel, c: str, r: str, y: int):
    r"""What a region receives of a commodity, shipped in and bought, is capped (constraint 9b, v2).

    .. math:: \sum_{r'} ship_{m,r',r,y} + buy_{m,r,y} \le max\_units_{m,r,y}

    for every (m, r, y) where ImportLimits resolves; a blank-region row caps each region on its own.
    A unit bought in C and shipped to A counts against C's cap (its buy) and A's (its ship in).
    """
    e = Lin()
    for var in m.ship_in.get((c, r, y), ()):
        e.add(1.0, var)
    if (c, r, y) in m.bought:
        e.add(1.0, m.bought[(c, r, y)])
    return e.le(m.data.import_max[(c, r, y)] / m.derived.unit)


def external_max_rule(m: pyo.ConcreteModel, c: str, y: int):
    r"""Cap on purchases from outside the coalition (constraint 9).

    .. math:: \sum_r buy_{m,r,y} \le external\_max_{m,y}
    """
    e = Lin()
    for var in m.buys_by_cy[(c, y)]:
        e.add(1.0, var)
    return e.expr() <= m.data.external_max[(c, y)] / m.derived.unit
