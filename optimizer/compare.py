"""Side-by-side comparison of solved runs (scenarios, or any results workbooks) — DESIGN §7.

The comparison is built from the §6 tables of each run (in memory after a solve, or read back from
results workbooks by :func:`read_results`), so ``solve --all-scenarios`` and ``compare A.xlsx B.xlsx``
give the same layout: Summary metrics with the difference to the first run (the base), cost categories,
capacity by class and year, capital by region and partner, compute served and unserved — each with a
native chart.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference

from optimizer.workbook import atomic_save, write_table

COST_METRICS = (
    "cost_capital_musd",
    "cost_fixed_om_musd",
    "cost_energy_musd",
    "cost_carbon_musd",
    "cost_supply_chain_musd",
    "cost_unserved_musd",
    "cost_bets_musd",
)
NUMERIC_METRICS = (
    "objective_musd",
    *COST_METRICS,
    "capital_musd",
    "unserved_h100e",
    "solve_seconds",
    "mip_gap",
)


def read_results(path: str | Path) -> dict[str, pd.DataFrame]:
    """Read the sheets a comparison needs from a results workbook written by this tool."""
    want = ["Summary", "Capacity", "Capital", "Compute"]
    try:
        book = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - reported as a user-facing message
        raise ValueError(f"{path}: cannot be read as a results workbook ({exc})") from None
    missing = [s for s in want if s not in book]
    if missing:
        raise ValueError(
            f"{path}: not a results workbook of this tool (missing sheets {', '.join(missing)})"
        )
    return {s: book[s] for s in want}


def _summary_value(t: Mapping[str, pd.DataFrame], metric: str):
    s = t["Summary"]
    hit = s[s["metric"] == metric]["value"]
    if hit.empty:
        return None
    v = hit.iloc[0]
    if metric in NUMERIC_METRICS:
        try:
            return float(v)
        except (TypeError, ValueError):
            return None
    return v


def comparison_tables(runs: Mapping[str, Mapping[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Comparison tables for ``runs`` (name → §6 tables); the first run is the base for differences."""
    names = list(runs)
    base = names[0]
    metrics = ["status", *NUMERIC_METRICS]
    rows = []
    for mt in metrics:
        row = {"metric": mt}
        for n in names:
            row[n] = _summary_value(runs[n], mt)
        for n in names[1:]:
            a, b = row[n], row[base]
            row[f"{n} − {base}"] = (
                (a - b) if isinstance(a, float) and isinstance(b, float) else None
            )
        rows.append(row)
    # the share of each run's objective that is the value of demand left unserved (issue 16: a
    # scenario dominated by it answers "what cannot be built", not "what should be built")
    share = {"metric": "unserved_value_share"}
    for n in names:
        obj, un = (
            _summary_value(runs[n], "objective_musd"),
            _summary_value(runs[n], "cost_unserved_musd"),
        )
        share[n] = (un or 0.0) / obj if isinstance(obj, float) and obj else None
    for n in names[1:]:
        a, b = share[n], share[base]
        share[f"{n} − {base}"] = (a - b) if a is not None and b is not None else None
    rows.append(share)
    summary = pd.DataFrame(rows)

    costs = pd.DataFrame(
        [
            {
                "category": c.removeprefix("cost_").removesuffix("_musd"),
                **{n: _summary_value(runs[n], c) or 0.0 for n in names},
            }
            for c in COST_METRICS
        ]
    )

    def pivot(sheet: str, keys: list[str], value: str) -> pd.DataFrame:
        parts = []
        for n in names:
            df = runs[n][sheet]
            if df is None or df.empty:
                continue
            g = df.groupby(keys, dropna=False)[value].sum().rename(n)
            parts.append(g)
        if not parts:
            return pd.DataFrame(columns=[*keys, *names])
        out = pd.concat(parts, axis=1).fillna(0.0).reset_index()
        for n in names:
            if n not in out:
                out[n] = 0.0
        return out[[*keys, *names]].sort_values(keys).reset_index(drop=True)

    capacity = pivot("Capacity", ["class", "year"], "capacity")
    capital = pivot("Capital", ["region", "partner"], "musd")
    served = pivot("Compute", ["year"], "served")
    unserved = pivot("Compute", ["year"], "unserved")
    compute = served.merge(
        unserved, on="year", how="outer", suffixes=(" served", " unserved")
    ).fillna(0.0)
    if len(names) == 1 and not compute.empty:
        compute = compute.rename(columns={names[0] + " served": f"{names[0]} served"})
    return {
        "Summary": summary,
        "Costs": costs,
        "Capacity": capacity,
        "Capital": capital,
        "Compute": compute,
    }


