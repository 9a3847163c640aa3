r"""Generation, grid imports, storage and the electricity balance (DESIGN §5, constraints 1–3).

Symbols
-------
========================  ================================  =======  =====================
code                      math                              unit     source
========================  ================================  =======  =====================
``v_gen[p,r,y,h]``        :math:`gen_{p,r,y,h}`             MW       decision
``v_grid[r,y,h]``         :math:`grid_{r,y,h}`              MW       decision
``v_charge[s,r,y,h]``     :math:`ch_{s,r,y,h}`              MW       decision
``v_discharge[s,r,y,h]``  :math:`dis_{s,r,y,h}`             MW       decision
``v_soc[s,r,y,h]``        :math:`soc_{s,r,y,h}`             MWh      decision
``cf[p,r,h]``             availability                      0..1     Profiles / availability
``hours_h``               hours the slice stands for        h/yr     TimeSlices
``load[r,y]``             flat load of DCs and fabs         MW       compute, chips
========================  ================================  =======  =====================

Each slice is one hour; the state of charge is cyclic within each representative day (§5.2). There is
no electricity trade between regions; only ``grid`` crosses a border.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.data_io import InputData
from optimizer.linear import Lin, LinConstraint


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""Operation of power plants, storage and the grid, then the electricity balance.

    .. math::

        gen_{p,r,y,h} \le cf_{p,r,h}\, cap_{p,r,y}, \qquad grid_{r,y,h} \le grid\_max\_mw_r

        ch, dis \le cap_{s,r,y}, \quad soc \le duration_s \, cap_{s,r,y}

        soc_h = soc_{prev(h)} + efficiency_s\, ch_h - dis_h
    """
    dv = m.derived
    techs = data.tech
    regions = data.region
    slices = list(data.slices)
    power = set(data.techs_of("power"))
    storage = set(data.techs_of("storage"))
    hours = data.slice_hours

    gen_index = [
        (p, r, y, h) for (p, r, y) in m.CAP if p in power for h in slices if data.cf_of(p, r, h) > 0
    ]
    m.GEN = pyo.Set(initialize=gen_index, dimen=4, ordered=True)
    m.v_gen = pyo.Var(m.GEN, within=pyo.NonNegativeReals, doc="generation (MW in the slice)")
    m.c_gen_limit = LinConstraint(m.GEN, rule=gen_limit_rule)

    # The balance exists where load or supply exists; a region with load gets the grid if it has one.
    active = {(r, y) for (r, y) in m.reg.load} | {
        (r, y) for (_k, r, y) in m.CAP if _k in power or _k in storage
    }
    grid_index = [
        (r, y, h)
        for r in data.regions.index
        for y in dv.years
        if (r, y) in active and regions[r]["grid_max_mw"] > 0
        for h in slices
    ]
    m.GRID = pyo.Set(initialize=grid_index, dimen=3, ordered=True)
    m.v_grid = pyo.Var(
        m.GRID,
        bounds=grid_bounds,
        doc="grid import (MW)",
    )

    sto_index = [(s, r, y, h) for (s, r, y) in m.CAP if s in storage for h in slices]
    m.STORAGE = pyo.Set(initialize=sto_index, dimen=4, ordered=True)
    m.v_charge = pyo.Var(m.STORAGE, within=pyo.NonNegativeReals, doc="storage charging (MW)")
    m.v_discharge = pyo.Var(m.STORAGE, within=pyo.NonNegativeReals, doc="storage discharging (MW)")
    m.v_soc = pyo.Var(m.STORAGE, within=pyo.NonNegativeReals, doc="state of charge (MWh)")
    m.c_charge_limit = LinConstraint(m.STORAGE, rule=charge_limit_rule)
    m.c_discharge_limit = LinConstraint(m.STORAGE, rule=discharge_limit_rule)
    m.c_soc_limit = LinConstraint(m.STORAGE, rule=soc_limit_rule)
    m.c_soc_balance = LinConstraint(m.STORAGE, rule=soc_balance_rule)

    inj = m.reg.injection
    for p, r, y, h in gen_index:
        var = m.v_gen[p, r, y, h]
        inj[(r, y, h)].add(1.0, var)
        vc = float(techs[p]["variable_cost_usd"])
        if vc:
            m.reg.cost["energy"][("gen", p, r, y, h)].add(dv.df[y] * hours[h] * vc / 1e6, var)
    for r, y, h in grid_index:
        var = m.v_grid[r, y, h]
        inj[(r, y, h)].add(1.0, var)
        gp = float(regions[r]["grid_price_usd"])
        if gp:
            m.reg.cost["energy"][("grid", r, y, h)].add(dv.df[y] * hours[h] * gp / 1e6, var)
    for s, r, y, h in sto_index:
        inj[(r, y, h)].add(1.0, m.v_discharge[s, r, y, h]).add(-1.0, m.v_charge[s, r, y, h])

    rows = [
        (r, y, h) for r in data.regions.index for y in dv.years if (r, y) in active for h in slices
    ]
    m.ELECTRICITY_ROWS = pyo.Set(initialize=rows, dimen=3, ordered=True)
    m.c_electricity_balance = LinConstraint(m.ELECTRICITY_ROWS, rule=electricity_balance_rule)


