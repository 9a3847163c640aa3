"""Command line of the AI-infrastructure planner (DESIGN §1–§2).

    python cli.py solve inputs/base.xlsx            solve, write outputs/base_results.xlsx
    python cli.py validate my_case.xlsx             check a workbook, list every problem
    python cli.py template blank.xlsx               an empty, documented input workbook
    python cli.py convert inputs/base inputs/base.xlsx   CSV folder ↔ workbook

Only option parsing, progress and summaries live here; the work is done by the ``optimizer`` package.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:  # cli imports the planner lazily, so that --help stays fast
    from optimizer.coalition import GameResult

EXIT_OK, EXIT_NOT_SOLVED, EXIT_BAD_INPUT, EXIT_ERROR = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a program stopped by Ctrl-C


def _say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        click.echo(msg, err=True)


def _fail(msg: str, code: int) -> None:
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


def _input_problems(exc: Exception, quiet: bool = False) -> None:
    from optimizer.data_io import InputError

    assert isinstance(exc, InputError)
    n = len(exc.problems)
    click.echo(f"The input has {n} problem{'s' if n != 1 else ''}:", err=True)
    for p in exc.problems:
        click.echo(f"  {p}", err=True)


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def _exit_interrupted() -> NoReturn:
    """Ctrl-C anywhere: exit 130 (128 + SIGINT) with one line, not click's "Aborted!", exit 1."""
    click.echo("\ninterrupted (Ctrl-C); nothing more was written.", err=True)
    sys.exit(EXIT_INTERRUPTED)


class _Guarded(click.Group):
    """The command group with a last line of defence: a message and an exit status, never a
    traceback (issue 14). Bad input exits 2, the environment (disk, permissions) 3, a bug 3 with a
    request to report it; ``PLANNER_DEBUG=1`` shows the traceback."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        """Parse the command line; Ctrl-C while parsing exits 130 like Ctrl-C anywhere later."""
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            _exit_interrupted()

    def invoke(self, ctx: click.Context) -> Any:
        import os

        try:
            # imported inside the guard: loading the optimizer takes ~0.5 s and a Ctrl-C then
            # must exit 130 too, not as click's "Aborted!" with status 1
            from optimizer.data_io import InputError
            from optimizer.guards import GuardError, describe_os_error

            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            _exit_interrupted()
        except Exception as exc:
            if os.environ.get("PLANNER_DEBUG") == "1":
                raise
            if isinstance(exc, GuardError):
                _fail(str(exc), exc.code)
            if isinstance(exc, InputError):
                _input_problems(exc)
                sys.exit(EXIT_BAD_INPUT)
            if isinstance(exc, OSError):
                _fail(describe_os_error(exc), EXIT_ERROR)
            import sqlite3

            if isinstance(exc, sqlite3.OperationalError):
                _fail(
                    f"the store could not be written ({exc}): free disk space or check the "
                    "store's folder permissions, then run again; finished results stay in it",
                    EXIT_ERROR,
                )
            if isinstance(exc, MemoryError):
                _fail(
                    "out of memory: use a smaller case, fewer workers or a machine with more memory",
                    EXIT_ERROR,
                )
            _fail(
                f"unexpected {type(exc).__name__}: {exc}. This is a bug in the planner, not in "
                "your input as far as it can tell: please report it with the command and the "
                "input (PLANNER_DEBUG=1 shows where it happened).",
                EXIT_ERROR,
            )


def _interrupted(exc: Any) -> None:
    """Exit 130 at once after a solve stopped by Ctrl-C.

    Nothing is open for writing during a solve, so the process ends without the seconds of
    interpreter teardown a large model costs (and without waiting for a HiGHS still in presolve).
    """
    import os

    click.echo(
        f"interrupted (Ctrl-C) {exc.seconds:.1f} s into the solve; HiGHS "
        f"{'stopped' if exc.stopped else 'was abandoned in presolve'}; no results were written.",
        err=True,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _check_paths(outputs: list[Any], inputs: list[Path]) -> None:
    """Refuse outputs that would overwrite an input, collide or fail to write — before any work."""
    from optimizer.guards import check_outputs

    check_outputs(outputs, inputs)


# ---------------------------------------------------------------------------------------------------------
# Options shared by the commands: one definition each, worded for what one run of the command is
# ---------------------------------------------------------------------------------------------------------
BET_MODES = ("succeed", "fail", "stochastic")

input_argument = click.argument(
    "input_path", metavar="INPUT", type=click.Path(exists=True, path_type=Path)
)


def output_option(what: str, default: str, dir_okay: bool = True) -> Any:
    """``-o/--output``: ``what`` is written there, by default ``outputs/<input stem><default>``."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=dir_okay, path_type=Path),
        help=f"{what} (default: outputs/<input stem>{default}).",
    )


def solver_options(per: str = "", threads: str | None = None, time_help: str = "") -> Any:
    """``--time-limit`` and ``--mip-gap`` for each solve ``per`` (e.g. " per run"), and ``--threads``
    when ``threads`` says where they are used; ``time_help`` says more of what the limit counts."""

    def add(f: Any) -> Any:
        if threads is not None:
            f = click.option(
                "--threads",
                type=int,
                help=f"Solver threads{threads} (overrides Settings threads).",
            )(f)
        f = click.option(
            "--mip-gap",
            type=float,
            help=f"Relative MIP gap{per} (overrides Settings mip_gap), e.g. 1e-9 for the exact "
            "optimum.",
        )(f)
        return click.option(
            "--time-limit",
            type=float,
            help=f"Time limit{per} in seconds of wall clock (overrides Settings time_limit_s); "
            "the HiGHS runs of a solve (LP relaxation, branch and bound, duals LP, infeasibility "
            f"explanation) share it, each gets what is left.{time_help}",
        )(f)

    return add


def bet_mode_option(per: str = "", choices: tuple[str, ...] = BET_MODES, help: str = "") -> Any:
    """``--bet-mode``: Settings bet_mode overridden for every solve ``per``."""
    return click.option(
        "--bet-mode",
        type=click.Choice(list(choices)),
        help=help
        or f"Override Settings bet_mode{per}: every R&D bet succeeds, fails, or the two-stage plan.",
    )


def workers_option(default: int | None, help: str) -> Any:
    """``--workers``: local Dask workers (0 = in this process)."""
    return click.option(
        "--workers",
        type=click.IntRange(min=0),
        default=default,
        show_default=default is not None,
        help=help,
    )