def write_comparison(runs: Mapping[str, Mapping[str, pd.DataFrame]], path: str | Path) -> Path:
    """Write the comparison workbook (tables with native charts) atomically and return its path."""
    t = comparison_tables(runs)
    names = list(runs)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, df in t.items():
        ws = wb.create_sheet(sheet)
        write_table(ws, df, blank_ok=set(df.columns))
    n = len(names)
    if len(t["Costs"]):
        ws = wb["Costs"]
        title = "Net present cost by category ($M)"
        ws.add_chart(
            _by_rows(ws, 2, 1 + n, list(range(2, 2 + len(t["Costs"]))), title, "$M", stacked=True),
            _below(t["Costs"]),
        )
    ws = wb["Summary"]
    obj = Reference(ws, min_col=2, max_col=1 + n, min_row=3, max_row=3)
    ch = BarChart()
    ch.title, ch.y_axis.title = "Objective (net present cost)", "$M"
    ch.add_data(obj, from_rows=True, titles_from_data=False)
    ch.set_categories(Reference(ws, min_col=2, max_col=1 + n, min_row=1, max_row=1))
    ch.legend = None
    ws.add_chart(ch, _below(t["Summary"]))
    if len(t["Capacity"]):
        ws = wb["Capacity"]
        last = t["Capacity"]["year"].max()
        rows = [i + 2 for i, y in enumerate(t["Capacity"]["year"]) if y == last]
        title = f"Capacity by class in {last}"
        ws.add_chart(
            _by_rows(ws, 3, 2 + n, rows, title, "MW (fabs: units/yr)"), _below(t["Capacity"])
        )
    if len(t["Capital"]):
        ws = wb["Capital"]
        ch = BarChart()
        ch.type = "bar"
        ch.title, ch.x_axis.title = "Capital by region and partner", "$M"
        ch.add_data(
            Reference(ws, min_col=3, max_col=2 + n, min_row=1, max_row=1 + len(t["Capital"])),
            titles_from_data=True,
        )
        ch.set_categories(
            Reference(ws, min_col=1, max_col=2, min_row=2, max_row=1 + len(t["Capital"]))
        )
        ws.add_chart(ch, _below(t["Capital"]))
    if len(t["Compute"]):
        ws = wb["Compute"]
        ch = LineChart()
        ch.title, ch.y_axis.title = "Compute served and unserved", "H100e"
        ch.add_data(
            Reference(ws, min_col=2, max_col=1 + 2 * n, min_row=1, max_row=1 + len(t["Compute"])),
            titles_from_data=True,
        )
        ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + len(t["Compute"])))
        ws.add_chart(ch, _below(t["Compute"]))
    return atomic_save(wb, Path(path))


def _below(df) -> str:
    """Anchor a chart two rows under a table: charts beside a table fall outside the printed range,
    so LibreOffice's PDF export would leave them out."""
    return f"A{len(df) + 4}"


def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def _by_rows(
    ws,
    c0: int,
    c1: int,
    rows: list[int],
    title: str,
    ytitle: str,
    stacked: bool = False,
    cats_col: int = 1,
) -> BarChart:
    """A column chart with one series per table row in ``rows`` over the scenario columns c0..c1."""
    ch = BarChart()
    ch.type = "col"
    if stacked:
        ch.grouping, ch.overlap = "stacked", 100
    ch.title, ch.y_axis.title = title, ytitle
    for r in rows:
        ch.add_data(
            Reference(ws, min_col=c0, max_col=c1, min_row=r, max_row=r),
            from_rows=True,
            titles_from_data=False,
        )
        ch.series[-1].tx = None
    from openpyxl.chart.series import SeriesLabel

    for s, r in zip(ch.series, rows, strict=False):
        s.tx = SeriesLabel(v=str(ws.cell(r, cats_col).value))
    ch.set_categories(Reference(ws, min_col=c0, max_col=c1, min_row=1, max_row=1))
    return ch
