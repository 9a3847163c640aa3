r"""Accelerators, data centers, compute and demand (DESIGN §5, constraints 4–7).

Symbols
-------
=======================  ==================================  ==============  ==================
code                     math                                unit            source
=======================  ==================================  ==============  ==================
``v_deploy[r,v]``        :math:`deploy_{r,v}`                chips (period)  decision
``v_active[r,v,y]``      :math:`active_{r,v,y}`              chips           decision (v2)
``v_fleet_on[r,y]``      :math:`fleet\_on_{r,y}`             H100e           decision (v2)
``v_serve[g,r,c,y]``     :math:`serve_{g,r,c,y}`             H100e           decision
``v_unserved[g,c,y]``    :math:`unserved_{g,c,y}`            H100e           decision
``m.it[r,y]``            :math:`IT_{r,y}`                    MW              expression
``m.compute[r,y]``       :math:`compute_{r,y}`               H100e           expression
``h100e_v, kw_v``        per-chip compute and IT kW          —               Accelerators
``fleet_h100e[r,y]``     ExistingFleet available             H100e           ExistingFleet
``κ[r,y]``               its IT power per H100e              MW/H100e        ExistingFleet
``λ``                    it_load_factor                      fraction        Settings
``D[g,c,y]``             demand                              H100e           Demand
``min_domestic``         sovereignty share                   share           Regions
=======================  ==================================  ==============  ==================

Chips are deployed only where a data center can stand in the year of deployment. Deployed chips
and the ExistingFleet may idle (v2): only the part that runs (``active``, ``fleet_on``) gives compute,
takes data-center space and draws power; an idle chip's capital is sunk and it costs nothing to keep.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family, Scale
from optimizer.data_io import InputData
from optimizer.linear import Lin, LinConstraint
from optimizer.schema import ACCELERATOR

KW_PER_CHIP = Scale("Accelerators", "kw_per_chip", 1000.0, "kW ÷ 1000 = MW of IT load per chip")
H100E_PER_CHIP = Scale("Accelerators", "h100e_per_chip", 1.0, "H100e per chip")

CONTRACT = Contract(
    name="compute",
    variables=(
        Family("v_deploy", ("r", "v"), "chips (period)", "accelerators deployed in period v"),
        # first-stage by the operating year y (DESIGN §5.2 v2): the stage is read from "y"
        Family("v_active", ("r", "v", "y"), "chips", "accelerators of vintage v running in y"),
        Family("v_fleet_on", ("r", "y"), "H100e", "ExistingFleet H100e running in y"),
        Family("v_serve", ("g", "r", "c", "y"), "H100e", "compute of host r serving consumer c"),
        Family("v_unserved", ("g", "c", "y"), "H100e", "demand left unserved"),
    ),
    expressions=(
        Family("it", ("r", "y"), "MW", "nameplate IT power of the accelerators running"),
        Family("compute", ("r", "y"), "H100e", "compute running"),
    ),
    sets=("DEPLOY", "ACTIVE", "FLEET", "DC_ROWS", "SERVE", "DEMAND", "COMPUTE_ROWS", "SOVEREIGNTY"),
    constraints=(
        "c_active_limit",
        "c_datacenter_capacity",
        "c_compute_capacity",
        "c_demand_balance",
        "c_sovereignty",
    ),
    costs=("unserved",),
    units=(
        KW_PER_CHIP,
        H100E_PER_CHIP,
        Scale("Regions", "min_domestic_training", 1.0, "share"),
        Scale("Regions", "min_domestic_inference", 1.0, "share"),
    ),
)


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""Deployment, IT load, data-center capacity, serving, demand and sovereignty.

    .. math::

        IT_{r,y} = \sum_{v:\,alive(v,y)} \tfrac{kw_v}{1000} active_{r,v,y}
                   + \kappa_{r,y} \, fleet\_on_{r,y}

        compute_{r,y} = \sum_{v:\,alive(v,y)} h100e_v \, active_{r,v,y} + fleet\_on_{r,y}

        load_{r,y} \mathrel{+}= pue_r \cdot \lambda \cdot IT_{r,y}, \qquad
        use_{accelerator,r,y} = deploy_{r,y} / len_y

    with :math:`\kappa_{r,y}` = (Σ ``kw_it``/1000 of the ExistingFleet rows of r available in y) /
    :math:`fleet\_h100e_{r,y}`: the rows of one region and year are pooled (§5.2), and
    :math:`0 \le fleet\_on_{r,y} \le fleet\_h100e_{r,y}` is its variable bound (constraint 4a).
    ``IT`` stays nameplate: data centers (constraint 4) and the firm-capacity peak (15) hold the
    nameplate IT power of what runs; only the energy drawn is scaled by λ.
    """
    # The order of the declarations below is the order of the columns and rows handed to HiGHS.
    _add_chips(m, data)
    _add_it_and_compute(m, data)
    _add_datacenter_rows(m, data)
    _add_serving(m, data)


