"""Benchmark one generated instance: the planner's pipeline beside HiGHS alone and beside linopy.

Usage::

    python benchmarks/run.py --size S|M|L|XL [--json] [--solve-time-limit S] [--repeat N]
    python benchmarks/run.py --instance inputs/base.xlsx [--json]     # an existing input, its real solve

One command measures, each part in its own child process so that peak memory (``ru_maxrss`` of the
child itself) and timings are isolated:

``ours``
    the whole pipeline on the full model: read (``load_inputs``), build (``build_model``), hand-off
    (``compile_model`` + ``Highs.passModel``), HiGHS (``run``), extraction and write (loading values and
    duals, ``tables``, ``write_results_workbook``); then it writes the LP once as MPS (not timed).
``highs``
    the limit: a fresh process reads that MPS with ``highspy`` and solves it with the same options.
``ours_part`` / ``linopy``
    constraints 1–6 of DESIGN §5 (the planner's ``capacity``, ``compute``, ``power`` and ``objective``
    components, and the same rows and cost lines — energy, unserved compute, fixed O&M — written with
    linopy in ``linopy_model.py``): build + hand-off to a ``Highs`` object.
``ours_full`` / ``linopy_full``
    the full model: the planner's ``build_model`` (every component, the whole objective) and its
    hand-off (``compile_model`` + ``passModel``, as ``solve`` does it), against linopy writing
    constraints 1–7 with the full objective's cost lines on its columns (energy, carbon, unserved
    compute, fixed O&M, capital as an annuity on builds and deployments) and ``to_highspy``. The
    linopy side leaves out the chip chain, financing rows and partner budgets, bets and firm
    capacity (``linopy_model.build_linopy(full=True)``): the planner does more work in this pair.

``--repeat`` alternates each pair N times; the ratios use the medians.

Ratios: ``overhead_vs_linopy`` = ours_part (build + hand-off) / linopy (build + hand-off);
``overhead_vs_linopy_full`` = ours_full (build + hand-off) / linopy_full (build + hand-off);
``overhead_share`` = (build + hand-off) / total wall of ``ours``; ``rss_vs_highs`` = peak RSS of ``ours``
/ peak RSS of ``highs``. The machine is shared and has 2 cores: read seconds as noisy, ratios measured
in the same run as the figures to compare.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the planner, when run as a script from a fresh clone
sys.path.insert(0, str(HERE))

from generate import SIZES, generate, spec_for  # noqa: E402


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _highs_options(h: Any, args: argparse.Namespace) -> None:
    h.setOptionValue("output_flag", False)
    if args.solve_time_limit is not None:
        h.setOptionValue("time_limit", float(args.solve_time_limit))
    if args.solver:
        h.setOptionValue("solver", args.solver)
    if args.threads:
        h.setOptionValue("threads", int(args.threads))


# --------------------------------------------------------------------------------------- children
def child_ours(args: argparse.Namespace) -> dict[str, Any]:
    """The planner's whole pipeline on the full model; writes ``model.mps`` afterwards."""
    t_start = time.perf_counter()
    import highspy

    from optimizer.data_io import load_inputs
    from optimizer.model import build_model
    from optimizer.report import write_results_workbook
    from optimizer.results import tables
    from optimizer.solve import SolveOptions, solve

    # not ``import optimizer.solve as …``: the package re-exports a function named ``solve``
    solve_mod = sys.modules["optimizer.solve"]
    t_import = time.perf_counter() - t_start
    clock: dict[str, float] = {"pass": 0.0, "run": 0.0}
    last: list[Any] = []

    class TimedHighs(highspy.Highs):
        """``Highs`` that times ``passModel`` and ``run``: the hand-off and HiGHS parts of ``solve``."""

        def passModel(self, *a: Any) -> Any:  # noqa: N802 (HiGHS's name)
            t = time.perf_counter()
            try:
                return super().passModel(*a)
            finally:
                clock["pass"] += time.perf_counter() - t

        def run(self) -> Any:
            t = time.perf_counter()
            try:
                return super().run()
            finally:
                clock["run"] += time.perf_counter() - t

    def new_timed() -> TimedHighs:
        h = TimedHighs()
        last.append(h)
        return h

    solve_mod.new_highs = new_timed  # solve() gets its Highs from here
    t0 = time.perf_counter()
    data = load_inputs(args.input)
    t1, c1 = time.perf_counter(), time.process_time()
    model = build_model(data)
    t2, c2 = time.perf_counter(), time.process_time()
    opts = SolveOptions(
        time_limit_s=args.solve_time_limit,
        solver=args.solver,
        threads=args.threads,
        explain=False,
    )
    sol = solve(model, opts)
    t3 = time.perf_counter()
    t_tab = tables(sol)
    write_results_workbook(t_tab, Path(args.workdir) / "results.xlsx")
    t4 = time.perf_counter()
    compile_s = sol.handoff_seconds
    handoff = compile_s + clock["pass"]
    highs_s = clock["run"]
    extract = (t3 - t2 - handoff - highs_s) + (t4 - t3)
    out = {
        "variables": sol.variables,
        "constraints": sol.constraints,
        "nonzeros": sol.nonzeros,
        "is_mip": sol.is_mip,
        "status": sol.status,
        "objective": sol.objective,
        "import_s": t_import,
        "read_s": t1 - t0,
        "build_s": t2 - t1,
        "build_cpu_s": c2 - c1,
        "compile_s": compile_s,
        "pass_model_s": clock["pass"],
        "handoff_s": handoff,
        "highs_s": highs_s,
        "extract_write_s": extract,
        "load_solution_s": t3 - t2 - handoff - highs_s,
        "tables_write_s": t4 - t3,
        "total_wall_s": t4 - t0,
        "peak_rss_mb": _peak_rss_mb(),
        "optimizer_path": str(Path(solve_mod.__file__).parent),
    }
    if last:  # the LP as HiGHS holds it (the first Highs of solve(); a MIP would have been relaxed)
        last[0].writeModel(str(Path(args.workdir) / "model.mps"))
    return out


