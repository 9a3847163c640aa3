"""Result tables → the formatted results workbook with a chart Dashboard, and PNG plots (DESIGN §6).

The tables come from ``results.py`` as tidy DataFrames, one per sheet of :data:`TABLE_COLUMNS`. This
module only formats and charts them: it never recomputes a result. The Dashboard's charts are native
Excel charts fed from small pivot tables written on the Dashboard itself, so they stay live when a
user edits the pivots and render in LibreOffice as well as Excel.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.presentation import (
    UNITS_ROW_MARKER,
    YES_NO_FORMAT,
    column_unit,
    headline_by_year,
    price_summary,
    scale_for,
    summary_display,
    yes_no,
)
from optimizer.schema import RESULT_COLUMNS, UNSERVED_HOST
from optimizer.workbook import (
    FONT_NAME,
    FORMAT_YEAR,
    atomic_save,
    atomic_write,
    set_cell,
    write_table,
)

logger = logging.getLogger(__name__)

TABLE_COLUMNS = RESULT_COLUMNS

PRICE_VIEW = "PriceSummary"
"""The printable view of the Prices sheet (averages by year), written right after it."""

SHEET_ORDER: tuple[str, ...] = tuple(
    s
    for name in ("Summary", "Dashboard", *list(TABLE_COLUMNS)[1:])
    for s in ((name, PRICE_VIEW) if name == "Prices" else (name,))
)
"""Sheets of the results workbook, in order."""

NO_UNITS_ROW = frozenset({"Summary", "Run"})
"""Sheets without a units row: their values carry their own unit (Summary) or none (Run)."""

PRICES_PRINTED_ROWS = 50
"""Data rows of the Prices sheet that print (its print area); the PriceSummary view prints the rest
as averages by year."""

BLANK_MEANS_NONE: dict[str, frozenset[str]] = {
    "Summary": frozenset({"value"}),
    "Energy": frozenset({"curtailed_mwh"}),
    "Fleet": frozenset({"deployed", "active", "idle"}),
    "Prices": frozenset({"region", "segment", "slice", "partner", "hours"}),
    "Run": frozenset({"value"}),
    "FirstStage": frozenset({"tech", "region", "partner"}),
}
"""Columns where a missing value is written as an empty cell; anywhere else it is an error."""

"""``Compute.host`` of the rows carrying unserved demand."""

_NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "Compute": {"served": "#,##0.0", "unserved": "#,##0.0"},
    "Fleet": {c: "#,##0.0" for c in ("deployed", "active", "idle", "active_h100e", "idle_h100e")},
    "Energy": {"mwh": "#,##0", "curtailed_mwh": "#,##0"},
    "Emissions": {"tco2": "#,##0"},
    "Bets": {"probability": "0.0%", "funded": YES_NO_FORMAT},
    "Prices": {"hours": "#,##0.##"},
}

_HEADER_COMMENTS: dict[str, dict[str, str]] = {
    "Capacity": {
        "built": "Capacity added in the build period: MW (power, storage, datacenter) or "
        "units of output per year (fab)",
        "capacity": "Capacity in service: MW (power, storage, datacenter) or units of output "
        "per year (fab)",
    },
    "Capital": {"musd": "$M, constant base-year dollars, undiscounted capital raised"},
    "Chips": {c: "units" for c in ("produced", "bought", "shipped_in", "shipped_out", "deployed")},
    "Trade": {"units": "units"},
    "Compute": {"served": "H100e", "unserved": "H100e"},
    "Fleet": {
        "vintage": "year the chips were deployed; 'existing' = the ExistingFleet",
        "deployed": "accelerators of this vintage in the region (blank for the ExistingFleet)",
        "active": "accelerators running in this year",
        "idle": "accelerators alive but not running: no power, no data-center space",
        "active_h100e": "H100e running",
        "idle_h100e": "H100e alive but not running",
    },
    "Energy": {"mwh": "MWh", "curtailed_mwh": "MWh; blank = not applicable"},
    "Emissions": {"tco2": "tCO2"},
    "Prices": {"value": "in the unit of the 'unit' column"},
    "Bets": {"rd_cost_musd": "$M"},
}

# Summary values get a format by metric name: money with thousands separators, counts as integers.
_SUMMARY_FORMATS: dict[str, str] = {
    "mip_gap": "0.00E+00",
    "variables": "#,##0",
    "constraints": "#,##0",
    "solve_seconds": "#,##0.00",
    "build_seconds": "#,##0.00",
    "unserved_h100e": "#,##0.0",
    "idle_h100e": "#,##0.0",
}
_MONEY_FORMAT = "#,##0.00"

# Dashboard geometry. Column widths are fixed so the chart anchors (cell based) never overlap.
_DASH_COL_WIDTH = 13
_CHART_WIDTH_CM = 16.0
_CHART_HEIGHT_CM = 8.5
_CHART_COLS = 7
_CHART_ROWS = 18
_CHART_TOP = 6
_PIVOT_FORMAT = "#,##0.0"

_MW_CLASSES = ("power", "storage", "datacenter")


def _font(*, size: int = 11, **kw: Any) -> Font:
    return Font(name=FONT_NAME, size=size, **kw)


# --------------------------------------------------------------------------------------------
# Table checks
# --------------------------------------------------------------------------------------------


OUTCOME_COLUMNS = ("outcome", "probability")


def _prepare_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Return every declared table with its columns in order; report all shape problems at once."""
    problems: list[str] = []
    prepared: dict[str, pd.DataFrame] = {}
    for name, columns in TABLE_COLUMNS.items():
        df = tables.get(name)
        if df is None:
            logger.warning(
                "results table %s is missing: writing the sheet with its header only", name
            )
            prepared[name] = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
            continue
        missing = [c for c in columns if c not in df.columns]
        if missing:
            problems.append(f"{name}: missing column(s) {', '.join(missing)}")
            continue
        # Extra columns are kept (after the declared ones) rather than dropped without a word;
        # the stochastic plan's outcome columns lead, since every row belongs to one outcome.
        lead = [c for c in OUTCOME_COLUMNS if c in df.columns and c not in columns]
        extra = [c for c in df.columns if c not in columns and c not in lead]
        prepared[name] = df.loc[:, [*lead, *columns, *extra]].reset_index(drop=True)
    for name, df in tables.items():
        if name in TABLE_COLUMNS:
            continue
        if name == "Dashboard" or len(name) > 31 or any(ch in name for ch in "[]:*?/\\"):
            problems.append(f"{name!r}: not a usable sheet name for an extra results table")
            continue
        prepared[name] = df.reset_index(drop=True)
    if problems:
        raise ValueError("Results tables do not match DESIGN §6: " + "; ".join(problems))
    return prepared