def _add_chips(m: pyo.ConcreteModel, data: InputData) -> None:
    """``v_deploy`` where data centers can be, ``v_active`` per vintage and year alive with its
    limit (4a), and ``v_fleet_on`` for the ExistingFleet."""
    dv = m.derived
    dc_techs = set(data.techs_of("datacenter"))
    dc_cap: dict[tuple[str, int], Lin] = {}
    for (k, r, y), e in m.cap.items():
        if k in dc_techs:
            dc_cap.setdefault((r, y), Lin()).add_lin(e)
    m.dc_cap = dc_cap

    has_chips = bool(len(data.accelerators))
    deploy_index = [
        (r, v) for r in data.regions.index for v in dv.years if (r, v) in dc_cap and has_chips
    ]
    m.DEPLOY = pyo.Set(initialize=deploy_index, dimen=2, ordered=True)
    m.v_deploy = pyo.Var(
        m.DEPLOY, within=pyo.NonNegativeReals, doc="accelerators deployed in period v (total)"
    )

    # v2: the chips of vintage v running in each year they are alive, and the ExistingFleet running
    active_index = [(r, v, y) for r, v in deploy_index for y in dv.years if dv.alive(v, y)]
    m.ACTIVE = pyo.Set(initialize=active_index, dimen=3, ordered=True)
    m.v_active = pyo.Var(
        m.ACTIVE, within=pyo.NonNegativeReals, doc="accelerators of vintage v running in year y"
    )
    m.c_active_limit = LinConstraint(m.ACTIVE, rule=active_limit_rule)
    fleet_index = [key for key, h in data.fleet_h100e.items() if h > 0]
    m.FLEET = pyo.Set(initialize=fleet_index, dimen=2, ordered=True)
    m.v_fleet_on = pyo.Var(m.FLEET, bounds=fleet_on_bounds, doc="ExistingFleet H100e running")


def _add_it_and_compute(m: pyo.ConcreteModel, data: InputData) -> None:
    """``it`` and ``compute`` from what runs, the accelerators deployment uses and the load."""
    dv = m.derived
    acc = data.accelerators
    it: dict[tuple[str, int], Lin] = {}
    comp: dict[tuple[str, int], Lin] = {}
    u = dv.unit  # deploy, active, serve and unserved are in units of `u` chips / H100e
    for r, y in m.FLEET:
        var = m.v_fleet_on[r, y]
        kappa = data.fleet_kw[(r, y)] / KW_PER_CHIP.per / data.fleet_h100e[(r, y)]
        it.setdefault((r, y), Lin()).add(kappa * u, var)
        comp.setdefault((r, y), Lin()).add(1.0, var)
    for r, v in m.DEPLOY:
        m.reg.use[(ACCELERATOR, r, v)].add(1.0 / dv.length[v], m.v_deploy[r, v])
    for r, v, y in m.ACTIVE:
        var = m.v_active[r, v, y]
        kw, h = float(acc.at[v, "kw_per_chip"]), float(acc.at[v, "h100e_per_chip"])
        it.setdefault((r, y), Lin()).add(kw / KW_PER_CHIP.per * u, var)
        comp.setdefault((r, y), Lin()).add(h / H100E_PER_CHIP.per, var)
    m.it, m.compute = it, comp
    lam = float(data.settings.it_load_factor)
    for (r, y), e in it.items():
        m.reg.load[(r, y)].add_lin(e, float(data.region[r]["pue"]) * lam)


def _add_datacenter_rows(m: pyo.ConcreteModel, data: InputData) -> None:
    """The data-center capacity rows (4), in region then year order."""
    # IT holds only variables now (idle chips take no space). A row is kept, as in v1, where the
    # data-center capacity has variables even if IT has none (chips of 0 kW): otherwise that build
    # would sit in no row, and the stochastic form's PH reports a first-stage variable as stale.
    order = {r: i for i, r in enumerate(data.regions.index)}
    it, dc_cap = m.it, m.dc_cap
    dc_rows = sorted(
        (key for key, e in it.items() if e.has_vars or (key in dc_cap and dc_cap[key].has_vars)),
        key=lambda k: (order[k[0]], k[1]),
    )
    m.DC_ROWS = pyo.Set(initialize=dc_rows, dimen=2, ordered=True)
    m.c_datacenter_capacity = LinConstraint(m.DC_ROWS, rule=datacenter_capacity_rule)


