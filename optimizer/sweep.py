"""Sensitivity sweeps (DESIGN §7): designs, parallel execution, the resumable store, the summary.

A sweep draws points from parameter ranges (the ``Sweep`` sheet, or a YAML spec), turns each point
into a list of scenario changes (:class:`optimizer.scenarios.Change`) — so any point can be
reproduced with ``solve`` through a Scenarios row — and solves the points on Dask workers. Every
finished run is committed to a SQLite store as it arrives (:mod:`optimizer.sweep_store`), so a
stopped sweep resumes where it stopped; workers re-solve warm (:mod:`optimizer.warm`).

Designs
-------
``oat``    one at a time (tornado): the base point, then each parameter at its low and its high
           with the others at base (no change).
``grid``   the full grid of ``steps`` evenly spaced values per parameter.
``lhs``    Latin hypercube of ``samples`` points (SALib).
``sobol``  Saltelli/Sobol' sampling, ``samples``·(D+2) points; first- and total-order indices with
           bootstrap confidence intervals (SALib).
``morris`` ``samples`` Morris trajectories, ``samples``·(D+1) points; μ*, σ (SALib).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.data_io import InputError, Problem, RawBook, convert, parse, read_raw
from optimizer.results import input_sha256
from optimizer.scenarios import Change, apply_changes
from optimizer.schema import OPS, SHEETS_BY_NAME, Column
from optimizer.sweep_store import COST_COLUMNS, FAILED, SweepStore
from optimizer.warm import canonical_json, failed_row, run_task

logger = logging.getLogger(__name__)

METHODS = ("oat", "grid", "lhs", "sobol", "morris")
DEFAULT_SAMPLES = {"lhs": 32, "sobol": 16, "morris": 10}
"""Samples when ``--samples`` is not given (Sobol' wants a power of two)."""
MORRIS_LEVELS = 4
SIGNIFICANT_DIGITS = 12
"""Sampled values are rounded to this many digits, so the stored point is exactly what was solved."""


# ------------------------------------------------------------------------------------------------
# Specification
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One swept quantity: the cells ``where`` selects in ``sheet.column``, changed by ``op``.

    Attributes
    ----------
    sheet : input sheet whose cells change, e.g. ``TechCosts``.
    column : the column of that sheet, e.g. ``capex_musd``.
    where : row selection ``key=value;key=value`` (blank = every row), as in Scenarios.
    low, high : the range the value is drawn from.
    op : ``set`` the cells to the value, ``scale`` them by it or ``add`` it.
    steps : grid points between low and high (the ``grid`` design).
    name : the label in tables and charts (``Sheet.column``, with ``[where]`` when ambiguous).
    """

    sheet: str
    column: str
    where: str
    low: float
    high: float
    op: str = "set"
    steps: int = 3
    name: str = ""

    @property
    def label(self) -> str:
        """``name`` or ``Sheet.column``."""
        return self.name or f"{self.sheet}.{self.column}"


@dataclass(frozen=True)
class SweepSpec:
    """The parameters of a sweep, with unique names.

    Attributes
    ----------
    parameters : the ranges, in the order their changes are applied.
    method, samples, seed : defaults a YAML spec may carry (the command line wins).
    """

    parameters: tuple[Parameter, ...]
    method: str | None = None
    samples: int | None = None
    seed: int | None = None

    @property
    def names(self) -> list[str]:
        """Parameter labels in order."""
        return [p.label for p in self.parameters]

    def salib_problem(self) -> dict[str, Any]:
        """The SALib problem dict (names and bounds)."""
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [[p.low, p.high] for p in self.parameters],
        }

    def as_json(self) -> list[dict[str, Any]]:
        """The parameters as plain dicts (stored in the sweep's meta)."""
        return [
            {
                "name": p.label,
                "sheet": p.sheet,
                "column": p.column,
                "where": p.where,
                "low": p.low,
                "high": p.high,
                "op": p.op,
                "steps": p.steps,
            }
            for p in self.parameters
        ]


def _parameter(
    fields: Mapping[str, Any], where_ref: str, problems: list[Problem], sheet_name: str
) -> Parameter | None:
    """Validate one row of a spec (Sweep sheet or YAML) into a :class:`Parameter`."""
    bad = len(problems)

    def err(msg: str, expected: str) -> None:
        problems.append(Problem(sheet_name, where_ref, msg, expected))

    par = str(fields.get("parameter") or "").strip()
    sheet, _, column = par.partition(".")
    if not par or not column:
        err(f"parameter {par!r} is not Sheet.column", "e.g. TechCosts.capex_musd")
    elif sheet not in SHEETS_BY_NAME or sheet in ("Scenarios", "Sweep"):
        err(f"unknown sheet {sheet!r} in parameter {par!r}", "an input sheet name")
    elif column not in SHEETS_BY_NAME[sheet].column_names:
        err(
            f"unknown column {column!r} of {sheet}",
            "one of " + ", ".join(SHEETS_BY_NAME[sheet].column_names),
        )
    vals: dict[str, Any] = {}
    for key, col in (
        ("low", Column("low", "float", required=True)),
        ("high", Column("high", "float", required=True)),
        ("steps", Column("steps", "int")),
    ):
        try:
            vals[key] = convert(fields.get(key), col)
        except Exception as exc:  # noqa: BLE001 - data_io's conversion error carries the message
            err(f"{key} {fields.get(key)!r}: {getattr(exc, 'message', exc)}", "a number")
    op = str(fields.get("op") or "set").strip()
    if op not in OPS:
        err(f"unknown op {op!r}", "one of " + ", ".join(OPS))
    low, high = vals.get("low"), vals.get("high")
    if low is None or high is None:
        if "low" in vals and "high" in vals:
            err("low and high are required", "two numbers, low ≤ high")
    elif low > high:
        err(f"low {low} is above high {high}", "low ≤ high")
    steps = vals.get("steps")
    steps = 3 if steps is None else steps
    if steps < 1:
        err(f"steps {steps} is below 1", "a whole number ≥ 1")
    if len(problems) > bad:
        return None
    where = fields.get("where")
    return Parameter(
        sheet, column, "" if where is None else str(where).strip(), low, high, op, int(steps)
    )


def _named(params: list[Parameter]) -> tuple[Parameter, ...]:
    """Give each parameter a unique label: ``Sheet.column``, plus ``[where]`` where ambiguous."""
    base = [f"{p.sheet}.{p.column}" for p in params]
    out = []
    seen: dict[str, int] = {}
    for p, b in zip(params, base, strict=True):
        name = b if base.count(b) == 1 else f"{b}[{p.where}]"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}#{seen[name]}"
        out.append(Parameter(p.sheet, p.column, p.where, p.low, p.high, p.op, p.steps, name))
    return tuple(out)


def spec_from_raw(raw: RawBook) -> SweepSpec:
    """The ranges of the input's ``Sweep`` sheet.

    Raises
    ------
    InputError
        every bad row at once, located ``Sweep!Cell``; or no Sweep rows at all.
    """
    t = raw.tables.get("Sweep")
    problems: list[Problem] = []
    params: list[Parameter] = []
    if t is not None:
        for i, row in enumerate(t.rows):
            cells = {h: c.value for h, c in zip(t.headers, row, strict=False)}
            if all(v is None for v in cells.values()):
                continue
            ref = t.cell_ref("parameter", i) if "parameter" in t.headers else f"A{t.row_numbers[i]}"
            p = _parameter(cells, ref, problems, "Sweep")
            if p is not None:
                params.append(p)
    if not params and not problems:
        problems.append(
            Problem(
                "Sweep",
                "",
                "no parameter ranges to sweep",
                "rows in the Sweep sheet (parameter, where, low, high, op, steps) or --spec FILE.yaml",
            )
        )
    if problems:
        raise InputError(problems)
    return SweepSpec(_named(params))


def spec_from_yaml(path: str | Path) -> SweepSpec:
    """The ranges of a YAML spec.

    The file holds ``parameters:`` — a list of mappings with the Sweep sheet's columns
    (``parameter``, ``where``, ``low``, ``high``, ``op``, ``steps``) — and optionally ``method``,
    ``samples`` and ``seed`` (the command line's options win). A bare list is also accepted.
    """
    import yaml

    from optimizer.guards import load_yaml

    p = Path(path)
    try:
        doc = load_yaml(p)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise InputError(
            [Problem(str(p), "", f"cannot read the spec: {exc}", "a YAML file")]
        ) from None
    if isinstance(doc, list):
        doc = {"parameters": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), list):
        raise InputError(
            [
                Problem(
                    str(p),
                    "",
                    "no `parameters:` list",
                    "parameters: - {parameter: Sheet.column, low: .., high: ..}",
                )
            ]
        )
    problems: list[Problem] = []
    params = []
    for i, item in enumerate(doc["parameters"]):
        if not isinstance(item, dict):
            problems.append(
                Problem(p.name, f"parameters[{i}]", "not a mapping", "key: value pairs")
            )
            continue
        unknown = set(item) - {"parameter", "where", "low", "high", "op", "steps"}
        if unknown:
            problems.append(
                Problem(
                    p.name,
                    f"parameters[{i}]",
                    f"unknown key(s) {', '.join(sorted(unknown))}",
                    "parameter, where, low, high, op, steps",
                )
            )
            continue
        par = _parameter(item, f"parameters[{i}]", problems, p.name)
        if par is not None:
            params.append(par)
    method = doc.get("method")
    if method is not None and method not in METHODS:
        problems.append(Problem(p.name, "method", f"unknown method {method!r}", ", ".join(METHODS)))
    if not params and not problems:
        problems.append(Problem(p.name, "parameters", "empty", "at least one parameter range"))
    if problems:
        raise InputError(problems)
    return SweepSpec(
        _named(params),
        method,
        None if doc.get("samples") is None else int(doc["samples"]),
        None if doc.get("seed") is None else int(doc["seed"]),
    )


