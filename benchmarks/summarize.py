"""Turn ``run.py --json`` outputs into the markdown table of ``RESULTS.md``.

Usage::

    python benchmarks/summarize.py LABEL=run_S.json LABEL=run_M.json ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

COLUMNS = [
    ("variables", "vars", ","),
    ("constraints", "rows", ","),
    ("nonzeros", "nnz", ","),
    ("read_s", "read s", ".2f"),
    ("build_s", "build s", ".2f"),
    ("handoff_s", "hand-off s", ".2f"),
    ("highs_s", "HiGHS s", ".1f"),
    ("extract_write_s", "extract+write s", ".2f"),
    ("total_wall_s", "total s", ".1f"),
    ("peak_rss_mb", "peak RSS MB", ",.0f"),
    ("highs_alone.peak_rss_mb", "HiGHS-alone RSS MB", ",.0f"),
    ("part_1_6.ours_build_s", "1–6 ours build s", ".2f"),
    ("part_1_6.ours_handoff_s", "1–6 ours hand-off s", ".2f"),
    ("part_1_6.linopy_build_s", "1–6 linopy build s", ".2f"),
    ("part_1_6.linopy_handoff_s", "1–6 linopy hand-off s", ".2f"),
    ("overhead_vs_linopy", "overhead_vs_linopy", ".2f"),
    ("overhead_vs_linopy_cpu", "(CPU)", ".2f"),
    ("overhead_share", "overhead_share", ".2f"),
    ("rss_vs_highs", "rss_vs_highs", ".2f"),
]


def _get(r: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        if not isinstance(r, dict) or part not in r:
            return None
        r = r[part]
    return r


def table(runs: list[tuple[str, dict[str, Any]]]) -> str:
    """A markdown table, one row per (label, run.py JSON object)."""
    head = "| run | " + " | ".join(h for _k, h, _f in COLUMNS) + " |"
    sep = "|---|" + "|".join("---:" for _ in COLUMNS) + "|"
    rows = [head, sep]
    for label, r in runs:
        cells = []
        for key, _h, fmt in COLUMNS:
            v = _get(r, key)
            cells.append("—" if v is None else format(v, fmt))
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    """Print the table for ``LABEL=FILE`` arguments."""
    runs = []
    for arg in argv if argv is not None else sys.argv[1:]:
        label, _, path = arg.partition("=")
        runs.append((label, json.loads(Path(path).read_text())))
    print(table(runs))


if __name__ == "__main__":
    main()