def _scheduler_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--scheduler`` read by Dask's own address parser before anything else runs."""
    if value is None:
        return None
    from optimizer.guards import scheduler_address_problem

    problem = scheduler_address_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return value.strip()


def _one_executor(workers: int | None, scheduler: str | None) -> None:
    """Refuse ``--workers`` given beside ``--scheduler`` (exit 2): the local workers would be
    ignored in silence, and the analyst who typed both expects them to count."""
    from click.core import ParameterSource

    if scheduler is None:
        return
    source = click.get_current_context().get_parameter_source("workers")
    if source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
        raise click.UsageError(
            f"--workers {workers} and --scheduler {scheduler}: choose one — --workers starts "
            "workers on this machine, --scheduler sends the work to a running cluster's workers"
        )


def scheduler_option(what: str) -> Any:
    """``--scheduler``: solve ``what`` on an existing Dask cluster."""
    return click.option(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        callback=_scheduler_address,
        help=f"Solve {what} on an existing Dask cluster (`dask scheduler` + `dask worker`s that "
        "can read INPUT and import this package: `pip install -e .` where they run, or start "
        "them with PYTHONPATH set to this checkout).",
    )


def store_option(what: str, default: str) -> Any:
    """``--store``: the SQLite file of finished ``what``, resumed by a rerun."""
    return click.option(
        "--store",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"SQLite file of finished {what} (default: {default}).",
    )


def seed_option(what: str, default: int | None = 0) -> Any:
    """``--seed`` of ``what``."""
    return click.option(
        "--seed",
        type=int,
        default=default,
        show_default=default is not None,
        help=f"Seed of {what}.",
    )


def json_option(what: str) -> Any:
    """``--json``: ``what`` on stdout as JSON, and nothing else on stdout."""
    return click.option(
        "--json", "as_json", is_flag=True, help=f"On stdout: {what}; nothing else goes there."
    )


@click.group(
    cls=_Guarded,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="ai-infra-planner")
def main() -> None:
    """Plan where a coalition's capital for AI infrastructure should go.

    Chip fabs and their supply chain, energy and AI data centers: in which country and when, to meet
    projected AI compute demand at least cost. Inputs are Excel workbooks (or folders of CSV files with
    the same sheet names); results are Excel workbooks. Start with `template` to see the input format,
    or `solve inputs/base.xlsx` to run the shipped default case.
    """


def _ph_not_optimal(r: Any, opts: Any, data: Any) -> str | None:
    """Why a plan from mpi-sppy is not a proven optimum, or None when it is.

    The extensive form's plan is optimal unless HiGHS stopped at the time limit.

    PH is a heuristic: it may stop at its iteration limit, and even when its iterates agree
    (converged) the plan they agree on can be off the optimum. Only PH's lower bound proves a plan:
    the plan is optimal when its gap to that bound is within the solve's MIP gap (default 1e-4)."""
    if r.method == "ef":
        if r.status != "time_limit":
            return None
        return (
            f"mpi-sppy's extensive form stopped at the time limit ({r.time_limit_s:g} s): its plan "
            "is feasible, not proven optimal"
        )
    if r.method != "ph":
        return None
    tol = opts.merged(data.settings).mip_gap if opts is not None else None
    tol = 1e-4 if tol is None else float(tol)
    gap = r.gap
    if r.converged and gap is not None and gap <= tol:
        return None
    within = f"the plan is within {gap:.2%} of the optimum (PH's lower bound)"
    if r.unrecovered:
        return (
            "progressive hedging went on without a solution of "
            + "; ".join(
                f"{f.leaf} (iteration {f.iteration}, {f.termination})" for f in r.unrecovered
            )
            + f": its iterates are not to be trusted, but {within}"
        )
    if r.status == "time_limit":
        return (
            f"progressive hedging stopped at the time limit ({r.time_limit_s:g} s) after "
            f"{r.iterations} iteration{'s' if r.iterations != 1 else ''} without converging; "
            f"{within}"
        )
    if not r.converged:
        return (
            f"progressive hedging stopped at its iteration limit ({r.options.iterations}) "
            f"without converging; {within} (raise --ph-iterations, or tune --ph-rho)"
        )
    return (
        f"progressive hedging converged, but its bound does not prove the plan optimal: {within}, "
        f"above the MIP gap {tol:g} (solve the extensive form, or tune --ph-rho)"
    )


