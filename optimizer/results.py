"""Solved model → tidy tables, one per results sheet (DESIGN §6), and the Summary.

Every table is a pandas DataFrame with the columns §6 lists; values below ``EPS`` are dropped from the
flow tables so they stay readable. Prices come from duals, converted back to undiscounted money per
physical unit: a dual is $M of net present cost per unit of right-hand side in one model year, so
dividing by the year's discount weight (``DF_y``, and the slice's hours for electricity) undoes it,
in one place: ``optimizer.model.Costs.undiscount``. The model is read through the names its
components declare (:mod:`optimizer.components.contract`), never through private attributes.
"""

from __future__ import annotations

import hashlib
import math
import platform
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.components.contract import declared, expression_items
from optimizer.components.objective import CATEGORIES
from optimizer.schema import ACCELERATOR, RESULT_COLUMNS, UNSERVED_HOST
from optimizer.solve import Solution

EPS = 1e-7

TABLE_COLUMNS = RESULT_COLUMNS


def _val(var: Any) -> float:
    v = var.value
    return 0.0 if v is None else float(v)


def _frame(name: str, rows: list) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS[name]))


def _blocks(m: Any) -> list[tuple[Any, float]]:
    """(deterministic block, probability) pairs: the model itself, or each outcome of the extensive form."""
    if hasattr(m, "OUTCOMES"):
        return [(m.scen[n], m.probability[n]) for n in m.OUTCOMES]
    return [(m, 1.0)]


def summary(sol: Solution) -> dict[str, Any]:
    """The Summary metrics of §6 as an ordered dict (also what ``solve --json`` prints)."""
    m = sol.model
    out: dict[str, Any] = {
        "objective_musd": sol.objective,
        "status": sol.status,
        "termination": sol.termination,
        "solve_seconds": round(sol.solve_seconds, 4),
        "build_seconds": round(sol.build_seconds, 4),
        "mip_gap": sol.mip_gap,
        "variables": sol.variables,
        "constraints": sol.constraints,
    }
    if sol.has_solution:
        # a stochastic model reports probability-weighted expectations over its outcome blocks
        for blk, p in _blocks(m):
            unserved = declared(blk, "v_unserved").values()
            out["unserved_h100e"] = (
                out.get("unserved_h100e", 0.0)
                + p * sum(_val(v) for v in unserved) * blk.derived.unit
            )
            out["capital_musd"] = out.get("capital_musd", 0.0) + p * sum(
                e.value(_val) for _key, e in expression_items(blk, "capital")
            )
            out["idle_h100e"] = out.get("idle_h100e", 0.0) + p * _fleet_idle_h100e(blk)
            lines = declared(blk, "cost_lines")
            for cat in CATEGORIES:
                key = f"cost_{cat}_musd"
                out[key] = out.get(key, 0.0) + p * lines[cat].value(_val)
        if hasattr(m, "OUTCOMES"):
            from optimizer.stochastic import cvar

            costs = {
                n: sum(declared(m.scen[n], "cost_lines")[c].value(_val) for c in CATEGORIES)
                for n in m.OUTCOMES
            }
            probs = [m.probability[n] for n in m.OUTCOMES]
            out["expected_cost_musd"] = sum(
                p * c for p, c in zip(probs, costs.values(), strict=True)
            )
            out["cvar_musd"] = cvar(list(costs.values()), probs, m.cvar_alpha)
            out["cvar_weight"] = m.cvar_weight
            out["cvar_alpha"] = m.cvar_alpha
            out["stage_year"] = m.t_star
            out["leaves"] = len(costs)
            out["cost_min_musd"] = min(costs.values())
            out["cost_max_musd"] = max(costs.values())
            for n, c in costs.items():
                out[f"cost_musd[{n}]"] = c
                out[f"probability[{n}]"] = m.probability[n]
    else:
        out["unserved_h100e"] = None
        out["capital_musd"] = None
        out["idle_h100e"] = None
        for cat in CATEGORIES:
            out[f"cost_{cat}_musd"] = None
    if sol.message:
        out["message"] = sol.message
    return out


