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
from pathlib import Path
from typing import Any

import click

EXIT_OK, EXIT_NOT_SOLVED, EXIT_BAD_INPUT, EXIT_ERROR = 0, 1, 2, 3


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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="ai-infra-planner")
def main() -> None:
    """Plan where a coalition's capital for AI infrastructure should go.

    Chip fabs and their supply chain, energy and AI data centers: in which country and when, to meet
    projected AI compute demand at least cost. Inputs are Excel workbooks (or folders of CSV files with
    the same sheet names); results are Excel workbooks. Start with `template` to see the input format,
    or `solve inputs/base.xlsx` to run the shipped default case.
    """


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Results workbook (default: outputs/<input stem>_results.xlsx).",
)
@click.option(
    "--bet-mode",
    type=click.Choice(["succeed", "fail", "stochastic"]),
    help="Override Settings bet_mode: every R&D bet succeeds, fails, or the two-stage plan.",
)
@click.option(
    "--time-limit",
    type=float,
    help="Solver time limit in seconds (overrides Settings time_limit_s).",
)
@click.option(
    "--mip-gap",
    type=float,
    help="Relative MIP gap (overrides Settings mip_gap), e.g. 1e-9 for the exact optimum.",
)
@click.option("--threads", type=int, help="Solver threads (overrides Settings threads).")
@click.option(
    "--solver",
    type=click.Choice(["choose", "simplex", "ipm"]),
    help="HiGHS algorithm for LPs (default: HiGHS chooses).",
)
@click.option(
    "--plots/--no-plots", default=False, help="Also write PNG charts next to the results workbook."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the Summary as one JSON object on stdout (and nothing else on stdout).",
)
@click.option("--log", is_flag=True, help="Show the HiGHS log on stderr.")
def solve(
    input_path: Path,
    output: Path | None,
    bet_mode: str | None,
    time_limit: float | None,
    mip_gap: float | None,
    threads: int | None,
    solver: str | None,
    plots: bool,
    as_json: bool,
    log: bool,
) -> None:
    """Solve INPUT (an .xlsx workbook or a folder of CSV files) and write the results workbook.

    Exit status: 0 optimal or feasible (results written), 1 not solved (infeasible, unbounded, no
    solution in the time limit; no results written), 2 bad input (every problem listed), 3 error.
    """
    from optimizer.data_io import InputError, load_inputs
    from optimizer.model import ModelError, build_model
    from optimizer.results import summary, write_results
    from optimizer.solve import SolveOptions, SolverOptionError
    from optimizer.solve import solve as run_solve
    from optimizer.workbook import OutputLockedError

    quiet = False
    t0 = time.perf_counter()
    try:
        data = load_inputs(input_path)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    for w in data.warnings:
        _say(f"warning: {w}")
    _say(f"read      {time.perf_counter() - t0:7.2f} s  {input_path}", quiet)
    t1 = time.perf_counter()
    try:
        model = build_model(data, bet_mode=bet_mode)
    except ModelError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    build_s = time.perf_counter() - t1
    _say(f"build     {build_s:7.2f} s", quiet)
    opts = SolveOptions(
        time_limit_s=time_limit, mip_gap=mip_gap, threads=threads, solver=solver, log=log
    )
    try:
        sol = run_solve(model, opts)
    except SolverOptionError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    sol.build_seconds = build_s
    gap = f", gap {sol.mip_gap:.2e}" if sol.is_mip and sol.mip_gap is not None else ""
    _say(
        f"solve     {sol.solve_seconds:7.2f} s  {sol.status}{gap}  "
        f"({sol.variables:,} variables, {sol.constraints:,} constraints; hand-off {sol.handoff_seconds:.2f} s)",
        quiet,
    )
    if not sol.has_solution:
        if as_json:
            click.echo(json.dumps(summary(sol), default=_json_default))
        _fail(
            f"{sol.status}: {sol.message or sol.termination}. No results written.", EXIT_NOT_SOLVED
        )
    out = output or Path("outputs") / f"{input_path.stem}_results.xlsx"
    t2 = time.perf_counter()
    try:
        path = write_results(sol, out, plots=plots)
    except OutputLockedError as exc:
        _fail(str(exc), EXIT_ERROR)
    _say(f"write     {time.perf_counter() - t2:7.2f} s  {path}", quiet)
    s = summary(sol)
    if as_json:
        click.echo(json.dumps(s, default=_json_default))
    else:
        _say(
            f"objective {s['objective_musd']:,.3f} $M (net present cost)   unserved {s['unserved_h100e']:,.0f} H100e"
        )
        if sol.status == "feasible":
            _say(
                f"note: stopped before proving optimality ({sol.termination}); the gap is {sol.mip_gap}"
            )
    sys.exit(EXIT_OK)


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
def validate(input_path: Path) -> None:
    """Check INPUT and list every problem as `Sheet!Cell: what is wrong — what is expected`.

    Nothing is built or solved and the input is never modified. Exit status 0 when the input is valid,
    2 when it has problems.
    """
    from optimizer.data_io import InputError, load_inputs
    from optimizer.model import ModelError, build_model

    try:
        data = load_inputs(input_path)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    for w in data.warnings:
        _say(f"warning: {w}")
    if data.settings.bet_mode == "stochastic" and len(data.bets):
        try:
            build_model(data)
        except ModelError as exc:
            _say(f"note: {exc}")
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
    from optimizer.template import write_template

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
    from optimizer.template import convert_input

    try:
        path = convert_input(source, target)
    except InputError as exc:
        _input_problems(exc)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