def _solve_one(
    data: Any,
    label: str,
    out: Path,
    bet_mode: str | None,
    opts: Any,
    plots: bool,
    as_json: bool,
    mpisppy: str | None = None,
    measures: bool = True,
    run_extra: dict[str, Any] | None = None,
    ph: Any = None,
):
    """Build, solve and write one run; returns (summary, tables) or exits on a non-input failure.

    ``run_extra``: more Run-sheet rows (the changes this run applied to the input)."""
    import pandas as pd

    from optimizer.model import ModelError, build_model
    from optimizer.progress import SolveInterrupted, SolveMonitor
    from optimizer.results import summary, tables
    from optimizer.solve import SolverOptionError
    from optimizer.solve import solve as run_solve

    tag = f"[{label}] " if label else ""
    t1 = time.perf_counter()
    from optimizer.data_io import InputError
    from optimizer.stochastic import fix_first_stage

    r = _mpisppy_first(data, mpisppy, bet_mode, ph, opts, tag) if mpisppy else None
    if r is not None:
        t1 = time.perf_counter()
    try:
        model = build_model(data, bet_mode=bet_mode)
    except ModelError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except InputError as exc:  # a future of the Outcomes sheet, resolved on first use (§8.1)
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    build_s = time.perf_counter() - t1
    _say(f"{tag}build     {build_s:7.2f} s")
    if r is not None:
        # results come from the exact EF at that first stage
        moved = fix_first_stage(model, r.first_stage)
        if moved:
            (name, idx), was, now = max(moved, key=lambda m: abs(m[1] - m[2]))
            _say(
                f"{tag}mpi-sppy  {len(moved)} first-stage value(s) lay outside a variable's bounds "
                f"and were moved onto them (largest: {name}{list(idx) if isinstance(idx, tuple) else [idx]} "
                f"{was:g} -> {now:g})"
            )
    try:
        # the time limit counts from the build (t1): an analyst's limit is the wait for a plan
        sol = run_solve(model, opts, monitor=SolveMonitor(label=tag, hard_exit=True), started=t1)
    except SolverOptionError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except SolveInterrupted as exc:
        _interrupted(exc)
    sol.build_seconds = build_s
    gap = f", gap {sol.mip_gap:.2e}" if sol.is_mip and sol.mip_gap is not None else ""
    _say(
        f"{tag}solve     {sol.solve_seconds:7.2f} s  {sol.status}{gap}  "
        f"({sol.variables:,} variables, {sol.constraints:,} constraints; hand-off {sol.handoff_seconds:.2f} s"
        + (f"; HiGHS {sol.calls_text()})" if sol.solver_calls else ")")
    )
    extra: dict[str, Any] = {}
    if r is not None:
        if r.method == "ph" and sol.has_solution:
            # PH's best plan is its first stage evaluated exactly: the solve just done
            r = replace(r, objective=float(sol.objective))
        extra = r.summary()
        if r.method == "ph" and sol.has_solution:
            _say(f"{tag}mpi-sppy  ph plan {r.objective:,.6f} $M, gap to its bound {r.gap:.2e}")
    s = summary(sol) | extra
    why_not = _ph_not_optimal(r, opts, data) if r is not None and sol.status == "optimal" else None
    if why_not:
        # the plan is PH's first stage evaluated exactly: feasible, and within ph_gap of the
        # optimum, but optimal only if PH's bound proves it (converging alone does not)
        s["status"] = "feasible"
        s["message"] = why_not
        sol.status = "feasible"
        sol.message = why_not
    if label:
        s = {"scenario": label, **s}
    if not sol.has_solution:
        return s, None, sol
    t2 = time.perf_counter()
    t = tables(sol, scenario=label or None, extra_run=run_extra)
    if extra:
        rows = pd.DataFrame(list(extra.items()), columns=["metric", "value"])
        t["Summary"] = pd.concat([t["Summary"], rows], ignore_index=True)
    if hasattr(model, "OUTCOMES") and measures:
        from optimizer.stochastic import attach_measures, measures

        t3 = time.perf_counter()
        attach_measures(t, s, measures(data, sol.objective, model, opts))
        _say(
            f"{tag}measures  {time.perf_counter() - t3:7.2f} s  (EV, EEV, VSS, wait-and-see, EVPI, bet worth)"
        )
    path = _write_run(t, out, plots)
    _say(f"{tag}write     {time.perf_counter() - t2:7.2f} s  {path}")
    return s, t, sol


@main.command()
@input_argument
@output_option("Results workbook; with scenarios, the folder for the workbooks", "_results.xlsx")
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    metavar="NAME",
    help="Solve the base and this scenario of the Scenarios sheet (repeatable); writes one workbook per run and comparison.xlsx.",
)
@click.option(
    "--change",
    "what_ifs",
    multiple=True,
    metavar="'SHEET.COLUMN[WHERE] OP VALUE'",
    help="A what-if applied to INPUT before solving (repeatable), in the Scenarios sheet's grammar: "
    "e.g. 'TechCosts.capex_musd[region=USA;tech=solar] *2', OP one of * + = (scale, add, set). "
    "Recorded in the Run sheet.",
)
@click.option(
    "--all-scenarios",
    is_flag=True,
    help="Solve the base and every scenario of the Scenarios sheet, then compare them.",
)
@bet_mode_option()
@solver_options(
    threads="",
    time_help=" It counts from the start of the model's build, so building the model and handing "
    "it to HiGHS count too (an analyst waits for all of it); reading INPUT, writing results and "
    "--measures (each further solve has a limit of its own) are outside it. With --mpisppy ef, "
    "HiGHS gets it for mpi-sppy's extensive form; with --mpisppy ph, PH gets it too (it stops "
    "after the iteration that passes it); the exact solve of their plan has a limit of its own. HiGHS checks the limit between steps: a huge model may pass it by "
    "one step (a presolve, a factorisation).",
)
@click.option(
    "--solver",
    type=click.Choice(["choose", "simplex", "ipm"]),
    help="HiGHS algorithm for LPs (default: HiGHS chooses).",
)
@click.option(
    "--highs-option",
    "highs_options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any other HiGHS option, checked before solving (repeatable), e.g. presolve=off.",
)
@click.option(
    "--measures/--no-measures",
    default=None,
    help="For a stochastic plan: also compute EV, EEV/VSS, wait-and-see/EVPI and each bet's worth "
    "(several more solves of the model's size). Default: on for a single run, off inside scenario "
    "comparisons.",
)
@click.option(
    "--mpisppy",
    type=click.Choice(["ef", "ph"]),
    help="With --bet-mode stochastic: solve with mpi-sppy's extensive form or progressive hedging "
    "(extra `mpi`); PH's first stage is then evaluated exactly.",
)
@click.option(
    "--ph-iterations",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="With --mpisppy ph: the most PH iterations before it stops unconverged.",
)
@click.option(
    "--ph-rho",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="With --mpisppy ph: the proximal weight rho (too large can stop PH at a wrong plan).",
)
@click.option(
    "--ph-convthresh",
    type=click.FloatRange(min=0, min_open=True),
    default=1e-7,
    show_default=True,
    help="With --mpisppy ph: PH has converged when its convergence metric falls below this.",
)
@click.option(
    "--plots/--no-plots", default=False, help="Also write PNG charts next to the results workbook."
)
@json_option("the Summary as one JSON object (one line per run with scenarios)")
@click.option("--log", is_flag=True, help="Show the HiGHS log on stderr.")
def solve(
    input_path: Path,
    output: Path | None,
    scenarios: tuple[str, ...],
    what_ifs: tuple[str, ...],
    all_scenarios: bool,
    bet_mode: str | None,
    time_limit: float | None,
    mip_gap: float | None,
    threads: int | None,
    solver: str | None,
    highs_options: tuple[str, ...],
    measures: bool | None,
    mpisppy: str | None,
    ph_iterations: int,
    ph_rho: float,
    ph_convthresh: float,
    plots: bool,
    as_json: bool,
    log: bool,
) -> None:
    """Solve INPUT (an .xlsx workbook or a folder of CSV files) and write the results workbook.

    With --scenario/--all-scenarios, the base and each named scenario are solved, each into its own
    workbook (<input stem>__<scenario>.xlsx in the output folder), then compared side by side in
    comparison.xlsx.

    Exit status: 0 optimal or feasible (results written), 1 not solved (infeasible, unbounded, no
    solution in the time limit; no results written), 2 bad input (every problem listed), 3 error.
    """
    from optimizer.data_io import InputError, read_raw
    from optimizer.guards import check_solver_options
    from optimizer.mpisppy_bridge import PHOptions
    from optimizer.scenarios import UnknownScenarioError, plan_runs
    from optimizer.solve import SolveOptions

    check_solver_options(time_limit, mip_gap, threads)
    t0 = time.perf_counter()
    hopts = _highs_options(highs_options)
    try:
        runs = plan_runs(read_raw(input_path), what_ifs, scenarios, all_scenarios)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    except UnknownScenarioError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    for w in runs[0].data.warnings:
        _say(f"warning: {w}")
    for n in runs[0].data.notes:
        if bet_mode == "stochastic" and n.startswith("the Outcomes sheet is used only"):
            continue  # --bet-mode stochastic is what the note suggests
        _say(f"info: {n}")
    _say(f"read      {time.perf_counter() - t0:7.2f} s  {input_path}")
    opts = SolveOptions(
        time_limit_s=time_limit,
        mip_gap=mip_gap,
        threads=threads,
        solver=solver,
        log=log,
        highs_options=hopts,
    )
    ph = PHOptions(ph_iterations, ph_rho, ph_convthresh)
    if measures is None:
        measures = len(runs) == 1
    outs = _run_outputs(input_path, output, [r.label for r in runs], plots)
    solved: list[tuple[str, Any]] = []  # (name, tables): names are data, never keys
    failed = []
    done: dict[int, tuple[Any, Any, Any]] = {}
    for i, run in enumerate(runs):
        row = _changes_row(list(run.changes))
        if run.same_as is not None and run.same_as in done:
            twin = done[run.same_as]
            s, t, sol = _reuse_run(
                twin, runs[run.same_as].label, run.label, outs[run.label], plots, row
            )
        else:
            s, t, sol = _solve_one(
                run.data,
                run.label,
                outs[run.label],
                bet_mode,
                opts,
                plots,
                as_json,
                mpisppy,
                measures,
                row,
                ph=ph,
            )
        done[i] = (s, t, sol)
        if as_json:
            click.echo(json.dumps(s, default=_json_default))
        if not run.label:
            _single_run_end(s, t, sol)
        if t is None:
            failed.append(f"{run.label}: {sol.status}")
            _say(f"[{run.label}] {sol.status}: {sol.message or sol.termination}")
            continue
        solved.append((run.label, t))
    from optimizer.compare import write_comparison

    if solved:
        path = write_comparison(solved, outs[None])
        _say(f"compared {len(solved)} runs in {path}")
    if failed:
        _fail("not solved: " + "; ".join(failed), EXIT_NOT_SOLVED)
    sys.exit(EXIT_OK)


