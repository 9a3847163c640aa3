"""The near-optimal alternatives workbook (DESIGN §10) and its PNG range chart.

Sheets: ``Ranges`` (measure, optimum, min, max, cost_at_min_musd, cost_at_max_musd, then span, unit
and sense) with native range charts beside it — one per run of rows in the same unit: a bar from min
to max (a stacked column whose lower part is invisible) with the optimum marked —, ``Plans`` (one row
per plan: what it minimised or maximised, status, cost, and every measure side by side),
``Capacity`` (capacity by class, region and year, one column per plan) and ``Run`` (input, options
including the bet mode, versions). Written atomically like every workbook (``optimizer/workbook.py``).
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference

from optimizer.alternatives import AltResult, PlanResult
from optimizer.workbook import atomic_save, write_table

MAX_CHARTS = 24
"""Range charts drawn at most (one per run of rows in one unit); a longer sheet keeps its table."""

_CHART_COL = "L"  # charts start right of the Ranges table (9 columns and a gap)
_CHART_ROWS = 18  # rows one chart takes


def plans_table(res: AltResult) -> pd.DataFrame:
    """One row per plan (the optimum first): target, status, cost, then every measure."""
    names = [m.spec.name for m in res.measures]
    fixed = [
        "plan",
        "kind",
        "measure",
        "status",
        "cost_musd",
        "cost_vs_optimum_pct",
        "solve_seconds",
        "warm",
        "path",
        "check",
        "funded_bets",
    ]
    cols = [n if n not in fixed else f"{n} (measure)" for n in names]
    rows = []
    for p in [res.optimum, *res.plans]:
        row: dict[str, Any] = {
            "plan": p.name,
            "kind": p.kind,
            "measure": p.target,
            "status": p.status,
            "cost_musd": p.cost_musd,
            "cost_vs_optimum_pct": (100.0 * (p.cost_musd / res.c_star - 1.0))
            if p.cost_musd is not None and res.c_star
            else None,
            "solve_seconds": round(p.solve_seconds, 4),
            "warm": p.warm,
            "path": p.path,
            "check": p.check or None,
            "funded_bets": ", ".join(p.funded) if p.solved else None,
        }
        for n, c in zip(names, cols, strict=True):
            row[c] = p.measures.get(n)
        rows.append(row)
    return pd.DataFrame(rows, columns=[*fixed, *cols])


def capacity_table(res: AltResult, eps: float = 1e-7) -> pd.DataFrame:
    """Capacity by class, region and year (MW; fabs in output units per year), a column per plan."""
    plans: list[PlanResult] = [res.optimum, *res.plans]
    keys: dict[tuple[str, str, int], None] = {}
    for p in plans:
        for k, v in p.capacity.items():
            if abs(v) > eps:
                keys[k] = None
    rows = []
    for k in sorted(keys, key=lambda t: (t[0], t[1], t[2])):
        rows.append([*k, *(p.capacity.get(k) if p.solved else None for p in plans)])
    return pd.DataFrame(rows, columns=["class", "region", "year", *(p.name for p in plans)])


def _versions() -> dict[str, str]:
    out = {}
    for name in ("ai-infra-planner", "pyomo", "highspy", "openpyxl", "pandas"):
        try:
            out[f"{name}_version"] = version(name)
        except PackageNotFoundError:
            out[f"{name}_version"] = ""
    return out


def run_table(res: AltResult) -> pd.DataFrame:
    """Provenance and options of the study (the Run sheet)."""
    from optimizer.results import input_sha256

    cfg = res.config
    o = cfg.options
    warm = [p.solve_seconds for p in res.plans if p.warm and p.solved]
    info: dict[str, Any] = {
        "input": res.source,
        "input_sha256": input_sha256(res.source),
        "study": "near-optimal alternatives (DESIGN §10)",
        "bet_mode": res.bet_mode,
        "mga_slack": res.slack,
        "optimum_musd": res.c_star,
        "cost_bound_musd": res.bound_musd,
        "measures": "default set" if res.default_set else "Alternatives sheet",
        "measure_count": len(res.measures),
        "plans": len(res.plans),
        "plans_not_solved": sum(1 for p in res.plans if not p.solved),
        **{f"plans_{k.replace(', then ', '_then_')}": n for k, n in res.paths().items()},
        "random_plans": cfg.random,
        "seed": cfg.seed,
        "time_limit_s": o.time_limit_s,
        "mip_gap_requested": o.mip_gap,
        "threads": o.threads,
        "workers": cfg.workers,
        "scheduler": cfg.scheduler or "",
        "cold_solve_seconds": round(res.cold_seconds, 4),
        "warm_solve_seconds_median": round(float(pd.Series(warm).median()), 4) if warm else None,
        "run_seconds": round(res.run_seconds, 3),
        **_versions(),
        "python_version": sys.version.split()[0],
        "platform": platform.platform(),
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    return pd.DataFrame(
        [(k, "" if v is None else v) for k, v in info.items()], columns=["key", "value"]
    )


def _unit_runs(ranges: pd.DataFrame) -> list[tuple[int, int, str]]:
    """(first, last, unit) of each run of consecutive rows with one unit and a min and a max."""
    runs: list[tuple[int, int, str]] = []
    start = None
    for i, row in enumerate(ranges.itertuples(index=False)):
        ok = pd.notna(row.min) and pd.notna(row.max)
        if start is not None and (not ok or row.unit != ranges["unit"].iat[start]):
            runs.append((start, i - 1, ranges["unit"].iat[start]))
            start = None
        if ok and start is None:
            start = i
    if start is not None:
        runs.append((start, len(ranges) - 1, ranges["unit"].iat[start]))
    return runs


def _range_chart(ws: Any, first: int, last: int, unit: str, slack: float) -> BarChart:
    """A bar from min to max per measure (rows ``first..last`` of the sheet) with the optimum marked.

    Columns of the Ranges table: A measure, B optimum, C min, G span (= max − min). The lower,
    invisible part of each stacked column is the min; the visible part the span above it.
    """
    cats = Reference(ws, min_col=1, min_row=first, max_row=last)
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.add_data(Reference(ws, min_col=3, min_row=first, max_row=last), titles_from_data=False)
    chart.add_data(Reference(ws, min_col=7, min_row=first, max_row=last), titles_from_data=False)
    chart.set_categories(cats)
    low, span = chart.series
    low.graphicalProperties.noFill = True
    low.graphicalProperties.line.noFill = True
    from openpyxl.chart.series import SeriesLabel

    low.tx = SeriesLabel(v="min")
    span.tx = SeriesLabel(v=f"range within {slack:.1%} of the least cost")
    span.graphicalProperties.solidFill = "4472C4"
    line = LineChart()
    line.add_data(Reference(ws, min_col=2, min_row=first, max_row=last), titles_from_data=False)
    line.set_categories(cats)
    opt = line.series[0]
    opt.tx = SeriesLabel(v="least-cost plan")
    opt.smooth = False
    opt.marker.symbol = "diamond"
    opt.marker.size = 9
    opt.marker.graphicalProperties.solidFill = "C00000"
    opt.marker.graphicalProperties.line.solidFill = "C00000"
    opt.graphicalProperties.line.noFill = True
    chart += line
    chart.title = f"Near-optimal ranges ({unit})"
    chart.y_axis.title = unit
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.number_format = "#,##0"
    chart.y_axis.majorTickMark = "out"
    chart.y_axis.scaling.min = 0
    chart.legend.position = "b"
    chart.width = 24
    chart.height = 8.5
    return chart


def write_alternatives_workbook(res: AltResult, path: str | Path) -> Path:
    """Write the alternatives workbook of §10 atomically and return its path.

    Raises
    ------
    optimizer.workbook.OutputLockedError
        the target cannot be replaced (typically: open in Excel).
    """
    path = Path(path)
    ranges = res.ranges()
    wb = Workbook()
    ws = wb.active
    ws.title = "Ranges"
    blank = {"min", "max", "cost_at_min_musd", "cost_at_max_musd", "span", "optimum"}
    write_table(ws, ranges, blank_ok=blank)
    for n, (a, b, unit) in enumerate(_unit_runs(ranges)[:MAX_CHARTS]):
        chart = _range_chart(ws, a + 2, b + 2, unit, res.slack)  # row 1 is the header
        ws.add_chart(chart, f"{_CHART_COL}{1 + n * _CHART_ROWS}")
    plans = plans_table(res)
    write_table(
        wb.create_sheet("Plans"),
        plans,
        blank_ok=set(plans.columns) - {"plan", "kind", "status", "solve_seconds", "warm", "path"},
    )
    cap = capacity_table(res)
    write_table(wb.create_sheet("Capacity"), cap, blank_ok=set(cap.columns[3:]))
    write_table(wb.create_sheet("Run"), run_table(res))
    return atomic_save(wb, path)


def _tick_big(v: float, _pos: Any) -> str:
    return f"{v:,.0f}"


def _tick_small(v: float, _pos: Any) -> str:
    return f"{v:.3g}"


def plot_ranges(workbook: str | Path, png: str | Path, title: str = "") -> Path:
    """A PNG of the Ranges sheet of an alternatives workbook: one panel per unit, each measure a
    bar from min to max with the least-cost value marked (made from the workbook's data only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from optimizer.workbook import atomic_write

    df = pd.read_excel(workbook, sheet_name="Ranges")
    df = df[df["min"].notna() & df["max"].notna()]
    units = list(dict.fromkeys(df["unit"]))
    heights = [max(1.2, 0.28 * int((df["unit"] == u).sum()) + 0.8) for u in units]
    fig, axes = plt.subplots(
        len(units),
        1,
        figsize=(9, sum(heights) + 0.6),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, unit in zip(axes[:, 0], units, strict=True):
        part = df[df["unit"] == unit].iloc[::-1]
        y = range(len(part))
        ax.barh(
            y,
            part["max"] - part["min"],
            left=part["min"],
            color="#4472C4",
            height=0.6,
            label="range within the cost slack",
        )
        ax.scatter(part["optimum"], y, marker="D", color="#C00000", zorder=3, label="least cost")
        ax.set_yticks(list(y), part["measure"].tolist(), fontsize=8)
        ax.set_xlabel(unit, fontsize=9)
        if float(part[["min", "max", "optimum"]].min().min()) >= 0:
            ax.set_xlim(left=0)  # a bar from a positive min must not look as if it started at 0
        ax.grid(axis="x", alpha=0.3)
        big = float(part[["min", "max"]].abs().to_numpy().max()) >= 10
        ax.xaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(_tick_big if big else _tick_small)
        )
    axes[0, 0].legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()

    def save(tmp: Path) -> None:
        fig.savefig(tmp, dpi=110, format="png")

    out = atomic_write(Path(png), save)
    plt.close(fig)
    return out
