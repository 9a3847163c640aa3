"""Sweep benchmark (issue 7): warm vs cold per-run time, and two-worker vs one-worker throughput.

    python benchmarks/sweep.py [INPUT] [--points 6] [--lp] [--throughput-points 8] [--skip-throughput]

Measured in one run, on the same sampled points (an LHS design over a few parameters that every
input has: all demand, all capex, all external prices, each scaled 0.9..1.1):

1. cold: every point parsed, built, compiled and passed to a fresh HiGHS (one thread);
2. warm: the same points through one worker's persistent HiGHS model (re-solves from the previous
   basis); the first point is necessarily cold and is left out of the warm mean;
3. throughput: the same kind of sweep on a Dask LocalCluster with one and with two workers, in
   runs per second from the first finished run to the last (cluster start-up excluded) and over
   the whole wall time.

``--lp`` benchmarks the LP variant of a CSV-folder input (Settings ``integer_modules`` FALSE and
``bet_mode`` fail, so no integer variable is left). Without it the shipped dataset is a MIP with two
bet binaries, which a worker re-solves warm by enumerating their four assignments (optimizer/warm.py).

INPUT defaults to ``inputs/base``: on the 2-core machine a cold point takes ~50 s (HiGHS's branch and
bound) and a warm one ~5 s, so ``--points 6`` takes about six minutes. A quick check uses a smaller
input (e.g. ``tests/data/tiny``, whose integer modules are solved cold) or ``--days``.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.data_io import read_raw  # noqa: E402
from optimizer.sweep import (  # noqa: E402
    Parameter,
    SweepConfig,
    SweepSpec,
    check_spec,
    make_design,
    run_sweep,
    tasks_for,
)
from optimizer.warm import _STATE, run_task  # noqa: E402

SPEC = SweepSpec(
    (
        Parameter("Demand", "h100e", "", 0.9, 1.1, "scale", 3, "demand"),
        Parameter("TechCosts", "capex_musd", "", 0.9, 1.1, "scale", 3, "capex"),
        Parameter("Commodities", "external_price_usd", "", 0.9, 1.1, "scale", 3, "prices"),
    )
)


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text().splitlines()))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)


def variant(src: Path, dst: Path, lp: bool, years_every: int, days: int) -> Path:
    """A reduced copy of a CSV-folder input.

    ``lp``: continuous modules and every bet failing (no integer variable left); ``years_every``:
    keep every k-th model year (the last one standing for k years); ``days``: keep the first
    representative days, their slices' hours scaled so they still sum to 8760.
    """
    if not src.is_dir():
        raise SystemExit("--lp, --years-every and --days need a CSV-folder input")
    shutil.copytree(src, dst)
    settings = _rows(dst / "Settings.csv")
    want: dict[str, str] = {}
    if lp:
        want.update({"integer_modules": "FALSE", "bet_mode": "fail"})
    if years_every > 1:
        years = _rows(dst / "Years.csv")
        _write(dst / "Years.csv", [years[0], *years[1:][::years_every]])
        want["last_period_length"] = str(years_every)
    if days:
        ts = _rows(dst / "TimeSlices.csv")
        day_ids = list(dict.fromkeys(r[1] for r in ts[1:]))[:days]
        kept = [r for r in ts[1:] if r[1] in day_ids]
        hours = 8760.0 / len(kept)
        _write(dst / "TimeSlices.csv", [ts[0], *[[r[0], r[1], f"{hours:.10g}"] for r in kept]])
        names = {r[0] for r in kept}
        if (dst / "Profiles.csv").exists():
            pr = _rows(dst / "Profiles.csv")
            i = pr[0].index("slice")
            _write(dst / "Profiles.csv", [pr[0], *[r for r in pr[1:] if r[i] in names]])
    seen = set()
    for r in settings[1:]:
        if r and r[0] in want:
            r[1] = want[r[0]]
            seen.add(r[0])
    settings += [[k, v] for k, v in want.items() if k not in seen]
    _write(dst / "Settings.csv", settings)
    return dst


def per_run(input_path: Path, design) -> tuple[list[dict], list[dict]]:
    """Solve each point cold, then warm, in this process; the (cold, warm) store rows.

    Cold and warm runs alternate point by point, so a change in the machine's load during the
    measurement affects both alike. The first point's run is cold by necessity: it counts as the
    first cold sample and starts the warm solver's sequence.
    """
    cfg = SweepConfig(input_path, warm=True)
    warm_state: dict = {}
    out: dict[bool, list[dict]] = {False: [], True: []}
    for i, task in enumerate(tasks_for(cfg, design, design.unique_ids)):
        for warm in (False, True) if i else (True,):
            _STATE.solvers = warm_state if warm else {}
            t0 = time.perf_counter()
            row = run_task({**task, "warm": warm})
            row["wall"] = time.perf_counter() - t0
            if warm:
                warm_state = _STATE.solvers
            out[bool(row.get("warm"))].append(row)
            print(
                f"  {'warm' if row.get('warm') else 'cold'} run: {row['wall']:8.2f} s "
                f"(HiGHS {row.get('solve_seconds') or 0:8.2f} s) {row['status']} "
                f"{row.get('objective_musd')}",
                flush=True,
            )
    return out[False], out[True]


def throughput(
    input_path: Path, design, workers: int, tmp: Path, share: bool = True
) -> tuple[float, float]:
    """(steady-state runs/s, runs/s over the whole wall time) of a sweep on ``workers`` workers.

    ``share``: the first point is solved alone and its basis starts every worker (one cold solve
    per sweep); False: each worker starts with a cold solve of its own (the code before issue 20).

    Steady state leaves out each worker's first (necessarily cold) run: a worker's rate is its
    later runs over the time from its first finish to its last, summed over the workers.
    """
    stamps: list[tuple[float, str]] = []
    cpu = wall_in_runs = 0.0

    def progress(done, total, failed, row):
        nonlocal cpu, wall_in_runs
        if row is not None:
            stamps.append((time.perf_counter(), row.get("worker", "")))
            cpu += row.get("cpu_seconds") or 0.0
            wall_in_runs += row.get("run_seconds") or 0.0

    cfg = SweepConfig(
        input_path,
        method="lhs",
        samples=len(design.points),
        seed=design.seed,
        workers=workers,
        store=tmp / f"tp{workers}{'s' if share else 'n'}.sqlite",  # a fresh store: all solved
        share_start=share,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    raw = read_raw(input_path)  # run_sweep reads Settings (the gap asked for) from it
    res = run_sweep(cfg, progress=progress, prepared=(raw, design.spec, design))
    wall, driver_cpu = time.perf_counter() - t0, time.process_time() - c0
    # Steady state, worker by worker: the runs a worker finished after its first (cold) one, over
    # the time from that first finish to its last; the sum over workers is what a long sweep
    # sustains. (Counting every run after the slowest worker's first finish instead would credit
    # runs that were already under way at that instant.)
    by_worker: dict[str, list[float]] = {}
    for t, w in stamps:
        by_worker.setdefault(w, []).append(t)
    rates = [(len(ts) - 1) / (ts[-1] - ts[0]) for ts in by_worker.values() if len(ts) > 1]
    steady = sum(rates) if rates else float("nan")
    later = sum(len(ts) - 1 for ts in by_worker.values())
    # CPU / wall inside the runs: 1.0 when each worker had a core to itself, lower when the
    # machine's other work took turns on it
    print(
        f"  {workers} worker(s){'' if share else ' (no shared start)'}: "
        f"{res.solved_now} runs in {wall:.1f} s, {res.warm_runs} warm, {later} in steady "
        f"state; CPU share inside runs {cpu / wall_in_runs if wall_in_runs else 0:.2f}, "
        f"driver CPU {driver_cpu / wall:.2f} of a core",
        flush=True,
    )
    return steady, res.solved_now / wall


def warm_vs_cold(inp: Path, points: int, seed: int) -> None:
    """Print warm and cold per-run times over ``points`` LHS points."""
    design = make_design(SPEC, "lhs", samples=points, seed=seed)
    cold, warm = per_run(inp, design)
    for c, w in zip(cold[1:], warm, strict=True):
        a, b = c.get("objective_musd"), w.get("objective_musd")
        if a is not None and b is not None and abs(a - b) > 1e-6 * max(1.0, abs(a)):
            print(f"  note: warm {b} != cold {a} (point {c['point_id']})")
    cold_t = statistics.mean(r["wall"] for r in cold)
    warm_runs = [r for r in warm if r.get("warm")]
    warm_t = statistics.mean(r["wall"] for r in warm_runs) if warm_runs else float("nan")
    cold_s = statistics.mean(r["solve_seconds"] or 0 for r in cold)
    warm_s = (
        statistics.mean(r["solve_seconds"] or 0 for r in warm_runs) if warm_runs else float("nan")
    )
    print(f"cold per-run time        {cold_t:9.3f} s  (HiGHS {cold_s:.3f} s)")
    print(
        f"warm per-run time        {warm_t:9.3f} s  (HiGHS {warm_s:.3f} s, {len(warm_runs)} warm runs)"
    )
    print(f"warm / cold per-run      {warm_t / cold_t:9.3f}")
    print(f"warm / cold HiGHS time   {warm_s / cold_s if cold_s else float('nan'):9.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("input", nargs="?", default=str(ROOT / "inputs" / "base"))
    ap.add_argument("--points", type=int, default=6, help="points for warm vs cold (0: skip)")
    ap.add_argument("--throughput-points", type=int, default=8, help="points per throughput run")
    ap.add_argument("--lp", action="store_true", help="the LP variant of the input")
    ap.add_argument("--years-every", type=int, default=1, help="keep every k-th model year")
    ap.add_argument("--days", type=int, default=0, help="keep the first N representative days")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="alternating 1- and 2-worker runs")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--compare-unshared",
        action="store_true",
        help="also run two workers that each start cold (the code before issue 20)",
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="sweep_bench_") as td:
        tmp = Path(td)
        src = Path(args.input)
        reduced = args.lp or args.years_every > 1 or args.days
        inp = variant(src, tmp / "input", args.lp, args.years_every, args.days) if reduced else src
        check_spec(read_raw(inp), SPEC)
        how = f" (lp={args.lp}, years_every={args.years_every}, days={args.days or 'all'})"
        print(f"input {src}{how if reduced else ''}", flush=True)

        if args.points > 0:
            warm_vs_cold(inp, args.points, args.seed)
        if not args.skip_throughput:
            tdesign = make_design(SPEC, "lhs", samples=args.throughput_points, seed=args.seed + 1)
            # 1 and 2 workers alternate, so a change in the machine's load hits both alike
            ones, twos, unshared = [], [], []
            for k in range(args.repeat):
                ones.append(throughput(inp, tdesign, 1, tmp / f"r{k}"))
                if args.compare_unshared:
                    unshared.append(throughput(inp, tdesign, 2, tmp / f"r{k}", share=False))
                twos.append(throughput(inp, tdesign, 2, tmp / f"r{k}"))
            if unshared:
                walls = [b[1] / a[1] for a, b in zip(ones, unshared, strict=True)]
                print(f"two (each worker cold) / one worker: {statistics.median(walls):.3f} (wall)")
            for name, runs in (("1 worker ", ones), ("2 workers", twos)):
                steady = statistics.median(r[0] for r in runs)
                wall = statistics.median(r[1] for r in runs)
                print(f"throughput {name}     {steady:9.3f} runs/s steady, {wall:.3f} runs/s wall")
            ratios = [b[0] / a[0] for a, b in zip(ones, twos, strict=True)]
            walls = [b[1] / a[1] for a, b in zip(ones, twos, strict=True)]
            print(
                f"two / one worker         {statistics.median(ratios):9.3f} (steady), "
                f"{statistics.median(walls):.3f} (wall); each repeat: "
                + ", ".join(f"{r:.2f}" for r in ratios)
            )


if __name__ == "__main__":
    main()
