"""Constraints 1–6 of DESIGN §5 (electricity and compute) written with linopy, from the same ``InputData``.

This is the yardstick of ``run.py``: the same rows and columns as the planner's ``capacity``, ``compute``
and ``power`` components build (build, capacity in service, generation, grid, storage, the electricity
balance, data centers, compute and demand; sovereignty rows included because ``compute`` declares them),
written the way linopy wants — dense labelled arrays with masks, whole families at once. ``run.py``
prints both models' row and column counts so the comparison is visibly on the same work.

Slices are laid out as (day, hour-of-day) so that ``prev(h)`` is a cyclic roll within the day; the
generated instances have the same number of slices in every day.
"""

from __future__ import annotations

import warnings
from typing import Any

import linopy
import numpy as np
import xarray as xr

from optimizer.data_io import InputData
from optimizer.model import Derived


def _da(values: np.ndarray, coords: dict[str, list]) -> xr.DataArray:
    return xr.DataArray(values, coords=coords, dims=list(coords))


def _zeros(coords) -> xr.DataArray:
    coords = {k: list(v.values) if hasattr(v, "values") else v for k, v in dict(coords).items()}
    return _da(np.zeros([len(v) for v in coords.values()]), coords)


def build_linopy(data: InputData, dv: Derived, full: bool = False) -> linopy.Model:
    """The linopy model of constraints 1–6 (plus sovereignty, 7) for ``data``.

    Parameters
    ----------
    data : the resolved input.
    dv : derived constants (discount factors, units) from ``optimizer.model.derive``.
    full : False: the objective of the planner's constraint 1–6 part (``run.py``'s ``ours_part``:
        the components capacity, compute, power and objective), i.e. energy, unserved compute and
        fixed O&M. True: the yardstick of the full model (``run.py``'s ``ours_full``): also the
        carbon cost (every emitting generation and grid term again, as the planner's objective
        holds them) and the capital cost as an annuity on every build and deployment (the
        planner raises it through ``v_fin`` columns and ``c_finance`` rows: fewer terms here).
        The chip chain (constraints 8–9), financing rows and partner budgets (11), bets and firm
        capacity are not written: the full-model ratio compares the planner doing that extra
        work against linopy not doing it.

    Returns
    -------
    linopy.Model
        with those cost lines as its objective.
    """
    # Absent (masked) slots contributing nothing to a sum is the legacy semantics, and what is meant.
    warnings.filterwarnings("ignore", category=FutureWarning, module="linopy")
    warnings.filterwarnings("ignore", message=".*absent slots.*")
    m = linopy.Model()
    years = list(dv.years)
    regions = list(data.regions.index)
    techs = data.tech
    u = dv.unit
    days: dict[str, list[str]] = {}
    for h in data.slices:
        days.setdefault(data.slice_day[h], []).append(h)
    day_ids = list(days)
    n_t = len(days[day_ids[0]])
    if any(len(v) != n_t for v in days.values()):
        raise ValueError("the linopy yardstick needs the same number of slices in every day")
    hours_of_day = list(range(n_t))
    grid_slices = np.array([days[d] for d in day_ids])  # (day, t) → slice id
    hours = np.vectorize(data.slice_hours.get)(grid_slices).astype(float)
    hours_da = _da(hours, {"d": day_ids, "t": hours_of_day})

    # Capacity: build where capex resolves, cap = existing + builds online.
    def capacity(cls: str, dim: str):
        ks = data.techs_of(cls)
        if not ks:
            return ks, None, None, None
        buildable = np.zeros((len(ks), len(regions), len(years)), dtype=bool)
        ub = np.full(buildable.shape, np.inf)
        online = np.zeros((len(ks), len(years), len(years)))  # (k, v, y)
        existing = np.zeros((len(ks), len(regions), len(years)))
        for i, k in enumerate(ks):
            lead, life = float(techs[k]["lead"]), float(techs[k]["life"])
            for a, v in enumerate(years):
                for b, y in enumerate(years):
                    online[i, a, b] = float(dv.online(lead, life, v, y))
            for j, r in enumerate(regions):
                for a, v in enumerate(years):
                    if (k, r, v) in data.capex:
                        buildable[i, j, a] = True
                        mb = data.max_build.get((k, r, v))
                        if mb is not None:
                            ub[i, j, a] = mb * dv.length[v] / dv.cap_unit(k)
                    e = data.existing.get((k, r, v), 0.0)
                    existing[i, j, a] = e / dv.cap_unit(k) if e > 0 else 0.0
        c_kr_v = {dim: ks, "r": regions, "v": years}
        build = m.add_variables(
            lower=0.0,
            upper=_da(ub, c_kr_v),
            mask=_da(buildable, c_kr_v),
            name=f"build_{cls}",
        )
        on = _da(online, {dim: ks, "v": years, "y": years})
        c_kry = {dim: ks, "r": regions, "y": years}
        cap = (build * on).sum("v") + _da(existing, c_kry)
        in_service = (buildable[:, :, :, None] * online[:, None, :, :]).sum(axis=2)
        exists = (in_service > 0) | (existing > 0)
        if cls in ("power", "storage"):
            # as optimizer.components.power: the per-slice rows hold one column where the
            # capacity sums two or more builds (capacity_column = cap, exact)
            multi = _da(in_service >= 2, c_kry)
            column = m.add_variables(lower=_zeros(c_kry), mask=multi, name=f"capacity_{cls}")
            m.add_constraints(column - cap == 0, name=f"capacity_column_{cls}", mask=multi)
            cap = column.where(multi) + cap.where(~multi)
        return ks, build, cap, _da(exists, c_kry)

    ps, _bp, cap_p, has_p = capacity("power", "p")
    ss, _bs, cap_s, has_s = capacity("storage", "s")
    ds, _bd, cap_d, has_d = capacity("datacenter", "k")

    # Accelerators: deploy where a data center can stand; IT and compute of the vintages alive.
    acc = data.accelerators
    dc_exists = (
        has_d.any("k")
        if has_d is not None
        else _da(np.zeros((len(regions), len(years)), bool), {"r": regions, "y": years})
    )
    deploy = m.add_variables(
        lower=_zeros({"r": regions, "v": years}),
        mask=dc_exists.rename(y="v") & bool(len(acc)),
        name="deploy",
    )
    alive = np.array([[float(dv.alive(v, y)) for y in years] for v in years])
    kw = (
        np.array([float(acc.at[v, "kw_per_chip"]) for v in years])
        if len(acc)
        else np.zeros(len(years))
    )
    h100 = (
        np.array([float(acc.at[v, "h100e_per_chip"]) for v in years])
        if len(acc)
        else np.zeros(len(years))
    )
    # v2: the chips running (active ≤ deploy, 4a) and the ExistingFleet running (0 ≤ fleet_on ≤ h100e)
    rvy = {"r": regions, "v": years, "y": years}
    active_mask = _da(dc_exists.values[:, :, None] & (alive[None] > 0), rvy) & bool(len(acc))
    active_run = m.add_variables(lower=_zeros(rvy), mask=active_mask, name="active")
    m.add_constraints(active_run - deploy <= 0, name="active_limit", mask=active_mask)
    kappa = np.zeros((len(regions), len(years)))
    fleet_h = np.zeros((len(regions), len(years)))
    for j, r in enumerate(regions):
        for b, y in enumerate(years):
            h = data.fleet_h100e.get((r, y), 0.0)
            if h > 0:
                fleet_h[j, b] = h / u
                kappa[j, b] = data.fleet_kw[(r, y)] / 1000.0 / h * u
    ry = {"r": regions, "y": years}
    fleet_on = m.add_variables(
        lower=_zeros(ry), upper=_da(fleet_h, ry), mask=_da(fleet_h > 0, ry), name="fleet_on"
    )
    it = (active_run * _da(kw / 1000.0 * u, {"v": years})).sum("v") + fleet_on * _da(kappa, ry)
    comp = (active_run * _da(h100, {"v": years})).sum("v") + fleet_on
    it_exists = _da((fleet_h > 0) | ((dc_exists.values[:, :, None] * alive[None]).any(1)), ry)
    pue = _da(np.array([float(data.region[r]["pue"]) for r in regions]), {"r": regions})
    load = pue * float(data.settings.it_load_factor) * it
    # as optimizer.components.power: the balance rows hold the load as one column (exact)
    load_column = m.add_variables(
        coords=[regions, years], dims=["r", "y"], mask=it_exists, name="load"
    )
    m.add_constraints(load_column - load == 0, name="load_column", mask=it_exists)
    load = load_column.where(it_exists)

    # 1. generation and grid
    cf = np.zeros((len(ps), len(regions), len(day_ids), n_t))
    for i, p in enumerate(ps):
        for j, r in enumerate(regions):
            cf[i, j] = np.vectorize(lambda h, p=p, r=r: data.cf_of(p, r, h))(grid_slices)
    cf_da = _da(cf, {"p": ps, "r": regions, "d": day_ids, "t": hours_of_day})
    gen_mask = ((cf_da > 0) & has_p).transpose("p", "r", "y", "d", "t")
    gen = m.add_variables(lower=xr.zeros_like(gen_mask, dtype=float), mask=gen_mask, name="gen")
    m.add_constraints(gen - cf_da * cap_p <= 0, name="gen_limit", mask=gen_mask)

    active = it_exists | has_p.any("p")
    if has_s is not None:
        active = active | has_s.any("s")
    gmax = np.array([[data.grid_max[(r, y)] for y in years] for r in regions])
    grid_mask = (active & _da(gmax > 0, ry)).transpose("r", "y")
    grid = m.add_variables(
        lower=0.0,
        upper=_da(gmax, ry),
        coords=[regions, years, day_ids, hours_of_day],
        dims=["r", "y", "d", "t"],
        mask=grid_mask,
        name="grid",
    )

    # 2. storage
    balance = gen.sum("p") + grid
    if ss:
        sto_mask = has_s.expand_dims(d=day_ids, t=hours_of_day).transpose("s", "r", "y", "d", "t")
        coords5 = [ss, regions, years, day_ids, hours_of_day]
        dims5 = ["s", "r", "y", "d", "t"]
        ch = m.add_variables(lower=0.0, coords=coords5, dims=dims5, mask=sto_mask, name="charge")
        dis = m.add_variables(
            lower=0.0, coords=coords5, dims=dims5, mask=sto_mask, name="discharge"
        )
        soc = m.add_variables(lower=0.0, coords=coords5, dims=dims5, mask=sto_mask, name="soc")
        dur = _da(np.array([float(techs[s]["duration_h"]) for s in ss]), {"s": ss})
        eff = _da(np.array([float(techs[s]["efficiency"]) for s in ss]), {"s": ss})
        m.add_constraints(ch - cap_s <= 0, name="charge_limit", mask=sto_mask)
        m.add_constraints(dis - cap_s <= 0, name="discharge_limit", mask=sto_mask)
        m.add_constraints(soc - dur * cap_s <= 0, name="soc_limit", mask=sto_mask)
        m.add_constraints(
            soc - soc.roll(t=1) - eff * ch + dis == 0, name="soc_balance", mask=sto_mask
        )
        balance = balance + (dis - ch).sum("s")

    # 3. electricity balance
    m.add_constraints(balance - load == 0, name="electricity_balance", mask=active)

    # 4. data centers
    dc_rows = it_exists
    m.add_constraints(it - cap_d.sum("k") <= 0, name="datacenter_capacity", mask=dc_rows)

    # 5-7. serving, compute, demand, sovereignty
    segs = ["training", "inference"]
    dem = np.zeros((len(segs), len(regions), len(years)))
    for (g, c, y), val in data.demand.items():
        dem[segs.index(g), regions.index(c), years.index(y)] = val / u
    gcy = {"g": segs, "c": regions, "y": years}
    dem_da = _da(dem, gcy)
    route = np.zeros((len(segs), len(regions), len(regions)), dtype=bool)  # (g, r host, c)
    for g, r, c in data.compute_routes:
        if g in segs:
            route[segs.index(g), regions.index(r), regions.index(c)] = True
    comp_exists = it_exists.values | (fleet_h > 0)  # compute keys ⊆ IT keys here
    serve_mask = route[:, :, :, None] & (dem > 0)[:, None, :, :] & comp_exists[None, :, None, :]
    grcy = {"g": segs, "r": regions, "c": regions, "y": years}
    serve = m.add_variables(lower=_zeros(grcy), mask=_da(serve_mask, grcy), name="serve")
    unserved = m.add_variables(lower=_zeros(gcy), mask=dem_da > 0, name="unserved")
    host_rows = _da(serve_mask.any(axis=(0, 2)), ry)
    m.add_constraints(serve.sum(["g", "c"]) - comp <= 0, name="compute_capacity", mask=host_rows)
    m.add_constraints(serve.sum("r") + unserved == dem_da, name="demand_balance", mask=dem_da > 0)
    share = np.array([[float(data.region[c][f"min_domestic_{g}"]) for c in regions] for g in segs])
    share_da = _da(share, {"g": segs, "c": regions})
    eye = _da(np.eye(len(regions)), {"r": regions, "c": regions})
    m.add_constraints(
        (serve * eye).sum("r") + share_da * unserved >= share_da * dem_da,
        name="sovereignty",
        mask=(dem_da > 0) & (share_da > 0),
    )

    # Objective: energy, unserved compute and fixed O&M (the part's cost lines), and with ``full``
    # the carbon and capital lines too (see the docstring).
    df_y = np.array([dv.df[y] for y in years])
    df = _da(df_y, {"y": years})
    vc = _da(np.array([float(techs[p]["variable_cost_usd"]) for p in ps]), {"p": ps})
    gp = _da(np.array([[data.grid_price[(r, y)] for y in years] for r in regions]), ry)
    value = np.zeros((len(segs), len(regions), len(years)))
    for (g, c, y), v in data.unserved_value.items():
        value[segs.index(g), regions.index(c), years.index(y)] = v / 1e6 * u
    obj: Any = (gen * (df * hours_da * vc / 1e6)).sum() + (grid * (df * hours_da * gp / 1e6)).sum()
    obj = obj + (unserved * (df * _da(value, gcy))).sum()
    for ks, cap, dim in ((ps, cap_p, "p"), (ss, cap_s, "s"), (ds, cap_d, "k")):
        if not ks:
            continue
        om = np.array(
            [
                [
                    [data.fixed_om.get((k, r, y), 0.0) * dv.cap_unit(k) for y in years]
                    for r in regions
                ]
                for k in ks
            ]
        )
        om_cost = (cap * _da(om * df_y, {dim: ks, "r": regions, "y": years})).sum()
        # existing capacity's O&M is a constant (the planner's offset; linopy takes none)
        obj = obj + (om_cost - om_cost.const)
    if full:
        obj = obj + _full_costs(data, dv, ps, regions, years, hours_da, gen, grid, df)
        obj = obj + _capital(data, dv, regions, years, m)
    m.add_objective(obj)
    return m


