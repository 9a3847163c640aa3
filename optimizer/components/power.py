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
``grid_max[r,y]``         grid connection                   MW       GridAccess / Regions
``grid_price[r,y]``       grid tariff                       $/MWh    GridAccess / Regions
``hours_h``               hours the slice stands for        h/yr     TimeSlices
``load[r,y]``             flat load of DCs and fabs         MW       compute, chips
``v_capacity[k,r,y]``     :math:`cap_{k,r,y}` as a column   MW       = ``cap`` (capacity)
``v_load[r,y]``           :math:`load_{r,y}` as a column    MW       = ``load``
========================  ================================  =======  =====================

The per-slice rows (1, 2 and 3) hold ``cap[k,r,y]`` and ``load[r,y]`` through one column each,
``v_capacity`` and ``v_load``, defined by one equality row per (k, r, y) and per (r, y)
(``c_capacity_column``, ``c_load_column``). The optimum is that of the expressions written out (the
substitution is exact), but each slice row then holds 2 terms instead of every vintage's build and
every running vintage: the base's matrix falls from 582,053 to 228,667 nonzeros, and dual simplex
solves its LP relaxation in 66,911 iterations instead of 80,677 and 0.80-0.84x the CPU time
(benchmarks/RESULTS.md, issue 15). A ``cap`` with fewer than two builds, and a load without
variables, keep their expression (a column would save nothing).

Each slice is one hour; the state of charge is cyclic within each representative day (§5.2). There is
no electricity trade between regions; only ``grid`` crosses a border.

The rows are built as arrays (:class:`optimizer.linear.ArrayRows`), not by calling the rules: the
rules below state each row's mathematics and are what a row materialises to when it is asked for
as a Pyomo constraint (``tests/test_linear.py`` checks every row against them).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pyomo.environ as pyo

from optimizer.components.contract import Contract, Family, Scale
from optimizer.data_io import InputData
from optimizer.linear import (
    EQ,
    LE,
    ArrayConstraint,
    ArrayRows,
    InjectionView,
    Lin,
    LinConstraint,
    fill_ordered_set,
)

CONTRACT = Contract(
    name="power",
    variables=(
        Family("v_gen", ("p", "r", "y", "h"), "MW", "generation in the slice"),
        Family("v_grid", ("r", "y", "h"), "MW", "grid import"),
        Family("v_charge", ("s", "r", "y", "h"), "MW", "storage charging"),
        Family("v_discharge", ("s", "r", "y", "h"), "MW", "storage discharging"),
        Family("v_soc", ("s", "r", "y", "h"), "MWh", "state of charge"),
        Family("v_capacity", ("k", "r", "y"), "MW", "power or storage capacity in service"),
        Family("v_load", ("r", "y"), "MW", "flat load of data centers and fabs"),
    ),
    # gen_at, grid_at: where each element of v_gen / v_grid sits, as arrays (policy reads its
    # emission terms from them instead of iterating GEN and GRID element by element)
    sets=(
        "GEN",
        "GRID",
        "STORAGE",
        "ELECTRICITY_ROWS",
        "CAP_COLUMNS",
        "LOAD_COLUMNS",
        "gen_at",
        "grid_at",
    ),
    constraints=(
        "c_capacity_column",
        "c_load_column",
        "c_gen_limit",
        "c_charge_limit",
        "c_discharge_limit",
        "c_soc_limit",
        "c_soc_balance",
        "c_electricity_balance",
    ),
    costs=("energy",),
    units=(
        Scale("Technologies", "availability", 1.0, "share of capacity available"),
        Scale("Profiles", "cf", 1.0, "share of capacity available"),
        Scale("Technologies", "efficiency", 1.0, "storage efficiency"),
        Scale("Technologies", "duration_h", 1.0, "MWh of storage per MW"),
        Scale("Technologies", "capacity_credit", 1.0, "share of capacity counted as firm"),
    ),
)