def tables(
    sol: Solution, scenario: str | None = None, extra_run: dict[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """Every results table of §6, keyed by sheet name, in sheet order."""
    m = sol.model
    s = summary(sol)
    out: dict[str, pd.DataFrame] = {"Summary": _frame("Summary", list(s.items()))}
    if not sol.has_solution:
        for name in TABLE_COLUMNS:
            if name not in ("Summary", "Run"):
                out[name] = _frame(name, [])
        out["Run"] = _frame("Run", list(run_info(sol, scenario, extra_run).items()))
        return out
    if hasattr(m, "OUTCOMES"):
        parts = [_block_tables(m.scen[n], sol, 1.0 / m.probability[n]) for n in m.OUTCOMES]
        for name in parts[0]:
            if name == "Bets":
                continue  # funding is shared by every outcome
            frames = []
            for n, part in zip(m.OUTCOMES, parts, strict=True):
                df = part[name].copy()
                df.insert(0, "outcome", n)
                df.insert(1, "probability", m.probability[n])
                frames.append(df)
            out[name] = pd.concat(frames, ignore_index=True)
        out["Bets"] = parts[0]["Bets"]
        out["Prices"] = _first_stage_prices(out["Prices"], m.t_star)
        out["FirstStage"] = first_stage_table(out, m.t_star)
    else:
        out.update(_block_tables(m, sol, 1.0))
    out["Run"] = _frame("Run", list(run_info(sol, scenario, extra_run).items()))
    return out


FIRST_STAGE_COLUMNS = ("kind", "tech", "region", "partner", "year", "value", "unit")


def first_stage_table(tables: dict[str, pd.DataFrame], stage_year: int) -> pd.DataFrame:
    """The ``FirstStage`` sheet (§8.1): what to build, deploy, finance and fund before ``stage_year``.

    Read from the Capacity (``built``), Chips (accelerators ``deployed``), Capital and Bets tables of
    any results — a hedging plan's (the first leaf's rows: every leaf shares them) or a
    deterministic plan's, so that ``compare`` can set the two side by side. Tidy: ``kind``
    (build|deploy|fin|fund), ``tech``, ``region``, ``partner``, ``year``, ``value``, ``unit``.
    """

    def first_leaf(df: pd.DataFrame | None) -> pd.DataFrame:
        if df is None or df.empty:
            return pd.DataFrame(columns=[] if df is None else df.columns)
        if "outcome" in df.columns:
            df = df[df["outcome"] == df["outcome"].iloc[0]]
        return df

    rows: list[tuple] = []
    for r in first_leaf(tables.get("Capacity")).to_dict("records"):
        if int(r["year"]) < stage_year and abs(float(r["built"])) > EPS:
            unit = "units/yr" if r["class"] == "fab" else "MW"
            rows.append(
                ("build", r["tech"], r["region"], None, int(r["year"]), float(r["built"]), unit)
            )
    for r in first_leaf(tables.get("Chips")).to_dict("records"):
        if (
            r["commodity"] == ACCELERATOR
            and int(r["year"]) < stage_year
            and abs(float(r["deployed"])) > EPS
        ):
            rows.append(
                (
                    "deploy",
                    ACCELERATOR,
                    r["region"],
                    None,
                    int(r["year"]),
                    float(r["deployed"]),
                    "chips",
                )
            )
    for r in first_leaf(tables.get("Capital")).to_dict("records"):
        if int(r["year"]) < stage_year and abs(float(r["musd"])) > EPS:
            rows.append(
                (
                    "fin",
                    r["tech"],
                    r["region"],
                    r["partner"],
                    int(r["year"]),
                    float(r["musd"]),
                    "$M",
                )
            )
    bets = tables.get("Bets")
    if bets is not None:
        for r in bets.to_dict("records"):
            rows.append(
                ("fund", r["tech"], None, None, int(r["decide_year"]), float(r["funded"]), "0/1")
            )
    return pd.DataFrame(rows, columns=list(FIRST_STAGE_COLUMNS))


def _first_stage_prices(prices: pd.DataFrame, t_star: int) -> pd.DataFrame:
    """Prices of years before T* in the extensive form: the outcomes share those decisions, so a
    balance's marginal value is the sum of its copies' duals (how HiGHS splits it among the copies is
    arbitrary); every outcome row gets that sum."""
    if prices.empty:
        return prices
    df = prices.copy()
    early = df["year"] < t_star
    raw = df["value"] * df["probability"]
    keys = ["price", "region", "segment", "year", "slice", "partner"]
    total = raw[early].groupby([df.loc[early, k].fillna("") for k in keys]).transform("sum")
    df.loc[early, "value"] = total
    return df


def _block_tables(m: Any, sol: Solution, dual_scale: float) -> dict[str, pd.DataFrame]:
    """The flow tables of one deterministic block; duals × ``dual_scale`` undo outcome probabilities.

    Everything is read by the names the components declare (:mod:`optimizer.components.contract`).
    """
    out = {"Capacity": _capacity(m), "Capital": _capital(m)}
    out["Chips"], out["Trade"] = _chips(m)
    out["Compute"] = _compute(m)
    out["Fleet"] = _fleet(m)
    out["Energy"], out["Emissions"] = _energy(m)
    out["Prices"] = _prices(m, sol, dual_scale)
    out["Bets"] = _bets(m)
    return out


def _capacity(m: Any) -> pd.DataFrame:
    dv, techs = m.derived, m.data.tech
    build, cap = declared(m, "v_build"), declared(m, "cap")
    rows = []
    keys = list(dict.fromkeys([*(k for k, _e in expression_items(m, "cap")), *build]))
    for k, r, y in keys:
        built = _val(build[k, r, y]) if (k, r, y) in build else 0.0
        c = cap[(k, r, y)].value(_val) if (k, r, y) in cap else 0.0
        if abs(built) > EPS or abs(c) > EPS:
            cu = dv.cap_unit(k)
            rows.append((k, techs[k]["class"], r, y, built * cu, c * cu))
    df = _frame("Capacity", rows)
    # built and capacity are MW except for fabs (units of output a year): say which on each row
    df["unit"] = ["units/yr" if c == "fab" else "MW" for c in df["class"]]
    return df


def _capital(m: Any) -> pd.DataFrame:
    rows = []
    for (j, k, r, v), e in expression_items(m, "capital"):
        val = e.value(_val)
        if abs(val) > EPS:
            rows.append((j, k, r, v, val))
    return _frame("Capital", rows)


def _chips(m: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    techs = m.data.tech
    u = m.derived.unit  # chips, fab output and compute are modelled in units of u (model.derive)
    chips: dict[tuple[str, str, int], list[float]] = defaultdict(lambda: [0.0] * 5)
    for (f, r, y), var in declared(m, "v_prod").items():
        chips[(techs[f]["output"], r, y)][0] += _val(var) * u
    for (c, r, y), var in declared(m, "v_buy").items():
        chips[(c, r, y)][1] += _val(var) * u
    trade = []
    for (c, a, b, y), var in declared(m, "v_ship").items():
        units = _val(var) * u
        chips[(c, b, y)][2] += units
        chips[(c, a, y)][3] += units
        if units > EPS:
            trade.append((c, a, b, y, units))
    for (r, v), var in declared(m, "v_deploy").items():
        chips[(ACCELERATOR, r, v)][4] += _val(var) * u
    table = _frame(
        "Chips",
        [(c, r, y, *vals) for (c, r, y), vals in chips.items() if any(abs(x) > EPS for x in vals)],
    )
    return table, _frame("Trade", trade)


def _compute(m: Any) -> pd.DataFrame:
    u = m.derived.unit
    rows = []
    for (g, r, c, y), var in declared(m, "v_serve").items():
        v = _val(var) * u
        if v > EPS:
            rows.append((g, r, c, y, v, 0.0))
    for (g, c, y), var in declared(m, "v_unserved").items():
        un = _val(var) * u
        if un > EPS:
            rows.append((g, UNSERVED_HOST, c, y, 0.0, un))
    return _frame("Compute", rows)


def _fleet_rows(m: Any) -> list[tuple]:
    """Rows of the Fleet sheet (DESIGN §6, v2): per region, vintage and model year alive, the chips
    deployed, running and idle and their H100e; the ExistingFleet as vintage ``existing`` (its chip
    count is not an input, so its chip columns are blank)."""
    u = m.derived.unit
    acc = m.data.accelerators
    deploy = declared(m, "v_deploy")
    rows = []
    for (r, v, y), var in declared(m, "v_active").items():
        dep = _val(deploy[r, v]) * u
        act = _val(var) * u
        h = float(acc.at[v, "h100e_per_chip"])
        rows.append((r, v, y, dep, act, dep - act, h * act, h * (dep - act)))
    fleet_h = m.data.fleet_h100e
    for (r, y), var in declared(m, "v_fleet_on").items():
        on = _val(var) * u
        rows.append((r, "existing", y, None, None, None, on, fleet_h[(r, y)] - on))
    return rows


def _fleet_idle_h100e(m: Any) -> float:
    """Summary ``idle_h100e``: Σ over regions and model years of H100e alive but not running,
    the ExistingFleet included (§5.2)."""
    return sum(row[7] for row in _fleet_rows(m))


def _fleet(m: Any) -> pd.DataFrame:
    keep = [
        row
        for row in _fleet_rows(m)
        if abs(row[6]) > EPS or abs(row[7]) > EPS or (row[3] is not None and abs(row[3]) > EPS)
    ]
    return _frame("Fleet", keep)


def _energy(m: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    data, techs = m.data, m.data.tech
    hours = data.slice_hours
    cap = declared(m, "cap")
    energy: dict[tuple[str, int, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    emis: dict[tuple[str, int, str], float] = defaultdict(float)
    cap_val: dict[tuple[str, str, int], float] = {}
    for (p, r, y, h), var in declared(m, "v_gen").items():
        g = _val(var)
        if (p, r, y) not in cap_val:
            cap_val[(p, r, y)] = cap[(p, r, y)].value(_val)
        avail = data.cf_of(p, r, h) * cap_val[(p, r, y)]
        energy[(r, y, p)][0] += hours[h] * g
        energy[(r, y, p)][1] += hours[h] * max(avail - g, 0.0)
        emis[(r, y, p)] += hours[h] * g * float(techs[p]["co2_t"])
    for (r, y, h), var in declared(m, "v_grid").items():
        g = _val(var)
        energy[(r, y, "grid")][0] += hours[h] * g
        emis[(r, y, "grid")] += hours[h] * g * data.grid_co2[(r, y)]
    discharge = declared(m, "v_discharge")
    for (st, r, y, h), var in declared(m, "v_charge").items():
        energy[(r, y, st)][0] += hours[h] * (_val(discharge[st, r, y, h]) - _val(var))
    table = _frame(
        "Energy",
        [(r, y, k, a, b) for (r, y, k), (a, b) in energy.items() if abs(a) > EPS or b > EPS],
    )
    return table, _frame("Emissions", [(r, y, k, v) for (r, y, k), v in emis.items() if v > EPS])


def _prices(m: Any, sol: Solution, dual_scale: float) -> pd.DataFrame:
    """Duals as undiscounted money per physical unit (``m.costs.undiscount``, module doc)."""
    rows: list[tuple] = []
    hours_of: list[float | None] = []  # the slice's hours a year: weights for averages (§6)
    if not sol.duals:
        return _frame("Prices", rows)
    undiscount, u, hours = m.costs.undiscount, m.derived.unit, m.data.slice_hours
    demand = declared(m, "c_demand_balance")
    for g, c, y in declared(m, "DEMAND"):
        d = sol.dual(demand[g, c, y])
        if d is not None:
            price = undiscount(d * dual_scale, y, u)
            rows.append(("compute", c, g, y, None, None, price, "$/H100e-yr"))
            hours_of.append(None)
    balance = declared(m, "c_electricity_balance")
    for r, y, h in declared(m, "ELECTRICITY_ROWS"):
        if (r, y, h) in balance:
            d = sol.dual(balance[r, y, h])
            if d is not None and hours[h] > 0:
                price = undiscount(d * dual_scale, y, hours[h])
                rows.append(("electricity", r, None, y, h, None, price, "$/MWh"))
                hours_of.append(float(hours[h]))
    budget = declared(m, "c_budget")
    for j, v in declared(m, "BUDGET_ROWS"):
        d = sol.dual(budget[j, v])
        if d is not None:
            # ≤ row of a minimisation: the dual is ≤ 0; report the saving per extra $ of budget
            rows.append(
                ("budget", None, None, v, None, j, -d * dual_scale, "$ NPV per $ of budget")
            )
            hours_of.append(None)
    df = _frame("Prices", rows)
    df["hours"] = hours_of
    return df


def _bets(m: Any) -> pd.DataFrame:
    data, fund = m.data, declared(m, "v_fund")
    rows = []
    for b in data.bets.index:
        row = data.bets.loc[b]
        funded = round(_val(fund[b])) if b in fund else 0
        rows.append(
            (
                b,
                row["tech"],
                int(funded),
                float(row["rd_cost_musd"]),
                int(row["decide_year"]),
                int(row["available_year"]),
                float(row["probability"]),
            )
        )
    return _frame("Bets", rows)


def input_sha256(source: str | Path) -> str:
    """SHA-256 of the input file, or of the CSV files of an input folder (name and bytes, sorted)."""
    p = Path(source)
    h = hashlib.sha256()
    if p.is_dir():
        for f in sorted(p.glob("*.csv")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    elif p.exists():
        h.update(p.read_bytes())
    return h.hexdigest()


def run_info(
    sol: Solution, scenario: str | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Provenance for the Run sheet: input and its hash, scenario, options, versions, time."""
    import openpyxl

    from optimizer import __version__

    data = sol.model.data
    o = sol.options
    info = {
        "input": str(data.source),
        "input_sha256": input_sha256(data.source),
        "scenario": scenario or "(base)",
        "bet_mode": sol.model.derived.bet_mode,
        # an API caller may pass inf ("no limit"): text, so the Run sheet never loses a solve
        "time_limit_s": _option_cell(o.time_limit_s),
        "mip_gap_requested": _option_cell(o.mip_gap),
        "threads": o.threads,
        "hand_off_seconds": round(sol.handoff_seconds, 4),
        "solver_calls": sol.calls_text(),
        "nonzeros": sol.nonzeros,
        "integer_model": sol.is_mip,
        "planner_version": __version__,
        "pyomo_version": _dist_version("pyomo"),
        "highspy_version": _dist_version("highspy"),
        "pandas_version": pd.__version__,
        "openpyxl_version": openpyxl.__version__,
        "python_version": sys.version.split()[0],
        "platform": platform.platform(),
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    if data.warnings:
        info["input_warnings"] = "; ".join(data.warnings)
    if data.notes:
        info["input_notes"] = "; ".join(data.notes)
    info.update(extra or {})
    return info


def _option_cell(v: Any) -> Any:
    """A solver option as a Run cell: a non-finite number (``inf``, ``nan``) becomes its text."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return ""


def write_results(
    sol: Solution, path: str | Path, scenario: str | None = None, plots: bool = False
) -> Path:
    """Write the results workbook of §6 (atomically) and return its path."""
    from optimizer.report import write_plots, write_results_workbook

    t = tables(sol, scenario)
    p = write_results_workbook(t, Path(path))
    if plots:
        write_plots(t, p.parent / (p.stem + "_plots"))
    return p
