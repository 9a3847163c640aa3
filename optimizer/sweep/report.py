"""The sweep's summary workbook: runs, tornado, Sobol', Morris and scatter sheets with charts."""

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.sweep.analysis import morris_indices, runs_table, sobol_indices, tornado
from optimizer.sweep.design import Design
from optimizer.sweep_store import SweepStore

logger = logging.getLogger(__name__)


# Summary workbook
# ------------------------------------------------------------------------------------------------
def write_summary(design: Design, store_path: str | Path, path: str | Path) -> Path:
    """Write the sweep's summary workbook atomically and return its path.

    Sheets: ``About`` (what was swept, counts, how to reproduce a point), ``Runs`` (one row per
    distinct point), ``Tornado`` (OAT), ``Sobol`` (S1/ST with confidence intervals), ``Morris``
    (μ*, σ) and ``Scatter`` (objective against each parameter), each with native Excel charts.
    """
    from openpyxl import Workbook

    from optimizer.workbook import atomic_save, write_table

    with SweepStore(store_path) as store:
        runs = runs_table(design, store)
        finished, failed = store.counts()
        notes: list[tuple[str, Any]] = []
        tor = sob = mor = None
        if design.method == "oat":
            tor = tornado(design, store)
        elif design.method == "sobol":
            try:
                sob = sobol_indices(design, store)
            except ValueError as exc:
                notes.append(("sobol", f"not computed: {exc}"))
        elif design.method == "morris":
            try:
                mor = morris_indices(design, store)
            except ValueError as exc:
                notes.append(("morris", f"not computed: {exc}"))
        meta = store.meta()
    wb = Workbook()
    ws = wb.active
    ws.title = "About"
    about = [
        ("input", meta.get("input")),
        ("input_sha256", meta.get("input_sha256")),
        ("method", design.method),
        ("samples", design.samples),
        ("seed", design.seed),
        ("design_points", len(design.points)),
        ("distinct_runs", len(design.unique_ids)),
        ("finished_in_store", finished),
        ("failed_in_store", failed),
        ("store", str(store_path)),
        (
            "reproduce a point",
            "each run's changes (store column `changes`) are Scenarios rows: sheet, where, "
            "column, op, value; `solve --scenario` gives the same objective",
        ),
        *notes,
    ]
    for p in design.spec.parameters:
        about.append(
            (
                f"parameter {p.label}",
                f"{p.sheet}.{p.column} where [{p.where}] {p.op} {p.low}..{p.high}",
            )
        )
    write_table(ws, pd.DataFrame(about, columns=["key", "value"]).astype(str), blank_ok={"value"})

    ws = wb.create_sheet("Runs")
    write_table(ws, runs, blank_ok=set(runs.columns))
    if tor is not None and len(tor):
        ws = wb.create_sheet("Tornado")
        write_table(ws, tor, blank_ok=set(tor.columns))
        ws.add_chart(_tornado_chart(ws, len(tor)), "L2")
    if sob is not None:
        ws = wb.create_sheet("Sobol")
        write_table(ws, sob, blank_ok=set(sob.columns))
        ws.add_chart(_sobol_chart(ws, len(sob)), "G2")
    if mor is not None:
        ws = wb.create_sheet("Morris")
        write_table(ws, mor, blank_ok=set(mor.columns))
        ws.add_chart(_morris_chart(ws, len(mor)), "G2")
    if len(runs) and "objective_musd" in runs:
        _scatter_sheet(wb, design, runs)
    return atomic_save(wb, Path(path))


def _tornado_chart(ws: Any, n: int) -> Any:
    from openpyxl.chart import BarChart, Reference

    ch = BarChart()
    ch.type = "bar"
    ch.grouping, ch.overlap = "clustered", 100
    ch.title = "Tornado: change in objective at each parameter's low and high"
    ch.x_axis.title = "parameter"
    ch.y_axis.title = "Δ objective ($M)"
    # columns H, I = delta_low_musd, delta_high_musd (see tornado())
    ch.add_data(
        Reference(ws, min_col=8, max_col=9, min_row=1, max_row=1 + n), titles_from_data=True
    )
    ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + n))
    ch.x_axis.scaling.orientation = "maxMin"  # largest swing on top
    ch.x_axis.tickLblPos = "low"  # names left of the chart, not over bars that go negative
    ch.height, ch.width = 3 + 1.0 * n, 18
    return ch