# --------------------------------------------------------------------------------------------
# Pivots shared by the Dashboard and the PNG plots
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ChartSpec:
    """One Dashboard chart and its PNG twin."""

    key: str
    title: str
    x_title: str
    y_title: str
    kind: str  # "clustered", "stacked" or "served_demand"
    data: pd.DataFrame  # first column = categories, the others = series
    empty_note: str
    category_format: str | None = None


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").fillna(0.0).astype(float)


def _year_pivot(df: pd.DataFrame, column: str, value: str, order: list[str]) -> pd.DataFrame:
    """Sum ``value`` by year (rows) and ``column`` (series, in ``order``), zero-filled."""
    work = df.assign(_v=_numeric(df[value]))
    pivot = work.pivot_table(
        index="year", columns=column, values="_v", aggfunc="sum", fill_value=0.0, observed=True
    )
    pivot = pivot.reindex(columns=[c for c in order if c in pivot.columns]).sort_index()
    pivot.columns = [str(c) for c in pivot.columns]
    return pivot.reset_index()


def _order_by_total(df: pd.DataFrame, column: str, value: str, last: tuple[str, ...] = ()) -> list:
    totals = df.assign(_v=_numeric(df[value])).groupby(column, observed=True)["_v"].sum()
    order = totals.sort_values(ascending=False, kind="stable").index.tolist()
    return [c for c in order if c not in last] + [c for c in last if c in order]


