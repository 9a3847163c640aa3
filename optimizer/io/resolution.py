"""Resolution: typed sheets to the plain dicts and frames the model reads (DESIGN §4.2, §5.2).

Defaults applied, wildcards expanded (the most specific row wins), years interpolated, rule sheets
matched (the most specific rows win, on a tie FALSE), existing capacity counted in the years it is
in service. A level of rows mixing a blank year with given years is the one problem found here;
everything else was checked by :mod:`optimizer.io.validation`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimizer.io.cells import TypedBook, with_defaults
from optimizer.io.problems import Problem
from optimizer.io.settings import Settings
from optimizer.schema import ACCELERATOR, SEGMENTS, SHEETS_BY_NAME

HOURS_PER_YEAR = 8760.0


def interpolate(points: list[tuple[int, float]], year: int) -> float:
    """Linear interpolation between given (year, value) points, held flat outside them (§4.2)."""
    points = sorted(points)
    if year <= points[0][0]:
        return points[0][1]
    if year >= points[-1][0]:
        return points[-1][1]
    for (y0, v0), (y1, v1) in zip(points, points[1:], strict=False):
        if y0 <= year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    raise AssertionError("unreachable")


def resolve(
    df: pd.DataFrame,
    sheet: str,
    fixed: list[str],
    wild: list[str],
    year_col: str | None,
    values: list[str],
    targets: list[tuple],
    years: list[int],
    problems: list[Problem],
    cell: Callable[[str, int], str] | None = None,
) -> dict[str, dict[tuple, float]]:
    """Resolve value columns for target keys ``fixed + wild`` (and each model year when ``year_col``).

    For each value column separately, the most specific level of the wildcard keys that gives it wins
    (earlier wildcard columns weigh more: (r,g) > (r,·) > (·,g) > (·,·)); within that level rows with
    years are interpolated; a level mixing a blank-year row with year rows is an error.
    Returns ``{value: {target(+year): number}}`` holding only resolved entries. ``cell(column, i)``,
    when given, is the address of data row ``i``'s cell in ``column`` (to point at a blank-year row).
    """
    out: dict[str, dict[tuple, float]] = {v: {} for v in values}
    if df.empty:
        return out
    keycols = fixed + wild
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, key in enumerate(
        zip(*(df[c] for c in keycols), strict=False) if keycols else [()] * len(df)
    ):
        groups[tuple(key)].append(i)
    # Specificity levels: every subset of wildcard columns, ordered as §5.2 says.
    nw = len(wild)
    levels = sorted(
        [tuple(bool(m >> (nw - 1 - j) & 1) for j in range(nw)) for m in range(2**nw)],
        key=lambda spec: tuple(not s for s in spec),
    )
    yrs = df[year_col].tolist() if year_col else None
    reported: set[tuple] = set()
    for target in targets:
        fx, wd = target[: len(fixed)], target[len(fixed) :]
        for v in values:
            col = df[v].tolist()
            for spec in levels:
                key = fx + tuple(w if s else None for w, s in zip(wd, spec, strict=False))
                rows = [i for i in groups.get(key, ()) if col[i] is not None]
                if not rows:
                    continue
                if year_col is None:
                    out[v][target] = float(col[rows[-1]])
                    break
                blank = [i for i in rows if yrs[i] is None]
                dated = [i for i in rows if yrs[i] is not None]
                if blank and dated:
                    tag = (key, v)
                    if tag not in reported:
                        reported.add(tag)
                        problems.append(
                            Problem(
                                sheet,
                                cell(year_col, blank[0]) if cell else "",
                                f"rows{' for ' + key_text(keycols, key) if keycols else ''} mix a blank year with given years for {v}",
                                "either one row with a blank year or rows with years",
                            )
                        )
                    break
                if blank:
                    for y in years:
                        out[v][(*target, y)] = float(col[blank[-1]])
                else:
                    pts = [(int(yrs[i]), float(col[i])) for i in dated]
                    for y in years:
                        out[v][(*target, y)] = interpolate(pts, y)
                break
    return out


def resolve_sheet(
    book: TypedBook,
    sheet: str,
    fixed: list[str],
    wild: list[str],
    values: list[str],
    targets: list[tuple],
    years: list[int],
) -> dict[str, dict[tuple, float]]:
    """:func:`resolve` of one sheet of ``book`` by its ``year`` column, problems naming its cells."""
    return resolve(
        book[sheet],
        sheet,
        fixed,
        wild,
        "year",
        values,
        targets,
        years,
        book.problems,
        book.cells(sheet),
    )


def key_text(cols: list[str], key: tuple) -> str:
    """``col=value, …`` naming one key in a message; a blank (wildcard) field reads ``(all)``."""
    return ", ".join(f"{c}={'(all)' if k is None else k}" for c, k in zip(cols, key, strict=False))


def route_table(df: pd.DataFrame, keycols: list[str]) -> dict[tuple, list[tuple[int, tuple]]]:
    """Index rule rows by their key pattern for fast most-specific matching."""
    out: dict[tuple, list[tuple[int, tuple]]] = defaultdict(list)
    cols = [df[c].tolist() for c in keycols]
    for i in range(len(df)):
        pat = tuple(c[i] for c in cols)
        out[pat].append((i, pat))
    return out


def match_rules(index: dict[tuple, list[tuple[int, tuple]]], target: tuple) -> list[int]:
    """Most-specific rule rows for ``target`` using all 2^n blank patterns (cheap for n ≤ 3)."""
    n = len(target)
    best, rows = -1, []
    for m in range(2**n):
        pat = tuple(t if (m >> j) & 1 else None for j, t in enumerate(target))
        hits = index.get(pat)
        if not hits:
            continue
        k = bin(m).count("1")
        if k > best:
            best, rows = k, [i for i, _ in hits]
        elif k == best:
            rows.extend(i for i, _ in hits)
    return rows


def in_service(start: int | None, retire: int | None, year: int) -> bool:
    """``start_year ≤ year < retire_year``, a blank start meaning always and a blank retire never."""
    return (start is None or start <= year) and (retire is None or year < retire)


# ---------------------------------------------------------------------------------------------------------
# The ids every other sheet refers to
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ids:
    """What the other sheets refer to, resolved first (frames indexed by id, defaults applied, the
    first of repeated rows kept: a repeat is a problem of its own)."""

    years: list[int]
    regions: pd.DataFrame  # index region
    slices: list[str]
    techs: pd.DataFrame  # index tech
    commodities: list[str]  # Commodities, fab outputs, FabInputs, then the accelerator
    partners: pd.DataFrame  # index partner
    tech_classes: dict[str, str]  # tech -> class

    @property
    def regions_l(self) -> list[str]:
        """Region ids in sheet order."""
        return list(self.regions.index)


def model_years(book: TypedBook) -> list[int]:
    """The given years of the Years sheet, in sheet order."""
    return [y for y in book["Years"]["year"].tolist() if y is not None]


def ids(book: TypedBook, years: list[int]) -> Ids:
    """Resolve the id sheets: Regions, TimeSlices, Technologies, the commodities, Partners."""
    regions = (
        with_defaults(book["Regions"], SHEETS_BY_NAME["Regions"])
        .drop_duplicates("region")
        .set_index("region")
    )
    techs = (
        with_defaults(book["Technologies"], SHEETS_BY_NAME["Technologies"])
        .drop_duplicates("tech")
        .set_index("tech")
    )
    # capacity_credit (v2) defaults to the tech's availability cell (§5.2); for fab and datacenter techs
    # it is ignored, so it is left as given.
    if len(techs):
        techs["capacity_credit"] = [
            a if c is None and cls in ("power", "storage") else c
            for c, a, cls in zip(
                techs["capacity_credit"], techs["availability"], techs["class"], strict=True
            )
        ]
    commodities: list[str] = []
    for m in [
        *book["Commodities"]["commodity"].tolist(),
        *[o for o in techs["output"].tolist() if o is not None],
        *book["FabInputs"]["commodity"].tolist(),
        ACCELERATOR,
    ]:
        if m is not None and m not in commodities:
            commodities.append(m)
    partners = (
        with_defaults(book["Partners"], SHEETS_BY_NAME["Partners"])
        .drop_duplicates("partner")
        .set_index("partner")
    )
    slices = [s for s in book["TimeSlices"]["slice"].tolist() if s is not None]
    classes = dict(zip(techs.index, techs["class"], strict=True))
    return Ids(years, regions, slices, techs, commodities, partners, classes)


# ---------------------------------------------------------------------------------------------------------
# Each sheet's values, as InputData fields
# ---------------------------------------------------------------------------------------------------------
def time_axis(book: TypedBook, settings: Settings, years: list[int]) -> dict[str, Any]:
    """Years, the length of each period (the last from Settings), carbon price and cap by year."""
    yd = book["Years"]
    period_length = {
        y: (years[i + 1] - y if i + 1 < len(years) else settings.last_period_length)
        for i, y in enumerate(years)
    }
    carbon_price = {
        y: float(p) if p is not None else 0.0
        for y, p in zip(yd["year"], yd["carbon_price_usd"], strict=False)
        if y is not None
    }
    co2_cap = {
        y: float(c)
        for y, c in zip(yd["year"], yd["co2_cap_t"], strict=False)
        if y is not None and c is not None
    }
    return {
        "years": tuple(years),
        "period_length": period_length,
        "carbon_price": carbon_price,
        "co2_cap": co2_cap,
    }


def time_slices(book: TypedBook, ids: Ids) -> dict[str, Any]:
    """Slices with their day and hours, and each slice's predecessor (cyclic within its day)."""
    sd = book["TimeSlices"]
    slice_day = {s: d for s, d in zip(sd["slice"], sd["day"], strict=False) if s is not None}
    slice_hours = {
        s: float(h) if h is not None else 0.0
        for s, h in zip(sd["slice"], sd["hours"], strict=False)
        if s is not None
    }
    slice_prev: dict[str, str] = {}
    by_day: dict[str, list[str]] = defaultdict(list)
    for s in ids.slices:
        by_day[slice_day[s]].append(s)
    for day_slices in by_day.values():
        for i, s in enumerate(day_slices):
            slice_prev[s] = day_slices[i - 1]  # cyclic within the day (i-1 = -1 wraps)
    return {
        "slices": tuple(ids.slices),
        "slice_day": slice_day,
        "slice_hours": slice_hours,
        "slice_prev": slice_prev,
    }