def check_spec(raw: RawBook, spec: SweepSpec) -> None:
    """Apply each parameter's low and high to the input and validate, before any solve.

    Raises
    ------
    InputError
        every problem, each tagged with the parameter and end that causes it.
    """
    problems: list[Problem] = []
    for p in spec.parameters:
        for end, value in (("low", p.low), ("high", p.high)):
            ch = Change(p.sheet, p.where, p.column, p.op, value, origin=f"Sweep ({p.label})")
            try:
                parse(apply_changes(raw, [ch]))
            except InputError as exc:
                for q in exc.problems:
                    problems.append(
                        Problem(
                            q.sheet,
                            q.cell,
                            f"{q.message} (parameter {p.label} at {end} {value})",
                            q.expected,
                        )
                    )
    if problems:
        raise InputError(problems)


# ------------------------------------------------------------------------------------------------
# Designs
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """One sampled point: its id, the parameter values (None = at base) and its changes."""

    point_id: str
    values: tuple[float | None, ...]
    changes: tuple[tuple[str, str, str, str, float], ...]


@dataclass(frozen=True)
class Design:
    """The points of a sweep in design order (repeats allowed; they share a point id).

    Attributes
    ----------
    method, samples, seed : how it was drawn.
    spec : the parameters.
    points : every point in design order.
    x : the sampled matrix (design rows × parameters) SALib's analysis expects; NaN = at base.
    """

    method: str
    samples: int | None
    seed: int
    spec: SweepSpec
    points: tuple[Point, ...]
    x: np.ndarray = field(repr=False)

    @property
    def unique_ids(self) -> list[str]:
        """Distinct point ids in order of first appearance: the runs to solve."""
        return list(dict.fromkeys(p.point_id for p in self.points))


