"""Near-optimal alternatives benchmark (issue 17): warm re-solve time per plan / cold solve time.

    python benchmarks/alternatives.py [INPUT] [--plans 8] [--skip 0] [--slack 0.05]
                                      [--cold-plan | --cold-plans] [--json]

Measured in one run, in one process, one HiGHS thread:

1. cold: the least-cost solve of the model with the cost row appended (free), from scratch — what
   every plan would cost if it were solved cold, as the MGA tools named in issue 17 do;
2. warm: the first ``--plans`` min/max plans of the input's measures (its Alternatives sheet, else
   the default set) with the cost bound ``(1 + ε)·C*``, each re-solved from the previous basis with
   only the objective changed (``optimizer.alternatives.MgaModel``), checked, and solved cold when
   the checks fail (the path each plan took is printed; only plans kept warm enter the ratio).

Prints each plan's seconds, then ``warm_per_plan / cold`` (median and mean; the target of issue 17 is
≤ 0.25). ``--cold-plan`` also solves the first plan cold in a fresh HiGHS (the same LP as its warm
solve), a second yardstick; ``--cold-plans`` does so for every timed plan, right after its warm
solve, and prints each plan's warm / its own cold solve (the fair yardstick: what an MGA tool that
re-solves cold pays for that plan). ``--skip N`` starts at the N-th min/max plan (the plans skipped
are not solved, so the first timed plan starts from the optimum's basis). The shipped base is a MIP with two bet binaries: the optimum and every
plan solve their LP relaxation first and enumerate the four assignments only when it funds a
fraction of a bet (``optimizer/warm.py``); on the base the bets come out integral, so a plan is one
warm LP.

Seconds are single runs on a machine that may be shared (the load average is printed): read them
as a ratio measured in one run, never as absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.alternatives import (  # noqa: E402
    MgaModel,
    deterministic_mode,
    extreme_plans,
    measure_specs,
)
from optimizer.data_io import load_inputs  # noqa: E402
from optimizer.model import build_model  # noqa: E402
from optimizer.solve import SolveOptions  # noqa: E402


def main() -> None:
    """Run the benchmark and print its figures (JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default=str(ROOT / "inputs" / "base.xlsx"))
    ap.add_argument("--plans", type=int, default=8, help="min/max plans to time (default 8)")
    ap.add_argument("--slack", type=float, default=None, help="ε (default: Settings mga_slack)")
    ap.add_argument("--skip", type=int, default=0, help="start at this min/max plan (default 0)")
    ap.add_argument("--cold-plan", action="store_true", help="also solve the first plan cold")
    ap.add_argument(
        "--cold-plans", action="store_true", help="also solve every timed plan cold, after its warm"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = ap.parse_args()

    t0 = time.perf_counter()
    data = load_inputs(args.input)
    mode = deterministic_mode(data, None)
    specs, default_set = measure_specs(data)
    opts = SolveOptions(threads=1, duals=False, explain=False).merged(data.settings)
    opts = SolveOptions(threads=1, duals=False, explain=False, mip_gap=opts.mip_gap)
    model = build_model(data, bet_mode=mode)
    mga = MgaModel(model, specs, opts)
    print(
        f"input {args.input}: {len(mga.columns):,} columns, bet_mode {mode}, "
        f"{len(mga.sf.integer_cols)} integer columns; read+build+compile "
        f"{time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f}",
        file=sys.stderr,
    )
    opt = mga.solve_optimum()
    cold = opt.solve_seconds
    print(f"cold  optimum: {opt.status} {opt.cost_musd} $M in {cold:.2f} s", file=sys.stderr)
    if opt.status != "optimal":
        sys.exit(1)
    slack = data.settings.mga_slack if args.slack is None else args.slack
    mga.set_bound(float(opt.cost_musd), slack)
    mga.known.append(opt.measures)
    plans = extreme_plans(mga.measures)[args.skip : args.skip + args.plans]
    warm, checks, paths = [], [], []
    own: list[dict[str, Any]] = []  # --cold-plans: each plan warm beside its own cold solve
    for p in plans:
        t = time.perf_counter()
        r = mga.solve_plan(p)
        checks.append(time.perf_counter() - t - r.solve_seconds)  # compile, checks, read-back
        paths.append(r.path)
        print(
            f"{r.path:16s} {p.name}: {r.status} "
            f"{r.measures.get(p.target, float('nan')):,.6g} in {r.solve_seconds:.2f} s"
            + (f" ({r.check})" if r.check else ""),
            file=sys.stderr,
        )
        if r.warm and r.solved:
            warm.append(r.solve_seconds)
        if args.cold_plans:
            own.append(_own_cold(model, specs, opts, opt, slack, p, r))
    out = {
        "input": args.input,
        "measures": "default set" if default_set else "Alternatives sheet",
        "slack": slack,
        "cold_seconds": round(cold, 3),
        "warm_seconds": [round(w, 3) for w in warm],
        "warm_over_cold_median": round(statistics.median(warm) / cold, 4) if warm else None,
        "warm_over_cold_mean": round(statistics.mean(warm) / cold, 4) if warm else None,
        "paths": {k: paths.count(k) for k in dict.fromkeys(paths)},
        "overhead_per_plan_seconds": round(statistics.median(checks), 4) if checks else None,
        "load_average": round(os.getloadavg()[0], 2),
    }
    if own:
        ratios = [o["warm_over_own_cold"] for o in own if o["warm_over_own_cold"] is not None]
        out["plans"] = own
        out["warm_over_own_cold_median"] = round(statistics.median(ratios), 4) if ratios else None
    if args.cold_plan and plans:
        fresh = MgaModel(model, specs, opts)
        fresh.set_bound(float(opt.cost_musd), slack)
        r = fresh.solve_plan(plans[0])
        out["cold_plan_seconds"] = round(r.solve_seconds, 3)
        out["first_plan_warm_over_cold_plan"] = (
            round(warm[0] / r.solve_seconds, 4) if warm and r.solve_seconds else None
        )
        print(f"cold  {plans[0].name}: {r.status} in {r.solve_seconds:.2f} s", file=sys.stderr)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:32s} {v}")