def fab_inputs(book: TypedBook, years: list[int]) -> dict[str, Any]:
    """The bill of materials by year (v2): resolved like the other sheets with key (tech, commodity)."""
    fd = book["FabInputs"]
    fres = resolve_sheet(
        book,
        "FabInputs",
        ["tech", "commodity"],
        [],
        ["quantity"],
        list(
            dict.fromkeys(
                (f, c)
                for f, c in zip(fd["tech"], fd["commodity"], strict=True)
                if f is not None and c is not None
            )
        ),
        years,
    )
    return {"fab_inputs": fres["quantity"]}


def tech_costs(book: TypedBook, ids: Ids) -> dict[str, Any]:
    """capex, fixed O&M and build limits for every (tech, region, year)."""
    fields = {
        "capex": "capex_musd",
        "fixed_om": "fixed_om_musd",
        "max_build": "max_build",
        "max_capacity": "max_capacity",
    }
    cols = list(fields.values())
    res = resolve_sheet(
        book,
        "TechCosts",
        ["tech"],
        ["region"],
        cols,
        [(k, r) for k in ids.techs.index for r in ids.regions_l],
        ids.years,
    )
    return {name: res[col] for name, col in fields.items()}


def profiles(book: TypedBook, ids: Ids) -> dict[str, Any]:
    """Availability by (power tech, region, slice) where a Profiles row overrides ``availability``."""
    pr = book["Profiles"]
    power = [k for k in ids.techs.index if ids.techs.at[k, "class"] == "power"]
    profiled = {k for k in pr["tech"].tolist() if k is not None}
    # resolve keys by (tech, region); profiles also key on slice, so resolve per slice by grouping.
    cf: dict[tuple[str, str, str], float] = {}
    if not pr.empty:
        for h in set(pr["slice"].tolist()):
            sub = pr[pr["slice"] == h].reset_index(drop=True)
            r2 = resolve(
                sub,
                "Profiles",
                ["tech"],
                ["region"],
                None,
                ["cf"],
                [(p, r) for p in power if p in profiled for r in ids.regions_l],
                ids.years,
                book.problems,
            )
            for (p, r), v in r2["cf"].items():
                cf[(p, r, h)] = v
    return {"cf": cf}