def add_to(m: pyo.ConcreteModel, data: InputData) -> None:
    r"""Operation of power plants, storage and the grid, then the electricity balance.

    .. math::

        gen_{p,r,y,h} \le cf_{p,r,h}\, cap_{p,r,y}, \qquad grid_{r,y,h} \le grid\_max_{r,y}

        ch, dis \le cap_{s,r,y}, \quad soc \le duration_s \, cap_{s,r,y}

        soc_h = soc_{prev(h)} + efficiency_s\, ch_h - dis_h

        \sum_p gen_{p,r,y,h} + \sum_s (dis - ch)_{s,r,y,h} + grid_{r,y,h} = load_{r,y}

    The index sets and the rows of these families (about 90% of the rows of a large model) are
    computed as arrays over (capacity entry × slice) and held by :class:`ArrayConstraint` s: each
    row is exactly what the rule beside it (``gen_limit_rule`` …) returns, which is what a row
    becomes when someone asks for it as a Pyomo constraint (tests/test_linear.py checks both).
    """
    dv = m.derived
    slices = list(data.slices)
    n_h = len(slices)
    h_pos = {h: i for i, h in enumerate(slices)}
    power = set(data.techs_of("power"))
    storage = set(data.techs_of("storage"))

    # ---- index sets: one entry of CAP × the slices (where the tech is available, for power)
    gen_caps = [key for key in m.CAP if key[0] in power]
    sto_caps = [key for key in m.CAP if key[0] in storage]
    _capacity_columns(m, gen_caps + sto_caps)
    gen_entry, gen_h, n_gen = _generation(m, data, gen_caps, slices)
    # element k of v_gen is (gen_caps[entry[k]], slices[slice[k]])
    m.gen_at = SimpleNamespace(caps=gen_caps, entry=gen_entry, slice=gen_h, slices=slices)

    # The balance exists where load or supply exists; a region with load gets the grid if it has one.
    active = {(r, y) for (r, y) in m.reg.load} | {
        (r, y) for (_k, r, y) in m.CAP if _k in power or _k in storage
    }
    ry_list = [(r, y) for r in data.regions.index for y in dv.years if (r, y) in active]
    ry_pos = {ry: i for i, ry in enumerate(ry_list)}
    grid_ry = [(r, y) for (r, y) in ry_list if data.grid_max[(r, y)] > 0]
    grid_index = [(r, y, h) for (r, y) in grid_ry for h in slices]
    m.GRID = pyo.Set(dimen=3, ordered=True)
    fill_ordered_set(m.GRID, grid_index)
    m.v_grid = pyo.Var(m.GRID, bounds=grid_bounds, doc="grid import (MW)")
    # element k of v_grid is (grid_ry[k // n_h], slices[k % n_h])
    m.grid_at = SimpleNamespace(keys=grid_ry, slices=slices)

    sto_entry, sto_h, n_sto, sto_all = _storage(m, data, sto_caps, slices)
    _energy_costs(m, data, gen_caps, gen_entry, gen_h, grid_ry, grid_index, slices)
    _electricity_balance(
        m,
        SimpleNamespace(
            dv=dv,
            slices=slices,
            n_h=n_h,
            h_pos=h_pos,
            ry_list=ry_list,
            ry_pos=ry_pos,
            gen_caps=gen_caps,
            gen_entry=gen_entry,
            gen_h=gen_h,
            n_gen=n_gen,
            grid_ry=grid_ry,
            grid_index=grid_index,
            sto_caps=sto_caps,
            sto_entry=sto_entry,
            sto_h=sto_h,
            n_sto=n_sto,
            sto_all=sto_all,
        ),
    )


def _capacity_columns(m: pyo.ConcreteModel, keys: list[tuple]) -> None:
    """``v_capacity[k,r,y]`` and its defining row for each capacity entry of ``keys`` that sums two
    or more builds (a constant goes to the right-hand side either way); ``m.slice_cap[key]`` is
    what the per-slice rows hold (the column, or ``cap``)."""
    cols = [key for key in keys if len(m.cap[key].vars) >= 2]
    m.CAP_COLUMNS = pyo.Set(dimen=3, ordered=True)
    fill_ordered_set(m.CAP_COLUMNS, cols)
    m.v_capacity = pyo.Var(
        m.CAP_COLUMNS, within=pyo.NonNegativeReals, doc="capacity in service (MW; = cap)"
    )
    m.c_capacity_column = LinConstraint(m.CAP_COLUMNS, rule=capacity_column_rule)
    in_col = set(cols)
    m.slice_cap = {
        key: Lin().add(1.0, m.v_capacity[key]) if key in in_col else m.cap[key] for key in keys
    }