def _mpisppy_first(
    data: Any, method: str, bet_mode: str | None, ph: Any, opts: Any, tag: str
) -> Any:
    """Solve the hedging plan with mpi-sppy (``--mpisppy ef|ph``) and say how it went; exits 2 when
    the input has no outcome tree or one too large."""
    from optimizer.data_io import InputError
    from optimizer.model import ModelError
    from optimizer.stochastic import check_tree, is_stochastic

    if not is_stochastic(data, bet_mode):
        _fail(
            "--mpisppy needs bet_mode stochastic and at least one bet or an Outcomes sheet",
            EXIT_BAD_INPUT,
        )
    # mpi-sppy first, before the extensive form exists: its leaf models and the EF are never in
    # memory together (12 copies of the base each)
    from optimizer.mpisppy_bridge import LeafSolveError, run_mpisppy

    t_m = time.perf_counter()
    try:
        why = check_tree(data, bet_mode)
        if why:
            _fail(why, EXIT_BAD_INPUT)
        r = run_mpisppy(data, method, ph=ph, options=opts, evaluate=False)
    except LeafSolveError as exc:
        _fail(f"{tag}{exc}; no results written", EXIT_NOT_SOLVED)
    except ModelError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    how = f"{r.objective:,.6f} $M"
    if r.status == "no_solution":
        limit = f" within the time limit of {r.time_limit_s:g} s" if r.time_limit_s else ""
        _fail(
            f"{tag}mpi-sppy's extensive form found no plan{limit}; no results written",
            EXIT_NOT_SOLVED,
        )
    if r.status == "time_limit" and r.method == "ef":
        how += f" (stopped at the time limit of {r.time_limit_s:g} s: not proven optimal)"
    if r.method == "ph":
        how = (
            f"{r.status} after {r.iterations} of {r.options.iterations} iterations; "
            f"lower bound {r.lower_bound:,.6f} $M (the plan is evaluated exactly below)"
        )
    _say(f"{tag}mpi-sppy  {time.perf_counter() - t_m:7.2f} s  {r.method}: {how}")
    for f in r.failures:  # mpi-sppy's own line ("Solve failed") does not say what became of it
        _say(f"{tag}mpi-sppy  a leaf solve gave no solution: {f}")
    return r


def _highs_options(items: tuple[str, ...]) -> dict[str, Any]:
    """``--highs-option NAME=VALUE`` items as a dict, checked by the planner's rules where they
    overlap its own options (threads=100000 would hang)."""
    from optimizer.guards import check_solver_options

    hopts: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--highs-option {item!r}: expected NAME=VALUE", EXIT_BAD_INPUT)
        hopts[name.strip()] = _option_value(value.strip())
    check_solver_options(
        *(
            hopts.get(k) if isinstance(hopts.get(k), int | float) else None
            for k in ("time_limit", "mip_rel_gap", "threads")
        )
    )
    return hopts


def _run_outputs(
    input_path: Path, output: Path | None, labels: list[str], plots: bool
) -> dict[str | None, Path]:
    """Each run's results workbook by label, and (key None) the comparison of several runs; refuses
    outputs that would overwrite the input, collide or fail to write, before any work."""
    from optimizer.guards import Output, output_file_names

    if labels == [""]:
        out = output or Path("outputs") / f"{input_path.stem}_results.xlsx"
        planned = [Output("-o", out)]
        if plots:
            planned.append(Output("--plots", out.parent / (out.stem + "_plots"), folder=True))
        _check_paths(planned, [input_path])
        return {"": out}
    folder = output or Path("outputs")
    files = output_file_names(input_path.stem, labels)
    outs: dict[str | None, Path] = {label: folder / files[label] for label in labels}
    outs[None] = folder / "comparison.xlsx"
    planned = [Output("-o", path) for path in outs.values()]
    if plots:
        planned += [
            Output("--plots", folder / (Path(files[label]).stem + "_plots"), folder=True)
            for label in labels
        ]
    _check_paths(planned, [input_path])
    return outs


