"""The coalition game, cold (each c(S) on its own restricted input) against warm (bounds on one
persistent model), through the real CLI, in one run (issue 20, part 3).

Both runs solve every sub-coalition of the same players with a fresh store; the script prints each
run's wall time, the ratio, and how far the two sets of c(S) are apart (they must agree: DESIGN §9's
definition against its bounds form).

Usage::

    python benchmarks/coalition.py inputs/base.xlsx --players USA,ARE,SAU,TWN,KOR,IND [--workers N]
    python benchmarks/coalition.py inputs/base.xlsx --players ... --only warm   # skip the cold run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import load_average

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], tmp: str, tag: str) -> tuple[float, dict, str]:
    """Run ``cli.py coalition`` with ``args``; (wall seconds, its JSON, its stderr)."""
    out = os.path.join(tmp, f"{tag}.xlsx")
    cmd = [sys.executable, str(ROOT / "cli.py"), "coalition", *args, "--json", "-o", out]
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{tag} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    game = json.loads(p.stdout)
    # CPU of the CLI and its children (Dask workers included when they are its children)
    game["_cpu_s"] = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, game, p.stderr


def main() -> None:
    """Run the game both ways and compare."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("--players", required=True)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--scheduler")
    ap.add_argument("--only", choices=["warm", "cold"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    common = [a.input, "--players", a.players]
    if a.workers:
        common += ["--workers", str(a.workers)]
    if a.scheduler:
        common += ["--scheduler", a.scheduler]
    report: dict = {"uptime_before": load_average(), "players": a.players, "workers": a.workers}
    games: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tag in ("warm", "cold"):
            if a.only and a.only != tag:
                continue
            extra = ["--cold"] if tag == "cold" else []
            wall, game, err = run([*common, *extra], tmp, tag)
            games[tag] = game
            report[f"{tag}_wall_s"] = wall
            report[f"{tag}_cpu_s"] = game.pop("_cpu_s")
            report[f"{tag}_warm_solves"] = err.count("(warm ")  # progress lines of warm c(S)
            report[f"{tag}_subsets"] = len(game["cost"])
            print(f"{tag}: {wall:,.1f} s for {len(game['cost'])} sub-coalitions", file=sys.stderr)
    report["uptime_after"] = load_average()
    if "cold" in games and "warm" in games:
        report["speedup"] = report["cold_wall_s"] / report["warm_wall_s"]
        report["speedup_cpu"] = report["cold_cpu_s"] / report["warm_cpu_s"]
        cold, warm = games["cold"]["cost"], games["warm"]["cost"]
        rel = {k: abs(warm[k] - cold[k]) / max(abs(cold[k]), 1e-9) for k in cold}
        report["max_rel_diff_cost"] = max(rel.values())
        report["shapley_max_rel_diff"] = max(
            abs(games["warm"]["shapley"][p] - v) / max(abs(v), 1e-9)
            for p, v in games["cold"]["shapley"].items()
        )
    for tag, g in games.items():
        report[f"{tag}_game"] = g
    print(
        json.dumps(report, indent=1)
        if a.json
        else json.dumps({k: v for k, v in report.items() if not k.endswith("_game")}, indent=1)
    )


if __name__ == "__main__":
    main()
