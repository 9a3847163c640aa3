"""The shipped solve, path by path: branch and bound (+ an LP for duals) against the LP relaxation
first, each with 1 and 2 HiGHS threads, in one run (issue 20, part 1).

Each combination runs in its own child process (HiGHS fixes its thread pool once per process):
read, build, ``solve`` with ``SolveOptions(threads=T, relaxation_first=...)``. The child reports
every solver call's wall seconds, the CPU seconds of the solve (all threads of the process), the
objective and the row duals; the parent prints a table and compares the two paths' objectives and
duals (relative difference per row, and which constraint families differ: a row whose dual differs
has several optimal duals in one of the LPs).

Usage::

    python benchmarks/solve_base.py inputs/base.xlsx [--threads 1 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import load_average

ROOT = Path(__file__).resolve().parents[1]


def child(path: str, threads: int, relaxation_first: bool, out: str) -> None:
    """Solve ``path`` once and write its figures to ``out`` (.json) and its duals (.npy)."""
    sys.path.insert(0, str(ROOT))
    from optimizer import build_model, load_inputs
    from optimizer.solve import SolveOptions, solve

    t0 = time.perf_counter()
    data = load_inputs(path)
    model = build_model(data)
    build = time.perf_counter() - t0
    c0 = time.process_time()
    t1 = time.perf_counter()
    sol = solve(
        model, SolveOptions(threads=threads, relaxation_first=relaxation_first, explain=False)
    )
    wall = time.perf_counter() - t1
    cpu = time.process_time() - c0
    dual = np.asarray(sol.duals._dual, dtype=float) if sol.duals else np.zeros(0)
    np.save(out + ".npy", dual)
    families = [e[0].parent_component().name for e in sol.duals._rows] if sol.duals else []
    Path(out).write_text(
        json.dumps(
            {
                "threads": threads,
                "path": "relaxation_first" if relaxation_first else "branch_and_bound",
                "status": sol.status,
                "objective": sol.objective,
                "mip_gap": sol.mip_gap,
                "build_s": build,
                "handoff_s": sol.handoff_seconds,
                "solver_calls": sol.solver_calls,
                "highs_s": sol.solve_seconds,
                "solve_wall_s": wall,
                "solve_cpu_s": cpu,
                "families": families,
            }
        )
    )


def compare(a: dict, b: dict, da: np.ndarray, db: np.ndarray) -> dict:
    """Objective and dual agreement of two runs (``b`` the reference)."""
    if len(da) != len(db):
        rel = np.array([np.inf])
    else:  # relative; two duals both within 1e-12 of zero agree
        diff = np.abs(da - db)
        rel = np.where(diff <= 1e-12, 0.0, diff / np.maximum(np.abs(db), 1e-12))
    off = np.flatnonzero(rel > 1e-9)
    fam: dict[str, int] = {}
    for i in off.tolist():
        f = b["families"][i]
        fam[f] = fam.get(f, 0) + 1
    return {
        "objective_rel_diff": abs(a["objective"] - b["objective"]) / abs(b["objective"]),
        "rows": len(db),
        "rows_within_1e-9": int(len(db) - len(off)),
        "max_rel_diff": float(rel.max()) if len(rel) else 0.0,
        "differing_families": fam,
    }


def main() -> None:
    """Run every (path, threads) child, print the table and the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        threads, rf, out = args.child
        child(args.input, int(threads), rf == "1", out)
        return
    runs: dict[tuple[str, int], tuple[dict, np.ndarray]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for threads in args.threads:
            for rf in (False, True):  # alternate paths so load drifts hit both
                out = os.path.join(tmp, f"{threads}_{int(rf)}.json")
                cmd = [sys.executable, __file__, args.input, "--child", str(threads), str(int(rf))]
                subprocess.run([*cmd, out], check=True, cwd=ROOT)
                r = json.loads(Path(out).read_text())
                runs[(r["path"], threads)] = (r, np.load(out + ".npy"))
                print(
                    f"{r['path']:17s} threads={threads}: HiGHS {r['highs_s']:6.1f} s "
                    f"(CPU {r['solve_cpu_s']:6.1f} s) {r['status']} {r['objective']:.9g}  "
                    + "; ".join(f"{w} {s:.1f} s" for w, s in r["solver_calls"]),
                    file=sys.stderr,
                )
    report: dict = {"uptime": load_average(), "runs": [], "comparisons": {}}
    for r, _ in runs.values():
        report["runs"].append({k: v for k, v in r.items() if k != "families"})
    for threads in args.threads:
        a, da = runs[("relaxation_first", threads)]
        b, db = runs[("branch_and_bound", threads)]
        report["comparisons"][f"threads={threads}"] = compare(a, b, da, db)
        report["comparisons"][f"threads={threads}"]["highs_ratio"] = b["highs_s"] / a["highs_s"]
    if len(args.threads) > 1:
        t1, t2 = args.threads[:2]
        a, da = runs[("relaxation_first", t1)]
        b, db = runs[("relaxation_first", t2)]
        report["comparisons"][f"relaxation threads {t1} vs {t2}"] = compare(a, b, da, db)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for name, c in report["comparisons"].items():
            print(name, json.dumps(c))


if __name__ == "__main__":
    main()