def _single_run_end(s: dict[str, Any], t: Any, sol: Any) -> None:
    """Exit after a lone run: 1 when it has no results, else 0 with its objective (and a note
    when it stopped before proving optimality)."""
    if t is None:
        _fail(
            f"{sol.status}: {sol.message or sol.termination}. No results written.", EXIT_NOT_SOLVED
        )
    _say(
        f"objective {s['objective_musd']:,.3f} $M (net present cost)   unserved {s['unserved_h100e']:,.0f} H100e"
    )
    if sol.status == "feasible" and sol.message:  # e.g. why PH's plan is not proven optimal
        _say(f"note: {sol.message}")
    elif sol.status == "feasible":
        _say(
            f"note: stopped before proving optimality ({sol.termination}); the gap is {sol.mip_gap}"
        )
    sys.exit(EXIT_OK)


def _reuse_run(
    result: tuple[Any, Any, Any],
    source: str,
    label: str,
    out: Path,
    plots: bool,
    run_extra: dict[str, Any],
):
    """A run whose input, once its changes are applied, is the same as run ``source``'s: that
    result is written again under this run's name instead of solving the same model twice."""
    import pandas as pd

    s, t, sol = result
    s = {**s, "scenario": label}
    note = f"same input as {source} once the changes are applied: its result, not solved again"
    _say(f"[{label}] {note}")
    if t is None:
        return s, None, sol
    t = dict(t)
    run = t["Run"].copy()
    extra = {"scenario": label, **run_extra, "result_of": note}
    for key, value in extra.items():
        hit = run["key"] == key
        if hit.any():
            run.loc[hit, "value"] = value
        else:
            run = pd.concat([run, pd.DataFrame({"key": [key], "value": [value]})])
    t["Run"] = run.reset_index(drop=True)
    _write_run(t, out, plots)
    return s, t, sol


def _write_run(t: dict[str, Any], out: Path, plots: bool) -> Path:
    """Write one run's results workbook (and its plots folder when asked); the workbook's path.

    A workbook held open by Excel (locked) ends the command with exit 3 and what to do, the
    same for a solved run and a reused one.
    """
    from optimizer.report import write_plots, write_results_workbook
    from optimizer.workbook import OutputLockedError

    try:
        path = write_results_workbook(t, out)
        if plots:
            write_plots(t, path.parent / (path.stem + "_plots"))
    except OutputLockedError as exc:
        _fail(str(exc), EXIT_ERROR)
    return path


def _changes_row(changes: list[Any]) -> dict[str, Any]:
    """The Run sheet's ``changes`` row: what this run changed in the input, reproducibly."""
    from optimizer.scenarios import describe_changes

    return {"changes": describe_changes(changes) or "(none)"}


def _option_value(v: str) -> Any:
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


@main.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("outputs/comparison.xlsx"),
    show_default=True,
    help="Comparison workbook to write.",
)
def compare(results: tuple[Path, ...], output: Path) -> None:
    """Compare results workbooks side by side (the first is the base for differences).

    Example: solve two edited copies of an input, then
    `python cli.py compare outputs/a_results.xlsx outputs/b_results.xlsx -o comparison.xlsx`.
    """
    from optimizer.compare import read_results, write_comparison
    from optimizer.guards import Output

    _check_paths([Output("-o", output)], list(results))
    runs = []
    for p in results:
        try:
            runs.append((p.stem.removesuffix("_results"), read_results(p)))
        except ValueError as exc:
            _fail(str(exc), EXIT_BAD_INPUT)
    path = write_comparison(runs, output)
    click.echo(f"wrote {path}")


@main.command()
@input_argument
@click.option(
    "--annotate",
    "annotate_path",
    metavar="OUT.xlsx",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a copy of INPUT with every problem cell filled red or orange and a comment "
    "saying what to fix, plus a Problems sheet listing all of them (for a CSV folder: the "
    "converted workbook). INPUT itself is never changed.",
)
def validate(input_path: Path, annotate_path: Path | None) -> None:
    """Check INPUT and list every problem as `Sheet!Cell: what is wrong — what is expected`.

    Nothing is built or solved and the input is never modified. Exit status 0 when the input is valid,
    2 when it has problems (or --annotate names the input itself), 3 when the copy cannot be written.
    """
    from optimizer.data_io import InputError, parse, read_raw
    from optimizer.model import ModelError

    if annotate_path is not None and annotate_path.resolve() == input_path.resolve():
        _fail(f"--annotate {annotate_path} is the input itself; name a new file", EXIT_BAD_INPUT)
    if annotate_path is not None:
        from optimizer.guards import Output

        _check_paths([Output("--annotate", annotate_path)], [input_path])
    raw = data = None
    problems = []
    try:
        raw = read_raw(input_path)  # None afterwards means unreadable: the copy must not reopen it
        data = parse(raw)
    except InputError as exc:
        _input_problems(exc)
        problems = exc.problems
    except Exception as exc:  # noqa: BLE001 - a reader bug must still end in a message, not a trace
        _fail(
            f"could not check {input_path} ({type(exc).__name__}: {exc}). This is a bug in the "
            "planner, not in your input as far as it can tell: please report it with the file.",
            EXIT_ERROR,
        )
    warnings = list(data.warnings) if data is not None else []
    if data is None and raw is not None:
        warnings = [
            f"sheet {s!r} is not part of the input schema and was ignored" for s in raw.extra_sheets
        ] + list(raw.warnings)
    for w in warnings:
        _say(f"warning: {w}")
    for n in data.notes if data is not None else ():
        _say(f"info: {n}")
    if annotate_path is not None:
        from optimizer.annotate import annotate
        from optimizer.workbook import OutputLockedError

        try:
            path = annotate(input_path, problems, annotate_path, raw=raw, warnings=warnings)
        except OutputLockedError as exc:
            _fail(str(exc), EXIT_ERROR)
        n = len(problems)
        _say(f"wrote {path} ({n} problem{'s' if n != 1 else ''} marked)")
    if data is None:
        sys.exit(EXIT_BAD_INPUT)
    from optimizer.stochastic import check_tree

    try:
        why = check_tree(data)
    except ModelError as exc:
        why = str(exc)
    if why:
        click.echo(f"The input has 1 problem:\n  Settings: {why}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(
        f"OK: {len(data.regions)} regions, {len(data.years)} years, {len(data.slices)} slices, "
        f"{len(data.techs)} technologies, {len(data.demand)} demand entries, {len(data.partners)} partners, "
        f"{len(data.bets)} bets"
    )