def existing(book: TypedBook, years: list[int]) -> dict[str, Any]:
    """Existing capacity and the existing fleet in each model year they are in service.

    A row counts in model year y when start_year ≤ y < retire_year (blank start = always, blank
    retire = never); a start between model years thus counts from the first model year ≥ it (§5.2).
    """
    existing: dict[tuple[str, str, int], float] = defaultdict(float)
    ed = book["ExistingCapacity"]
    for k, r, c, sy, ry in zip(
        ed["tech"], ed["region"], ed["capacity"], ed["start_year"], ed["retire_year"], strict=True
    ):
        if k is None or r is None or c is None:
            continue
        for y in years:
            if in_service(sy, ry, y):
                existing[(k, r, y)] += float(c)
    # ExistingFleet rows of one region available in one year are pooled (§5.2); a row with h100e 0
    # has no compute and adds nothing to IT.
    fleet_h: dict[tuple[str, int], float] = defaultdict(float)
    fleet_k: dict[tuple[str, int], float] = defaultdict(float)
    fl = book["ExistingFleet"]
    for r, h, kw, sy, ry in zip(
        fl["region"], fl["h100e"], fl["kw_it"], fl["start_year"], fl["retire_year"], strict=True
    ):
        if r is None or h is None or kw is None or h == 0:
            continue
        for y in years:
            if in_service(sy, ry, y):
                fleet_h[(r, y)] += float(h)
                fleet_k[(r, y)] += float(kw)
    return {"existing": dict(existing), "fleet_h100e": dict(fleet_h), "fleet_kw": dict(fleet_k)}