def _full_costs(data, dv, ps, regions, years, hours_da, gen, grid, df) -> Any:
    """The carbon line: Σ_y DF_y/10⁶ · carbon_price_y · E_y with E_y over generation and grid."""
    price = _da(np.array([data.carbon_price.get(y, 0.0) for y in years]), {"y": years})
    co2 = _da(np.array([float(data.tech[p]["co2_t"]) for p in ps]), {"p": ps})
    gco2 = np.array([[data.grid_co2[(r, y)] for y in years] for r in regions])
    g_co2 = _da(gco2, {"r": regions, "y": years})
    w = df * price / 1e6 * hours_da
    return (gen * (w * co2)).sum() + (grid * (w * g_co2)).sum()


def _capital(data, dv, regions, years, m: linopy.Model) -> Any:
    """The capital line as an annuity on each build and deployment at the region's wacc."""
    from optimizer.model import crf

    total: Any = 0
    for cls, dim in (("power", "p"), ("storage", "s"), ("datacenter", "k")):
        ks = data.techs_of(cls)
        if not ks:
            continue
        af = np.zeros((len(ks), len(regions), len(years)))
        for i, k in enumerate(ks):
            lead, life = float(data.tech[k]["lead"]), float(data.tech[k]["life"])
            on = [sum(dv.df[y] for y in years if dv.online(lead, life, v, y)) for v in years]
            for j, r in enumerate(regions):
                f = dv.cap_unit(k) * crf(float(data.region[r]["wacc"]), life)
                for a, v in enumerate(years):
                    c = data.capex.get((k, r, v))
                    if c:
                        af[i, j, a] = c * f * on[a]
        build = m.variables[f"build_{cls}"]
        total = total + (build * _da(af, {dim: ks, "r": regions, "v": years})).sum()
    acc = data.accelerators
    if len(acc):
        af = np.zeros((len(regions), len(years)))
        c = [float(acc.at[v, "system_capex_usd"]) / 1e6 * dv.unit for v in years]
        on = [sum(dv.df[y] for y in years if dv.alive(v, y)) for v in years]
        for j, r in enumerate(regions):
            wacc = float(data.region[r]["wacc"])
            for a, v in enumerate(years):
                af[j, a] = c[a] * crf(wacc, dv.acc_life[v]) * on[a]
        total = total + (m.variables["deploy"] * _da(af, {"r": regions, "v": years})).sum()
    return total