@main.command()
@click.argument("output", type=click.Path(path_type=Path))
def template(output: Path) -> None:
    """Write an empty, documented input workbook to OUTPUT.

    It has an About sheet with the units, every sheet with its column headers, a comment on each
    header (meaning, type, unit, default) and dropdowns for ids, booleans and choices.
    """
    from optimizer.guards import Output
    from optimizer.template import write_template

    _check_paths([Output("OUTPUT", output)], [])
    path = write_template(output)
    click.echo(f"wrote {path}")


@main.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
def convert(source: Path, target: Path) -> None:
    """Convert a CSV folder to an .xlsx input workbook, or a workbook to a CSV folder.

    Example: `python cli.py convert inputs/base inputs/base.xlsx` regenerates the shipped workbook.
    """
    from optimizer.data_io import InputError
    from optimizer.guards import Output
    from optimizer.template import convert_input

    to_book = str(target).lower().endswith(".xlsx")
    _check_paths([Output("TARGET", target, folder=not to_book)], [source])
    try:
        path = convert_input(source, target)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"wrote {path}")


@main.command()
@input_argument
@click.option(
    "--method",
    type=click.Choice(["oat", "grid", "lhs", "sobol", "morris"]),
    help="Design: one-at-a-time (tornado), full grid, Latin hypercube, Sobol' indices or Morris "
    "screening (default: the spec's, else oat).",
)
@click.option(
    "--samples",
    type=int,
    help="lhs: points; sobol: base samples N (N·(D+2) runs, a power of 2); morris: trajectories "
    "(N·(D+1) runs).",
)
@seed_option("the samplers (default: the spec's, else 0)", default=None)
@workers_option(
    None,
    "Local Dask workers, one HiGHS thread each (default: the CPU count); 0 solves in this process.",
)
@scheduler_option("the runs")
@store_option("runs", "outputs/<input stem>_sweep.sqlite")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the sweep in --store; finished runs are not solved again.",
)
@output_option("Summary workbook", "_sweep.xlsx", dir_okay=False)
@click.option(
    "--spec",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file of ranges (parameters: [{parameter, where, low, high, op, steps}]) instead of "
    "the Sweep sheet.",
)
@solver_options(per=" per run")
@bet_mode_option(per=" for every run")
@click.option(
    "--no-warm", is_flag=True, help="Rebuild HiGHS's model for every run (no warm re-solves)."
)
@json_option(
    "one JSON object at the end: runs, finished, failed, store, objective_min, objective_max"
)
def sweep(
    input_path: Path,
    method: str | None,
    samples: int | None,
    seed: int | None,
    workers: int | None,
    scheduler: str | None,
    store: Path | None,
    resume: bool,
    output: Path | None,
    spec: Path | None,
    time_limit: float | None,
    mip_gap: float | None,
    bet_mode: str | None,
    no_warm: bool,
    as_json: bool,
) -> None:
    """Sensitivity sweep of INPUT over the ranges of its Sweep sheet (or --spec FILE.yaml).

    Each point is a list of scenario changes (sheet, where, column, op, value), solved on Dask
    workers that re-solve warm; every finished run is committed to the SQLite --store at once, so an
    interrupted sweep continues with --resume and loses nothing. Identical points are solved once.
    The summary workbook has the runs, a tornado chart (oat), Sobol' indices (sobol), Morris μ*/σ
    (morris) and objective-vs-parameter scatter plots.

    Exit status: 0 every run finished, 1 some runs failed, 2 bad input or ranges, 3 error.
    """
    _one_executor(workers, scheduler)
    import os

    from optimizer.data_io import InputError
    from optimizer.guards import Output, check_solver_options
    from optimizer.sweep import (
        Progress,
        SweepConfig,
        prepare,
        run_sweep,
        with_spec_choices,
        write_summary,
    )
    from optimizer.sweep_store import StoreBusyError, StoreMismatchError
    from optimizer.workbook import OutputLockedError

    check_solver_options(time_limit, mip_gap)
    stem = input_path.stem or input_path.name
    config = SweepConfig(
        input=input_path,
        method=method or "oat",
        samples=samples,
        seed=seed if seed is not None else 0,
        workers=(os.cpu_count() or 1) if workers is None else workers,
        scheduler=scheduler,
        store=store or Path("outputs") / f"{stem}_sweep.sqlite",
        resume=resume,
        warm=not no_warm,
        spec=spec,
        time_limit_s=time_limit,
        mip_gap=mip_gap,
        bet_mode=bet_mode,
    )
    from optimizer.guards import MAX_WORKERS, check_count

    check_count("--workers", config.workers, MAX_WORKERS, "at most one worker per CPU core")
    out = output or Path("outputs") / f"{stem}_sweep.xlsx"
    _check_paths(
        [Output("--store", config.store, store=True), Output("-o", out)],
        [input_path, *([spec] if spec else [])],
    )
    try:
        config = with_spec_choices(config, method, samples, seed)
        prepared = prepare(config)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    except ValueError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    from optimizer.guards import check_stochastic_size

    check_stochastic_size(prepared[0], bet_mode)
    design = prepared[2]
    where = f"scheduler {scheduler}" if scheduler else f"{config.workers} local worker(s)"
    _say(
        f"sweep     {design.method}: {len(design.points)} points, {len(design.unique_ids)} distinct, "
        f"{len(design.spec.parameters)} parameters, on {where}; store {config.store}"
    )
    try:
        result = run_sweep(config, progress=Progress(), prepared=prepared)
    except KeyboardInterrupt:
        click.echo("", err=True)
        _fail(f"interrupted; every finished run is in {config.store}: continue with --resume", 130)
    except StoreMismatchError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except StoreBusyError as exc:
        _fail(str(exc), exc.code)
    except OSError as exc:
        _fail(
            f"cannot run the sweep ({type(exc).__name__}: {exc}); finished runs are kept in "
            f"{config.store}: continue with --resume",
            EXIT_ERROR,
        )
    try:
        path = write_summary(design, config.store, out)
    except OutputLockedError as exc:
        _fail(str(exc), EXIT_ERROR)
    _say(
        f"sweep     {result.finished}/{result.runs} finished, {result.failed} failed "
        f"({result.solved_now} solved now, {result.warm_runs} warm) in {result.seconds:.1f} s; "
        f"summary {path}"
    )
    if as_json:
        click.echo(json.dumps(result.as_json(), default=_json_default))
    if result.stopped:
        _say(
            f"note: {result.stopped} run(s) stopped short of a proven optimum within the gap "
            "asked for (time limit or gap): they are not finished; --resume (with a larger "
            "--time-limit) solves them again"
        )
    sys.exit(EXIT_NOT_SOLVED if result.failed or result.stopped else EXIT_OK)


