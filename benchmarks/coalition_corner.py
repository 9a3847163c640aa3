"""Warm re-solves against cold solves on the slowest stretch of the ten-player base game (issue 20,
part 3): the 16 c(S) the full game solved as its #646–#661 (benchmarks/RESULTS.md §3), in that
order, on one persistent model of the grand coalition.

``--start warm`` is the game's policy: the first S from scratch, every later one re-solved from the
previous basis (a re-solve past its budget falls back to the interior point method). ``--start
cold`` drops the basis before each S, so each is solved from scratch (presolve, dual simplex). Run
the two side by side, one core each, to compare them in one run; each prints every c(S), then its
sum, median and fallbacks. The two must print the same c(S).

Usage::

    python benchmarks/coalition_corner.py inputs/base.xlsx --start warm
    python benchmarks/coalition_corner.py inputs/base.xlsx --start cold
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STRETCH = [
    "USA+ARE+SAU+DEU+SWE+IND",
    "USA+ARE+SAU+DEU+FRA+SWE+IND",
    "USA+ARE+SAU+JPN+SWE+IND",
    "USA+ARE+SAU+SWE+IND",
    "USA+ARE+SAU+JPN+DEU+SWE+IND",
    "USA+ARE+SAU+JPN+DEU+FRA+SWE+IND",
    "USA+ARE+SAU+JPN+FRA+SWE+IND",
    "USA+ARE+SAU+JPN+FRA+IND",
    "USA+ARE+SAU+JPN+DEU+FRA+IND",
    "USA+ARE+SAU+JPN+DEU+IND",
    "USA+ARE+SAU+JPN+IND",
    "USA+ARE+SAU+TWN+JPN+IND",
    "USA+ARE+SAU+TWN+JPN+DEU+IND",
    "USA+ARE+SAU+TWN+JPN+DEU+FRA+IND",
    "USA+ARE+SAU+TWN+JPN+FRA+IND",
    "USA+ARE+SAU+TWN+JPN+FRA+SWE+IND",
]
"""The ten-player game's #646–#661 as two workers finished them (the game's warm chain there took
30–60 s a c(S) where cold solves took 11–19 s)."""


def main() -> None:
    """Solve :data:`STRETCH` warm or cold on one model and print the times."""
    from optimizer.coalition import players
    from optimizer.coalition_warm import BoundsGame
    from optimizer.data_io import parse, read_raw
    from optimizer.solve import SolveOptions

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", type=Path, help="the base workbook (inputs/base.xlsx)")
    ap.add_argument("--start", choices=("warm", "cold"), required=True)
    args = ap.parse_args()
    raw = read_raw(args.input)
    game = BoundsGame(raw, players(parse(raw)), SolveOptions(threads=1, duals=False, explain=False))
    times = []
    for key in STRETCH:
        if args.start == "cold":
            game.h = None  # no basis: this S from scratch
        t0 = time.perf_counter()
        cost, status, info = game.cost(key.split("+"))
        times.append(time.perf_counter() - t0)
        how = "warm" if info["warm"] else "cold"
        how += ", then interior point" if info["fallback"] else ""
        print(f"{key:34s} {status} {cost:,.2f} $M  ({how} {times[-1]:.1f} s)", flush=True)
    print(
        f"{args.start}: {len(times)} c(S) in {sum(times):.1f} s, median {statistics.median(times):.1f}"
        f" s, max {max(times):.1f} s, fallbacks {game.fallbacks}"
    )


if __name__ == "__main__":
    main()