def accelerators(book: TypedBook, years: list[int]) -> dict[str, Any]:
    """Accelerator vintages by model year.

    A resolved sheet (§4.2): a blank-year row applies to every vintage, year rows are interpolated,
    each column on its own; a column no row gives takes its default.
    """
    ad = book["Accelerators"]
    acc_cols = ["h100e_per_chip", "kw_per_chip", "system_capex_usd", "life"]
    acc_rows: dict[int, dict[str, float]] = {}
    if not ad.empty:
        ares = resolve_sheet(book, "Accelerators", [], [], acc_cols, [()], years)
        decl = SHEETS_BY_NAME["Accelerators"]
        for col in acc_cols:
            default = decl.column(col).default
            for y in years:
                v = ares[col].get((y,))
                if v is None:
                    v = math.nan if default is None else float(default)
                acc_rows.setdefault(y, {})[col] = v
    frame = (
        pd.DataFrame.from_dict(acc_rows, orient="index")
        if acc_rows
        else pd.DataFrame(columns=acc_cols)
    )
    return {"accelerators": frame}


def commodity_prices(book: TypedBook, ids: Ids) -> dict[str, Any]:
    """External price and purchase limit of each commodity by year."""
    cres = resolve_sheet(
        book,
        "Commodities",
        ["commodity"],
        [],
        ["external_price_usd", "external_max"],
        [(m,) for m in ids.commodities],
        ids.years,
    )
    return {
        "price": {(m, y): v for (m, y), v in cres["external_price_usd"].items()},
        "external_max": {(m, y): v for (m, y), v in cres["external_max"].items()},
    }


def demand(book: TypedBook, ids: Ids, settings: Settings) -> dict[str, Any]:
    """Demand by (segment, consumer, year) where positive, and what unserving it costs.

    A Demand sheet without rows is zero demand (§4.1: an energy-only study). What unserved compute
    costs, $ per H100e-year (v2): the resolved value_usd, else the Settings penalty.
    """
    dres = resolve_sheet(
        book,
        "Demand",
        [],
        ["region", "segment"],
        ["h100e", "value_usd"],
        [(c, g) for c in ids.regions_l for g in SEGMENTS],
        ids.years,
    )
    demand = {(g, c, y): v for (c, g, y), v in dres["h100e"].items() if v > 0}
    penalty = settings.unserved_penalty_usd
    unserved_value = {(g, c, y): dres["value_usd"].get((c, g, y), penalty) for (g, c, y) in demand}
    return {"demand": demand, "unserved_value": unserved_value}


GRID_COLUMNS = {"max_mw": "grid_max_mw", "price_usd": "grid_price_usd", "co2_t": "grid_co2_t"}
"""GridAccess value columns and the Regions column each falls back to (§4.1)."""


def grid_access(book: TypedBook, ids: Ids) -> dict[str, Any]:
    """Grid access by region and year (v2).

    Key (region), each column on its own; a column no GridAccess row gives for the region falls back
    to the Regions column (§4.1, §5.2).
    """
    gres = resolve_sheet(
        book,
        "GridAccess",
        [],
        ["region"],
        list(GRID_COLUMNS),
        [(r,) for r in ids.regions_l],
        ids.years,
    )
    out: dict[str, dict[tuple[str, int], float]] = {}
    for col, fallback in GRID_COLUMNS.items():
        got = gres[col]
        out[col] = {
            (r, y): got.get((r, y), float(data_r[fallback]))
            for r, data_r in ids.regions.to_dict("index").items()
            for y in ids.years
        }
    return {
        "grid_max": out["max_mw"],
        "grid_price": out["price_usd"],
        "grid_co2": out["co2_t"],
    }