@main.command()
@input_argument
@output_option("Coalition workbook", "_coalition.xlsx")
@workers_option(0, "Dask workers on this machine (0 = solve in this process).")
@scheduler_option("the sub-coalitions")
@store_option("sub-coalitions; a rerun resumes from it", "next to the output")
@click.option(
    "--samples",
    type=int,
    help="Estimate Shapley values from this many random permutations instead of every subset (automatic beyond 12 players).",
)
@seed_option("the permutation sample")
@click.option(
    "--players",
    "only",
    metavar="R1,R2,…",
    help="Play the game among these coalition regions only; the others stay out of every c(S).",
)
@click.option(
    "--relax-integers",
    is_flag=True,
    help="Solve every c(S) with continuous builds (integer_modules FALSE): faster, an approximation.",
)
@bet_mode_option(per=" for every sub-coalition")
@solver_options(per=" per sub-coalition")
@click.option(
    "--cold",
    is_flag=True,
    help="Solve each sub-coalition from scratch on its own input (slower); default: warm re-solves of one model of the grand coalition, non-members fixed at zero by bounds.",
)
@json_option(
    "one JSON object: players, cost, shapley, standalone, value_of_alliance, in_core, "
    "least_core_epsilon"
)
def coalition(
    input_path: Path,
    output: Path | None,
    workers: int,
    scheduler: str | None,
    store: Path | None,
    samples: int | None,
    seed: int,
    only: str | None,
    relax_integers: bool,
    bet_mode: str | None,
    time_limit: float | None,
    mip_gap: float | None,
    cold: bool,
    as_json: bool,
) -> None:
    """Play the coalition game of INPUT: what each member gains from the alliance (DESIGN §9).

    Players are the regions with coalition TRUE. c(S) is the least cost of serving the demand of S's
    members with only their territory, the capital of partners homed in S (and of partners with no
    home region), the market and the external commodity markets. Every sub-coalition is solved when
    there are at most 12 players (or --samples is not given); otherwise Shapley values are estimated
    from sampled permutations with a 95% interval. Finished sub-coalitions are kept in a SQLite store,
    so a stopped run resumes where it stopped.
    """
    _one_executor(workers, scheduler)
    from optimizer.coalition import PlayerError, choose_players, game_subsets, run_game
    from optimizer.data_io import InputError, parse, read_raw
    from optimizer.guards import Output, check_solver_options
    from optimizer.solve import SolveOptions

    check_solver_options(time_limit, mip_gap)
    out = output or Path("outputs") / f"{input_path.stem}_coalition.xlsx"
    store = store or out.with_suffix(".sqlite")
    _check_paths([Output("-o", out), Output("--store", store, store=True)], [input_path])
    try:
        raw = read_raw(input_path)
        data = parse(raw)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    try:
        order = choose_players(data, only)
    except PlayerError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    changes = []
    if relax_integers:
        from optimizer.scenarios import Change, apply_changes

        changes = [Change("Settings", "key=integer_modules", "value", "set", "FALSE")]
        raw = apply_changes(raw, changes)
    from optimizer.coalition import check_game_size, check_player_names

    check_player_names(raw, order)
    from optimizer.guards import check_stochastic_size

    check_stochastic_size(raw, bet_mode)
    check_game_size(len(order), samples, workers)
    exact, samples, subsets = game_subsets(order, samples, seed)
    check_game_size(len(order), samples, workers, len(set(subsets)))
    _say(f"players   {len(order)}: {', '.join(order)}; {len(set(subsets))} sub-coalitions to solve")
    if len(set(subsets)) > 31:
        how = (
            "each is a model about the size of the input's own solve"
            if cold
            else "each worker's first solves the input's model from scratch (about as long as its "
            "own solve), the others re-solve it warm"
        )
        ways = "--players (fewer players), --samples N (sampled permutations)" + (
            "" if scheduler else " or --scheduler (a cluster)"
        )
        _say(
            f"note      {len(set(subsets))} sub-coalitions: {how}; the estimated time of the whole "
            f"game follows as soon as the pace is known. For hours of work: {ways}"
        )
    opts = SolveOptions(
        time_limit_s=time_limit, mip_gap=mip_gap, threads=1 if (workers or scheduler) else None
    )
    res = run_game(
        input_path,
        raw,
        order,
        subsets,
        exact=exact,
        samples=samples,
        seed=seed,
        options=opts,
        bet_mode=bet_mode,
        workers=workers,
        scheduler=scheduler,
        store=store,
        progress=_say,
        changes=changes,
        warm=not cold,
    )
    from optimizer.coalition import write_game_workbook

    path = write_game_workbook(res, out)
    _say(f"wrote     {path}")
    _report_game(res, path, as_json)


def _report_game(res: GameResult, path: Path, as_json: bool) -> None:
    """The game's verdict on stdout/stderr; exits 1 when some sub-coalition has no cost."""
    if as_json:
        click.echo(json.dumps(res.as_json(), default=_json_default))
    else:
        if math.isfinite(res.value_of_alliance):
            _say(
                f"value of the alliance {res.value_of_alliance:,.3f} $M; Shapley in the core: "
                f"{res.in_core}"
            )
    stopped = [k for k, st in res.status.items() if st == "feasible"]
    if stopped:
        _say(
            f"note: {len(stopped)} sub-coalition(s) stopped at the time limit before a proven "
            f"optimum ({', '.join(stopped[:5])}{' …' if len(stopped) > 5 else ''}): their costs, "
            "and the values built on them, are upper bounds; a rerun with a larger --time-limit "
            "solves them again (the store does not count them as finished)"
        )
    failed = [f"{k} ({st})" for k, st in res.status.items() if st not in ("optimal", "feasible")]
    if failed:
        _fail(
            f"{len(failed)} sub-coalition(s) have no cost, so the game's values are not computed: "
            f"{', '.join(failed[:5])}{' …' if len(failed) > 5 else ''}; {path} lists them",
            EXIT_NOT_SOLVED,
        )