def child_highs(args: argparse.Namespace) -> dict[str, Any]:
    """HiGHS alone: read the MPS written by ``ours`` and solve it with the same options."""
    t0 = time.perf_counter()
    import highspy

    h = highspy.Highs()
    _highs_options(h, args)
    t1 = time.perf_counter()
    h.readModel(str(Path(args.workdir) / "model.mps"))
    t2 = time.perf_counter()
    h.run()
    t3 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "read_s": t2 - t1,
        "solve_s": t3 - t2,
        "wall_s": t3 - t1,
        "status": h.modelStatusToString(h.getModelStatus()),
        "objective": float(h.getInfo().objective_function_value),
        "variables": h.getNumCol(),
        "constraints": h.getNumRow(),
        "nonzeros": h.getNumNz(),
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_ours_part(args: argparse.Namespace) -> dict[str, Any]:
    """Constraints 1–6 with the planner's own components: build, then compile + ``passModel``."""
    import pyomo.environ as pyo

    from optimizer.components import capacity, compute, objective, power
    from optimizer.data_io import load_inputs
    from optimizer.model import derive, populate

    data = load_inputs(args.input)
    dv = derive(data)
    t0, c0 = time.perf_counter(), time.process_time()
    # optimizer.model.populate with only the components of constraints 1–6.
    m = populate(pyo.ConcreteModel(), data, dv, (capacity, compute, power, objective))
    return _compile_and_hand_over(m, (t0, c0))


def _compile_and_hand_over(m: Any, built_from: tuple[float, float]) -> dict[str, Any]:
    """Time the build (from ``built_from``, wall and CPU) and the hand-off of the built model ``m``."""
    import highspy

    from optimizer.solve import compile_model

    t1, c1 = time.perf_counter(), time.process_time()
    sf = compile_model(m)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    _hand_over(sf, h)
    return _part_figures(built_from, (t1, c1), (time.perf_counter(), time.process_time()), h)


def _hand_over(sf: Any, h: Any) -> None:
    """``passModel`` as ``solve`` does it (the arrays; a planner tree from before issue 20's
    ``StandardForm.pass_to``, measured for a before/after row, passes its ``HighsLp``)."""
    if hasattr(sf, "pass_to"):
        sf.pass_to(h)
    else:
        h.passModel(sf.lp)


def child_ours_full(args: argparse.Namespace) -> dict[str, Any]:
    """The full model: ``build_model`` (derived data included), then compile + ``passModel``."""
    from optimizer.data_io import load_inputs
    from optimizer.model import build_model

    data = load_inputs(args.input)
    t0, c0 = time.perf_counter(), time.process_time()
    m = build_model(data)
    return _compile_and_hand_over(m, (t0, c0))