def _own_cold(
    model: Any, specs: list[Any], opts: SolveOptions, opt: Any, slack: float, plan: Any, warm: Any
) -> dict[str, Any]:
    """Solve ``plan`` cold in a fresh HiGHS (same LP, same bound) and set it beside its warm solve;
    the two optima of the plan's measure must agree (a check on the warm path, printed)."""
    fresh = MgaModel(model, specs, opts)
    fresh.set_bound(float(opt.cost_musd), slack)
    r = fresh.solve_plan(plan)
    w, c = warm.measures.get(plan.target), r.measures.get(plan.target)
    agree = w is not None and c is not None and abs(w - c) <= 1e-6 * max(1.0, abs(w), abs(c))
    ratio = (
        warm.solve_seconds / r.solve_seconds
        if warm.warm and warm.solved and r.solve_seconds
        else None  # a plan the warm path solved cold has no warm time to compare
    )
    print(
        f"{'own cold':16s} {plan.name}: {r.status} {c if c is not None else float('nan'):,.6g} in "
        f"{r.solve_seconds:.2f} s; warm / own cold {ratio if ratio is not None else float('nan'):.2f}"
        + ("" if agree else "  (the warm and cold optima differ)"),
        file=sys.stderr,
    )
    return {
        "plan": plan.name,
        "warm_seconds": round(warm.solve_seconds, 3),
        "cold_seconds": round(r.solve_seconds, 3),
        "warm_over_own_cold": None if ratio is None else round(ratio, 4),
        "optima_agree": agree,
    }


if __name__ == "__main__":
    main()