def grid_bounds(m: pyo.ConcreteModel, r: str, y: int, h: str) -> tuple[float, float]:
    r"""Grid imports within the connection (constraint 1).

    .. math:: 0 \le grid_{r,y,h} \le grid\_max\_mw_r
    """
    return (0.0, float(m.data.region[r]["grid_max_mw"]))


def gen_limit_rule(m: pyo.ConcreteModel, p: str, r: str, y: int, h: str):
    r"""Generation within available capacity (constraint 1).

    .. math:: gen_{p,r,y,h} \le cf_{p,r,h} \cdot cap_{p,r,y}
    """
    cf = m.data.cf_of(p, r, h)
    e = Lin().add(1.0, m.v_gen[p, r, y, h]).add_lin(m.cap[(p, r, y)], -cf)
    return e.le(-e.const, drop_const=True)


def charge_limit_rule(m: pyo.ConcreteModel, s: str, r: str, y: int, h: str):
    r"""Charging within power capacity (constraint 2).

    .. math:: ch_{s,r,y,h} \le cap_{s,r,y}
    """
    e = Lin().add(1.0, m.v_charge[s, r, y, h]).add_lin(m.cap[(s, r, y)], -1.0)
    return e.le(-e.const, drop_const=True)


def discharge_limit_rule(m: pyo.ConcreteModel, s: str, r: str, y: int, h: str):
    r"""Discharging within power capacity (constraint 2).

    .. math:: dis_{s,r,y,h} \le cap_{s,r,y}
    """
    e = Lin().add(1.0, m.v_discharge[s, r, y, h]).add_lin(m.cap[(s, r, y)], -1.0)
    return e.le(-e.const, drop_const=True)


def soc_limit_rule(m: pyo.ConcreteModel, s: str, r: str, y: int, h: str):
    r"""State of charge within energy capacity (constraint 2).

    .. math:: soc_{s,r,y,h} \le duration_s \cdot cap_{s,r,y}
    """
    dur = float(m.data.tech[s]["duration_h"])
    e = Lin().add(1.0, m.v_soc[s, r, y, h]).add_lin(m.cap[(s, r, y)], -dur)
    return e.le(-e.const, drop_const=True)


def soc_balance_rule(m: pyo.ConcreteModel, s: str, r: str, y: int, h: str):
    r"""Storage continuity, one-hour steps, cyclic within the day (constraint 2).

    .. math:: soc_{s,r,y,h} = soc_{s,r,y,prev(h)} + efficiency_s \, ch_{s,r,y,h} - dis_{s,r,y,h}
    """
    eff = float(m.data.tech[s]["efficiency"])
    hp = m.data.slice_prev[h]
    e = Lin().add(1.0, m.v_soc[s, r, y, h]).add(-1.0, m.v_soc[s, r, y, hp])
    e.add(-eff, m.v_charge[s, r, y, h]).add(1.0, m.v_discharge[s, r, y, h])
    if hp == h:  # a one-slice day: soc cancels, the rule is eff·ch = dis
        e = Lin().add(-eff, m.v_charge[s, r, y, h]).add(1.0, m.v_discharge[s, r, y, h])
    return e.eq(0.0)


def electricity_balance_rule(m: pyo.ConcreteModel, r: str, y: int, h: str):
    r"""Electricity balance; its dual is the price of electricity (constraint 3).

    .. math:: \sum_p gen_{p,r,y,h} + \sum_s (dis - ch)_{s,r,y,h} + grid_{r,y,h} = load_{r,y}
    """
    e = Lin()
    inj = m.reg.injection.get((r, y, h))
    if inj is not None:
        e.add_lin(inj)
    load = m.reg.load.get((r, y))
    if load is not None:
        e.add_lin(load, -1.0)
    if not e.has_vars:
        if abs(e.const) > 1e-9:
            m.derived.infeasible.append(
                f"{r} has {-e.const:g} MW of load in {y} and no power supply: add generation, storage or grid_max_mw (Regions)"
            )
        return pyo.Constraint.Skip
    return e.eq(-e.const, drop_const=True)
