r"""Firm capacity: data centers need power that is there when the wind is not (DESIGN §5, constraint 15, v2).

Symbols
-------
========================  =====================================  ========  ==========================
code                      math                                   unit      source
========================  =====================================  ========  ==========================
``capacity_credit_k``     share of capacity counted as firm      0..1      Technologies (default
                                                                           ``availability``)
``m.cap[k,r,y]``          :math:`cap_{k,r,y}`, k power/storage   MW        capacity
``grid_max[r,y]``         grid connection                        MW        GridAccess / Regions
``reserve_margin_r``      margin over the peak                   fraction  Regions (blank = no row)
``peak[r,y]``             :math:`pue_r \cdot IT_{r,y} + fab\_load_{r,y}`   MW   compute, chips
========================  =====================================  ========  ==========================

The four representative days of a dataset may be sunny and windy; this row asks for capacity that
counts whatever the weather. The peak is nameplate: the ``it_load_factor`` λ that scales the energy
drawn (load) is not applied here, since a data center must be able to run all its chips at once.
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from optimizer.components.contract import Contract, Scale
from optimizer.data_io import InputData
from optimizer.linear import Lin, LinConstraint

CAPACITY_CREDIT = Scale("Technologies", "capacity_credit", 1.0, "share of capacity counted as firm")

CONTRACT = Contract(
    name="firm",
    sets=("FIRM_ROWS",),
    constraints=("c_firm_capacity",),
    units=(CAPACITY_CREDIT,),
)


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""One row per region with a ``reserve_margin`` and model year with load.

    .. math::

        \sum_{k \in K_P \cup K_S} capacity\_credit_k \, cap_{k,r,y} + grid\_max_{r,y}
        \ge (1 + reserve\_margin_r) \, peak_{r,y}

    A blank ``reserve_margin`` means no row; 0 means the firm capacity covers the peak itself.
    Fab and datacenter techs have no capacity credit (it is ignored for them, §5.2).
    """
    firm_techs = set(data.techs_of("power")) | set(data.techs_of("storage"))
    margins = {
        r: float(rm)
        for r, rm in ((r, data.region[r]["reserve_margin"]) for r in data.regions.index)
        if rm is not None and not (isinstance(rm, float) and math.isnan(rm))
    }
    firm: dict[tuple[str, int], Lin] = {}
    for (k, r, y), e in m.cap.items():
        if k in firm_techs and r in margins:
            cc = float(data.tech[k]["capacity_credit"]) / CAPACITY_CREDIT.per
            if cc:
                firm.setdefault((r, y), Lin()).add_lin(e, cc)
    peak: dict[tuple[str, int], Lin] = {}
    for (r, y), e in m.it.items():
        if r in margins:
            peak.setdefault((r, y), Lin()).add_lin(e, float(data.region[r]["pue"]))
    for (r, y), e in m.fab_load.items():
        if r in margins:
            peak.setdefault((r, y), Lin()).add_lin(e)
    m.firm, m.peak, m.reserve_margin = firm, peak, margins
    rows = []
    for key, e in peak.items():
        if e.has_vars:
            rows.append(key)
    m.FIRM_ROWS = pyo.Set(initialize=rows, dimen=2, ordered=True)
    m.c_firm_capacity = LinConstraint(m.FIRM_ROWS, rule=firm_capacity_rule)


def firm_capacity_rule(m: pyo.ConcreteModel, r: str, y: int):
    r"""Firm capacity and grid access cover the peak with a margin (constraint 15, v2).

    .. math::

        \sum_{k \in K_P \cup K_S} capacity\_credit_k \, cap_{k,r,y} + grid\_max_{r,y}
        \ge (1 + reserve\_margin_r) \, (pue_r \, IT_{r,y} + \textstyle\sum_f electricity\_mwh_f \,
        prod_{f,r,y} / 8760)

    for every r with a ``reserve_margin`` and every y with load (IT and fab load at nameplate).
    """
    e = Lin()
    firm = m.firm.get((r, y))
    if firm is not None:
        e.add_lin(firm)
    e.add_lin(m.peak[(r, y)], -(1.0 + m.reserve_margin[r]))
    e.const += m.data.grid_max[(r, y)]
    return e.ge(-e.const, drop_const=True)