def child_linopy(args: argparse.Namespace, full: bool = False) -> dict[str, Any]:
    """Constraints 1–6 with linopy from the same ``InputData``: build, then ``to_highspy``
    (``full``: the full-model yardstick, derived data included in its build, as in
    ``ours_full``)."""
    import linopy
    from linopy_model import build_linopy

    from optimizer.data_io import load_inputs
    from optimizer.model import derive

    data = load_inputs(args.input)
    if not full:
        dv = derive(data)
    t0, c0 = time.perf_counter(), time.process_time()
    if full:
        dv = derive(data)
    m = build_linopy(data, dv, full=full)
    t1, c1 = time.perf_counter(), time.process_time()
    h = linopy.io.to_highspy(m)
    return _part_figures((t0, c0), (t1, c1), (time.perf_counter(), time.process_time()), h)


def child_linopy_full(args: argparse.Namespace) -> dict[str, Any]:
    """The full-model yardstick with linopy (``build_linopy(full=True)``)."""
    return child_linopy(args, full=True)


def _part_figures(
    start: tuple[float, float], built: tuple[float, float], handed: tuple[float, float], h: Any
) -> dict[str, Any]:
    """Wall and CPU seconds of build and hand-off from three (perf_counter, process_time) stamps,
    with the sizes of the ``Highs`` it was handed to and this process's peak RSS."""
    return {
        "build_s": built[0] - start[0],
        "handoff_s": handed[0] - built[0],
        "build_cpu_s": built[1] - start[1],
        "handoff_cpu_s": handed[1] - built[1],
        "variables": h.getNumCol(),
        "constraints": h.getNumRow(),
        "nonzeros": h.getNumNz(),
        "peak_rss_mb": _peak_rss_mb(),
    }


CHILDREN = {
    "ours": child_ours,
    "highs": child_highs,
    "ours_part": child_ours_part,
    "linopy": child_linopy,
    "ours_full": child_ours_full,
    "linopy_full": child_linopy_full,
}


def child_main(args: argparse.Namespace) -> None:
    """Run one child measurement and write its JSON to ``--result``."""
    res = CHILDREN[args.child](args)
    Path(args.result).write_text(json.dumps(res))


# ----------------------------------------------------------------------------------------- parent
def _input_path(args: argparse.Namespace, workdir: Path) -> Path:
    """Where the children read the instance: ``input`` (a CSV folder), or ``input.xlsx`` for a
    workbook given with ``--instance`` (the reader goes by the suffix)."""
    src = Path(args.instance) if args.instance else None
    return workdir / ("input" if src is None or src.is_dir() else f"input{src.suffix}")