def _round(v: float) -> float:
    return float(f"{float(v):.{SIGNIFICANT_DIGITS}g}")


def point_changes(
    spec: SweepSpec, values: Iterable[float | None]
) -> tuple[tuple[str, str, str, str, float], ...]:
    """The changes ``(sheet, where, column, op, value)`` of a point (None = leave at base)."""
    return tuple(
        (p.sheet, p.where, p.column, p.op, v)
        for p, v in zip(spec.parameters, values, strict=True)
        if v is not None
    )


def point_id(changes: Iterable[Iterable[Any]]) -> str:
    """A hash of the canonical changes: identical points get the same id, so they solve once."""
    text = canonical_json([list(c) for c in changes])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


MAX_POINTS = 10_000
"""Most points one sweep may draw: a grid of 6 parameters × 1,000 steps is 10^18 solves, and drawing
it alone would hang; the check comes before anything is drawn."""


def _check_size(spec: SweepSpec, method: str, n: int | None) -> None:
    """Refuse a design of more than :data:`MAX_POINTS` points before drawing it (ValueError)."""
    d = len(spec.parameters)
    if method == "grid":
        size = math.prod(max(1, p.steps) for p in spec.parameters)
        instead = "fewer steps, or --method lhs with --samples N"
    elif method == "oat":
        size = 1 + 2 * d
        instead = "fewer parameters"
    else:
        size = (n or 0) * {"lhs": 1, "sobol": d + 2, "morris": d + 1}[method]
        instead = "a smaller --samples"
    if size > MAX_POINTS:
        raise ValueError(
            f"the {method} design has {size:,} points, more than the limit of {MAX_POINTS:,} "
            f"solves in one sweep — {instead}"
        )