def _add_serving(m: pyo.ConcreteModel, data: InputData) -> None:
    """Serving and unserved demand, compute capacity (5), demand balance (6), sovereignty (7) and
    the value of unserved demand."""
    # Serving: only on allowed routes, to demand that exists, from hosts that can have compute.
    serve_index = [
        (g, r, c, y)
        for (g, c, y) in data.demand
        for r in data.regions.index
        if (g, r, c) in data.compute_routes and (r, y) in m.compute
    ]
    m.SERVE = pyo.Set(initialize=serve_index, dimen=4, ordered=True)
    m.v_serve = pyo.Var(
        m.SERVE, within=pyo.NonNegativeReals, doc="H100e of host r serving consumer c"
    )
    m.DEMAND = pyo.Set(initialize=list(data.demand), dimen=3, ordered=True)
    m.v_unserved = pyo.Var(
        m.DEMAND, within=pyo.NonNegativeReals, doc="H100e of demand left unserved"
    )

    served_by_host: dict[tuple[str, int], list] = defaultdict(list)
    served_to: dict[tuple[str, str, int], list] = defaultdict(list)
    for g, r, c, y in serve_index:
        served_by_host[(r, y)].append(m.v_serve[g, r, c, y])
        served_to[(g, c, y)].append(m.v_serve[g, r, c, y])
    m.served_by_host, m.served_to = served_by_host, served_to
    m.COMPUTE_ROWS = pyo.Set(initialize=list(served_by_host), dimen=2, ordered=True)
    m.c_compute_capacity = LinConstraint(m.COMPUTE_ROWS, rule=compute_capacity_rule)
    m.c_demand_balance = LinConstraint(m.DEMAND, rule=demand_balance_rule)

    sov = []
    for g, c, y in data.demand:
        share = float(data.region[c][f"min_domestic_{g}"])
        if share > 0:
            sov.append((g, c, y))
    m.SOVEREIGNTY = pyo.Set(initialize=sov, dimen=3, ordered=True)
    m.c_sovereignty = LinConstraint(m.SOVEREIGNTY, rule=sovereignty_rule)

    # value[g,c,y]: Demand value_usd resolved, else Settings unserved_penalty_usd (v2). The one
    # $ → $M conversion outside model.Costs: value/10⁶·u is the factor v1 formed, and the
    # coefficient DF·(value/10⁶·u) differs in its last bits from Costs' DF·value·u/10⁶; it is kept
    # so that every instance's matrix stays bit-identical (benchmarks/fingerprint.py).
    u = m.derived.unit
    for g, c, y in data.demand:
        value = data.unserved_value[(g, c, y)] / 1e6 * u
        m.costs.annual("unserved", (g, c, y), y, m.v_unserved[g, c, y], value, usd=False)


def active_limit_rule(m: pyo.ConcreteModel, r: str, v: int, y: int):
    r"""No more chips run than were deployed (constraint 4a, v2): the rest idle.

    .. math:: active_{r,v,y} \le deploy_{r,v} \qquad \forall r, v, y: alive(v,y)
    """
    return Lin().add(1.0, m.v_active[r, v, y]).add(-1.0, m.v_deploy[r, v]).le(0.0)


def fleet_on_bounds(m: pyo.ConcreteModel, r: str, y: int) -> tuple[float, float]:
    r"""No more of the ExistingFleet runs than is installed (constraint 4a, v2).

    .. math:: 0 \le fleet\_on_{r,y} \le fleet\_h100e_{r,y}
    """
    return (0.0, m.data.fleet_h100e[(r, y)] / m.derived.unit)


def datacenter_capacity_rule(m: pyo.ConcreteModel, r: str, y: int):
    r"""Data centers hold the nameplate IT power of what runs (constraint 4).

    .. math:: IT_{r,y} \le \sum_{k \in K_D} cap_{k,r,y} \qquad \forall r, y
    """
    e = Lin().add_lin(m.it[(r, y)])
    cap = m.dc_cap.get((r, y))
    if cap is not None:
        e.add_lin(cap, -1.0)
    return e.le(-e.const, drop_const=True)


def compute_capacity_rule(m: pyo.ConcreteModel, r: str, y: int):
    r"""A host serves no more than its compute (constraint 5).

    .. math:: \sum_{g,c} serve_{g,r,c,y} \le compute_{r,y} \qquad \forall r, y
    """
    e = Lin()
    for var in m.served_by_host[(r, y)]:
        e.add(1.0, var)
    e.add_lin(m.compute[(r, y)], -1.0)
    return e.le(-e.const, drop_const=True)


def demand_balance_rule(m: pyo.ConcreteModel, g: str, c: str, y: int):
    r"""Demand is served or left unserved; its dual is the marginal cost of compute (constraint 6).

    .. math:: \sum_r serve_{g,r,c,y} + unserved_{g,c,y} = D_{g,c,y} \qquad \forall (g,c,y): D > 0
    """
    e = Lin()
    for var in m.served_to.get((g, c, y), ()):
        e.add(1.0, var)
    e.add(1.0, m.v_unserved[g, c, y])
    return e.eq(m.data.demand[(g, c, y)] / m.derived.unit)


def sovereignty_rule(m: pyo.ConcreteModel, g: str, c: str, y: int):
    r"""A share of the served demand is hosted at home (constraint 7).

    .. math:: serve_{g,c,c,y} \ge min\_domestic_{g,c} \, (D_{g,c,y} - unserved_{g,c,y})
    """
    share = float(m.data.region[c][f"min_domestic_{g}"])
    e = Lin().add(share, m.v_unserved[g, c, y])
    if (g, c, c, y) in m.v_serve:
        e.add(1.0, m.v_serve[g, c, c, y])
    return e.ge(share * m.data.demand[(g, c, y)] / m.derived.unit)