def _spawn(mode: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    result = workdir / f"{mode}.json"
    result.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        "--input",
        str(_input_path(args, workdir)),
        "--workdir",
        str(workdir),
        "--result",
        str(result),
    ]
    if args.solve_time_limit is not None:
        cmd += ["--solve-time-limit", str(args.solve_time_limit)]
    if args.solver:
        cmd += ["--solver", args.solver]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    t = time.perf_counter()
    # The children's own output (HiGHS's banner) goes to stderr: stdout stays clean for --json.
    proc = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr, check=False)
    if proc.returncode != 0 or not result.exists():
        raise SystemExit(f"benchmark child {mode!r} failed (exit {proc.returncode})")
    res = json.loads(result.read_text())
    res["process_wall_s"] = time.perf_counter() - t
    return res


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _has_linopy() -> bool:
    import importlib.util

    return importlib.util.find_spec("linopy") is not None


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Generate the instance (or copy ``--instance``) and run every child; return the figures and
    ratios."""
    name = Path(args.instance).stem if args.instance else args.size
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix=f"bench_{name}_"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.instance:
        src = Path(args.instance)
        if src.is_dir():
            shutil.copytree(src, _input_path(args, workdir), dirs_exist_ok=True)
        else:
            shutil.copyfile(src, _input_path(args, workdir))
        spec = None
    else:
        spec = spec_for(args.size, seed=args.seed)
        generate(spec, workdir / "input")
    ours = _spawn("ours", args, workdir)
    highs = _spawn("highs", args, workdir)
    parts, lins, fulls, lin_fulls = [], [], [], []
    for _ in range(args.repeat):
        parts.append(_spawn("ours_part", args, workdir))
        if _has_linopy():
            lins.append(_spawn("linopy", args, workdir))
        fulls.append(_spawn("ours_full", args, workdir))
        if _has_linopy():
            lin_fulls.append(_spawn("linopy_full", args, workdir))
    if not lins:  # the bench extra is not installed: every linopy figure is null
        lins = [dict.fromkeys(parts[0], None)]
        lin_fulls = [dict.fromkeys(fulls[0], None)]

    def med(rows: list[dict[str, Any]], key: str) -> float | None:
        vals = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    def bh(rows: list[dict[str, Any]], suffix: str) -> list[float]:
        return [
            r[f"build{suffix}"] + r[f"handoff{suffix}"]
            for r in rows
            if r.get(f"build{suffix}") is not None
        ]

    part_bh, lin_bh = bh(parts, "_s"), bh(lins, "_s")
    # CPU seconds of the same work: far less disturbed by other jobs on a shared 2-core machine
    part_cpu, lin_cpu = bh(parts, "_cpu_s"), bh(lins, "_cpu_s")
    full_bh, lin_full_bh = bh(fulls, "_s"), bh(lin_fulls, "_s")
    full_cpu, lin_full_cpu = bh(fulls, "_cpu_s"), bh(lin_fulls, "_cpu_s")
    build_handoff = ours["build_s"] + ours["handoff_s"]
    out: dict[str, Any] = {
        "size": args.size if not args.instance else None,
        "instance": args.instance,
        "spec": spec.__dict__ if spec is not None else None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {_cpu_count()} cores, {_mem_gib():.0f} GiB",
        "solve_time_limit_s": args.solve_time_limit,
        "solver": args.solver or "choose",
        "variables": ours["variables"],
        "constraints": ours["constraints"],
        "nonzeros": ours["nonzeros"],
        "status": ours["status"],
        "objective": ours["objective"],
        "read_s": ours["read_s"],
        "build_s": ours["build_s"],
        "build_cpu_s": ours["build_cpu_s"],
        "handoff_s": ours["handoff_s"],
        "compile_s": ours["compile_s"],
        "pass_model_s": ours["pass_model_s"],
        "highs_s": ours["highs_s"],
        "extract_write_s": ours["extract_write_s"],
        "total_wall_s": ours["total_wall_s"],
        "peak_rss_mb": ours["peak_rss_mb"],
        "highs_alone": highs,
        "part_1_6": {
            "ours_build_s": med(parts, "build_s"),
            "ours_handoff_s": med(parts, "handoff_s"),
            "ours_variables": parts[0]["variables"],
            "ours_constraints": parts[0]["constraints"],
            "ours_nonzeros": parts[0]["nonzeros"],
            "linopy_build_s": med(lins, "build_s"),
            "linopy_handoff_s": med(lins, "handoff_s"),
            "linopy_variables": lins[0]["variables"],
            "linopy_constraints": lins[0]["constraints"],
            "linopy_nonzeros": lins[0]["nonzeros"],
            "ours_samples_s": part_bh,
            "linopy_samples_s": lin_bh,
            "ours_cpu_samples_s": part_cpu,
            "linopy_cpu_samples_s": lin_cpu,
            "ours_peak_rss_mb": med(parts, "peak_rss_mb"),
            "linopy_peak_rss_mb": med(lins, "peak_rss_mb"),
        },
        "full_model": _pair(fulls, lin_fulls, full_bh, lin_full_bh, full_cpu, lin_full_cpu),
        "overhead_vs_linopy": _ratio(_median(part_bh), _median(lin_bh)),
        "overhead_vs_linopy_cpu": _ratio(_median(part_cpu), _median(lin_cpu)),
        "overhead_vs_linopy_full": _ratio(_median(full_bh), _median(lin_full_bh)),
        "overhead_vs_linopy_full_cpu": _ratio(_median(full_cpu), _median(lin_full_cpu)),
        "overhead_share": _ratio(build_handoff, ours["total_wall_s"]),
        "rss_vs_highs": _ratio(ours["peak_rss_mb"], highs["peak_rss_mb"]),
        "wall_vs_highs": _ratio(ours["total_wall_s"], highs["wall_s"]),
        "workdir": str(workdir),
        "optimizer_path": ours["optimizer_path"],
    }
    return out


def _pair(
    ours: list[dict[str, Any]],
    lins: list[dict[str, Any]],
    ours_s: list[float],
    lin_s: list[float],
    ours_cpu: list[float],
    lin_cpu: list[float],
) -> dict[str, Any]:
    """The figures of one ours/linopy pair: medians of build and hand-off, sizes, samples."""

    def med(rows: list[dict[str, Any]], key: str) -> float | None:
        vals = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    out: dict[str, Any] = {}
    for side, rows in (("ours", ours), ("linopy", lins)):
        for key in ("build_s", "handoff_s", "build_cpu_s", "handoff_cpu_s", "peak_rss_mb"):
            out[f"{side}_{key}"] = med(rows, key)
        for key in ("variables", "constraints", "nonzeros"):
            out[f"{side}_{key}"] = rows[0][key]
    out.update(
        ours_samples_s=ours_s,
        linopy_samples_s=lin_s,
        ours_cpu_samples_s=ours_cpu,
        linopy_cpu_samples_s=lin_cpu,
    )
    return out


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 0


def _mem_gib() -> float:
    try:
        import psutil

        return psutil.virtual_memory().total / 2**30
    except ImportError:
        return 0.0


def _f(x: Any, spec: str = ".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def _print_human(r: dict[str, Any]) -> None:
    p = r["part_1_6"]
    q = r["full_model"]
    h = r["highs_alone"]
    lines = [
        f"{r['instance'] or 'size ' + r['size']}: {r['variables']:,} variables, {r['constraints']:,} constraints, "
        f"{r['nonzeros']:,} nonzeros; status {r['status']}, objective {r['objective']}",
        f"  read {_f(r['read_s'])} s | build {_f(r['build_s'])} s | hand-off {_f(r['handoff_s'])} s"
        f" (compile {_f(r['compile_s'])} + passModel {_f(r['pass_model_s'])}) | HiGHS"
        f" {_f(r['highs_s'])} s | extract+write {_f(r['extract_write_s'])} s | total"
        f" {_f(r['total_wall_s'])} s | peak RSS {_f(r['peak_rss_mb'], '.0f')} MB",
        f"  HiGHS alone (MPS): read {_f(h['read_s'])} s, solve {_f(h['solve_s'])} s ({h['status']}),"
        f" peak RSS {_f(h['peak_rss_mb'], '.0f')} MB",
        f"  constraints 1-6: ours build {_f(p['ours_build_s'])} + hand-off {_f(p['ours_handoff_s'])} s"
        f" ({p['ours_variables']:,} cols, {p['ours_constraints']:,} rows); linopy build"
        f" {_f(p['linopy_build_s'])} + hand-off {_f(p['linopy_handoff_s'])} s"
        f" ({_f(p['linopy_variables'], ',')} cols, {_f(p['linopy_constraints'], ',')} rows)",
        f"  full model: ours build {_f(q['ours_build_s'])} + hand-off {_f(q['ours_handoff_s'])} s"
        f" ({q['ours_variables']:,} cols, {q['ours_constraints']:,} rows, {q['ours_nonzeros']:,} nz);"
        f" linopy build {_f(q['linopy_build_s'])} + hand-off {_f(q['linopy_handoff_s'])} s"
        f" ({_f(q['linopy_variables'], ',')} cols, {_f(q['linopy_constraints'], ',')} rows,"
        f" {_f(q['linopy_nonzeros'], ',')} nz)",
        f"  overhead_vs_linopy_full {_f(r['overhead_vs_linopy_full'])}"
        f" (CPU {_f(r['overhead_vs_linopy_full_cpu'])})",
        f"  overhead_vs_linopy {_f(r['overhead_vs_linopy'])} (CPU {_f(r['overhead_vs_linopy_cpu'])})"
        f" | overhead_share {_f(r['overhead_share'])} | rss_vs_highs {_f(r['rss_vs_highs'])}"
        f" | wall_vs_highs {_f(r['wall_vs_highs'])}",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", choices=sorted(SIZES), default="S")
    ap.add_argument(
        "--instance",
        default=None,
        metavar="PATH",
        help="benchmark this input (CSV folder or .xlsx) instead of a generated size; the linopy"
        " yardstick is written for generated instances and holds ~1%% more rows on others (base:"
        " 70,159 against 69,500), so overhead_vs_linopy is indicative there",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    ap.add_argument(
        "--solve-time-limit",
        type=float,
        default=None,
        metavar="S",
        help="HiGHS time limit in seconds, the same for the planner and HiGHS alone (default: 120"
        " for a generated size, whose M, L and XL LPs take far longer to solve to optimality; none"
        " for --instance, which is measured with its real solve; 0 = no limit)",
    )
    ap.add_argument("--solver", default=None, help="HiGHS solver option: choose, simplex, ipm")
    ap.add_argument(
        "--threads", type=int, default=None, help="HiGHS threads (default: HiGHS's choice)"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="alternate the constraint 1-6 pair and the full-model pair N times",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=None, help="keep the instance, MPS and results here")
    ap.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.solve_time_limit is None and not args.instance and not args.child:
        args.solve_time_limit = 120.0
    if not args.solve_time_limit:  # 0: no limit
        args.solve_time_limit = None
    if args.child:
        child_main(args)
        return
    res = measure(args)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        _print_human(res)


if __name__ == "__main__":
    main()