def _load_columns(m: pyo.ConcreteModel, ry_list: list[tuple[str, int]]) -> dict[tuple, Lin]:
    """``v_load[r,y]`` and its defining row for each (r, y) of ``ry_list`` whose load has
    variables; returns what the balance rows hold for each load (the column, or ``load``)."""
    load = m.reg.load
    cols = [ry for ry in ry_list if ry in load and load[ry].has_vars]
    m.LOAD_COLUMNS = pyo.Set(dimen=2, ordered=True)
    fill_ordered_set(m.LOAD_COLUMNS, cols)
    # free, as the expression it stands for (a load is ≥ 0 only if no input makes it negative)
    m.v_load = pyo.Var(m.LOAD_COLUMNS, within=pyo.Reals, doc="flat load (MW; = load)")
    m.c_load_column = LinConstraint(m.LOAD_COLUMNS, rule=load_column_rule)
    in_col = set(cols)
    m.slice_load = {
        ry: Lin().add(1.0, m.v_load[ry]) if ry in in_col else load[ry]
        for ry in ry_list
        if ry in load
    }
    return m.slice_load


def _generation(
    m: pyo.ConcreteModel, data: InputData, gen_caps: list[tuple], slices: list[str]
) -> tuple[np.ndarray, np.ndarray, int]:
    """``v_gen`` over (power capacity entry × the slices where it is available) and its limit
    (constraint 1); returns each row's entry, slice position and the row count."""
    avail: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, list[str]]] = {}
    for p, r, _y in gen_caps:
        if (p, r) not in avail:
            cf = np.array([data.cf_of(p, r, h) for h in slices], dtype=np.float64)
            keep = np.flatnonzero(cf > 0)
            avail[(p, r)] = (keep, cf[keep], [slices[i] for i in keep.tolist()])
    gen_index = [(p, r, y, h) for (p, r, y) in gen_caps for h in avail[(p, r)][2]]
    gen_len = np.array([len(avail[(p, r)][0]) for p, r, _y in gen_caps], dtype=np.int64)
    gen_entry = np.repeat(np.arange(len(gen_caps), dtype=np.int64), gen_len)
    gen_h = _cat([avail[(p, r)][0] for p, r, _y in gen_caps])
    gen_cf = _cat([avail[(p, r)][1] for p, r, _y in gen_caps], float)
    m.GEN = pyo.Set(dimen=4, ordered=True)
    fill_ordered_set(m.GEN, gen_index)
    m.v_gen = pyo.Var(m.GEN, within=pyo.NonNegativeReals, doc="generation (MW in the slice)")
    n_gen = len(gen_index)
    gen_rows = ArrayRows(gen_index, LE)
    gen_rows.add_terms(m.v_gen, np.arange(n_gen), np.arange(n_gen))
    gen_rows.add_group([m.slice_cap[key] for key in gen_caps], np.arange(n_gen), gen_entry, -gen_cf)
    m.c_gen_limit = ArrayConstraint(m.GEN, rows=gen_rows, doc=gen_limit_rule.__doc__)
    return gen_entry, gen_h, n_gen