def _err_bars(ws: Any, col: int, n: int) -> Any:
    from openpyxl.chart.data_source import NumDataSource, NumRef
    from openpyxl.chart.error_bar import ErrorBars
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(col)
    ref = f"'{ws.title}'!${letter}$2:${letter}${1 + n}"
    return ErrorBars(
        errDir="y",
        errBarType="both",
        errValType="cust",
        noEndCap=False,
        plus=NumDataSource(numRef=NumRef(f=ref)),
        minus=NumDataSource(numRef=NumRef(f=ref)),
    )


def _sobol_chart(ws: Any, n: int) -> Any:
    from openpyxl.chart import BarChart, Reference

    ch = BarChart()
    ch.type = "col"
    ch.title = "Sobol' indices (95 % confidence intervals)"
    ch.y_axis.title = "share of objective variance"
    ch.add_data(Reference(ws, min_col=2, min_row=1, max_row=1 + n), titles_from_data=True)
    ch.add_data(Reference(ws, min_col=4, min_row=1, max_row=1 + n), titles_from_data=True)
    ch.series[0].errBars = _err_bars(ws, 3, n)
    ch.series[1].errBars = _err_bars(ws, 5, n)
    ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + n))
    ch.width = 18
    return ch


MARKER_COLORS = ("2F5597", "C55A11", "548235", "7030A0", "BF9000", "2E75B6", "C00000", "404040")


def _points_only(series: Any, i: int = 0) -> None:
    """Markers without a line; the colour is explicit since LibreOffice draws default markers white."""
    from openpyxl.chart.marker import Marker
    from openpyxl.chart.shapes import GraphicalProperties

    color = MARKER_COLORS[i % len(MARKER_COLORS)]
    series.marker = Marker(symbol="circle", size=6)
    series.marker.graphicalProperties = GraphicalProperties(solidFill=color)
    series.marker.graphicalProperties.line.solidFill = color
    series.graphicalProperties.line.noFill = True


def _morris_chart(ws: Any, n: int) -> Any:
    from openpyxl.chart import Reference, ScatterChart, Series

    ch = ScatterChart()
    ch.style = 13
    ch.title = "Morris screening: μ* (importance) against σ (interaction / non-linearity)"
    ch.x_axis.title = "μ* ($M)"
    ch.y_axis.title = "σ ($M)"
    # one series per parameter so each point carries the parameter's name in the legend
    for i in range(n):
        s = Series(
            Reference(ws, min_col=5, min_row=2 + i),
            Reference(ws, min_col=3, min_row=2 + i),
            title_from_data=False,
        )
        from openpyxl.chart.series import SeriesLabel

        s.tx = SeriesLabel(v=str(ws.cell(2 + i, 1).value))
        _points_only(s, i)
        ch.series.append(s)
    ch.width = 18
    return ch


def _scatter_sheet(wb: Any, design: Design, runs: pd.DataFrame) -> None:
    """Objective against each parameter, one scatter chart per parameter, over the Runs sheet."""
    from openpyxl.chart import Reference, ScatterChart, Series

    src = wb["Runs"]
    ws = wb.create_sheet("Scatter")
    ws["A1"] = "Objective ($M) against each parameter; each point is a run of the Runs sheet."
    n = len(runs)
    cols = list(runs.columns)
    ycol = cols.index("objective_musd") + 1
    for i, name in enumerate(design.spec.names):
        xcol = cols.index(name) + 1
        ch = ScatterChart()
        ch.style = 13
        ch.title = f"objective vs {name}"
        ch.x_axis.title = name
        ch.y_axis.title = "objective ($M)"
        s = Series(
            Reference(src, min_col=ycol, min_row=2, max_row=1 + n),
            Reference(src, min_col=xcol, min_row=2, max_row=1 + n),
            title="objective",
        )
        _points_only(s)
        ch.series.append(s)
        ch.legend = None
        ch.height, ch.width = 7.5, 12
        ws.add_chart(ch, f"{'A' if i % 2 == 0 else 'I'}{3 + 16 * (i // 2)}")
