r"""Accelerators, data centers, compute and demand (DESIGN §5, constraints 4–7).

Symbols
-------
=======================  ==================================  ==============  ==================
code                     math                                unit            source
=======================  ==================================  ==============  ==================
``v_deploy[r,v]``        :math:`deploy_{r,v}`                chips (period)  decision
``v_serve[g,r,c,y]``     :math:`serve_{g,r,c,y}`             H100e           decision
``v_unserved[g,c,y]``    :math:`unserved_{g,c,y}`            H100e           decision
``m.it[r,y]``            :math:`IT_{r,y}`                    MW              expression
``m.compute[r,y]``       :math:`compute_{r,y}`               H100e           expression
``h100e_v, kw_v``        per-chip compute and IT kW          —               Accelerators
``D[g,c,y]``             demand                              H100e           Demand
``min_domestic``         sovereignty share                   share           Regions
=======================  ==================================  ==============  ==================

Chips are deployed only where a data center can stand in the year of deployment; the ExistingFleet
adds its compute and IT power in the years it is available and needs data centers and power too.
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
        Family("v_serve", ("g", "r", "c", "y"), "H100e", "compute of host r serving consumer c"),
        Family("v_unserved", ("g", "c", "y"), "H100e", "demand left unserved"),
    ),
    expressions=(
        Family("it", ("r", "y"), "MW", "IT load of the accelerators in service"),
        Family("compute", ("r", "y"), "H100e", "compute in service"),
    ),
    sets=("DEPLOY", "DC_ROWS", "SERVE", "DEMAND", "COMPUTE_ROWS", "SOVEREIGNTY"),
    constraints=(
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

        IT_{r,y} = \sum_{v:\,alive(v,y)} \tfrac{kw_v}{1000} deploy_{r,v} + fleet\_kw_{r,y}/1000

        compute_{r,y} = \sum_{v:\,alive(v,y)} h100e_v \, deploy_{r,v} + fleet\_h100e_{r,y}

        load_{r,y} \mathrel{+}= pue_r \cdot IT_{r,y}, \qquad
        use_{accelerator,r,y} = deploy_{r,y} / len_y
    """
    dv = m.derived
    acc = data.accelerators
    dc_techs = set(data.techs_of("datacenter"))
    dc_cap: dict[tuple[str, int], Lin] = {}
    for (k, r, y), e in m.cap.items():
        if k in dc_techs:
            dc_cap.setdefault((r, y), Lin()).add_lin(e)
    m.dc_cap = dc_cap

    deploy_index = [
        (r, v) for r in data.regions.index for v in dv.years if (r, v) in dc_cap and len(acc)
    ]
    m.DEPLOY = pyo.Set(initialize=deploy_index, dimen=2, ordered=True)
    m.v_deploy = pyo.Var(
        m.DEPLOY, within=pyo.NonNegativeReals, doc="accelerators deployed in period v (total)"
    )

    it: dict[tuple[str, int], Lin] = {}
    comp: dict[tuple[str, int], Lin] = {}
    for (r, y), kw in data.fleet_kw.items():
        it.setdefault((r, y), Lin()).const += kw / 1000.0
    u = dv.unit  # deploy, serve and unserved are in units of `u` chips / H100e (model.derive)
    for (r, y), h in data.fleet_h100e.items():
        comp.setdefault((r, y), Lin()).const += h / u
    for r, v in deploy_index:
        var = m.v_deploy[r, v]
        kw, h = float(acc.at[v, "kw_per_chip"]), float(acc.at[v, "h100e_per_chip"])
        for y in dv.years:
            if dv.alive(v, y):
                it.setdefault((r, y), Lin()).add(kw / KW_PER_CHIP.per * u, var)
                comp.setdefault((r, y), Lin()).add(h / H100E_PER_CHIP.per, var)
        m.reg.use[(ACCELERATOR, r, v)].add(1.0 / dv.length[v], var)
    m.it, m.compute = it, comp
    for (r, y), e in it.items():
        m.reg.load[(r, y)].add_lin(e, float(data.region[r]["pue"]))

    dc_rows = []
    for key, e in it.items():
        cap = dc_cap.get(key)
        if e.has_vars or (cap is not None and cap.has_vars):
            dc_rows.append(key)
        elif e.const > (cap.const if cap else 0.0) + 1e-9:
            dv.infeasible.append(
                f"the existing accelerator fleet in {key[0]} in {key[1]} needs {e.const:g} MW of data centers "
                f"but only {(cap.const if cap else 0.0):g} MW exist (ExistingFleet, ExistingCapacity)"
            )
    m.DC_ROWS = pyo.Set(initialize=dc_rows, dimen=2, ordered=True)
    m.c_datacenter_capacity = LinConstraint(m.DC_ROWS, rule=datacenter_capacity_rule)

    # Serving: only on allowed routes, to demand that exists, from hosts that can have compute.
    serve_index = [
        (g, r, c, y)
        for (g, c, y) in data.demand
        for r in data.regions.index
        if (g, r, c) in data.compute_routes and (r, y) in comp
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

    # value[g,c,y]: Demand value_usd resolved, else Settings unserved_penalty_usd (v2)
    for g, c, y in data.demand:
        value = data.unserved_value[(g, c, y)] / 1e6 * u
        m.costs.annual("unserved", (g, c, y), y, m.v_unserved[g, c, y], value, usd=False)


def datacenter_capacity_rule(m: pyo.ConcreteModel, r: str, y: int):
    r"""Data centers hold the IT load (constraint 4).

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
