"""Side-by-side comparison of solved runs (scenarios, or any results workbooks) — DESIGN §7.

The comparison is built from the §6 tables of each run (in memory after a solve, or read back from
results workbooks by :func:`read_results`), so ``solve --all-scenarios`` and ``compare A.xlsx B.xlsx``
give the same layout: Summary metrics with the difference to the first run (the base), cost categories,
capacity by class and year, capital by region and partner, compute served and unserved — each with a
native chart.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import copy
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
    # hedging plans (§8.1); blank for a deterministic run
    "expected_cost_musd",
    "cvar_musd",
    "cost_min_musd",
    "cost_max_musd",
    "vss_musd",
    "evpi_musd",
    "stage_year",
)
# a plan solved with --mpisppy (§8.1): how mpi-sppy got there and, for progressive hedging, its
# bound, gap and knobs (MpiSppyResult.summary); rows only when some run has them
MPISPPY_TEXT_METRICS = ("mpisppy_method", "mpisppy_status")
MPISPPY_METRICS = (
    "mpisppy_objective_musd",
    "ph_lower_bound_musd",
    "ph_gap",
    "ph_iterations",
    "ph_iteration_limit",
    "ph_rho",
    "ph_convthresh",
    "ph_conv",
)


# Columns a comparison reads from each results sheet (DESIGN §6); Trade and Run are optional.
REQUIRED_COLUMNS = {
    "Summary": ("metric", "value"),
    "Capacity": ("tech", "class", "region", "year", "capacity"),
    "Capital": ("partner", "tech", "region", "year", "musd"),
    "Compute": ("year", "served", "unserved"),
}
OPTIONAL_COLUMNS = {
    "Trade": ("commodity", "from", "to", "year", "units"),
    "Run": ("key", "value"),
    # the first stage of a plan (§8.1): a hedge's own sheet, else read from these
    "FirstStage": ("kind", "tech", "region", "partner", "year", "value", "unit"),
    "Chips": ("commodity", "region", "year", "deployed"),
    "Bets": ("bet", "tech", "funded", "decide_year"),
}
_NUMBERS = {"year", "capacity", "musd", "served", "unserved", "units", "deployed", "funded"}
_MW_CLASSES = ("power", "storage", "datacenter")
# Run-sheet keys that describe the question asked (the rest are versions, timings, clocks)
RUN_KEYS = (
    "input",
    "input_sha256",
    "scenario",
    "changes",
    "bet_mode",
    "time_limit_s",
    "mip_gap_requested",
    "threads",
    "integer_model",
)
TOP_MOVERS = 10

DELTAS_PRINTED_ROWS = 100
"""Rows of the Deltas sheet a printout holds (about two pages). Deltas has a row for every
(measure, item, region, year) that moved — 2,000 rows, 44 pages, between the base's central and
hedged plans — a table to filter on screen; the printed view of the changes is Movers (the largest,
with charts)."""


def _sheet_frame(ws, *, first_block: bool = False) -> tuple[list[str], list[tuple], int]:
    """Header and records of a results sheet: the units row under the header (column A
    ``(unit)``) is not a record; with ``first_block`` the table ends at its first blank row (the
    Summary's metrics, above its note and headline table). Also returns the sheet row of the first
    record."""
    from optimizer.presentation import UNITS_ROW_MARKER

    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        return [], [], 2
    header = ["" if h is None else str(h) for h in rows[0]]
    body, first = rows[1:], 2
    if body and body[0] and body[0][0] == UNITS_ROW_MARKER:
        body, first = body[1:], 3
    if first_block:
        blank = next((i for i, r in enumerate(body) if all(v is None for v in r)), len(body))
        body = body[:blank]
    return header, [r for r in body if any(v is not None for v in r)], first


def read_results(path: str | Path) -> dict[str, pd.DataFrame]:
    """Read the sheets a comparison needs from a results workbook written by this tool.

    Cells are read as they are: a region ``NA`` (Namibia), ``None`` or ``nan`` stays that text
    (pandas' reader would turn each into a blank). A missing sheet or column, or text where a number
    belongs, raises ``ValueError`` naming the file, sheet and cell.
    """
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - reported as a user-facing message
        raise ValueError(f"{path}: cannot be read as a results workbook ({exc})") from None
    try:
        missing = [s for s in REQUIRED_COLUMNS if s not in wb.sheetnames]
        if missing:
            raise ValueError(
                f"{path}: not a results workbook of this tool (missing sheets "
                f"{', '.join(missing)}) — give workbooks written by `solve`"
            )
        out: dict[str, pd.DataFrame] = {}
        for sheet, cols in {**REQUIRED_COLUMNS, **OPTIONAL_COLUMNS}.items():
            if sheet not in wb.sheetnames:
                continue
            header, rows, first = _sheet_frame(wb[sheet], first_block=sheet == "Summary")
            lacking = [c for c in cols if c not in header]
            if lacking:
                raise ValueError(
                    f"{path}: sheet {sheet} has no column {', '.join(map(repr, lacking))} "
                    f"(its header: {', '.join(h for h in header if h) or 'empty'}) — a results "
                    f"workbook written by `solve` has {', '.join(cols)}"
                )
            df = pd.DataFrame(
                [list(r) + [None] * (len(header) - len(r)) for r in rows],
                columns=header,
                dtype=object,
            )
            for c in cols:
                if c not in _NUMBERS:
                    continue
                for i, v in enumerate(df[c]):
                    if v is not None and not isinstance(v, int | float):
                        cell = f"{get_column_letter(header.index(c) + 1)}{i + first}"
                        raise ValueError(
                            f"{path}: {sheet}!{cell}: {v!r} is not a number — "
                            f"column {c} of a results workbook holds numbers"
                        )
                df[c] = pd.to_numeric(df[c]).astype(float)
            out[sheet] = df
        return out
    finally:
        wb.close()


def _items(runs) -> list[tuple[str, Mapping[str, pd.DataFrame]]]:
    """Runs as (name, tables) pairs in order: names are data, so two alike stay two runs."""
    return list(runs.items()) if isinstance(runs, Mapping) else list(runs)


def _first_stage(t: Mapping[str, pd.DataFrame], stage_year: int) -> pd.DataFrame | None:
    """A run's FirstStage sheet, or the same table read from its Capacity/Chips/Capital/Bets (a
    deterministic plan: what it builds before ``stage_year``)."""
    if t.get("FirstStage") is not None:
        # the tidy table ends at the first blank header: the chart's pivot (region, capital) sits
        # to its right and repeats the name region
        df = t["FirstStage"]
        heads = [str(h) if h is not None else "" for h in df.columns]
        end = next((i for i, h in enumerate(heads) if h in ("", "None", "nan")), len(heads))
        return df.iloc[:, :end]
    from optimizer.results import first_stage_table

    return first_stage_table(dict(t), stage_year)


def _summary_value(t: Mapping[str, pd.DataFrame], metric: str):
    s = t["Summary"]
    hit = s[s["metric"] == metric]["value"]
    if hit.empty:
        return None
    v = hit.iloc[0]
    if metric in NUMERIC_METRICS or metric in MPISPPY_METRICS:
        try:
            return float(v)
        except (TypeError, ValueError):
            return None
    return v


def _frame(rows: list[list], header: list[str]) -> pd.DataFrame:
    """A table whose header may repeat (run names are data: one may be called ``metric``)."""
    df = pd.DataFrame(rows, columns=range(len(header)))
    df.columns = header
    return df


def _diff(a, b):
    return (a - b) if isinstance(a, float) and isinstance(b, float) else None


def comparison_tables(runs) -> dict[str, pd.DataFrame]:
    """Comparison tables for ``runs`` (name → §6 tables, or (name, tables) pairs); the first run is
    the base for differences.

    Run names are only ever headers or cells, never keys: a run called ``metric``, ``year`` or
    ``base`` cannot replace a label column or another run. Besides the side-by-side tables there are
    ``Inputs`` (what differs between the runs' Run sheets and, when both input workbooks are still
    there unchanged, their cells), ``Deltas`` (capacity, capital and flows by tech or commodity ×
    region × year, each run minus the base) and ``Movers`` (the largest of those changes, with sign).
    """
    items = _items(runs)
    names = [n for n, _ in items]
    tabs = [t for _, t in items]
    base = names[0]
    diff_head = [f"{n} − {base}" for n in names[1:]]
    rows = []
    for mt in ["status", *NUMERIC_METRICS]:
        vals = [_summary_value(t, mt) for t in tabs]
        rows.append([mt, *vals, *[_diff(v, vals[0]) for v in vals[1:]]])
    if any(_summary_value(t, "mpisppy_method") is not None for t in tabs):
        for mt in MPISPPY_TEXT_METRICS:
            rows.append([mt, *[_summary_value(t, mt) for t in tabs], *[None] * len(diff_head)])
        for mt in MPISPPY_METRICS:
            vals = [_summary_value(t, mt) for t in tabs]
            rows.append([mt, *vals, *[_diff(v, vals[0]) for v in vals[1:]]])
    # the share of each run's objective that is the value of demand left unserved (issue 16: a
    # scenario dominated by it answers "what cannot be built", not "what should be built")
    share = []
    for t in tabs:
        obj, un = _summary_value(t, "objective_musd"), _summary_value(t, "cost_unserved_musd")
        share.append((un or 0.0) / obj if isinstance(obj, float) and obj else None)
    rows.append(["unserved_value_share", *share, *[_diff(v, share[0]) for v in share[1:]]])
    summary = _frame(rows, ["metric", *names, *diff_head])

    costs = _frame(
        [
            [
                c.removeprefix("cost_").removesuffix("_musd"),
                *[_summary_value(t, c) or 0.0 for t in tabs],
            ]
            for c in COST_METRICS
        ],
        ["category", *names],
    )

    def pivot(sheet: str, keys: list[str], value: str) -> pd.DataFrame:
        parts = []
        for i, t in enumerate(tabs):
            df = t.get(sheet)
            if df is None or df.empty:
                continue
            if "probability" in df.columns and "outcome" in df.columns:
                # a hedging plan holds one copy of each row per leaf: compare expectations
                df = df.assign(**{value: df[value] * df["probability"].astype(float)})
            parts.append(df.groupby(keys, dropna=False)[value].sum().rename(i))
        if not parts:
            return _frame([], [*keys, *names])
        out = pd.concat(parts, axis=1).fillna(0.0)
        for i in range(len(tabs)):
            if i not in out:
                out[i] = 0.0
        out = out[list(range(len(tabs)))].sort_index().reset_index()
        return _frame(out.values.tolist(), [*keys, *names])

    capacity = pivot("Capacity", ["class", "year"], "capacity")
    # fabs are units of output a year, the rest MW: say which on every row
    units = ["MW" if c in _MW_CLASSES else "units/yr" for c in capacity.iloc[:, 0]]
    capacity.insert(capacity.shape[1], "unit", units, allow_duplicates=True)  # a run may be "unit"
    capital = pivot("Capital", ["region", "partner"], "musd")
    served = pivot("Compute", ["year"], "served")
    unserved = pivot("Compute", ["year"], "unserved")
    years = sorted(set(served.iloc[:, 0]) | set(unserved.iloc[:, 0]))
    sv = {r[0]: r[1:] for r in served.values.tolist()}
    uv = {r[0]: r[1:] for r in unserved.values.tolist()}
    zero = [0.0] * len(names)
    compute = _frame(
        [[y, *sv.get(y, zero), *uv.get(y, zero)] for y in years],
        ["year", *[f"{n} served" for n in names], *[f"{n} unserved" for n in names]],
    )
    deltas = _deltas(names, tabs)
    out = {
        "Summary": summary,
        "Costs": costs,
        "Capacity": capacity,
        "Capital": capital,
        "Compute": compute,
        "Inputs": _input_diff(names, tabs),
        "Deltas": deltas,
        "Movers": _movers(deltas),
    }
    stages = [_summary_value(t, "stage_year") for t in tabs]
    stage = next((int(y) for y in stages if y is not None), None)
    if stage is not None:
        # the hedged first stage beside each other run's decisions before the same year (§8.1)
        keys = ["kind", "tech", "region", "year", "unit"]
        parts = []
        for i, t in enumerate(tabs):
            df = _first_stage(t, stage)
            if df is None or df.empty:
                continue
            df = df.assign(tech=df["tech"].fillna(""), region=df["region"].fillna(""))
            parts.append(df.groupby(keys)["value"].sum().astype(float).rename(i))
        if parts:
            first = pd.concat(parts, axis=1).fillna(0.0)
            for i in range(len(tabs)):
                if i not in first:
                    first[i] = 0.0
            first = first[list(range(len(tabs)))].sort_index().reset_index()
            out["FirstStage"] = _frame(first.values.tolist(), [*keys, *names])
    return out


_DELTA_HEADER = [
    "run",
    "measure",
    "item",
    "class",
    "region",
    "year",
    "unit",
    "base",
    "value",
    "change",
]


def _deltas(names: list[str], tabs: list[Mapping[str, pd.DataFrame]]) -> pd.DataFrame:
    """Each run minus the base by (measure, item, region, year); rows with no change are left out.

    Measures: ``capacity`` (MW; fabs in units/yr, the ``unit`` column says which), ``capital`` ($M,
    all partners), ``flow`` (units shipped, region ``from → to``).
    """

    def keyed(t: Mapping[str, pd.DataFrame]) -> dict[tuple, float]:
        got: dict[tuple, float] = {}
        cap = t.get("Capacity")
        if cap is not None and len(cap):
            g = cap.groupby(["tech", "class", "region", "year"], dropna=False)["capacity"].sum()
            for (tech, cls, reg, yr), v in g.items():
                unit = "MW" if cls in _MW_CLASSES else "units/yr"
                got[("capacity", tech, cls, reg, yr, unit)] = float(v)
        kap = t.get("Capital")
        if kap is not None and len(kap):
            g = kap.groupby(["tech", "region", "year"], dropna=False)["musd"].sum()
            for (tech, reg, yr), v in g.items():
                got[("capital", tech, "", reg, yr, "$M")] = float(v)
        tr = t.get("Trade")
        if tr is not None and len(tr):
            tr = tr.dropna(subset=["units"])
            g = tr.groupby(["commodity", "from", "to", "year"], dropna=False)["units"].sum()
            for (com, a, b, yr), v in g.items():
                got[("flow", com, "", f"{a} → {b}", yr, "units")] = float(v)
        return got

    base = keyed(tabs[0])
    rows = []
    for n, t in zip(names[1:], tabs[1:], strict=True):
        other = keyed(t)
        for k in sorted(set(base) | set(other), key=lambda k: tuple(map(str, k))):
            a, b = base.get(k, 0.0), other.get(k, 0.0)
            if abs(b - a) > 1e-6 * max(1.0, abs(a), abs(b)):
                m, item, cls, reg, yr, unit = k
                rows.append([n, m, item, cls, reg, yr, unit, a, b, b - a])
    return _frame(rows, _DELTA_HEADER)


def _movers(deltas: pd.DataFrame) -> pd.DataFrame:
    """The :data:`TOP_MOVERS` largest changes (by size, sign kept) of each run and measure/unit."""
    out = []
    if len(deltas):
        d = deltas.copy()
        d.columns = range(len(_DELTA_HEADER))  # run, measure, ..., unit=6, change=9
        d["size"] = d[9].abs()
        for _key, g in d.groupby([0, 1, 6], sort=False):
            out += (
                g.sort_values("size", ascending=False)
                .head(TOP_MOVERS)
                .drop(columns="size")
                .values.tolist()
            )
    return _frame(out, _DELTA_HEADER)


def _run_info(t: Mapping[str, pd.DataFrame]) -> dict[str, object]:
    run = t.get("Run")
    if run is None or run.empty:
        return {}
    return {str(k): v for k, v in zip(run["key"], run["value"], strict=False)}


def _input_diff(names: list[str], tabs: list[Mapping[str, pd.DataFrame]]) -> pd.DataFrame:
    """What differs between each run and the base: Run-sheet settings (input, its hash, scenario,
    changes, bet mode, solver options) and, when both input workbooks are still on disk with the
    hashes recorded, every input cell that differs (by the sheet's key columns)."""
    header = ["run", "what", "sheet", "row", "column", "base", "value"]
    infos = [_run_info(t) for t in tabs]
    rows = []
    for n, info in zip(names[1:], infos[1:], strict=True):
        for k in RUN_KEYS:
            a, b = infos[0].get(k), info.get(k)
            if a != b and not (a is None and b is None):
                rows.append([n, "run setting", "Run", k, "value", _text(a), _text(b)])
        if infos[0].get("input_sha256") != info.get("input_sha256"):
            rows += [[n, *r] for r in _cell_diff(infos[0], info)]
    return _frame(rows, header)


def _text(v) -> str:
    return "" if v is None else str(v)


def _rows_by_key(t, keys: list[str]) -> dict[tuple, dict]:
    """A raw input sheet's rows as {key values: {column: value}} (row position when keyless)."""
    if t is None:
        return {}
    out = {}
    for i, r in enumerate(t.rows):
        cells = {h: c.value for h, c in zip(t.headers, r, strict=False)}
        out[tuple(cells.get(c) for c in keys) if keys else (i,)] = cells
    return out


def _cell_diff(a: dict, b: dict, limit: int = 500) -> list[list]:
    """Cells that differ between two runs' input workbooks, if both are on disk unchanged."""
    from optimizer.data_io import read_raw
    from optimizer.results import input_sha256
    from optimizer.schema import SHEETS_BY_NAME

    books = []
    for info in (a, b):
        p = Path(str(info.get("input") or ""))
        try:
            if not p.exists() or input_sha256(p) != info.get("input_sha256"):
                return [["input not compared", "", "", "", "", f"{p} is gone or has changed since"]]
            books.append(read_raw(p))
        except Exception as exc:  # noqa: BLE001 - a diff is a courtesy, never a failure
            return [["input not compared", "", "", "", "", f"{p}: {exc}"]]
    rows: list[list] = []
    for sheet in sorted(set(books[0].tables) | set(books[1].tables)):
        ta, tb = books[0].tables.get(sheet), books[1].tables.get(sheet)
        spec = SHEETS_BY_NAME.get(sheet)
        keys = list(spec.keys) if spec is not None else []
        if spec is not None and spec.kind == "settings":
            keys = ["key"]

        ra, rb = _rows_by_key(ta, keys), _rows_by_key(tb, keys)
        for k in list(ra) + [k for k in rb if k not in ra]:
            label = (
                "; ".join(f"{c}={v}" for c, v in zip(keys, k, strict=False))
                if keys
                else f"row {k[0] + 2}"
            )
            if k not in rb:
                rows.append(["input row removed", sheet, label, "", "present", ""])
            elif k not in ra:
                rows.append(["input row added", sheet, label, "", "", "present"])
            else:
                for col in dict.fromkeys([*ra[k], *rb[k]]):
                    va, vb = ra[k].get(col), rb[k].get(col)
                    if va != vb:
                        rows.append(["input cell", sheet, label, col, _text(va), _text(vb)])
            if len(rows) >= limit:
                return rows + [["input diff cut", "", "", "", "", f"first {limit} differences"]]
    return rows


def _write(ws, df: pd.DataFrame) -> None:
    """Write ``df`` under its header as shown, even when the header repeats a name.

    write_table wants unique column names, so it gets positional ones and the header cells are
    then given their real text (a run's name, whatever it is)."""
    from optimizer.workbook import set_cell

    header = [str(h) for h in df.columns]
    tmp = df.copy()
    tmp.columns = [f"c{i}_{h}" if h != "year" else "year" for i, h in enumerate(header)]
    if len(set(tmp.columns)) < len(tmp.columns):  # two year columns: keep them apart
        tmp.columns = [f"c{i}_{h}" for i, h in enumerate(header)]
    formats = {
        c: "#,##0.0"
        for c, h in zip(tmp.columns, header, strict=True)
        if h != "year" and pd.api.types.is_float_dtype(tmp[c])
    }
    write_table(ws, tmp, blank_ok=set(tmp.columns), number_formats=formats)
    for j, h in enumerate(header, start=1):
        set_cell(ws.cell(1, j), h)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.oddFooter.center.text = "&A — page &P of &N"


def _format_summary(ws, df: pd.DataFrame) -> None:
    """Each metric's cells in the unit people say for that cell's size (3.11 T$, 26.7 B$): the
    cell keeps the $M value; a label column says what the metric is."""
    from optimizer.presentation import describe_metric, scale_for, scaled_format
    from optimizer.workbook import set_cell

    label_col = df.shape[1] + 1
    set_cell(ws.cell(1, label_col), "label")
    ws.cell(1, label_col)._style = copy(ws.cell(1, 1)._style)
    for i, metric in enumerate(df.iloc[:, 0], start=2):
        label, unit = describe_metric(str(metric))
        if metric == "unserved_value_share":
            label, unit = "Share of the cost that is unserved demand", "share"
        set_cell(ws.cell(i, label_col), label)
        for j in range(2, df.shape[1] + 1):
            cell = ws.cell(i, j)
            v = cell.value
            if not isinstance(v, int | float) or isinstance(v, bool):
                continue
            if unit == "share":
                cell.number_format = "0.0%"
            elif unit in ("year", "count"):
                cell.number_format = "0" if unit == "year" else "#,##0"
            elif unit == "s":
                cell.number_format = '#,##0.0" s"'
            else:
                factor, shown = scale_for(unit, float(v))
                suffix = f' "{shown}"' if shown else ""
                small = v and abs(v) < 0.01  # 0.003 $M must not read 0.00
                cell.number_format = ("0.00E+00" if small else scaled_format(factor, 2)) + suffix
    ws.column_dimensions[_col(label_col)].width = 50


def _fit_with_chart(ws, table_rows: int, chart_rows: int = 17) -> None:
    """A table with a chart under it prints on one page when both fit one; otherwise the chart
    starts a new page, so it is never cut in two."""
    from openpyxl.worksheet.pagebreak import Break

    if table_rows + chart_rows <= 60:
        ws.page_setup.fitToHeight = 1
    else:
        ws.row_breaks.append(Break(id=table_rows + 2))


def _axis(axis, unit: str, peak: float) -> str:
    """Show an axis in the unit people say for ``peak`` (the cells stay in ``unit``); returns the
    unit shown, for the axis title."""
    from optimizer.presentation import scale_for, scaled_format

    factor, shown = scale_for(unit, peak)
    axis.number_format = scaled_format(factor, 1 if factor > 1 else 0)
    axis.delete = False
    return shown


def write_comparison(runs, path: str | Path) -> Path:
    """Write the comparison workbook (tables with native charts) atomically and return its path.

    ``runs``: name → §6 tables, or (name, tables) pairs (two runs may share a name)."""
    t = comparison_tables(runs)
    names = [n for n, _ in _items(runs)]
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, df in t.items():
        _write(wb.create_sheet(sheet), df)
    _format_summary(wb["Summary"], t["Summary"])
    n = len(names)

    def peak(df: pd.DataFrame, cols: slice) -> float:
        vals = pd.to_numeric(pd.Series(df.iloc[:, cols].to_numpy().ravel()), errors="coerce")
        return float(vals.abs().max()) if vals.notna().any() else 0.0

    if len(t["Costs"]):
        ws = wb["Costs"]
        # stacked: the axis reaches the largest run's total
        top = float(t["Costs"].iloc[:, 1:].apply(pd.to_numeric, errors="coerce").sum().max())
        ch = _by_rows(ws, 2, 1 + n, list(range(2, 2 + len(t["Costs"]))), "", "", stacked=True)
        unit = _axis(ch.y_axis, "$M", top)
        ch.title, ch.y_axis.title = f"Net present cost by category ({unit})", unit
        ch.legend.position = "b"
        ws.add_chart(ch, _below(t["Costs"]))
        _fit_with_chart(ws, len(t["Costs"]))
    ws = wb["Summary"]
    obj = Reference(ws, min_col=2, max_col=1 + n, min_row=3, max_row=3)
    ch = BarChart()
    objective = t["Summary"][t["Summary"].iloc[:, 0] == "objective_musd"]
    unit = _axis(ch.y_axis, "$M", peak(objective, slice(1, 1 + n)))
    ch.title, ch.y_axis.title = f"Objective (net present cost, {unit})", unit
    ch.y_axis.scaling.min = 0  # from zero: a 1 % difference must not look like 2×
    ch.add_data(obj, from_rows=True, titles_from_data=False)
    ch.set_categories(Reference(ws, min_col=2, max_col=1 + n, min_row=1, max_row=1))
    ch.legend = None
    ws.add_chart(ch, _below(t["Summary"]))
    _fit_with_chart(ws, len(t["Summary"]))
    if len(t["Capacity"]):
        ws = wb["Capacity"]
        last = int(t["Capacity"].iloc[:, 1].max())
        # MW classes only: a fab's units/yr on the same axis would dwarf them
        mw = t["Capacity"].iloc[:, 0].isin(_MW_CLASSES)
        rows = [i + 2 for i, y in enumerate(t["Capacity"].iloc[:, 1]) if y == last and mw.iloc[i]]
        if rows:
            ch = _by_rows(ws, 3, 2 + n, rows, "", "")
            unit = _axis(ch.y_axis, "MW", peak(t["Capacity"][mw], slice(2, 2 + n)))
            ch.title = f"Capacity by class in {last} ({unit}; fabs in the table, units/yr)"
            ch.y_axis.title = unit
            ch.legend.position = "b"
            ws.add_chart(ch, _below(t["Capacity"]))
            _fit_with_chart(ws, len(t["Capacity"]))
    if len(t["Capital"]):
        ws = wb["Capital"]
        ch = BarChart()
        ch.type = "bar"
        unit = _axis(ch.y_axis, "$M", peak(t["Capital"], slice(2, 2 + n)))
        # horizontal bars: y_axis is the value axis (drawn across the bottom)
        ch.title, ch.y_axis.title = f"Capital by region and partner ({unit})", unit
        ch.x_axis.delete = False
        ch.x_axis.tickLblPos = "low"
        ch.height = max(7.5, 0.45 * len(t["Capital"]) * max(1, n / 2) + 3)
        ch.width = 18
        ch.add_data(
            Reference(ws, min_col=3, max_col=2 + n, min_row=1, max_row=1 + len(t["Capital"])),
            titles_from_data=True,
        )
        ch.set_categories(
            Reference(ws, min_col=1, max_col=2, min_row=2, max_row=1 + len(t["Capital"]))
        )
        ch.legend.position = "b"
        ws.add_chart(ch, _below(t["Capital"]))
        _fit_with_chart(ws, len(t["Capital"]), int(ch.height * 2) + 2)
    if len(t["Compute"]):
        ws = wb["Compute"]
        ch = LineChart()
        unit = _axis(ch.y_axis, "H100e", peak(t["Compute"], slice(1, 1 + 2 * n)))
        ch.title, ch.y_axis.title = f"Compute served and unserved ({unit})", unit
        ch.x_axis.delete = False
        ch.add_data(
            Reference(ws, min_col=2, max_col=1 + 2 * n, min_row=1, max_row=1 + len(t["Compute"])),
            titles_from_data=True,
        )
        ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + len(t["Compute"])))
        ch.legend.position = "b"
        ws.add_chart(ch, _below(t["Compute"]))
        _fit_with_chart(ws, len(t["Compute"]))
    _mover_charts(wb["Movers"], t["Movers"])
    deltas = wb["Deltas"]
    if deltas.max_row > DELTAS_PRINTED_ROWS + 1:
        deltas.print_area = (
            f"A1:{deltas.cell(1, deltas.max_column).column_letter}{DELTAS_PRINTED_ROWS + 1}"
        )
    return atomic_save(wb, Path(path))