def _expected(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tables of a stochastic plan carry one copy of every row per outcome: weight each value by its
    outcome's probability so charts show expectations instead of sums over outcomes."""
    out = {}
    for name, df in tables.items():
        if "probability" in df.columns and "outcome" in df.columns:
            df = df.copy()
            w = pd.to_numeric(df["probability"], errors="coerce").fillna(0.0)
            for c in df.columns:
                if c not in ("year", "probability") and pd.api.types.is_float_dtype(df[c]):
                    df[c] = df[c] * w
            df = df.drop(columns=["outcome", "probability"])
        out[name] = df
    return out


def _scaled(pivot: pd.DataFrame, unit: str) -> tuple[pd.DataFrame, str]:
    """A chart pivot in the unit people say for its size (GW, T$, M H100e: ``scale_for``)."""
    if pivot.empty:
        return pivot, unit
    values = pivot.iloc[:, 1:].to_numpy(dtype=float)
    factor, shown = scale_for(unit, float(np.nanmax(np.abs(values))) if values.size else 0.0)
    if factor != 1.0:
        pivot = pivot.copy()
        pivot.iloc[:, 1:] = values / factor
    return pivot, shown


def _capital_pivot(capital: pd.DataFrame) -> pd.DataFrame:
    """Capital raised per region over all years, largest first."""
    if not len(capital):
        return pd.DataFrame()
    by_region = (
        capital.assign(_v=_numeric(capital["musd"]))
        .groupby("region", observed=True)["_v"]
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    return pd.DataFrame(
        {"region": by_region.index.astype(str), "capital_musd": by_region.to_numpy()}
    )


def _compute_pivot(compute: pd.DataFrame) -> pd.DataFrame:
    """Compute served, unserved and demanded per year."""
    if not len(compute):
        return pd.DataFrame()
    work = compute.assign(
        _s=_numeric(compute["served"]).where(compute["host"] != UNSERVED_HOST, 0.0),
        _u=_numeric(compute["unserved"]),
    )
    by_year = work.groupby("year")[["_s", "_u"]].sum().sort_index()
    return pd.DataFrame(
        {
            "year": by_year.index,
            "served": by_year["_s"].to_numpy(),
            "unserved": by_year["_u"].to_numpy(),
            "demand": (by_year["_s"] + by_year["_u"]).to_numpy(),
        }
    )


def _generation_pivot(cap: pd.DataFrame, energy: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Generation per tech and year in TWh (GWh when below 1 TWh a year), and that unit."""
    # Storage discharge re-delivers energy already generated: charting it would count it twice.
    storage = set(cap.loc[cap["class"] == "storage", "tech"].astype(str))
    gen = energy[~energy["tech"].astype(str).isin(storage)]
    if not len(gen):
        return pd.DataFrame(), "TWh"
    gen = gen.assign(twh=_numeric(gen["mwh"]) / 1e6, tech=gen["tech"].astype(str))
    gen_pivot = _year_pivot(gen, "tech", "twh", _order_by_total(gen, "tech", "twh", ("grid",)))
    if len(gen_pivot) and gen_pivot.iloc[:, 1:].sum(axis=1).max() < 1:
        # Below 1 TWh a year the axis would read 0.0, 0.1, 0.1: switch to GWh.
        gen_pivot.iloc[:, 1:] = gen_pivot.iloc[:, 1:] * 1e3
        return gen_pivot, "GWh"
    return gen_pivot, "TWh"


def _chart_specs(tables: Mapping[str, pd.DataFrame]) -> list[_ChartSpec]:
    """Build the pivots behind every Dashboard chart (empty pivot = chart skipped with a note)."""
    cap = tables["Capacity"]
    mw = cap[cap["class"].isin(_MW_CLASSES)]
    capacity = (
        _year_pivot(mw, "class", "capacity", list(_MW_CLASSES)) if len(mw) else pd.DataFrame()
    )
    fab = cap[cap["class"] == "fab"]
    fab_pivot = (
        _year_pivot(fab, "tech", "capacity", _order_by_total(fab, "tech", "capacity"))
        if len(fab)
        else pd.DataFrame()
    )
    gen_pivot, gen_unit = _generation_pivot(cap, tables["Energy"])
    capacity, cap_unit = _scaled(capacity, "MW")
    fab_pivot, fab_unit = _scaled(fab_pivot, "units/yr")
    capital_pivot, capital_unit = _scaled(_capital_pivot(tables["Capital"]), "$M")
    compute_pivot, compute_unit = _scaled(_compute_pivot(tables["Compute"]), "H100e")
    if len(capital_pivot):
        capital_pivot = capital_pivot.rename(columns={"capital_musd": f"capital ({capital_unit})"})

    return [
        _ChartSpec(
            "capacity_by_class",
            "Capacity in service by class",
            "Year",
            f"Capacity ({cap_unit})",
            "clustered",
            capacity,
            "no power, storage or datacenter rows in the Capacity table",
            FORMAT_YEAR,
        ),
        _ChartSpec(
            "generation_mix",
            "Generation mix (storage excluded)",
            "Year",
            f"Generation ({gen_unit})",
            "stacked",
            gen_pivot,
            "the Energy table has no generation rows",
            FORMAT_YEAR,
        ),
        _ChartSpec(
            "compute_served_vs_demand",
            "Compute served vs demand",
            "Year",
            f"Compute ({compute_unit})",
            "served_demand",
            compute_pivot,
            "the Compute table is empty",
            FORMAT_YEAR,
        ),
        _ChartSpec(
            "capital_by_region",
            "Capital raised by region (all years)",
            "Region",
            f"Capital ({capital_unit})",
            "clustered",
            capital_pivot,
            "the Capital table is empty",
        ),
        _ChartSpec(
            "fab_capacity",
            "Fab capacity by tech",
            "Year",
            f"Capacity ({fab_unit})",
            "clustered",
            fab_pivot,
            "no fab rows in the Capacity table",
            FORMAT_YEAR,
        ),
    ]


# --------------------------------------------------------------------------------------------
# Workbook
# --------------------------------------------------------------------------------------------


# Printable width of a page at 100 %, in column-width units, as LibreOffice prints Calibri 11 on
# A4/Letter with 0.5" margins (measured: a 116-unit table at 60 % just fits a portrait page).
_PORTRAIT_CHARS = 68
_LANDSCAPE_CHARS = 92
_LONG_TABLE_SCALE = 55  # percent: a long, narrow table prints ~75 rows a page instead of ~45


def _print_setup(ws: Worksheet, *, title_rows: int = 1, shrink_long: bool = False) -> None:
    """Print sensibly: portrait when the used columns fit a portrait page, landscape otherwise, fitted
    to one page wide; a long narrow table at a smaller scale; the header (and units) rows repeated
    on every page."""
    width = sum(
        (ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width or 8.43)
        for c in range(1, ws.max_column + 1)
    )
    ps = ws.page_setup
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    long = shrink_long and ws.max_row > 120
    printed = width * _LONG_TABLE_SCALE / 100 if long else width
    ps.orientation = "portrait" if printed <= _PORTRAIT_CHARS else "landscape"
    page = _PORTRAIT_CHARS if printed <= _PORTRAIT_CHARS else _LANDSCAPE_CHARS
    if long and printed <= page:
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ps.scale = _LONG_TABLE_SCALE
    else:
        ps.fitToWidth = 1
        # 0 = as many pages tall as needed; only the width is fitted.
        ps.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = f"1:{title_rows}"
    ws.oddFooter.center.text = "&A — page &P of &N"


_SUMMARY_NOTE = (
    "Each value is stored in the unit its metric's name says (_musd: $M, _h100e: H100e, _seconds: s) "
    "and shown in the unit of the unit column (e.g. T$): formulas and other tools read the stored value."
)
_HEADLINE_FORMAT = "#,##0.0"


def _write_summary(ws: Worksheet, df: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> None:
    """The Summary as a report: every metric with its value, the unit it is shown in and a
    plain-language label (:mod:`optimizer.presentation`), then the headline table by year."""
    shown = []
    for metric, value in zip(df["metric"], df["value"], strict=True):
        label, unit, fmt = summary_display(str(metric), value)
        shown.append((metric, yes_no(value), unit, label, fmt))
    table = pd.DataFrame([r[:4] for r in shown], columns=["metric", "value", "unit", "label"])
    table = table.astype(object)
    write_table(
        ws,
        table,
        blank_ok={"value", "unit"},
        header_comments={"value": _SUMMARY_NOTE},
        set_widths=False,
    )
    for i, (metric, _v, _u, _l, fmt) in enumerate(shown, start=2):
        cell = ws.cell(row=i, column=2)
        if fmt:
            cell.number_format = fmt
        cell.alignment = Alignment(horizontal="right")
        ws.cell(row=i, column=3).alignment = Alignment(horizontal="left", indent=1)
        if metric == "objective_musd":
            for c in range(1, 5):
                ws.cell(row=i, column=c).font = _font(bold=True)
    row = len(shown) + 3
    set_cell(ws.cell(row=row, column=1), _SUMMARY_NOTE)
    ws.cell(row=row, column=1).font = _font(italic=True, size=9, color="FF595959")

    head = headline_by_year(_headline_tables(tables))
    widths = {"A": 30.0, "B": 16.0, "C": 14.0}
    if len(head):
        row += 2
        stochastic = any("outcome" in t.columns for t in tables.values())
        title = "Headline by year" + (" (expected values over the futures)" if stochastic else "")
        set_cell(ws.cell(row=row, column=1), title)
        ws.cell(row=row, column=1).font = _font(bold=True, size=12)
        write_table(
            ws,
            head,
            number_formats={c: _HEADLINE_FORMAT for c in head.columns[2:]},
            start_row=row + 1,
            freeze=False,
            autofilter=False,
            set_widths=False,
        )
        for j in range(3, len(head.columns) + 1):
            letter = ws.cell(row=1, column=j).column_letter
            widths[letter] = max(widths.get(letter, 0.0), 10.0)
            ws.cell(row=row + 1, column=j).alignment = Alignment(horizontal="right")
        # small prices and shares need their decimals
        for i, unit in enumerate(head["unit"], start=row + 2):
            if unit.startswith("$/H100e"):
                for j in range(3, len(head.columns) + 1):
                    ws.cell(row=i, column=j).number_format = "#,##0.00"
    for letter, w in widths.items():
        ws.column_dimensions[letter].width = w
    # labels are long: let them run over the empty cells to their right instead of widening D
    ws.column_dimensions["D"].width = max(ws.column_dimensions["D"].width or 0, 10.0)
    ws.freeze_panes = "A2"


def _headline_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tables for the headline: expectations of a hedging plan's flows; its Prices as they are
    (presentation weights them by probability itself)."""
    out = _expected(tables)
    if "Prices" in tables:
        out["Prices"] = tables["Prices"]
    return out


def _summary_value(summary: pd.DataFrame, metric: str) -> Any:
    hit = summary.loc[summary["metric"] == metric, "value"]
    return hit.iloc[0] if len(hit) else None


def _write_dashboard(ws: Worksheet, tables: Mapping[str, pd.DataFrame]) -> None:
    """Headline figures, a grid of native charts, and the pivots that feed them below."""
    set_cell(ws.cell(row=1, column=1), "Dashboard")
    ws.cell(row=1, column=1).font = _font(bold=True, size=14)
    summary = tables["Summary"]
    headline = [
        ("Total cost (NPV)", "objective_musd"),
        ("Status", "status"),
        ("Unserved", "unserved_h100e"),
        ("Capital raised", "capital_musd"),
    ]
    for k, (label, metric) in enumerate(headline):
        # Label above value, two columns apart: a label may spill into the empty cell beside it.
        col = 1 + 2 * k
        value = _summary_value(summary, metric)
        _l, unit, fmt = summary_display(metric, value)
        set_cell(ws.cell(row=2, column=col), f"{label} ({unit})" if unit else label)
        ws.cell(row=2, column=col).font = _font(bold=True)
        cell = ws.cell(row=3, column=col)
        try:
            set_cell(cell, value)
        except ValueError:
            continue  # NaN headline (e.g. no objective after an infeasible solve): leave blank
        cell.alignment = Alignment(horizontal="left")
        cell.font = _font(size=12)
        if fmt:
            cell.number_format = fmt
    set_cell(
        ws.cell(row=4, column=1),
        "Charts are fed by the tables under 'Chart data' below; the other sheets hold every detail.",
    )
    ws.cell(row=4, column=1).font = _font(italic=True, color="FF595959")

    specs = _chart_specs(_expected(tables))
    data_top = _CHART_TOP + _CHART_ROWS * math.ceil(len(specs) / 2) + 1
    set_cell(ws.cell(row=data_top, column=1), "Chart data")
    ws.cell(row=data_top, column=1).font = _font(bold=True, size=12)
    row = data_top + 2
    widest = 2 * _CHART_COLS
    for n, spec in enumerate(specs):
        anchor_row = _CHART_TOP + _CHART_ROWS * (n // 2)
        anchor_col = 1 + _CHART_COLS * (n % 2)
        anchor = ws.cell(row=anchor_row, column=anchor_col)
        if spec.data.empty:
            set_cell(anchor, f"{spec.title}: no chart — {spec.empty_note}.")
            anchor.font = _font(italic=True, color="FF7F7F7F")
            continue
        set_cell(ws.cell(row=row, column=1), f"{spec.title}: {spec.y_title}")
        ws.cell(row=row, column=1).font = _font(bold=True)
        header = row + 1
        category = spec.data.columns[0]
        formats = {c: _PIVOT_FORMAT for c in spec.data.columns[1:]}
        if spec.category_format:
            formats[category] = spec.category_format
        write_table(
            ws,
            spec.data,
            number_formats=formats,
            start_row=header,
            start_col=1,
            freeze=False,
            autofilter=False,
            set_widths=False,
        )
        last = header + len(spec.data)
        ws.add_chart(_make_chart(ws, spec, header, last), anchor.coordinate)
        widest = max(widest, spec.data.shape[1])
        row = last + 3
    for col in range(1, widest + 1):
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = _DASH_COL_WIDTH
    _print_setup(ws, title_rows=0)
    # Fitted to the page width, two rows of charts fill a landscape page; break there so that
    # no chart is cut in two when printed or exported to PDF.
    chart_rows = math.ceil(len(specs) / 2)
    for k in range(2, chart_rows + 1, 2):
        ws.row_breaks.append(Break(id=_CHART_TOP + _CHART_ROWS * k - 2))
    # the chart data under the charts is for editing in Excel: print the headline and the charts
    last_col = ws.cell(row=1, column=2 * _CHART_COLS).column_letter
    ws.print_area = f"A1:{last_col}{data_top - 1}"


def _style_chart(chart: Any, spec: _ChartSpec) -> None:
    chart.title = spec.title
    chart.x_axis.title = spec.x_title
    chart.y_axis.title = spec.y_title
    # openpyxl 3.1 leaves `delete` unset, which recent Excel reads as "hide the axis".
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    # Small values need their decimals, which "General" shows without repeating a rounded label.
    chart.y_axis.number_format = (
        "#,##0" if spec.data.iloc[:, 1:].to_numpy().max() >= 10 else "General"
    )
    chart.y_axis.majorTickMark = "out"
    if spec.data.iloc[:, 1:].to_numpy().min() >= 0:
        # LibreOffice otherwise starts the axis near the smallest bar, exaggerating differences.
        chart.y_axis.scaling.min = 0
    chart.legend.position = "b"
    chart.width = _CHART_WIDTH_CM
    chart.height = _CHART_HEIGHT_CM


def _make_chart(ws: Worksheet, spec: _ChartSpec, header: int, last: int) -> Any:
    ncols = spec.data.shape[1]
    cats = Reference(ws, min_col=1, min_row=header + 1, max_row=last)
    chart = BarChart()
    chart.type = "col"
    if spec.kind == "served_demand":
        served = spec.data.columns.get_loc("served") + 1
        demand = spec.data.columns.get_loc("demand") + 1
        chart.add_data(
            Reference(ws, min_col=served, min_row=header, max_row=last), titles_from_data=True
        )
        chart.set_categories(cats)
        line = LineChart()
        line.add_data(
            Reference(ws, min_col=demand, min_row=header, max_row=last), titles_from_data=True
        )
        line.set_categories(cats)
        for series in line.series:
            series.smooth = False
            series.marker.symbol = "circle"
            series.graphicalProperties.line.width = 28575  # 2.25 pt, in EMU
        # Same axis ids as the bars: demand and served share one H100e scale.
        chart += line
    else:
        chart.add_data(
            Reference(ws, min_col=2, max_col=ncols, min_row=header, max_row=last),
            titles_from_data=True,
        )
        chart.set_categories(cats)
        if spec.kind == "stacked":
            chart.grouping = "stacked"
            chart.overlap = 100
    _style_chart(chart, spec)
    if ncols == 2 and spec.kind == "clustered":
        chart.legend = None  # one series: its name is the axis title already
    return chart


def write_results_workbook(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write the results workbook: Summary, Dashboard, then one formatted sheet per table.

    Parameters
    ----------
    tables : dict[str, pandas.DataFrame]
        The tables of DESIGN §6 keyed by sheet name, with the columns of :data:`TABLE_COLUMNS`
        (any may have zero rows). Extra columns are kept after the declared ones; extra tables are
        written as extra sheets before ``Run``. A missing table is written as a header-only sheet.
    path : Path
        The ``.xlsx`` file to create or replace (atomically).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        When a table lacks a declared column, holds +/-inf, or a value is missing where blank does
        not mean "none" (see :data:`BLANK_MEANS_NONE`). All problems are listed; nothing is written.
    OutputLockedError
        When the target file cannot be replaced (typically: open in Excel).
    """
    path = Path(path)
    prepared = _prepare_tables(tables)
    extras = [name for name in prepared if name not in TABLE_COLUMNS]
    order = [*SHEET_ORDER[:-1], *extras, SHEET_ORDER[-1]]

    wb = Workbook()
    wb.remove(wb.active)
    problems: list[str] = []
    for name in order:
        ws = wb.create_sheet(name)
        try:
            if name == "Summary":
                _write_summary(ws, prepared[name], prepared)
            elif name in ("Dashboard", PRICE_VIEW):
                continue  # after every table has been checked
            else:
                df = prepared[name]
                units = None
                if name not in NO_UNITS_ROW:
                    units = [column_unit(name, str(c)) for c in df.columns]
                    units[0] = units[0] or UNITS_ROW_MARKER
                else:
                    df = df.map(yes_no) if len(df) else df
                write_table(
                    ws,
                    df,
                    blank_ok=BLANK_MEANS_NONE.get(name, frozenset()),
                    number_formats=_NUMBER_FORMATS.get(name),
                    header_comments=_HEADER_COMMENTS.get(name),
                    units=units,
                )
                _print_setup(ws, title_rows=1 if units is None else 2, shrink_long=True)
                if name == "FirstStage":
                    _first_stage_chart(ws, prepared[name])
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError(f"Cannot write {path.name}: " + " | ".join(problems))
    _print_setup(wb["Summary"])
    _write_dashboard(wb["Dashboard"], prepared)
    _write_price_view(wb[PRICE_VIEW], prepared)
    prices = wb["Prices"]
    if prices.max_row > PRICES_PRINTED_ROWS + 2:
        # 14,000 rows (one per time slice) would be hundreds of pages: print the first rows and
        # let PriceSummary print the averages
        prices.print_area = (
            f"A1:{prices.cell(1, prices.max_column).column_letter}{PRICES_PRINTED_ROWS + 2}"
        )
    return atomic_save(wb, path)


def _write_price_view(ws: Worksheet, tables: Mapping[str, pd.DataFrame]) -> None:
    """PriceSummary: the Prices sheet as tables by year a reader can print (its averages)."""
    set_cell(ws.cell(row=1, column=1), "Prices by year (averages of the Prices sheet)")
    ws.cell(row=1, column=1).font = _font(bold=True, size=14)
    n = len(tables["Prices"])
    set_cell(
        ws.cell(row=2, column=1),
        f"The Prices sheet holds all {n:,} prices (one per region, year and time slice); it prints "
        f"its first {PRICES_PRINTED_ROWS} rows only. Compute prices are per H100e-hour "
        "($/H100e-year ÷ 8,760).",
    )
    ws.cell(row=2, column=1).font = _font(italic=True, color="FF595959")
    row = 4
    widths: dict[int, float] = {}
    for title, df in price_summary(tables):
        set_cell(ws.cell(row=row, column=1), title)
        ws.cell(row=row, column=1).font = _font(bold=True, size=12)
        years = [c for c in df.columns if str(c).isdigit()]
        fmt = "#,##0.00" if "compute" in title.lower() or "budget" in title.lower() else "#,##0.0"
        write_table(
            ws,
            df.astype({c: float for c in years}),
            blank_ok=set(df.columns),
            number_formats={c: fmt for c in years},
            start_row=row + 1,
            freeze=False,
            autofilter=False,
            set_widths=False,
        )
        for j, c in enumerate(df.columns, start=1):
            wide = 9.0 if c in years else max(12.0, df[c].astype(str).str.len().max() + 2)
            widths[j] = max(widths.get(j, 0.0), wide)
            if c in years:
                ws.cell(row=row + 1, column=j).alignment = Alignment(horizontal="right")
        row += len(df) + 3
    if row == 4:
        set_cell(ws.cell(row=row, column=1), "No prices: the solve gave no duals.")
    for j, w in widths.items():
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = w
    _print_setup(ws, title_rows=0)


def _first_stage_chart(ws: Worksheet, df: pd.DataFrame) -> None:
    """Capital committed before the stage year by region ($M, §8.1): a small pivot to the right of
    the FirstStage table and a bar chart under it."""
    fin = df[df["kind"] == "fin"]
    if fin.empty:
        return
    by_region = (
        fin.assign(_v=_numeric(fin["value"]))
        .groupby("region")["_v"]
        .sum()
        .sort_values(ascending=False)
    )
    col = len(df.columns) + 2
    ws.cell(1, col, "region")
    ws.cell(1, col + 1, "first-stage capital ($M)")
    for i, (region, value) in enumerate(by_region.items(), start=2):
        ws.cell(i, col, str(region))
        ws.cell(i, col + 1, float(value)).number_format = _PIVOT_FORMAT
    last = 1 + len(by_region)
    chart = BarChart()
    chart.type = "col"
    chart.title = "First-stage capital by region ($M)"
    chart.y_axis.title = "$M"
    chart.add_data(Reference(ws, min_col=col + 1, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=col, min_row=2, max_row=last))
    chart.legend = None
    ws.add_chart(chart, f"A{len(df) + 4}")


# --------------------------------------------------------------------------------------------
# PNG plots
# --------------------------------------------------------------------------------------------


def _axis_formatter(values: np.ndarray) -> FuncFormatter:
    decimals = 0 if values.size and np.nanmax(np.abs(values)) >= 10 else 2
    return FuncFormatter(lambda v, _pos: f"{v:,.{decimals}f}")


def _draw(spec: _ChartSpec) -> Figure:
    fig = Figure(figsize=(8, 4.5), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    data = spec.data
    labels = [
        str(int(v))
        if isinstance(v, int | float | np.integer | np.floating) and float(v).is_integer()
        else str(v)
        for v in data.iloc[:, 0]
    ]
    x = np.arange(len(labels))
    series = [c for c in data.columns[1:]]
    values = data[series].to_numpy(dtype=float)
    if spec.kind == "served_demand":
        ax.bar(x, data["served"].to_numpy(dtype=float), 0.6, label="served")
        ax.plot(x, data["demand"].to_numpy(dtype=float), "o-", color="black", lw=2, label="demand")
        values = data[["served", "demand"]].to_numpy(dtype=float)
    elif spec.kind == "stacked":
        bottom = np.zeros(len(x))
        for j, name in enumerate(series):
            ax.bar(x, values[:, j], 0.6, bottom=bottom, label=name)
            bottom = bottom + values[:, j]
        values = bottom
    else:
        width = 0.8 / max(len(series), 1)
        for j, name in enumerate(series):
            ax.bar(x - 0.4 + width * (j + 0.5), values[:, j], width, label=name)
    ax.set_xticks(x, labels, rotation=0 if len(labels) <= 16 else 45)
    ax.set_title(spec.title)
    ax.set_xlabel(spec.x_title)
    ax.set_ylabel(spec.y_title)
    ax.yaxis.set_major_formatter(_axis_formatter(np.asarray(values)))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    if len(series) > 1 or spec.kind == "served_demand":
        # Outside the axes: inside, the legend hides the tallest bars.
        handles, names = ax.get_legend_handles_labels()
        fig.legend(
            handles, names, loc="outside lower center", fontsize="small", ncols=min(len(names), 6)
        )
    return fig


def write_plots(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write PNG plots of the Dashboard charts (matplotlib, Agg canvas, no pyplot state).

    Parameters
    ----------
    tables : dict[str, pandas.DataFrame]
        The result tables, as for :func:`write_results_workbook`.
    folder : Path
        Where to write ``capacity_by_class.png``, ``generation_mix.png``,
        ``compute_served_vs_demand.png``, ``capital_by_region.png`` and ``fab_capacity.png``;
        created when missing.

    Returns
    -------
    list[Path]
        The plots written. A plot whose data is empty is skipped (and a stale file of that name
        from an earlier run removed, so the folder never shows a chart of another run).
    """
    folder = Path(folder)
    prepared = _prepare_tables(tables)
    written: list[Path] = []
    for spec in _chart_specs(_expected(prepared)):
        target = folder / f"{spec.key}.png"
        if spec.data.empty:
            logger.info("plot %s skipped: %s", target.name, spec.empty_note)
            if target.exists():
                target.unlink()
            continue
        fig = _draw(spec)
        written.append(atomic_write(target, partial(fig.savefig, format="png")))
    return written