def make_design(spec: SweepSpec, method: str, samples: int | None = None, seed: int = 0) -> Design:
    """Draw the points of ``method`` over ``spec``.

    Parameters
    ----------
    spec : the parameter ranges.
    method : ``oat``, ``grid``, ``lhs``, ``sobol`` or ``morris``.
    samples : LHS points, Sobol' base samples (N → N·(D+2) points), Morris trajectories
        (N → N·(D+1) points); ignored by ``oat`` and ``grid``.
    seed : random seed of the SALib samplers (a sweep is reproducible from it).

    Returns
    -------
    Design
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: one of {', '.join(METHODS)}")
    d = len(spec.parameters)
    n = samples if samples is not None else DEFAULT_SAMPLES.get(method)
    if n is not None and n < 1:
        raise ValueError(f"samples must be ≥ 1, got {n}")
    _check_size(spec, method, n)
    problem = spec.salib_problem()
    if method in ("lhs", "sobol", "morris"):
        flat = [p.label for p in spec.parameters if not p.low < p.high]
        if flat:
            raise ValueError(
                f"{method} needs low < high for every parameter; not so for {', '.join(flat)}"
            )
    if method == "oat":
        rows: list[list[float]] = [[math.nan] * d]
        for i, p in enumerate(spec.parameters):
            for v in (p.low, p.high):
                r = [math.nan] * d
                r[i] = v
                rows.append(r)
        x = np.array(rows, dtype=float)
    elif method == "grid":
        axes = [
            np.linspace(p.low, p.high, p.steps) if p.steps > 1 else [p.low] for p in spec.parameters
        ]
        x = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, d)
    elif method == "lhs":
        from SALib.sample import latin

        x = latin.sample(problem, n, seed=seed)
    elif method == "sobol":
        from SALib.sample import sobol

        with _quiet_warnings():
            x = sobol.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import morris

        x = morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    x = np.vectorize(lambda v: v if math.isnan(v) else _round(v), otypes=[float])(x)
    points = []
    for row in x:
        values = tuple(None if math.isnan(v) else float(v) for v in row)
        ch = point_changes(spec, values)
        points.append(Point(point_id(ch), values, ch))
    return Design(method, n if method in DEFAULT_SAMPLES else None, seed, spec, tuple(points), x)


class _quiet_warnings:
    """Silence SALib's "N should be a power of 2" advice: the user chose N."""

    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)


# ------------------------------------------------------------------------------------------------
# Execution
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepConfig:
    """How to run a sweep.

    Attributes
    ----------
    input : the input workbook or CSV folder (workers read it by this path).
    method : the design (see :data:`METHODS`).
    samples : design size for lhs/sobol/morris (None = the method's default).
    seed : seed of the samplers.
    workers : local Dask workers (one HiGHS thread each); 0 solves in this process, no Dask.
    scheduler : address of an existing Dask scheduler (``tcp://HOST:PORT``); overrides ``workers``.
    store : the SQLite file of finished runs.
    resume : continue the sweep in ``store`` (finished runs are not solved again).
    warm : let workers re-solve warm; False rebuilds every point (for benchmarks).
    spec : a YAML spec instead of the Sweep sheet.
    time_limit_s, mip_gap : solver options for every point (None = Settings).
    bet_mode : override Settings bet_mode for every point.
    allowed_failures : times a point may kill its worker before it is recorded as failed.
    """

    input: Path
    method: str = "oat"
    samples: int | None = None
    seed: int = 0
    workers: int = 2
    scheduler: str | None = None
    store: Path = Path("outputs/sweep.sqlite")
    resume: bool = False
    warm: bool = True
    spec: Path | None = None
    time_limit_s: float | None = None
    mip_gap: float | None = None
    bet_mode: str | None = None
    allowed_failures: int = 2


