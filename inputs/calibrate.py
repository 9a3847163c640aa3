"""Write inputs/CALIBRATION.md: the base plan's headline figures beside their public anchors (issue 16).

    python inputs/calibrate.py                          # solve inputs/base, write inputs/CALIBRATION.md
    python inputs/calibrate.py --results outputs/base_results.xlsx   # reuse a solved base's workbook

The anchors, their derivations and the known deviations live in ``optimizer/calibration.py``; the test
that the shipped plan fits them is in ``tests/test_base_dataset.py``. Exit status 1 when an anchored figure
lies outside its range and is not a known deviation, or (with --comparison) a scenario's objective is more
than 10 % unserved-demand value without its reason in SCENARIO_NOTES (the file is written all the same).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import build_model, load_inputs, solve  # noqa: E402
from optimizer.calibration import (  # noqa: E402
    capacity_chart,
    figures,
    headline,
    headline_markdown,
    markdown,
    problems,
    scenario_markdown,
    scenario_problems,
    scenario_rows,
)
from optimizer.results import tables  # noqa: E402
from optimizer.schema import RESULT_COLUMNS  # noqa: E402


def _read_results(path: Path) -> dict[str, pd.DataFrame]:
    """The tables of a results workbook written by ``cli.py solve``."""
    from optimizer.presentation import read_results_workbook

    book = read_results_workbook(path)  # without the units rows and the Summary's report parts
    out = {}
    for name in RESULT_COLUMNS:
        df = book.get(name)
        out[name] = df if df is not None else pd.DataFrame(columns=list(RESULT_COLUMNS[name]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Solve (or read) the base, compute the figures, write the markdown; 1 if a figure fails."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--input", type=Path, default=ROOT / "inputs" / "base")
    ap.add_argument("--results", type=Path, help="a results workbook of the same input (no solve)")
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "inputs" / "CALIBRATION.md")
    ap.add_argument(
        "--comparison",
        type=Path,
        help="comparison.xlsx of `cli.py solve … --all-scenarios`: adds the per-scenario table",
    )
    ap.add_argument(
        "--chart",
        type=Path,
        default=ROOT / "docs" / "base_capacity_by_class.png",
        help="the README's capacity chart (written with the markdown)",
    )
    args = ap.parse_args(argv)
    data = load_inputs(args.input)
    if args.results:
        t = _read_results(args.results)
    else:
        sol = solve(build_model(data))
        t = tables(sol)
    s = dict(zip(t["Summary"]["metric"], t["Summary"]["value"], strict=True))
    meta = {
        "input": str(
            args.input.relative_to(ROOT) if args.input.is_relative_to(ROOT) else args.input
        ),
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "status": s.get("status"),
        "objective_musd": float(s["objective_musd"]),
        "solve_seconds": float(s.get("solve_seconds") or 0.0),
    }
    figs = figures(t, data)
    table = headline_markdown(headline(t, data))
    comp = pd.read_excel(args.comparison, sheet_name="Summary") if args.comparison else None
    rows = scenario_rows(comp) if comp is not None else None
    text = markdown(figs, meta, rows)
    text = text.replace(
        "\n## Anchors", "\n## Headline table (README)\n\n" + table + "\n\n## Anchors", 1
    )
    if comp is not None:
        section = (
            "## Scenarios\n\nFrom `"
            + str(args.comparison)
            + "`: the share of each objective that is the value of demand left unserved (above 10 % "
            "needs its reason, `SCENARIO_NOTES` in optimizer/calibration.py).\n\n"
            + scenario_markdown(comp)
            + "\n\n"
        )
        text = text.replace("\n## Anchors", "\n" + section + "## Anchors", 1)
    args.output.write_text(text, encoding="utf-8")
    capacity_chart(t, args.chart)
    print(table)
    bad = problems(figs) + (scenario_problems(rows) if rows is not None else [])
    for f in figs:
        print(f"{f.verdict:>26}  {f.label}: {f.value}")
    for b in bad:
        print(f"FAIL {b}", file=sys.stderr)
    print(f"wrote {args.output}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