def _plan_printer(as_json: bool) -> Callable[[Any], None]:
    """The line printed as each near-optimal plan finishes (and its JSON object with --json)."""
    state: dict[str, Any] = {"c_star": None, "n": 0}

    def progress(p: Any) -> None:
        if state["c_star"] is None:
            state["c_star"] = p.cost_musd
        state["n"] += 1
        cost = f"{p.cost_musd:,.3f} $M" if p.cost_musd is not None else "-"
        value = ""
        if p.target and p.target in p.measures:
            value = f"  {p.target} = {p.measures[p.target]:,.6g}"
        how = p.path or ("warm" if p.warm else "cold")
        _say(
            f"plan {state['n']:>4}  {p.name}: {p.status} {cost} ({p.solve_seconds:.2f} s {how}){value}"
        )
        if p.check:
            _say(f"          {p.name}: {p.check}")
        if as_json:
            click.echo(json.dumps(p.as_json(state["c_star"] or 0.0), default=_json_default))

    return progress


@main.command()
@input_argument
@click.option(
    "--slack",
    type=float,
    help="Cost slack ε: plans may cost up to (1 + ε)·least cost, 0 to 10 (default: Settings "
    "mga_slack, else 0.05).",
)
@click.option(
    "--random",
    "n_random",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also this many plans minimising random weighted sums of all measures (weights in [-1, 1]).",
)
@seed_option("the random weights")
@output_option("Alternatives workbook", "_alternatives.xlsx", dir_okay=False)
@workers_option(
    0, "Local Dask workers, each re-solving its share of the plans warm (0 = in this process)."
)
@scheduler_option("the plans")
@solver_options(per=" per plan", threads=" in this process")
@bet_mode_option(
    choices=("succeed", "fail"),
    help="Alternatives are deterministic plans: every R&D bet succeeds or fails (default: "
    "Settings bet_mode, succeed where it is stochastic).",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the Ranges as a PNG (made from the written workbook).",
)
@json_option("one JSON object per plan as it finishes, then a summary line")
def alternatives(
    input_path: Path,
    slack: float | None,
    n_random: int,
    seed: int,
    output: Path | None,
    workers: int,
    scheduler: str | None,
    time_limit: float | None,
    mip_gap: float | None,
    threads: int | None,
    bet_mode: str | None,
    plot_path: Path | None,
    as_json: bool,
) -> None:
    """Near-optimal alternatives of INPUT: which decisions are firm and which are free (DESIGN §10).

    Solves the least cost C*, bounds the total cost by (1 + ε)·C*, then minimises and maximises each
    measure of the Alternatives sheet (default: capital by region, capacity by class and region in
    the last year, compute hosted by region) from the previous basis. Writes Ranges (with a range
    chart), Plans, Capacity and Run.

    Exit status: 0 every plan solved, 1 the least cost was not solved to optimality (nothing else is
    tried) or some plan was not solved, 2 bad input, 3 error (e.g. the output is open in Excel).
    """
    _one_executor(workers, scheduler)
    from optimizer.alternatives import AltConfig, AlternativesError, run_alternatives
    from optimizer.alternatives_report import plot_ranges, write_alternatives_workbook
    from optimizer.data_io import InputError, load_inputs
    from optimizer.guards import (
        MAX_RANDOM_PLANS,
        MAX_WORKERS,
        Output,
        check_count,
        check_setting_option,
        check_solver_options,
    )
    from optimizer.model import ModelError
    from optimizer.progress import SolveInterrupted, SolveMonitor
    from optimizer.solve import SolveOptions
    from optimizer.workbook import OutputLockedError

    check_solver_options(time_limit, mip_gap, threads)
    check_setting_option("--slack", "mga_slack", slack)
    check_count("--workers", workers, MAX_WORKERS, "at most one worker per CPU core")
    check_count(
        "--random",
        n_random,
        MAX_RANDOM_PLANS,
        "each plan is a full solve; for more, run the study again with another --seed",
    )
    out = output or Path("outputs") / f"{input_path.stem or input_path.name}_alternatives.xlsx"
    planned = [Output("-o", out)] + (
        [Output("--plot", plot_path, suffix=None)] if plot_path else []
    )
    _check_paths(planned, [input_path])
    t0 = time.perf_counter()
    try:
        data = load_inputs(input_path)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    for w in data.warnings:
        _say(f"warning: {w}")
    for n in data.notes:
        _say(f"info: {n}")
    _say(f"read      {time.perf_counter() - t0:7.2f} s  {input_path}")
    parallel = workers > 0 or scheduler is not None
    config = AltConfig(
        slack=slack,
        random=n_random,
        seed=seed,
        bet_mode=bet_mode,
        options=SolveOptions(
            time_limit_s=time_limit,
            mip_gap=mip_gap,
            threads=threads,
            duals=False,
            explain=False,
        ),
        workers=workers,
        scheduler=scheduler,
    )
    progress = _plan_printer(as_json)
    monitor = SolveMonitor(hard_exit=True)
    try:
        res = run_alternatives(
            data,
            config,
            progress=progress,
            input_path=input_path if parallel else None,
            monitor=monitor,
        )
    except SolveInterrupted as exc:
        _interrupted(exc)
    except ModelError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except AlternativesError as exc:
        _fail(str(exc), EXIT_NOT_SOLVED)
    try:
        path = write_alternatives_workbook(res, out)
        if plot_path is not None:
            plot_ranges(path, plot_path)
    except OutputLockedError as exc:
        _fail(str(exc), EXIT_ERROR)
    failed = [p.name for p in res.plans if not p.solved]
    _say(
        f"wrote     {path}: {len(res.plans)} plans within {res.slack:.2%} of {res.c_star:,.3f} $M "
        f"({len(failed)} not solved) in {time.perf_counter() - t0:.1f} s"
    )
    if as_json:
        click.echo(json.dumps({**res.summary(), "output": str(path)}, default=_json_default))
    if failed:
        _fail(f"{len(failed)} plans were not solved: {', '.join(failed[:5])}", EXIT_NOT_SOLVED)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