@dataclass
class SweepResult:
    """What a sweep did: the design, and the counts the command prints."""

    design: Design
    store: Path
    runs: int
    finished: int
    failed: int
    solved_now: int
    objective_min: float | None
    objective_max: float | None
    seconds: float
    warm_runs: int = 0
    stopped: int = 0  # runs with a result short of the quality asked for (time limit, gap)

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` object."""
        return {
            "runs": self.runs,
            "finished": self.finished,
            "failed": self.failed,
            "stopped": self.stopped,
            "store": str(self.store),
            "objective_min": self.objective_min,
            "objective_max": self.objective_max,
        }


ProgressFn = Callable[[int, int, int, dict[str, Any] | None], None]
"""Called as ``progress(done, total, failed, row)`` after every run (row None at the start)."""


def load_spec(config: SweepConfig, raw: RawBook) -> SweepSpec:
    """The sweep's ranges: the YAML spec when given, else the Sweep sheet."""
    return spec_from_yaml(config.spec) if config.spec else spec_from_raw(raw)


def prepare(config: SweepConfig) -> tuple[RawBook, SweepSpec, Design]:
    """Read and validate the input and the ranges, and draw the design (nothing is solved).

    Raises
    ------
    InputError
        bad input, bad ranges, or a range end that makes the input invalid.
    ValueError
        an impossible design (unknown method, samples < 1, low = high for a sampler).
    """
    raw = read_raw(config.input)
    parse(raw)
    spec = load_spec(config, raw)
    check_spec(raw, spec)
    method = config.method
    design = make_design(spec, method, config.samples, config.seed)
    return raw, spec, design


def _meta(config: SweepConfig, design: Design) -> dict[str, Any]:
    return {
        "input": str(Path(config.input).resolve()),
        "input_sha256": input_sha256(config.input),
        "method": design.method,
        "samples": design.samples,
        "seed": design.seed,
        "parameters": design.spec.as_json(),
        "bet_mode": config.bet_mode,
        "time_limit_s": config.time_limit_s,
        "mip_gap": config.mip_gap,
    }


def tasks_for(config: SweepConfig, design: Design, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The worker tasks (plain dicts: input path and changes) of the given point ids."""
    by_id = {p.point_id: p for p in design.points}
    path = str(Path(config.input).resolve())
    sha = input_sha256(config.input)
    out = []
    for pid in ids:
        p = by_id[pid]
        out.append(
            {
                "input": path,
                "input_sha256": sha,
                "point_id": pid,
                "changes": [list(c) for c in p.changes],
                "params": {
                    n: v for n, v in zip(design.spec.names, p.values, strict=True) if v is not None
                },
                "options": {
                    "time_limit_s": config.time_limit_s,
                    "mip_gap": config.mip_gap,
                    "bet_mode": config.bet_mode,
                },
                "warm": config.warm,
            }
        )
    return out


def run_sweep(
    config: SweepConfig,
    progress: ProgressFn | None = None,
    prepared: tuple[RawBook, SweepSpec, Design] | None = None,
) -> SweepResult:
    """Run (or resume) a sweep, committing each finished run to the store as it arrives.

    Parameters
    ----------
    config : what to run and where.
    progress : called after every run with counts (for a progress bar).
    prepared : the result of :func:`prepare`, when the caller already has it.

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError, ValueError
        as :func:`prepare`.
    optimizer.sweep_store.StoreMismatchError
        the store holds another sweep, or holds one and ``resume`` is False.
    """
    t0 = time.perf_counter()
    raw, _spec, design = prepared or prepare(config)
    ids = design.unique_ids
    # a stored run is reused only at the quality asked for now (optimizer.store.reusable)
    gap = config.mip_gap if config.mip_gap is not None else parse(raw).settings.mip_gap
    with SweepStore(config.store) as store:
        store.start(_meta(config, design), [p.point_id for p in design.points], config.resume)
        done_before = store.finished_ids(gap) & set(ids)
        todo = [i for i in ids if i not in done_before]
        tasks = tasks_for(config, design, todo)
        state = {"done": len(done_before), "failed": 0, "warm": 0}

        def on_row(row: dict[str, Any]) -> None:
            store.record(row)  # committed now: a kill after this line loses nothing
            state["done"] += 1
            if row.get("status") == FAILED:
                state["failed"] += 1
            if row.get("warm"):
                state["warm"] += 1
            if progress:
                progress(state["done"], len(ids), state["failed"], row)

        if progress:
            progress(state["done"], len(ids), 0, None)
        if tasks:
            if config.scheduler or config.workers > 0:
                _execute_dask(tasks, config, on_row)
            else:
                for task in tasks:
                    on_row(run_task(task))
        rows = store.runs(ids)
        finished = len(store.finished_ids(gap) & set(ids))
        failed = int((rows["status"] == FAILED).sum())
        lo, hi = store.objective_range()
    return SweepResult(
        design,
        Path(config.store),
        len(ids),
        finished,
        failed,
        len(tasks),
        lo,
        hi,
        time.perf_counter() - t0,
        state["warm"],
        len(rows) - finished - failed,
    )


def _execute_dask(
    tasks: list[dict[str, Any]],
    config: SweepConfig,
    on_row: Callable[[dict[str, Any]], None],
    fn: Callable[[dict[str, Any]], dict[str, Any]] = run_task,
    on_failure: Callable[[dict[str, Any], str], dict[str, Any]] | None = None,
) -> None:
    """Solve ``tasks`` on a LocalCluster (or the given scheduler), handing rows back as they finish.

    ``fn`` is the worker's entry point (tests substitute one that kills its worker; the coalition game
    passes its own), and ``on_failure(task, message)`` builds the row of a task that failed for good
    (default: a failed sweep run).
    """
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    token = hashlib.sha256(f"{os.getpid()}-{time.time()}".encode()).hexdigest()[:8]
    keys = [f"sweep-{t.get('point_id') or t.get('key')}-{token}" for t in tasks]
    by_key = dict(zip(keys, tasks, strict=True))
    cluster = None
    # allowed-failures is read when the scheduler starts: it bounds the retries of a point whose
    # solve kills its worker, after which Dask raises KilledWorker and the point is recorded failed
    with dask.config.set(
        {
            "distributed.scheduler.allowed-failures": config.allowed_failures,
            # one task in flight per worker thread: a crash then counts against the culprit only,
            # not against innocent points queued on the same worker
            "distributed.scheduler.worker-saturation": 1.0,
        }
    ):
        if config.scheduler:
            client = Client(config.scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=config.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                # one HiGHS thread per worker; BLAS threads would only compete with it
                env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
            )
            client = Client(cluster)
    try:
        futures = client.map(fn, tasks, key=keys, pure=False)
        for fut in as_completed(futures):
            try:
                row = fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker and friends: record, go on
                task = by_key[fut.key]
                message = f"{type(exc).__name__}: {exc}"
                if on_failure is not None:
                    row = on_failure(task, message)
                else:
                    row = failed_row(task, message, config.allowed_failures + 1)
            on_row(row)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------------------------------------------
# Progress on stderr
# ------------------------------------------------------------------------------------------------
class Progress:
    """A one-line progress bar on stderr: counts, failures, rate and ETA.

    On a terminal the line is redrawn in place; otherwise (logs, CI) a line is printed every
    ``every`` seconds and at the end.
    """

    def __init__(self, stream: Any = None, every: float = 5.0, width: int = 28) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every, self.width = every, width
        self.t0 = time.monotonic()
        self.start_done: int | None = None
        self.last = 0.0

    def __call__(self, done: int, total: int, failed: int, row: dict[str, Any] | None) -> None:
        now = time.monotonic()
        if self.start_done is None:
            self.start_done = done
        new = done - self.start_done
        rate = new / (now - self.t0) if now > self.t0 and new else 0.0
        eta = (total - done) / rate if rate else None
        frac = done / total if total else 1.0
        bar = "#" * int(self.width * frac) + "-" * (self.width - int(self.width * frac))
        eta_s = "--:--" if eta is None else time.strftime("%H:%M:%S", time.gmtime(eta))
        text = f"sweep [{bar}] {done}/{total} runs  {failed} failed  ETA {eta_s}"
        final = done >= total
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
            self.stream.flush()
        elif final or row is None or now - self.last >= self.every:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last = now


# ------------------------------------------------------------------------------------------------
# Analysis
# ------------------------------------------------------------------------------------------------
def runs_table(design: Design, store: SweepStore) -> pd.DataFrame:
    """One row per distinct point (first-appearance order): parameter values, outcome, capital."""
    rows = store.runs(design.unique_ids).set_index("point_id")
    seq = {}
    for i, p in enumerate(design.points):
        seq.setdefault(p.point_id, (i, p))
    out = []
    regions: list[str] = []
    classes: list[str] = []
    for r in rows.itertuples():
        for k in r.capital_by_region or {}:
            if k not in regions:
                regions.append(k)
        for k in r.capital_by_class or {}:
            if k not in classes:
                classes.append(k)
    for pid, (i, p) in seq.items():
        rec: dict[str, Any] = {"seq": i, "point_id": pid}
        for n, v in zip(design.spec.names, p.values, strict=True):
            rec[n] = v
        if pid in rows.index:
            r = rows.loc[pid]
            rec["status"] = r["status"]
            for c in ("objective_musd", *COST_COLUMNS, "capital_musd", "unserved_h100e"):
                rec[c] = r[c]
            for k in regions:
                rec[f"capital_{k}_musd"] = (r["capital_by_region"] or {}).get(k)
            for k in classes:
                rec[f"capital_class_{k}_musd"] = (r["capital_by_class"] or {}).get(k)
            rec["solve_seconds"] = r["solve_seconds"]
            rec["warm"] = None if pd.isna(r["warm"]) else bool(r["warm"])
            rec["message"] = r["message"]
        else:
            rec["status"] = "not run"
        out.append(rec)
    return pd.DataFrame(out)


def _objectives(design: Design, store: SweepStore) -> tuple[np.ndarray, int]:
    """Objective of every design row (NaN where missing) and the count of missing rows."""
    rows = store.runs(design.unique_ids)
    ok = rows[(rows["status"] != FAILED) & rows["objective_musd"].notna()]
    obj = dict(zip(ok["point_id"], ok["objective_musd"], strict=True))
    y = np.array([obj.get(p.point_id, math.nan) for p in design.points], dtype=float)
    return y, int(np.isnan(y).sum())


def tornado(design: Design, store: SweepStore) -> pd.DataFrame:
    """OAT swings: objective at each parameter's low and high against the base, largest first."""
    y, _ = _objectives(design, store)
    base = y[0]
    rows = []
    for i, p in enumerate(design.spec.parameters):
        lo, hi = y[1 + 2 * i], y[2 + 2 * i]
        rows.append(
            {
                "parameter": p.label,
                "op": p.op,
                "low": p.low,
                "high": p.high,
                "objective_low_musd": lo,
                "objective_high_musd": hi,
                "objective_base_musd": base,
                "delta_low_musd": lo - base,
                "delta_high_musd": hi - base,
                "swing_musd": abs(hi - lo),
            }
        )
    df = pd.DataFrame(rows)
    return df.sort_values("swing_musd", ascending=False, na_position="last").reset_index(drop=True)


def sobol_indices(design: Design, store: SweepStore, seed: int | None = None) -> pd.DataFrame:
    """First-order and total Sobol' indices with 95 % confidence intervals (SALib)."""
    from SALib.analyze import sobol

    y, missing = _objectives(design, store)
    if missing:
        raise ValueError(f"{missing} design points have no objective (failed or not run)")
    with _quiet_warnings():
        si = sobol.analyze(
            design.spec.salib_problem(),
            y,
            calc_second_order=False,
            conf_level=0.95,
            seed=design.seed if seed is None else seed,
        )
    return pd.DataFrame(
        {
            "parameter": design.spec.names,
            "S1": si["S1"],
            "S1_conf": si["S1_conf"],
            "ST": si["ST"],
            "ST_conf": si["ST_conf"],
        }
    )


def morris_indices(design: Design, store: SweepStore) -> pd.DataFrame:
    """Morris elementary effects: μ, μ* (with its confidence interval) and σ (SALib)."""
    from SALib.analyze import morris

    y, missing = _objectives(design, store)
    if missing:
        raise ValueError(f"{missing} design points have no objective (failed or not run)")
    si = morris.analyze(
        design.spec.salib_problem(),
        design.x,
        y,
        conf_level=0.95,
        num_levels=MORRIS_LEVELS,
        seed=design.seed,
    )
    return pd.DataFrame(
        {
            "parameter": design.spec.names,
            "mu": np.asarray(si["mu"], dtype=float),
            "mu_star": np.asarray(si["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
            "sigma": np.asarray(si["sigma"], dtype=float),
        }
    )


# ------------------------------------------------------------------------------------------------
# Summary workbook
# ------------------------------------------------------------------------------------------------
def write_summary(design: Design, store_path: str | Path, path: str | Path) -> Path:
    """Write the sweep's summary workbook atomically and return its path.

    Sheets: ``About`` (what was swept, counts, how to reproduce a point), ``Runs`` (one row per
    distinct point), ``Tornado`` (OAT), ``Sobol`` (S1/ST with confidence intervals), ``Morris``
    (μ*, σ) and ``Scatter`` (objective against each parameter), each with native Excel charts.
    """
    from openpyxl import Workbook

    from optimizer.workbook import atomic_save, write_table

    with SweepStore(store_path) as store:
        runs = runs_table(design, store)
        finished, failed = store.counts()
        notes: list[tuple[str, Any]] = []
        tor = sob = mor = None
        if design.method == "oat":
            tor = tornado(design, store)
        elif design.method == "sobol":
            try:
                sob = sobol_indices(design, store)
            except ValueError as exc:
                notes.append(("sobol", f"not computed: {exc}"))
        elif design.method == "morris":
            try:
                mor = morris_indices(design, store)
            except ValueError as exc:
                notes.append(("morris", f"not computed: {exc}"))
        meta = store.meta()
    wb = Workbook()
    ws = wb.active
    ws.title = "About"
    about = [
        ("input", meta.get("input")),
        ("input_sha256", meta.get("input_sha256")),
        ("method", design.method),
        ("samples", design.samples),
        ("seed", design.seed),
        ("design_points", len(design.points)),
        ("distinct_runs", len(design.unique_ids)),
        ("finished_in_store", finished),
        ("failed_in_store", failed),
        ("store", str(store_path)),
        (
            "reproduce a point",
            "each run's changes (store column `changes`) are Scenarios rows: sheet, where, "
            "column, op, value; `solve --scenario` gives the same objective",
        ),
        *notes,
    ]
    for p in design.spec.parameters:
        about.append(
            (
                f"parameter {p.label}",
                f"{p.sheet}.{p.column} where [{p.where}] {p.op} {p.low}..{p.high}",
            )
        )
    write_table(ws, pd.DataFrame(about, columns=["key", "value"]).astype(str), blank_ok={"value"})

    ws = wb.create_sheet("Runs")
    write_table(ws, runs, blank_ok=set(runs.columns))
    if tor is not None and len(tor):
        ws = wb.create_sheet("Tornado")
        write_table(ws, tor, blank_ok=set(tor.columns))
        ws.add_chart(_tornado_chart(ws, len(tor)), "L2")
    if sob is not None:
        ws = wb.create_sheet("Sobol")
        write_table(ws, sob, blank_ok=set(sob.columns))
        ws.add_chart(_sobol_chart(ws, len(sob)), "G2")
    if mor is not None:
        ws = wb.create_sheet("Morris")
        write_table(ws, mor, blank_ok=set(mor.columns))
        ws.add_chart(_morris_chart(ws, len(mor)), "G2")
    if len(runs) and "objective_musd" in runs:
        _scatter_sheet(wb, design, runs)
    return atomic_save(wb, Path(path))


def _tornado_chart(ws: Any, n: int) -> Any:
    from openpyxl.chart import BarChart, Reference

    ch = BarChart()
    ch.type = "bar"
    ch.grouping, ch.overlap = "clustered", 100
    ch.title = "Tornado: change in objective at each parameter's low and high"
    ch.x_axis.title = "parameter"
    ch.y_axis.title = "Δ objective ($M)"
    # columns H, I = delta_low_musd, delta_high_musd (see tornado())
    ch.add_data(
        Reference(ws, min_col=8, max_col=9, min_row=1, max_row=1 + n), titles_from_data=True
    )
    ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + n))
    ch.x_axis.scaling.orientation = "maxMin"  # largest swing on top
    ch.x_axis.tickLblPos = "low"  # names left of the chart, not over bars that go negative
    ch.height, ch.width = 3 + 1.0 * n, 18
    return ch


def _err_bars(ws: Any, col: int, n: int) -> Any:
    from openpyxl.chart.data_source import NumDataSource, NumRef
    from openpyxl.chart.error_bar import ErrorBars
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(col)
    ref = f"'{ws.title}'!${letter}$2:${letter}${1 + n}"
    return ErrorBars(
        errDir="y",
        errBarType="both",
        errValType="cust",
        noEndCap=False,
        plus=NumDataSource(numRef=NumRef(f=ref)),
        minus=NumDataSource(numRef=NumRef(f=ref)),
    )


def _sobol_chart(ws: Any, n: int) -> Any:
    from openpyxl.chart import BarChart, Reference

    ch = BarChart()
    ch.type = "col"
    ch.title = "Sobol' indices (95 % confidence intervals)"
    ch.y_axis.title = "share of objective variance"
    ch.add_data(Reference(ws, min_col=2, min_row=1, max_row=1 + n), titles_from_data=True)
    ch.add_data(Reference(ws, min_col=4, min_row=1, max_row=1 + n), titles_from_data=True)
    ch.series[0].errBars = _err_bars(ws, 3, n)
    ch.series[1].errBars = _err_bars(ws, 5, n)
    ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + n))
    ch.width = 18
    return ch


MARKER_COLORS = ("2F5597", "C55A11", "548235", "7030A0", "BF9000", "2E75B6", "C00000", "404040")


def _points_only(series: Any, i: int = 0) -> None:
    """Markers without a line; the colour is explicit since LibreOffice draws default markers white."""
    from openpyxl.chart.marker import Marker
    from openpyxl.chart.shapes import GraphicalProperties

    color = MARKER_COLORS[i % len(MARKER_COLORS)]
    series.marker = Marker(symbol="circle", size=6)
    series.marker.graphicalProperties = GraphicalProperties(solidFill=color)
    series.marker.graphicalProperties.line.solidFill = color
    series.graphicalProperties.line.noFill = True


def _morris_chart(ws: Any, n: int) -> Any:
    from openpyxl.chart import Reference, ScatterChart, Series

    ch = ScatterChart()
    ch.style = 13
    ch.title = "Morris screening: μ* (importance) against σ (interaction / non-linearity)"
    ch.x_axis.title = "μ* ($M)"
    ch.y_axis.title = "σ ($M)"
    # one series per parameter so each point carries the parameter's name in the legend
    for i in range(n):
        s = Series(
            Reference(ws, min_col=5, min_row=2 + i),
            Reference(ws, min_col=3, min_row=2 + i),
            title_from_data=False,
        )
        from openpyxl.chart.series import SeriesLabel

        s.tx = SeriesLabel(v=str(ws.cell(2 + i, 1).value))
        _points_only(s, i)
        ch.series.append(s)
    ch.width = 18
    return ch


def _scatter_sheet(wb: Any, design: Design, runs: pd.DataFrame) -> None:
    """Objective against each parameter, one scatter chart per parameter, over the Runs sheet."""
    from openpyxl.chart import Reference, ScatterChart, Series

    src = wb["Runs"]
    ws = wb.create_sheet("Scatter")
    ws["A1"] = "Objective ($M) against each parameter; each point is a run of the Runs sheet."
    n = len(runs)
    cols = list(runs.columns)
    ycol = cols.index("objective_musd") + 1
    for i, name in enumerate(design.spec.names):
        xcol = cols.index(name) + 1
        ch = ScatterChart()
        ch.style = 13
        ch.title = f"objective vs {name}"
        ch.x_axis.title = name
        ch.y_axis.title = "objective ($M)"
        s = Series(
            Reference(src, min_col=ycol, min_row=2, max_row=1 + n),
            Reference(src, min_col=xcol, min_row=2, max_row=1 + n),
            title="objective",
        )
        _points_only(s)
        ch.series.append(s)
        ch.legend = None
        ch.height, ch.width = 7.5, 12
        ws.add_chart(ch, f"{'A' if i % 2 == 0 else 'I'}{3 + 16 * (i // 2)}")
