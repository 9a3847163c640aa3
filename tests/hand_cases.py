"""Helpers for the hand-solved micro-cases (STYLE "Tests, four layers", layer 1).

A case is a ``dict`` mapping a sheet name (DESIGN §4.1) to a list of rows, each row a ``dict`` from
column name to value. :func:`write_case` writes it as a folder of CSV files (one per sheet, named after
the sheet), which ``cli.py solve`` reads like a workbook; :func:`run_cli` solves it through the real
command line and returns the Summary of DESIGN §6 as a dict.

:func:`base_case` is the worked check of DESIGN §5.1; every other case starts from a copy of it and
changes only what it needs, so each derivation in ``test_hand_cases.py`` can be read as "the §5.1 case,
plus ...".
"""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

Row = dict[str, Any]
Case = dict[str, list[Row]]


def _cell(value: Any) -> str:
    """One CSV cell: ``None`` is a blank cell, booleans are ``TRUE``/``FALSE``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_case(folder: Path, sheets: Case) -> Path:
    """Write ``sheets`` as ``<folder>/<Sheet>.csv`` files and return ``folder``.

    The header of each file is the union of the rows' keys, in order of first appearance; a key a row
    does not have is written as a blank cell. A sheet with no rows is not written (= absent sheet).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for sheet, rows in sheets.items():
        if not rows:
            continue
        columns: list[str] = []
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        with (folder / f"{sheet}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row.get(col)) for col in columns])
    return folder


def _invoke(args: list[str]) -> subprocess.CompletedProcess:
    """Run ``cli.main`` with ``args`` through click's test runner, shaped like a finished process."""
    from click.testing import CliRunner

    from cli import main

    res = CliRunner().invoke(main, args, catch_exceptions=True)
    err = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback

        err += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(res.exception)
        )
    return subprocess.CompletedProcess(args, res.exit_code, res.stdout, err)


def run_cli(path: Path, *args: str, timeout: float = 300.0) -> dict[str, Any]:
    """Run ``python cli.py solve PATH --json [args]`` from the repository root; return the Summary.

    The results workbook goes next to the case (``-o``), never into the repository's ``outputs/``.
    Asserts exit code 0, no traceback, and exactly one JSON object on stdout.
    """
    path = Path(path)
    out = path.parent / f"{path.name}_results.xlsx"
    cmd = [sys.executable, "cli.py", "solve", str(path), "--json", "-o", str(out), *args]
    if os.environ.get("PLANNER_TEST_SUBPROCESS") == "1":
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    else:
        # The same click command in-process: a fresh interpreter per case cost ~3 s of imports, which
        # made this file take minutes. tests/test_cli.py keeps the real subprocess path covered.
        proc = _invoke(cmd[2:])
    detail = f"command: {' '.join(cmd)}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, detail
    assert proc.returncode == 0, detail
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:  # pragma: no cover - only on an interface break
        raise AssertionError(f"stdout is not one JSON object ({exc})\n{detail}") from exc
    assert isinstance(summary, dict), detail
    return summary


def set_setting(case: Case, key: str, value: Any) -> None:
    """Set (or add) one ``Settings`` key in place."""
    for row in case["Settings"]:
        if row["key"] == key:
            row["value"] = value
            return
    case["Settings"].append({"key": key, "value": value})


def base_case() -> Case:
    """The worked check of DESIGN §5.1, as sheets (a fresh deep copy on every call).

    One region ``A`` (wacc 0.10, pue 1.2, grid 10 MW at 50 $/MWh), one model year 2030 (base 2030,
    last_period_length 1), one slice of 8760 h, inference demand 1000 H100e; accelerator vintage 2030:
    1 H100e and 1.0 kW per chip, system capex 10,000 $, life 5; external accelerator price 20,000 $;
    one data-center tech ``dc`` (life 20, capex 10 $M/MW); no partners.
    Optimum: 10·CRF(0.1,5) + 10·CRF(0.1,20) + 20 + 0.5256 = 24.338171 $M.
    """
    case: Case = {
        "Settings": [
            {"key": "base_year", "value": 2030},
            {"key": "last_period_length", "value": 1},
        ],
        "Years": [{"year": 2030}],
        "Regions": [
            {
                "region": "A",
                "name": "Alpha",
                "wacc": 0.10,
                "pue": 1.2,
                "grid_max_mw": 10,
                "grid_price_usd": 50,
            }
        ],
        "TimeSlices": [{"slice": "h1", "day": "d1", "hours": 8760}],
        "Technologies": [{"tech": "dc", "class": "datacenter", "life": 20}],
        "TechCosts": [{"tech": "dc", "region": None, "year": None, "capex_musd": 10}],
        "Accelerators": [
            {
                "year": 2030,
                "h100e_per_chip": 1,
                "kw_per_chip": 1.0,
                "system_capex_usd": 10000,
                "life": 5,
            }
        ],
        "Commodities": [{"commodity": "accelerator", "year": None, "external_price_usd": 20000}],
        "Demand": [{"region": "A", "segment": "inference", "year": 2030, "h100e": 1000}],
    }
    return copy.deepcopy(case)


def region(region_id: str, **overrides: Any) -> Row:
    """A Regions row like the §5.1 region (wacc 0.10, pue 1.2, grid 10 MW at 50 $/MWh) with overrides."""
    row: Row = {
        "region": region_id,
        "name": region_id,
        "wacc": 0.10,
        "pue": 1.2,
        "grid_max_mw": 10,
        "grid_price_usd": 50,
    }
    row.update(overrides)
    return row