def import_limits(book: TypedBook, ids: Ids) -> dict[str, Any]:
    """Import limits (v2): key (commodity, region); a blank-region row caps each region on its own."""
    il = book["ImportLimits"]
    comm_set = set(ids.commodities)
    capped = [c for c in dict.fromkeys(il["commodity"].tolist()) if c in comm_set]
    ires = resolve_sheet(
        book,
        "ImportLimits",
        ["commodity"],
        ["region"],
        ["max_units"],
        [(c, r) for c in capped for r in ids.regions_l],
        ids.years,
    )
    return {"import_max": ires["max_units"]}


def routes(book: TypedBook, ids: Ids) -> dict[str, Any]:
    """Chip routes allowed (with their cost) and compute routes allowed.

    The most specific rows win; on a tie FALSE wins (§5.2).
    """
    regions_l = ids.regions_l
    chip_rt = with_defaults(book["ChipRoutes"], SHEETS_BY_NAME["ChipRoutes"])
    cidx = route_table(chip_rt, ["from", "to", "commodity"])
    allowed_l, cost_l = chip_rt["allowed"].tolist(), chip_rt["cost_usd"].tolist()
    chip_routes: dict[tuple[str, str, str], float] = {}
    for m in ids.commodities:
        for a in regions_l:
            for b in regions_l:
                if a == b:
                    continue
                rows = match_rules(cidx, (a, b, m))
                if not rows:
                    chip_routes[(m, a, b)] = 0.0
                elif all(allowed_l[i] for i in rows):
                    chip_routes[(m, a, b)] = max(float(cost_l[i]) for i in rows)
    comp_rt = with_defaults(book["ComputeRoutes"], SHEETS_BY_NAME["ComputeRoutes"])
    kidx = route_table(comp_rt, ["host", "consumer", "segment"])
    callowed = comp_rt["allowed"].tolist()
    compute_routes = frozenset(
        (g, r, c)
        for g in SEGMENTS
        for r in regions_l
        for c in regions_l
        if all(callowed[i] for i in match_rules(kidx, (r, c, g)))
    )
    return {"chip_routes": chip_routes, "compute_routes": compute_routes}


def partner_money(book: TypedBook, ids: Ids) -> dict[str, Any]:
    """Partners, their budget by year and where their money may go (rules: most specific wins)."""
    bres = resolve_sheet(
        book,
        "PartnerBudgets",
        ["partner"],
        [],
        ["budget_musd"],
        [(j,) for j in ids.partners.index],
        ids.years,
    )
    rules = book["PartnerRules"]
    ridx = route_table(rules, ["partner", "region", "class"])
    rallowed = rules["allowed"].tolist()
    partner_allowed = {}
    for j in ids.partners.index:
        for r in ids.regions_l:
            for cls in ("power", "storage", "fab", "datacenter", ACCELERATOR):
                rows = match_rules(ridx, (j, r, cls))
                partner_allowed[(j, r, cls)] = all(rallowed[i] for i in rows) if rows else True
    return {
        "partners": ids.partners,
        "budget": {(j, y): v for (j, y), v in bres["budget_musd"].items()},
        "partner_allowed": partner_allowed,
    }


def plain_sheets(book: TypedBook) -> dict[str, Any]:
    """Sheets read as they are, defaults applied: Bets, Scenarios, Sweep, Alternatives."""
    bets = (
        with_defaults(book["Bets"], SHEETS_BY_NAME["Bets"]).drop_duplicates("bet").set_index("bet")
    )
    return {
        "bets": bets,
        "scenarios": book["Scenarios"],
        "sweep": book["Sweep"],
        "alternatives": with_defaults(book["Alternatives"], SHEETS_BY_NAME["Alternatives"]),
    }


def resolve_sheets(book: TypedBook, ids: Ids, settings: Settings) -> dict[str, Any]:
    """Every InputData field resolved from the sheets (the ids first, see :func:`ids`)."""
    years = ids.years
    return {
        **time_axis(book, settings, years),
        "regions": ids.regions,
        **time_slices(book, ids),
        "techs": ids.techs,
        **fab_inputs(book, years),
        "commodities": tuple(ids.commodities),
        **tech_costs(book, ids),
        **profiles(book, ids),
        **existing(book, years),
        **accelerators(book, years),
        **commodity_prices(book, ids),
        **demand(book, ids, settings),
        **grid_access(book, ids),
        **import_limits(book, ids),
        **routes(book, ids),
        **partner_money(book, ids),
        **plain_sheets(book),
    }
