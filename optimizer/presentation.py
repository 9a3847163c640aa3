"""What the results workbook shows a reader: labels, units, scales and printable views (DESIGN §3, §6).

The tables of :mod:`optimizer.results` stay in the model's units (§3: $M, MW, H100e, units, tCO2), so
``compare``, calibration, sweeps and tests read the numbers they always read. This module only
decides how a person sees them:

- :data:`METRICS`: a plain-language label and the unit of every Summary metric (by name; a metric
  not listed is described from its name's suffix, so a new metric is never unlabelled).
- :func:`scale_for` / :func:`scaled_format`: the unit people say (GW, B$ or T$, M H100e) for a
  magnitude, and an Excel number format that shows a stored value in it. A Summary value stays in
  $M (what ``objective_musd`` means) and is *displayed* in T$ by the format; its unit column names
  the displayed unit.
- :data:`COLUMN_UNITS`: the unit of each column of the detail sheets, for their visible units row.
- :func:`headline_by_year`: the report's table by year (data centers, power by class, accelerators,
  capital, prices, emissions, unserved), in the units people say.
- :func:`price_summary`: the printable view of the Prices sheet (averages by region or segment ×
  year instead of one row per time slice).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from optimizer.schema import ACCELERATOR, UNSERVED_HOST

UNITS_ROW_MARKER = "(unit)"
"""Column A of the units row (row 2) of every detail sheet: how a reader knows to skip it."""

HOURS_PER_YEAR = 8760.0

# ---------------------------------------------------------------------------------------------
# Units and scales
# ---------------------------------------------------------------------------------------------

_SCALES: dict[str, tuple[tuple[float, str], ...]] = {
    # base unit → (factor, unit shown), largest first; the first factor ≤ the magnitude is used
    "$M": ((1e6, "T$"), (1e3, "B$"), (1.0, "$M")),
    "MW": ((1e3, "GW"), (1.0, "MW")),
    "MWh": ((1e6, "TWh"), (1e3, "GWh"), (1.0, "MWh")),
    "H100e": ((1e6, "M H100e"), (1e3, "thousand H100e"), (1.0, "H100e")),
    "tCO2": ((1e6, "MtCO2"), (1e3, "ktCO2"), (1.0, "tCO2")),
    "units": ((1e6, "M units"), (1e3, "thousand units"), (1.0, "units")),
    "units/yr": ((1e6, "M units/yr"), (1e3, "thousand units/yr"), (1.0, "units/yr")),
    "chips": ((1e6, "M chips"), (1e3, "thousand chips"), (1.0, "chips")),
}


def scale_for(unit: str, magnitude: float) -> tuple[float, str]:
    """The factor and unit people use for numbers of about ``magnitude`` in ``unit``.

    ``scale_for("$M", 3.1e6)`` is ``(1e6, "T$")``; a unit without scales (``$/MWh``) or a zero,
    NaN or tiny magnitude keeps ``(1.0, unit)``.
    """
    steps = _SCALES.get(unit)
    if not steps or not isinstance(magnitude, int | float) or not math.isfinite(magnitude):
        return 1.0, unit
    m = abs(float(magnitude))
    for factor, shown in steps:
        if m >= factor:
            return factor, shown
    return 1.0, unit


def scaled_format(factor: float, decimals: int = 2) -> str:
    """An Excel number format showing a value divided by ``factor`` (1, 1e3, 1e6, …).

    Each trailing comma divides by 1,000 (Excel and LibreOffice): the cell keeps the exact value
    in the base unit, which is what formulas and machine readers see.
    """
    commas = round(math.log10(factor) / 3) if factor > 1 else 0
    body = "#,##0" + ("." + "0" * decimals if decimals else "")
    return body + "," * commas


# ---------------------------------------------------------------------------------------------
# Summary metrics
# ---------------------------------------------------------------------------------------------

METRICS: dict[str, tuple[str, str]] = {
    # metric: (plain-language label, unit of the stored value)
    "scenario": ("Scenario of this run", ""),
    "objective_musd": ("Total cost of the plan, net present value (the objective)", "$M"),
    "status": ("Solver status: optimal, feasible (stopped early), infeasible, …", ""),
    "termination": ("Why the solver stopped", ""),
    "solve_seconds": ("Time to solve", "s"),
    "build_seconds": ("Time to build the model", "s"),
    "mip_gap": ("Gap to the best bound (0 = proven optimum)", "share"),
    "variables": ("Variables in the model", "count"),
    "constraints": ("Constraints in the model", "count"),
    "unserved_h100e": ("Compute demand left unserved, summed over years", "H100e"),
    "idle_h100e": ("Accelerators alive but idle, summed over years", "H100e"),
    "capital_musd": ("Capital raised, all years, undiscounted", "$M"),
    "cost_capital_musd": ("Cost: capital (annuities of what is built)", "$M"),
    "cost_fixed_om_musd": ("Cost: fixed operation and maintenance", "$M"),
    "cost_energy_musd": ("Cost: fuel, grid power and other energy", "$M"),
    "cost_carbon_musd": ("Cost: carbon price on emissions", "$M"),
    "cost_supply_chain_musd": ("Cost: chips, components and shipping bought", "$M"),
    "cost_unserved_musd": ("Cost: value of compute demand left unserved", "$M"),
    "cost_bets_musd": ("Cost: R&D bets funded", "$M"),
    "message": ("Note from the solver or the planner", ""),
    # hedging plans (§8.1)
    "expected_cost_musd": ("Expected cost over the futures", "$M"),
    "cvar_musd": ("Cost of the worst futures (CVaR)", "$M"),
    "cvar_weight": ("Weight on the worst futures in the objective", "share"),
    "cvar_alpha": ("Share of futures counted as not worst (CVaR alpha)", "share"),
    "stage_year": ("First year decided after the future is known", "year"),
    "leaves": ("Futures planned for (leaves of the tree)", "count"),
    "cost_min_musd": ("Cost in the cheapest future", "$M"),
    "cost_max_musd": ("Cost in the dearest future", "$M"),
    "ev_objective_musd": ("Cost of planning for the average future (EV)", "$M"),
    "eev_musd": ("Expected cost of the average-future plan (EEV)", "$M"),
    "vss_musd": ("Value of hedging: EEV minus the hedged plan (VSS)", "$M"),
    "ws_expected_musd": ("Expected cost with perfect foresight (wait and see)", "$M"),
    "evpi_musd": ("Value of perfect information (EVPI)", "$M"),
    "mpisppy_method": ("mpi-sppy method", ""),
    "mpisppy_status": ("mpi-sppy status", ""),
    "mpisppy_objective_musd": ("mpi-sppy objective", "$M"),
    "ph_lower_bound_musd": ("Progressive hedging lower bound", "$M"),
    "ph_gap": ("Progressive hedging gap", "share"),
    "ph_iterations": ("Progressive hedging iterations run", "count"),
    "ph_iteration_limit": ("Progressive hedging iteration limit", "count"),
    "ph_rho": ("Progressive hedging rho", ""),
    "ph_convthresh": ("Progressive hedging convergence threshold", ""),
    "ph_conv": ("Progressive hedging convergence metric", ""),
}
"""Label and unit of each Summary metric; a metric listed nowhere is described by
:func:`describe_metric` from its name."""

_PER_LEAF = {
    "cost_musd": ("Cost in future {}", "$M"),
    "probability": ("Probability of future {}", "share"),
    "ws_musd": ("Cost of future {} with perfect foresight", "$M"),
}

_SUFFIX_UNITS = (
    ("_musd", "$M"),
    ("_h100e", "H100e"),
    ("_seconds", "s"),
    ("_mw", "MW"),
    ("_mwh", "MWh"),
    ("_tco2", "tCO2"),
    ("_year", "year"),
)


def describe_metric(metric: str) -> tuple[str, str]:
    """(label, unit of the stored value) of a Summary metric."""
    if metric in METRICS:
        return METRICS[metric]
    base, bracket, rest = metric.partition("[")
    if bracket and base in _PER_LEAF:
        label, unit = _PER_LEAF[base]
        return label.format(rest.rstrip("]")), unit
    unit = next((u for s, u in _SUFFIX_UNITS if base.endswith(s)), "")
    return metric.replace("_", " "), unit


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def summary_display(metric: str, value: Any) -> tuple[str, str, str | None]:
    """(label, unit shown, Excel number format) for one Summary row.

    Money is shown in B$ or T$ when it is that large, H100e in millions, and so on
    (:func:`scale_for`); the stored value keeps the metric's own unit.
    """
    label, unit = describe_metric(metric)
    if isinstance(value, bool):
        return label, "", None
    if not _is_number(value):
        return label, unit if value is not None else unit, None
    v = float(value)
    if unit == "share":
        return label, "", "0.00E+00" if v and abs(v) < 1e-3 else "0.0000"
    if unit == "year":
        return label, "", "0"
    if unit == "count":
        return label, "", "#,##0"
    if unit == "s":
        return label, "s", "#,##0.0"
    factor, shown = scale_for(unit, v)
    if v and abs(v) < 0.01:
        return label, unit, "0.00E+00"  # 0.003 $M must not read 0.00
    if unit in _SCALES:
        return label, shown, scaled_format(factor, 2)
    return label, unit, "#,##0.00"


def yes_no(value: Any) -> Any:
    """A boolean as the word a reader expects; anything else unchanged."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