def _mover_charts(ws, movers: pd.DataFrame) -> None:
    """One horizontal bar chart per (run, measure): the top movers with sign, labelled
    ``item region year`` in a helper column to the right of the table."""
    if movers.empty:
        return
    from openpyxl.chart.series import SeriesLabel
    from openpyxl.worksheet.pagebreak import Break

    label_col = len(_DELTA_HEADER) + 2
    ws.cell(1, label_col).value = "chart label"
    for i, r in enumerate(movers.values.tolist(), start=2):
        year = int(r[5]) if isinstance(r[5], float) and r[5].is_integer() else r[5]
        ws.cell(i, label_col).value = f"{r[2]} {r[4]} {year}"
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(movers.values.tolist(), start=2):
        groups.setdefault((r[0], r[1], r[6]), []).append(i)
    anchor_row = len(movers) + 4
    for k, (key, rows) in enumerate(list(groups.items())[:9]):
        run, measure, unit = key
        ch = BarChart()
        ch.type = "bar"
        top = max(abs(float(ws.cell(r, 10).value or 0.0)) for r in rows)
        shown = _axis(ch.y_axis, {"units/yr": "units/yr", "units": "units"}.get(unit, unit), top)
        ch.title = f"{run}: largest changes in {measure} ({shown})"
        ch.y_axis.title = shown
        ch.x_axis.delete = False
        ch.x_axis.tickLblPos = "low"  # labels left of the axis, clear of negative bars
        ch.add_data(Reference(ws, min_col=10, min_row=rows[0], max_row=rows[-1]))
        ch.series[0].tx = SeriesLabel(v=f"{run} − base")
        ch.set_categories(Reference(ws, min_col=label_col, min_row=rows[0], max_row=rows[-1]))
        ch.legend = None
        ch.height, ch.width = 7.5, 16
        ws.add_chart(ch, f"A{anchor_row + 16 * k}")
        if k % 2 == 0:
            # two charts a page, each page starting on a chart: none is cut in two
            ws.row_breaks.append(Break(id=anchor_row + 16 * k - 1))


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
