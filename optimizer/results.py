"""Solved model → tidy tables, one per results sheet (DESIGN §6), and the Summary.

Every table is a pandas DataFrame with the columns §6 lists; values below ``EPS`` are dropped from the
flow tables so they stay readable. Prices come from duals, converted back to undiscounted money per
physical unit: a dual is $M of net present cost per unit of right-hand side in one model year, so
dividing by the year's discount weight (``DF_y``, and the slice's hours for electricity) undoes it.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

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
            out["unserved_h100e"] = (
                out.get("unserved_h100e", 0.0)
                + p * sum(_val(v) for v in blk.v_unserved.values()) * blk.derived.unit
            )
            out["capital_musd"] = out.get("capital_musd", 0.0) + p * sum(
                e.value(_val) for (_j, _k, _r, _v, e) in blk.fin_terms
            )
            for cat in CATEGORIES:
                key = f"cost_{cat}_musd"
                out[key] = out.get(key, 0.0) + p * blk.cost_lines[cat].value(_val)
        if hasattr(m, "OUTCOMES"):
            costs = {
                n: sum(m.scen[n].cost_lines[c].value(_val) for c in CATEGORIES) for n in m.OUTCOMES
            }
            out["expected_cost_musd"] = sol.objective
            out["cost_min_musd"] = min(costs.values())
            out["cost_max_musd"] = max(costs.values())
            for n, c in costs.items():
                out[f"cost_musd[{n}]"] = c
                out[f"probability[{n}]"] = m.probability[n]
    else:
        out["unserved_h100e"] = None
        out["capital_musd"] = None
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
    else:
        out.update(_block_tables(m, sol, 1.0))
    out["Run"] = _frame("Run", list(run_info(sol, scenario, extra_run).items()))
    return out


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
    """The flow tables of one deterministic block; duals × ``dual_scale`` undo outcome probabilities."""
    out: dict[str, pd.DataFrame] = {}
    data = m.data
    dv = m.derived
    techs = data.tech
    u = dv.unit  # chips, fab output and compute are modelled in units of u (model.derive)

    # Capacity
    rows = []
    keys = list(dict.fromkeys([*m.CAP, *m.BUILD]))
    for k, r, y in keys:
        built = _val(m.v_build[k, r, y]) if (k, r, y) in m.v_build else 0.0
        cap = m.cap[(k, r, y)].value(_val) if (k, r, y) in m.cap else 0.0
        if abs(built) > EPS or abs(cap) > EPS:
            cu = dv.cap_unit(k)
            rows.append((k, techs[k]["class"], r, y, built * cu, cap * cu))
    out["Capacity"] = _frame("Capacity", rows)

    # Capital
    rows = []
    for j, k, r, v, e in m.fin_terms:
        val = e.value(_val)
        if abs(val) > EPS:
            rows.append((j, k, r, v, val))
    out["Capital"] = _frame("Capital", rows)

    # Chips
    chips: dict[tuple[str, str, int], list[float]] = defaultdict(lambda: [0.0] * 5)
    for f, r, y in m.PROD:
        chips[(techs[f]["output"], r, y)][0] += _val(m.v_prod[f, r, y]) * u
    for c, r, y in m.BUY:
        chips[(c, r, y)][1] += _val(m.v_buy[c, r, y]) * u
    trade = []
    for c, a, b, y in m.SHIP:
        units = _val(m.v_ship[c, a, b, y]) * u
        chips[(c, b, y)][2] += units
        chips[(c, a, y)][3] += units
        if units > EPS:
            trade.append((c, a, b, y, units))
    for r, v in m.DEPLOY:
        chips[(ACCELERATOR, r, v)][4] += _val(m.v_deploy[r, v]) * u
    out["Chips"] = _frame(
        "Chips",
        [(c, r, y, *vals) for (c, r, y), vals in chips.items() if any(abs(x) > EPS for x in vals)],
    )
    out["Trade"] = _frame("Trade", trade)

    # Compute
    rows = []
    for g, r, c, y in m.SERVE:
        v = _val(m.v_serve[g, r, c, y]) * u
        if v > EPS:
            rows.append((g, r, c, y, v, 0.0))
    for g, c, y in m.DEMAND:
        un = _val(m.v_unserved[g, c, y]) * u
        if un > EPS:
            rows.append((g, UNSERVED_HOST, c, y, 0.0, un))
    out["Compute"] = _frame("Compute", rows)

    # Energy and emissions
    hours = data.slice_hours
    energy: dict[tuple[str, int, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    emis: dict[tuple[str, int, str], float] = defaultdict(float)
    cap_val: dict[tuple[str, str, int], float] = {}
    for p, r, y, h in m.GEN:
        g = _val(m.v_gen[p, r, y, h])
        if (p, r, y) not in cap_val:
            cap_val[(p, r, y)] = m.cap[(p, r, y)].value(_val)
        avail = data.cf_of(p, r, h) * cap_val[(p, r, y)]
        energy[(r, y, p)][0] += hours[h] * g
        energy[(r, y, p)][1] += hours[h] * max(avail - g, 0.0)
        emis[(r, y, p)] += hours[h] * g * float(techs[p]["co2_t"])
    for r, y, h in m.GRID:
        g = _val(m.v_grid[r, y, h])
        energy[(r, y, "grid")][0] += hours[h] * g
        emis[(r, y, "grid")] += hours[h] * g * float(data.region[r]["grid_co2_t"])
    for st, r, y, h in m.STORAGE:
        energy[(r, y, st)][0] += hours[h] * (
            _val(m.v_discharge[st, r, y, h]) - _val(m.v_charge[st, r, y, h])
        )
    out["Energy"] = _frame(
        "Energy",
        [(r, y, k, a, b) for (r, y, k), (a, b) in energy.items() if abs(a) > EPS or b > EPS],
    )
    out["Emissions"] = _frame(
        "Emissions", [(r, y, k, v) for (r, y, k), v in emis.items() if v > EPS]
    )

    # Prices from duals
    rows = []
    if sol.duals:
        for g, c, y in m.DEMAND:
            d = sol.dual(m.c_demand_balance[g, c, y])
            if d is not None:
                rows.append(
                    (
                        "compute",
                        c,
                        g,
                        y,
                        None,
                        None,
                        d * dual_scale * 1e6 / (dv.df[y] * u),
                        "$/H100e-yr",
                    )
                )
        for r, y, h in m.ELECTRICITY_ROWS:
            if (r, y, h) in m.c_electricity_balance:
                d = sol.dual(m.c_electricity_balance[r, y, h])
                if d is not None and hours[h] > 0:
                    rows.append(
                        (
                            "electricity",
                            r,
                            None,
                            y,
                            h,
                            None,
                            d * dual_scale * 1e6 / (dv.df[y] * hours[h]),
                            "$/MWh",
                        )
                    )
        for j, v in m.BUDGET_ROWS:
            d = sol.dual(m.c_budget[j, v])
            if d is not None:
                # ≤ row of a minimisation: the dual is ≤ 0; report the saving per extra $ of budget
                rows.append(
                    ("budget", None, None, v, None, j, -d * dual_scale, "$ NPV per $ of budget")
                )
    out["Prices"] = _frame("Prices", rows)

    # Bets
    rows = []
    for b in data.bets.index:
        row = data.bets.loc[b]
        funded = round(_val(m.v_fund[b])) if b in m.v_fund else 0
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
    out["Bets"] = _frame("Bets", rows)
    return out


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
        "time_limit_s": o.time_limit_s,
        "mip_gap_requested": o.mip_gap,
        "threads": o.threads,
        "hand_off_seconds": round(sol.handoff_seconds, 4),
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
    info.update(extra or {})
    return info


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