YES_NO_FORMAT = '[=1]"yes";[=0]"no";0.00'
"""A 0/1 number (e.g. Bets.funded) shown as yes/no; the cell keeps the number."""

# ---------------------------------------------------------------------------------------------
# Units of the detail sheets
# ---------------------------------------------------------------------------------------------

COLUMN_UNITS: dict[str, str] = {
    # by column name, whatever the sheet; SHEET_COLUMN_UNITS overrides for one sheet
    "built": "MW or units/yr",
    "capacity": "MW or units/yr",
    "musd": "$M",
    "rd_cost_musd": "$M",
    "worth_musd": "$M",
    "produced": "units/yr",
    "bought": "units/yr",
    "shipped_in": "units/yr",
    "shipped_out": "units/yr",
    "units": "units/yr",
    "served": "H100e",
    "unserved": "H100e",
    "mwh": "MWh/yr",
    "curtailed_mwh": "MWh/yr",
    "tco2": "tCO2/yr",
    "value": "see unit",
    "probability": "share",
    "funded": "yes/no",
    "active_h100e": "H100e",
    "idle_h100e": "H100e",
    "hours": "h/yr",
}
SHEET_COLUMN_UNITS: dict[str, dict[str, str]] = {
    "Chips": {"deployed": "units/yr"},
    "Fleet": {"deployed": "chips", "active": "chips", "idle": "chips"},
}


