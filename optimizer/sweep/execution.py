"""Running a sweep: configuration, tasks, the resumable run loop (every finished run committed to
the store as it arrives), the parallel executor adapter and the progress line.
"""

import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from optimizer.data_io import RawBook, parse, read_raw
from optimizer.parallel import execute
from optimizer.results import input_sha256
from optimizer.sweep.design import Design, make_design
from optimizer.sweep.spec import SweepSpec, check_spec, spec_from_raw, spec_from_yaml
from optimizer.sweep_store import FAILED, SweepStore
from optimizer.warm import failed_row, run_task

logger = logging.getLogger(__name__)


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
    share_start : with Dask and ``warm``, solve the first point alone and start every worker from
        its basis (one cold solve per sweep); False lets each worker start cold (for benchmarks).
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
    share_start: bool = True


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


def with_spec_choices(
    config: SweepConfig, method: str | None, samples: int | None, seed: int | None
) -> SweepConfig:
    """``config`` with the method, samples and seed the command line left open (None) taken from
    its YAML spec when it has one (else oat and seed 0, as without a spec)."""
    if config.spec is None:
        return config
    s = load_spec(config, read_raw(config.input))
    return replace(
        config,
        method=method or s.method or "oat",
        samples=samples if samples is not None else s.samples,
        seed=seed if seed is not None else (s.seed or 0),
    )


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
                _execute_dask(tasks, config, on_row, share_start=config.warm and config.share_start)
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
    share_start: bool = False,
) -> None:
    """Solve sweep ``tasks`` on the shared executor (:func:`optimizer.parallel.execute`) with the
    sweep's workers, scheduler and allowed failures; a task that fails for good becomes a failed
    run (``fn``: tests substitute one that kills its worker). ``share_start``: one cold solve per
    sweep, the other workers starting from its basis (:meth:`optimizer.warm.WarmSolver.export_start`)."""

    def failed(task: dict[str, Any], message: str) -> dict[str, Any]:
        return failed_row(task, message, config.allowed_failures + 1)

    execute(
        tasks,
        fn,
        on_row,
        on_failure or failed,
        workers=config.workers,
        scheduler=config.scheduler,
        allowed_failures=config.allowed_failures,
        name="sweep",
        share_start=share_start,
    )


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
