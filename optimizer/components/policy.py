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

import numpy as np
import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family, Scale
from optimizer.data_io import InputData
from optimizer.linear import Lin, index_order

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
    techs = data.tech
    gen, grid = m.gen_at, m.grid_at
    hrs = np.array([data.slice_hours[h] for h in gen.slices], dtype=np.float64)
    co2_e = np.array([float(techs[p]["co2_t"]) for p, _r, _y in gen.caps], dtype=np.float64)
    co2_g = np.array([data.grid_co2[ry] for ry in grid.keys], dtype=np.float64)
    # hours_h · co2 per element, in GEN and GRID order; one Lin per (r, y), its generation terms
    # then its grid terms, (r, y) in the order an element-by-element pass meets them
    by_ry = _by_region_year(
        m,
        [((r, y), float(co2_e[i]) != 0.0) for i, (_p, r, y) in enumerate(gen.caps)],
        hrs[gen.slice] * co2_e[gen.entry],
        [(ry, float(c) != 0.0) for ry, c in zip(grid.keys, co2_g, strict=True)],
        hrs[np.tile(np.arange(len(hrs)), len(grid.keys))] * np.repeat(co2_g, len(hrs)),
    )
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
    clean_gen = _by_region_year(
        m, [((r, y), p in clean) for p, r, y in gen.caps], hrs[gen.slice], [], np.zeros(0)
    )
    m.clean_gen = dict(clean_gen)
    rows = [
        (r, y)
        for (r, y) in m.reg.load
        if float(data.region[r]["min_clean_share"]) > 0
        and (m.reg.load[(r, y)].has_vars or m.reg.load[(r, y)].const > 0)
    ]
    m.CLEAN_ROWS = pyo.Set(initialize=rows, dimen=2, ordered=True)
    m.c_clean_share = pyo.Constraint(m.CLEAN_ROWS, rule=clean_share_rule)


def _by_region_year(
    m: pyo.ConcreteModel,
    gen_keys: list[tuple[tuple[str, int], bool]],
    gen_coef: np.ndarray,
    grid_keys: list[tuple[tuple[str, int], bool]],
    grid_coef: np.ndarray,
) -> dict[tuple[str, int], Lin]:
    """One Lin per (r, y): ``gen_coef[k]·gen[k]`` over the v_gen elements whose capacity entry is
    taken (``gen_keys[entry]`` = ((r, y), taken)), then ``grid_coef[k]·grid[k]`` likewise; the
    same Lins, terms and key order as a pass over GEN then GRID adding each taken element to
    ``by_ry[(r, y)]`` (a key exists once an element is taken, even if its coefficients are all
    zero), held as runs of the two components (:meth:`Lin.add_elements`)."""
    gen, grid = m.gen_at, m.grid_at
    n_h = len(grid.slices)
    has_slices = np.bincount(gen.entry, minlength=len(gen_keys)) > 0
    key_id: dict[tuple[str, int], int] = {}
    gen_kid = np.full(len(gen_keys), -1, dtype=np.int64)
    for i, (ry, taken) in enumerate(gen_keys):
        if taken and has_slices[i]:
            gen_kid[i] = key_id.setdefault(ry, len(key_id))
    grid_kid = np.full(len(grid_keys), -1, dtype=np.int64)
    for i, (ry, taken) in enumerate(grid_keys):
        if taken and n_h:
            grid_kid[i] = key_id.setdefault(ry, len(key_id))
    out = {ry: Lin() for ry in key_id}
    lins = list(out.values())
    for comp, kid, coef in (
        (m.v_gen, gen_kid[gen.entry], gen_coef),
        (m.v_grid, np.repeat(grid_kid, n_h), grid_coef),
    ):
        ords = np.flatnonzero(kid >= 0)
        if not len(ords):
            continue
        data = index_order(comp)
        ords = ords[np.argsort(kid[ords], kind="stable")]
        ks = kid[ords]
        bounds = np.flatnonzero(np.diff(ks)) + 1
        for part in np.split(ords, bounds):
            lins[int(kid[part[0]])].add_elements(comp, data, part, coef[part])
    return out


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