def column_unit(sheet: str, column: str) -> str:
    """The unit shown above ``column`` of ``sheet`` in the units row ('' for keys and labels)."""
    return SHEET_COLUMN_UNITS.get(sheet, {}).get(column, COLUMN_UNITS.get(column, ""))


# ---------------------------------------------------------------------------------------------
# Report tables
# ---------------------------------------------------------------------------------------------


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").fillna(0.0).astype(float)


def _by_year(df: pd.DataFrame | None, value: str, mask: pd.Series | None = None) -> pd.Series:
    if df is None or df.empty or value not in df.columns:
        return pd.Series(dtype=float)
    if mask is not None:
        df = df[mask]
    return _num(df[value]).groupby(_num(df["year"]).astype(int)).sum()


_PRICE_KEYS = ("price", "region", "segment", "year", "slice", "partner", "unit")


def _prices(t: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    """The Prices table; a hedging plan's (one copy per outcome) as probability-weighted means."""
    p = t.get("Prices")
    if p is None or p.empty or "outcome" not in p.columns or "probability" not in p.columns:
        return p
    keys = [k for k in _PRICE_KEYS if k in p.columns]
    work = p.assign(
        _pv=_num(p["value"]) * _num(p["probability"]),
        **{k: p[k].fillna("") for k in keys if k != "year"},
    )
    agg = {"_pv": "sum", **({"hours": "first"} if "hours" in p.columns else {})}
    out = work.groupby(keys, dropna=False).agg(agg).reset_index().rename(columns={"_pv": "value"})
    return out.replace({k: {"": None} for k in keys if k != "year"})


def _compute_price(t: Mapping[str, pd.DataFrame]) -> pd.Series:
    """Demand-weighted compute price by year, $/H100e-year (the demand balance's duals)."""
    p, c = _prices(t), t.get("Compute")
    if p is None or p.empty or c is None:
        return pd.Series(dtype=float)
    p = p[p["price"] == "compute"]
    if p.empty:
        return pd.Series(dtype=float)
    demand = (
        (_num(c["served"]) + _num(c["unserved"]))
        .groupby([c["consumer"], c["segment"], _num(c["year"]).astype(int)])
        .sum()
    )
    out = {}
    for y, g in p.groupby(_num(p["year"]).astype(int)):
        w = [
            float(demand.get((r, s, y), 0.0))
            for r, s in zip(g["region"], g["segment"], strict=True)
        ]
        vals = _num(g["value"]).to_numpy()
        out[y] = float((vals * w).sum() / sum(w)) if sum(w) > 0 else float(pd.Series(vals).median())
    return pd.Series(out, dtype=float)


def _slice_weights(p: pd.DataFrame) -> pd.Series:
    """Hours of each electricity price row's slice (1 each when the table does not say)."""
    if "hours" in p.columns:
        return _num(p["hours"]).where(_num(p["hours"]) > 0, 1.0)
    return pd.Series(1.0, index=p.index)


def electricity_by_region(t: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Time-weighted average electricity price, $/MWh, by region (rows) and year (columns)."""
    p = _prices(t)
    if p is None or p.empty:
        return pd.DataFrame()
    p = p[p["price"] == "electricity"]
    if p.empty:
        return pd.DataFrame()
    w = _slice_weights(p)
    work = pd.DataFrame(
        {
            "region": p["region"].astype(str),
            "year": _num(p["year"]).astype(int),
            "wv": _num(p["value"]) * w,
            "w": w,
        }
    )
    g = work.groupby(["region", "year"])[["wv", "w"]].sum()
    return (g["wv"] / g["w"]).unstack("year").sort_index()


def _electricity_price(t: Mapping[str, pd.DataFrame]) -> pd.Series:
    """Electricity price by year, $/MWh: each region's time-weighted average weighted by the
    electricity the region supplies in that year (Energy)."""
    by_region = electricity_by_region(t)
    if by_region.empty:
        return pd.Series(dtype=float)
    e = t.get("Energy")
    out = {}
    for y in by_region.columns:
        prices = by_region[y].dropna()
        if e is not None and not e.empty:
            ey = e[_num(e["year"]).astype(int) == y]
            load = _num(ey["mwh"]).groupby(ey["region"].astype(str)).sum().clip(lower=0.0)
            w = load.reindex(prices.index).fillna(0.0)
        else:
            w = pd.Series(0.0, index=prices.index)
        out[y] = float((prices * w).sum() / w.sum()) if w.sum() > 0 else float(prices.mean())
    return pd.Series(out, dtype=float)


def headline_by_year(t: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The Summary's table by year, in the units people say: one row per measure (``what``,
    ``unit``), one column per model year.

    Rows: data-center capacity (GW), power capacity by class and, within class ``power``, by
    technology (GW), fab capacity, accelerators deployed (M chips), compute served and unserved
    (M H100e), capital raised (B$), compute price ($/H100e-hour, demand-weighted), electricity
    price ($/MWh, time- and supply-weighted), emissions (MtCO2). Tables of a hedging plan are
    expected values (the caller weights them). Rows with nothing in any year are left out.
    """
    rows: list[tuple[str, str, pd.Series]] = []
    cap = t.get("Capacity")
    if cap is not None and not cap.empty:
        cls = cap["class"].astype(str)
        rows.append(
            ("Data-center capacity", "GW", _by_year(cap, "capacity", cls == "datacenter") / 1e3)
        )
        for c in sorted(set(cls) - {"datacenter", "fab"}):
            rows.append((f"Power capacity: {c}", "GW", _by_year(cap, "capacity", cls == c) / 1e3))
            if c == "power":
                techs = cap.loc[cls == c, "tech"].astype(str)
                for k in sorted(set(techs)):
                    mask = (cls == c) & (cap["tech"].astype(str) == k)
                    rows.append((f"  of which {k}", "GW", _by_year(cap, "capacity", mask) / 1e3))
    ch = t.get("Chips")
    if ch is not None and not ch.empty:
        acc = ch["commodity"] == ACCELERATOR
        rows.append(("Accelerators deployed", "M chips", _by_year(ch, "deployed", acc) / 1e6))
    comp = t.get("Compute")
    if comp is not None and not comp.empty:
        served = comp["host"] != UNSERVED_HOST
        rows.append(("Compute served", "M H100e", _by_year(comp, "served", served) / 1e6))
        rows.append(("Compute demand unserved", "M H100e", _by_year(comp, "unserved") / 1e6))
    rows.append(("Capital raised", "B$", _by_year(t.get("Capital"), "musd") / 1e3))
    rows.append(("Compute price", "$/H100e-hour", _compute_price(t) / HOURS_PER_YEAR))
    rows.append(("Electricity price", "$/MWh", _electricity_price(t)))
    rows.append(("Emissions", "MtCO2", _by_year(t.get("Emissions"), "tco2") / 1e6))
    years = sorted({int(y) for _, _, s in rows for y in s.index})
    keep = [(w, u, s) for w, u, s in rows if len(s) and (s.abs() > 0).any()]
    # the two unserved/served rows are kept even at zero: "nothing unserved" is the news
    for w, u, s in rows:
        if w == "Compute demand unserved" and (w, u, s) not in keep and len(years):
            keep.append((w, u, pd.Series(0.0, index=years)))
    order = [w for w, _, _ in rows]
    keep.sort(key=lambda r: order.index(r[0]))
    data = [[w, u, *[float(s.get(y, 0.0)) for y in years]] for w, u, s in keep]
    return pd.DataFrame(data, columns=["what", "unit", *[str(y) for y in years]])


def price_summary(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, pd.DataFrame]]:
    """The printable view of the Prices sheet: (title, table by year) pairs.

    Electricity: time-weighted average $/MWh by region. Compute: $/H100e-hour by consumer region
    and segment. Budgets: the saving per extra $ of each partner's budget. The Prices sheet keeps
    every row (each slice); this is what a reader prints.
    """
    out: list[tuple[str, pd.DataFrame]] = []
    el = electricity_by_region(t)
    if not el.empty:
        df = el.reset_index()
        df.columns = ["region", *[str(c) for c in el.columns]]
        out.append(("Electricity price, $/MWh (average over the year's hours)", df))
    p = _prices(t)
    if p is None or p.empty:
        return out
    for kind, keys, title, scale in (
        ("compute", ["region", "segment"], "Compute price, $/H100e-hour", 1 / HOURS_PER_YEAR),
        ("budget", ["partner"], "Budget shadow price, $ NPV saved per extra $ of budget", 1.0),
    ):
        q = p[p["price"] == kind]
        if q.empty:
            continue
        work = q.assign(
            _v=_num(q["value"]) * scale,
            year=_num(q["year"]).astype(int),
            **{k: q[k].fillna("").astype(str) for k in keys},
        )
        piv = work.pivot_table(index=keys, columns="year", values="_v", aggfunc="mean")
        df = piv.reset_index()
        df.columns = [*keys, *[str(c) for c in piv.columns]]
        out.append((title, df))
    return out


def read_results_workbook(path: Any) -> dict[str, pd.DataFrame]:
    """The tidy tables of a results workbook written by ``solve``, as pandas reads them, without
    what is there for people: the units row under each detail sheet's header (column A
    ``(unit)``) and, on the Summary, everything below its metrics (the note and the headline
    table). The Summary keeps its ``unit`` and ``label`` columns; display-only sheets
    (Dashboard, PriceSummary) are left out.

    With pandas alone: ``pd.read_excel(path, sheet_name="Capacity", skiprows=[1])``.
    """
    book = pd.read_excel(path, sheet_name=None, keep_default_na=False, na_values=[""])
    out: dict[str, pd.DataFrame] = {}
    for name, df in book.items():
        if name in ("Dashboard", "PriceSummary"):
            continue
        if len(df) and str(df.iloc[0, 0]) == UNITS_ROW_MARKER:
            df = df.iloc[1:].reset_index(drop=True)
            df = _renumber(df)
        if name == "Summary" and len(df):
            blank = df.isna().all(axis=1).to_numpy()
            if blank.any():
                df = df.iloc[: int(blank.argmax())]
            df = df.dropna(axis=1, how="all")
        out[name] = df
    return out


def _renumber(df: pd.DataFrame) -> pd.DataFrame:
    """Columns that were text only because of the units row, as numbers again."""
    out = df.copy()
    for c in out.columns:
        num = pd.to_numeric(out[c], errors="coerce")
        if num.notna().sum() == out[c].notna().sum():
            whole = num.notna().all() and bool((num == num.round()).all())
            out[c] = num.astype("int64") if whole and str(c).endswith("year") else num
    return out