def _storage(
    m: pyo.ConcreteModel, data: InputData, sto_caps: list[tuple], slices: list[str]
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Charge, discharge and state of charge over (storage entry × slice), their limits and the
    state-of-charge balance (constraint 2); returns each row's entry, slice position, the row count
    and the row positions."""
    n_h = len(slices)
    sto_index = [(s, r, y, h) for (s, r, y) in sto_caps for h in slices]
    n_sto = len(sto_index)
    sto_entry = np.repeat(np.arange(len(sto_caps), dtype=np.int64), n_h)
    sto_h = np.tile(np.arange(n_h, dtype=np.int64), len(sto_caps))
    m.STORAGE = pyo.Set(dimen=4, ordered=True)
    fill_ordered_set(m.STORAGE, sto_index)
    m.v_charge = pyo.Var(m.STORAGE, within=pyo.NonNegativeReals, doc="storage charging (MW)")
    m.v_discharge = pyo.Var(m.STORAGE, within=pyo.NonNegativeReals, doc="storage discharging (MW)")
    m.v_soc = pyo.Var(m.STORAGE, within=pyo.NonNegativeReals, doc="state of charge (MWh)")
    sto_all = np.arange(n_sto, dtype=np.int64)
    sto_cap_lins = [m.slice_cap[key] for key in sto_caps]
    limits = (
        ("c_charge_limit", m.v_charge, 1.0, charge_limit_rule),
        ("c_discharge_limit", m.v_discharge, 1.0, discharge_limit_rule),
        (
            "c_soc_limit",
            m.v_soc,
            np.array([float(data.tech[s]["duration_h"]) for s, _r, _y in sto_caps])[sto_entry]
            if n_sto
            else 1.0,
            soc_limit_rule,
        ),
    )
    for name, var, scale, rule in limits:
        rows = ArrayRows(sto_index, LE)
        rows.add_terms(var, sto_all, sto_all)
        rows.add_group(sto_cap_lins, sto_all, sto_entry, -np.asarray(scale, dtype=np.float64))
        m.add_component(name, ArrayConstraint(m.STORAGE, rows=rows, doc=rule.__doc__))
    m.c_soc_balance = ArrayConstraint(
        m.STORAGE,
        rows=_soc_balance_rows(m, data, sto_caps, sto_index),
        doc=soc_balance_rule.__doc__,
    )
    return sto_entry, sto_h, n_sto, sto_all


def _energy_costs(
    m: pyo.ConcreteModel,
    data: InputData,
    gen_caps: list[tuple],
    gen_entry: np.ndarray,
    gen_h: np.ndarray,
    grid_ry: list[tuple[str, int]],
    grid_index: list[tuple],
    slices: list[str],
) -> None:
    """Energy costs ($/MWh × h per year): one line per family, the terms in index order."""
    n_h = len(slices)
    hours = np.array([data.slice_hours[h] for h in slices], dtype=np.float64)
    n_gen = len(gen_entry)
    if n_gen:
        vc = np.array([float(data.tech[p]["variable_cost_usd"]) for p, _r, _y in gen_caps])[
            gen_entry
        ]
        years = np.array([y for _p, _r, y in gen_caps], dtype=np.int64)[gen_entry]
        m.costs.annual_array("energy", ("gen",), years, m.v_gen, hours[gen_h], vc)
    if grid_index:
        gp = np.repeat([data.grid_price[ry] for ry in grid_ry], n_h)
        years = np.repeat(np.array([y for _r, y in grid_ry], dtype=np.int64), n_h)
        hh = np.tile(hours, len(grid_ry))
        m.costs.annual_array("energy", ("grid",), years, m.v_grid, hh, gp)


def _electricity_balance(m: pyo.ConcreteModel, ix: SimpleNamespace) -> None:
    r"""The rows of ``electricity_balance_rule`` as arrays over (r, y) × slices, from the index
    arrays ``add_to`` built (``ix``); injections in the order gen, grid, (dis, ch), then the
    registry's injections as groups and the flat load."""
    (
        dv,
        slices,
        n_h,
        h_pos,
        ry_list,
        ry_pos,
        gen_caps,
        gen_entry,
        gen_h,
        n_gen,
        grid_ry,
        grid_index,
        sto_caps,
        sto_entry,
        sto_h,
        n_sto,
        sto_all,
    ) = (
        ix.dv,
        ix.slices,
        ix.n_h,
        ix.h_pos,
        ix.ry_list,
        ix.ry_pos,
        ix.gen_caps,
        ix.gen_entry,
        ix.gen_h,
        ix.n_gen,
        ix.grid_ry,
        ix.grid_index,
        ix.sto_caps,
        ix.sto_entry,
        ix.sto_h,
        ix.n_sto,
        ix.sto_all,
    )
    # ---- electricity balance over (r, y) × slices: injections in the order gen, grid, (dis, ch)
    n_rows = len(ry_list) * n_h
    rows_all = [(r, y, h) for (r, y) in ry_list for h in slices]
    m.ELECTRICITY_ROWS = pyo.Set(dimen=3, ordered=True)
    fill_ordered_set(m.ELECTRICITY_ROWS, rows_all)
    gen_ry = np.array([ry_pos[(r, y)] for _p, r, y in gen_caps], dtype=np.int64)
    gen_row = gen_ry[gen_entry] * n_h + gen_h
    grid_row = np.repeat(
        np.array([ry_pos[ry] for ry in grid_ry], dtype=np.int64), n_h
    ) * n_h + np.tile(np.arange(n_h, dtype=np.int64), len(grid_ry))
    sto_ry = np.array([ry_pos[(r, y)] for _s, r, y in sto_caps], dtype=np.int64)
    sto_row = sto_ry[sto_entry] * n_h + sto_h if n_sto else np.zeros(0, dtype=np.int64)
    has_inj = np.zeros(n_rows, dtype=bool)
    for a in (gen_row, grid_row, sto_row):
        has_inj[a] = True
    # components declared before power may have put injections in the registry: kept as groups
    extra = {k: lin for k, lin in m.reg.injection.items() if lin.has_vars or lin.const}
    load = m.reg.load
    # a row exists where something has a variable (rule: otherwise Constraint.Skip)
    load_vars = np.array([(ry in load and load[ry].has_vars) for ry in ry_list], dtype=bool)
    keep = has_inj | np.repeat(load_vars, n_h)
    for k, lin in extra.items():
        if lin.has_vars:
            keep[ry_pos[k[:2]] * n_h + h_pos[k[2]]] = True
    _note_load_without_supply(dv, np.flatnonzero(~keep).tolist(), ix, load, extra)
    new_row = np.cumsum(keep) - 1
    kept = np.flatnonzero(keep)
    bal = ArrayRows([rows_all[i] for i in kept.tolist()], EQ)
    bal.add_terms(m.v_gen, new_row[gen_row], np.arange(n_gen))
    bal.add_terms(m.v_grid, new_row[grid_row], np.arange(len(grid_index)))
    if n_sto:
        # per storage element: +dis, then −ch (as the injection registry received them)
        bal.add_terms(
            [m.v_discharge, m.v_charge],
            np.repeat(new_row[sto_row], 2),
            np.repeat(sto_all, 2),
            np.tile([1.0, -1.0], n_sto),
            which=np.tile([0, 1], n_sto),
        )
    if extra:
        ks = [k for k in extra if keep[ry_pos[k[:2]] * n_h + h_pos[k[2]]]]
        bal.add_group(
            [extra[k] for k in ks],
            [new_row[ry_pos[k[:2]] * n_h + h_pos[k[2]]] for k in ks],
            np.arange(len(ks)),
        )
    slice_load = _load_columns(m, ry_list)
    load_ry = [i for i, ry in enumerate(ry_list) if ry in load]
    if load_ry:
        load_rows = np.repeat(np.array(load_ry), n_h) * n_h + np.tile(np.arange(n_h), len(load_ry))
        sel = keep[load_rows]
        # a group, not direct terms: the injection view (m.reg.injection) must not list the load
        bal.add_group(
            [slice_load[ry_list[i]] for i in load_ry],
            new_row[load_rows[sel]],
            np.repeat(np.arange(len(load_ry)), n_h)[sel],
            -1.0,
        )
    m.c_electricity_balance = ArrayConstraint(
        m.ELECTRICITY_ROWS, rows=bal, doc=electricity_balance_rule.__doc__
    )
    # what the registry of injections would hold (read by checks of the balance)
    m.reg.injection = InjectionView(bal, extra)


def _note_load_without_supply(
    dv: Any, rows: list[int], ix: SimpleNamespace, load: Any, extra: dict
) -> None:
    """Report each balance row left out (no variable) that still holds a load: nothing can serve
    it, as ``electricity_balance_rule`` reports it (``dv.infeasible``)."""
    for row in rows:
        (r, y), h = ix.ry_list[row // ix.n_h], ix.slices[row % ix.n_h]
        lin = load.get((r, y))
        const = (extra[(r, y, h)].const if (r, y, h) in extra else 0.0) - (
            lin.const if lin is not None else 0.0
        )
        if abs(const) > 1e-9:
            dv.infeasible.append(
                f"{r} has {-const:g} MW of load in {y} and no power supply: add generation, storage or grid access (GridAccess max_mw, Regions grid_max_mw)"
            )


def _cat(parts: list[np.ndarray], dtype: Any = np.int64) -> np.ndarray:
    """``np.concatenate`` that also takes no parts (a model without power techs)."""
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _soc_balance_rows(
    m: pyo.ConcreteModel, data: InputData, sto_caps: list[tuple], sto_index: list[tuple]
) -> ArrayRows:
    """The rows of ``soc_balance_rule`` as arrays: ``soc[h] − soc[prev(h)] − eff·ch[h] + dis[h] = 0``
    (on a one-slice day soc cancels: ``−eff·ch + dis = 0``)."""
    slices = list(data.slices)
    n_h = len(slices)
    n = len(sto_index)
    rows = ArrayRows(sto_index, EQ, rhs=0.0)
    if not n:
        return rows
    h_pos = {h: i for i, h in enumerate(slices)}
    prev = np.array([h_pos[data.slice_prev[h]] for h in slices], dtype=np.int64)
    entry = np.repeat(np.arange(len(sto_caps), dtype=np.int64), n_h)
    base = entry * n_h
    h = np.tile(np.arange(n_h, dtype=np.int64), len(sto_caps))
    own = np.arange(n, dtype=np.int64)
    cyc = np.flatnonzero(prev[h] != h)  # rows where prev(h) is another slice
    eff = np.array([float(data.tech[s]["efficiency"]) for s, _r, _y in sto_caps])[entry]
    rows.add_terms(m.v_soc, cyc, cyc, 1.0)
    rows.add_terms(m.v_soc, cyc, base[cyc] + prev[h[cyc]], -1.0)
    rows.add_terms(m.v_charge, own, own, -eff)
    rows.add_terms(m.v_discharge, own, own, 1.0)
    return rows


def grid_bounds(m: pyo.ConcreteModel, r: str, y: int, h: str) -> tuple[float, float]:
    r"""Grid imports within the connection of the year (constraint 1; GridAccess, else Regions).

    .. math:: 0 \le grid_{r,y,h} \le grid\_max_{r,y}
    """
    return (0.0, m.data.grid_max[(r, y)])


def capacity_column_rule(m: pyo.ConcreteModel, k: str, r: str, y: int):
    r"""The capacity in service as one column, held by the per-slice rows 1 and 2 (exact).

    .. math:: capacity_{k,r,y} = cap_{k,r,y} = existing_{k,r,y}
              + \sum_{v:\,online(k,v,y)} build_{k,r,v}
    """
    e = Lin().add(1.0, m.v_capacity[k, r, y]).add_lin(m.cap[(k, r, y)], -1.0)
    return e.eq(-e.const, drop_const=True)


def load_column_rule(m: pyo.ConcreteModel, r: str, y: int):
    r"""The flat load as one column, held by the balance rows 3 of every slice (exact).

    .. math:: load\_mw_{r,y} = load_{r,y} = pue_r \cdot \lambda \cdot IT_{r,y}
              + \sum_f electricity\_mwh_f \cdot prod_{f,r,y} / 8760
    """
    e = Lin().add(1.0, m.v_load[r, y]).add_lin(m.reg.load[(r, y)], -1.0)
    return e.eq(-e.const, drop_const=True)


def gen_limit_rule(m: pyo.ConcreteModel, p: str, r: str, y: int, h: str):
    r"""Generation within available capacity (constraint 1).

    .. math:: gen_{p,r,y,h} \le cf_{p,r,h} \cdot cap_{p,r,y}
    """
    cf = m.data.cf_of(p, r, h)
    e = Lin().add(1.0, m.v_gen[p, r, y, h]).add_lin(m.slice_cap[(p, r, y)], -cf)
    return e.le(-e.const, drop_const=True)


def charge_limit_rule(m: pyo.ConcreteModel, s: str, r: str, y: int, h: str):
    r"""Charging within power capacity (constraint 2).

    .. math:: ch_{s,r,y,h} \le cap_{s,r,y}
    """
    e = Lin().add(1.0, m.v_charge[s, r, y, h]).add_lin(m.slice_cap[(s, r, y)], -1.0)
    return e.le(-e.const, drop_const=True)


def discharge_limit_rule(m: pyo.ConcreteModel, s: str, r: str, y: int, h: str):
    r"""Discharging within power capacity (constraint 2).

    .. math:: dis_{s,r,y,h} \le cap_{s,r,y}
    """
    e = Lin().add(1.0, m.v_discharge[s, r, y, h]).add_lin(m.slice_cap[(s, r, y)], -1.0)
    return e.le(-e.const, drop_const=True)


def soc_limit_rule(m: pyo.ConcreteModel, s: str, r: str, y: int, h: str):
    r"""State of charge within energy capacity (constraint 2).

    .. math:: soc_{s,r,y,h} \le duration_s \cdot cap_{s,r,y}
    """
    dur = float(m.data.tech[s]["duration_h"])
    e = Lin().add(1.0, m.v_soc[s, r, y, h]).add_lin(m.slice_cap[(s, r, y)], -dur)
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
    load = m.slice_load.get((r, y))
    if load is not None:
        e.add_lin(load, -1.0)
    if not e.has_vars:
        if abs(e.const) > 1e-9:
            m.derived.infeasible.append(
                f"{r} has {-e.const:g} MW of load in {y} and no power supply: add generation, storage or grid access (GridAccess max_mw, Regions grid_max_mw)"
            )
        return pyo.Constraint.Skip
    return e.eq(-e.const, drop_const=True)
