"""Solve a built model with HiGHS and report what happened (DESIGN §2, §6; PERFORMANCE.md).

The hand-off is Pyomo's ``LinearStandardFormCompiler`` feeding ``highspy.Highs.passModel`` directly: the
fastest Pyomo path measured at scale, and the one that keeps the row and column maps needed for duals,
infeasibility explanations and warm re-solves. The legacy LP-file ``SolverFactory('highs')`` is never used
(it loads a point for unbounded models).

Duals: for an LP, HiGHS's row duals; for a MIP, the integers are fixed at their optimal values and the LP
is re-solved (DESIGN §2, ``solve.py``).

A MIP is first solved as its LP relaxation (:func:`_relaxation_first`): when the integer columns come
out integral, that point is the MIP's optimum (the relaxation's bound is attained by a feasible point,
gap 0) and its row duals are those of the LP with the integers fixed (an optimal dual of the
relaxation is feasible and optimal for the fixed LP, whose only extra freedom is the fixed columns'
reduced costs), so neither branch and bound nor a second solve is needed. The shipped dataset is such a
MIP: its two bet binaries are integral at the root (issue 20: 46 s of HiGHS → one LP, benchmarks/RESULTS.md).
Otherwise branch and bound runs as before on the same ``Highs``.

The time limit (``SolveOptions.time_limit_s``) is one wall-clock budget for the whole solve of a plan:
counted from ``started`` (the CLI passes the start of the model build; by default the call to
:func:`solve`, so the hand-off counts), shared by every HiGHS run — the LP relaxation, branch and
bound, the duals LP, the infeasibility explanation. Each run is given what is left
(:func:`_give_time`), and a run whose budget is already spent is not started: HiGHS counts
``time_limit`` against its run time summed over the object's life (measured: a second ``run()``
with the limit below the first run's time stops at once) and checks it only between steps, so a
run started on a spent budget still does its presolve first (measured on a 360,000-column MIP:
0.64 s after the limit, twice the limit set) — on the base's 916,000-column extensive form, such
steps are minutes. The first run may still pass the limit by the length of one such step.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimizer.diagnose import explain_infeasibility, explain_unbounded
from optimizer.linear import RowMap, standard_form

# HiGHS fixes its thread pool at the first run in a process (PERFORMANCE.md): remember what was used.
_THREADS_IN_PROCESS: int | None = None


@dataclass(frozen=True)
class SolveOptions:
    """Solver options; ``None`` means the Settings sheet's value (or HiGHS's default).

    Attributes
    ----------
    time_limit_s : wall-clock seconds for the whole solve: the model's build when the caller says
        when it started (:func:`solve`'s ``started``), the hand-off to HiGHS and every HiGHS run
        (LP relaxation, branch and bound, the duals LP, the infeasibility explanation); each run
        gets what is left. Stopped with a solution: status ``feasible`` (the best kept); without:
        ``no_solution``. HiGHS checks it between steps, so a huge model may pass it by one step
        (a presolve, a factorisation).
    mip_gap : relative MIP gap at which branch and bound stops.
    threads : HiGHS threads; fixed once per process by HiGHS itself.
    solver : HiGHS ``solver`` option: ``choose``, ``simplex`` or ``ipm``.
    run_crossover : HiGHS ``run_crossover`` for ``ipm``: ``on``, ``off`` or ``choose``.
    duals : compute duals (prices); for a MIP this re-solves the LP with integers fixed (not needed
        when the LP relaxation came out integral: its duals are taken), within what is left of
        ``time_limit_s`` (without duals when that LP does not finish in it).
    relaxation_first : solve a MIP's LP relaxation first and keep it when its integer columns are
        integral (no branch and bound, no second solve for duals); False goes straight to branch
        and bound.
    explain : on infeasibility, compute HiGHS's irreducible infeasible subsystem and name its limits.
    log : print HiGHS's log to the terminal.
    highs_options : further HiGHS options by name (checked before solving).
    """

    time_limit_s: float | None = None
    mip_gap: float | None = None
    threads: int | None = None
    solver: str | None = None
    run_crossover: str | None = None
    duals: bool = True
    relaxation_first: bool = True
    explain: bool = True
    log: bool = False
    highs_options: dict[str, Any] = field(default_factory=dict)

    def merged(self, settings: Any) -> SolveOptions:
        """These options with blanks filled from the model's Settings."""
        return replace(
            self,
            time_limit_s=self.time_limit_s
            if self.time_limit_s is not None
            else settings.time_limit_s,
            mip_gap=self.mip_gap if self.mip_gap is not None else settings.mip_gap,
            threads=self.threads if self.threads is not None else settings.threads,
        )


@dataclass
class Solution:
    """What a solve produced: status, objective, timings, sizes, and the model with values loaded.

    ``status`` is one of ``optimal`` (solved to the requested gap), ``feasible`` (stopped with a
    solution, e.g. by the time limit), ``infeasible``, ``unbounded``, ``no_solution`` or ``error``.
    """

    model: pyo.ConcreteModel
    status: str
    termination: str
    objective: float | None
    mip_gap: float | None
    solve_seconds: float
    handoff_seconds: float
    variables: int
    constraints: int
    nonzeros: int
    is_mip: bool
    options: SolveOptions
    message: str = ""
    duals: Mapping[Any, float] = field(default_factory=dict)  # constraint data → dual
    build_seconds: float = 0.0
    # every HiGHS run of this solve in order, (what, wall seconds); solve_seconds is their sum
    solver_calls: list[tuple[str, float]] = field(default_factory=list)

    @property
    def has_solution(self) -> bool:
        """True when variable values were loaded (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    def dual(self, con: Any) -> float | None:
        """Dual of a constraint (``$M`` of objective per unit of right-hand side), if computed."""
        return self.duals.get(con)

    def calls_text(self) -> str:
        """The solver calls as one line, e.g. ``lp_relaxation 31.20 s (integral)``."""
        return "; ".join(f"{what} {secs:.2f} s" for what, secs in self.solver_calls)


class SolverOptionError(ValueError):
    """An option name or value HiGHS does not know."""


def check_highs_options(options: dict[str, Any]) -> None:
    """Reject misspelled HiGHS options before solving (HiGHS only logs and ignores them)."""
    h = new_highs()
    h.setOptionValue("output_flag", False)
    bad = []
    for name, value in options.items():
        status, _ = h.getOptionValue(name)
        if status != highspy.HighsStatus.kOk:
            bad.append(f"unknown HiGHS option {name!r}")
            continue
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            bad.append(f"HiGHS option {name!r} does not accept {value!r}")
    if bad:
        raise SolverOptionError("; ".join(bad))


class StandardForm:
    """The LP/MIP in matrix form with the maps back to Pyomo components.

    ``lp`` is the ``highspy.HighsLp``. :func:`compile_model` keeps the model as the numpy arrays
    ``Highs.passModel`` takes (:meth:`pass_to`) and makes the ``HighsLp`` only when something asks
    for it (sweeps, the coalition game, alternatives read and change its arrays): a plain solve
    hands the arrays over once instead of through a scratch ``Highs`` and ``getLp`` (0.3 s at
    1.5M columns, issue 20).
    """

    def __init__(
        self,
        lp: Any,
        columns: list[Any],
        rows: RowMap,
        offset: float,
        integer_cols: np.ndarray,
        arrays: tuple[Any, ...] | None = None,
    ) -> None:
        self._lp = lp
        self.columns = columns
        self.rows = rows  # rows[i] = RowEntry(constraint data, 0 for =, 1 for ≤, -1 for ≥)
        self.offset = offset
        self.integer_cols = integer_cols
        # the arguments of Highs.passModel(n, m, nnz, format, sense, offset, c, lb, ub, rl, ru,
        # start, index, value, integrality), or None when the HighsLp was given
        self._arrays = arrays

    @property
    def lp(self) -> Any:
        """The ``highspy.HighsLp`` (made from the arrays on first use)."""
        if self._lp is None:
            self._lp = _lp_of(self._arrays)
        return self._lp

    @lp.setter
    def lp(self, lp: Any) -> None:
        self._lp, self._arrays = lp, None

    @property
    def nonzeros(self) -> int:
        """Nonzeros of the constraint matrix."""
        if self._lp is None:
            return int(self._arrays[2])
        return len(self._lp.a_matrix_.value_)

    def pass_to(self, h: highspy.Highs) -> Any:
        """``h.passModel`` of this model: from the arrays while no ``HighsLp`` was made (what
        HiGHS then holds is what ``h.passModel(self.lp)`` gives; tests/test_linear.py)."""
        if self._lp is None:
            return h.passModel(*self._arrays)
        return h.passModel(self._lp)


def compile_model(model: pyo.ConcreteModel) -> StandardForm:
    """Compile the Pyomo model to a ``highspy.HighsLp`` (columns, rows, bounds, integrality).

    The model's linear expressions are read directly (``optimizer.linear.standard_form``: the same
    columns, rows and matrix as Pyomo's ``LinearStandardFormCompiler``; hand-off at S 3.5 s → 0.05 s,
    at L 26 s → 3.8 s, benchmarks/RESULTS.md), array-built families as arrays; anything that path
    does not read goes through Pyomo's compiler. ``rows`` is a :class:`~optimizer.linear.RowMap`:
    ``rows[i]`` is ``RowEntry(constraint, sense)`` (the row object made when asked).
    """
    form = standard_form(model)
    segments: list[tuple[int, int, Any]] = []
    if form is not None:
        columns, rows, rhs = form.columns, form.rows, form.rhs
        c, offset = form.c, form.offset
        start, index, value = form.indptr, form.indices, form.data
        segments = form.segments
    else:
        sf = LinearStandardFormCompiler().write(model, mixed_form=True)
        A = sf.A.tocsc()
        columns, rhs = list(sf.columns), np.asarray(sf.rhs, dtype=float)
        rows = RowMap()
        rows.extend(sf.rows)
        c = sf.c.toarray().ravel() if len(columns) else np.zeros(0)
        offset = float(sf.c_offset[0]) if len(sf.c_offset) else 0.0
        start, index, value = A.indptr, A.indices, A.data
    n, mrows = len(columns), len(rows)
    lb, ub, integer = _column_bounds(columns, segments)
    sense = rows.senses()
    row_lower = np.where(sense <= 0, rhs, -highspy.kHighsInf)
    row_upper = np.where(sense >= 0, rhs, highspy.kHighsInf)
    arrays = (
        n,
        mrows,
        len(value),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        float(offset),
        np.ascontiguousarray(c, dtype=np.float64),
        np.ascontiguousarray(lb, dtype=np.float64),
        np.ascontiguousarray(ub, dtype=np.float64),
        np.ascontiguousarray(row_lower, dtype=np.float64),
        np.ascontiguousarray(row_upper, dtype=np.float64),
        np.ascontiguousarray(start, dtype=np.int32),
        np.ascontiguousarray(index, dtype=np.int32),
        np.ascontiguousarray(value, dtype=np.float64),
        integer.astype(np.int32),  # kContinuous 0, kInteger 1
    )
    return StandardForm(None, columns, rows, float(offset), np.flatnonzero(integer), arrays)


def _lp_of(arrays: tuple[Any, ...]) -> Any:
    """The ``HighsLp`` of ``Highs.passModel``'s arguments.

    ``HighsLp``'s attribute setters convert numpy arrays element by element (0.5 s for 4M
    nonzeros); a scratch ``Highs`` takes the arrays as buffers and ``getLp`` copies the model out
    in C++. That copy is used only when HiGHS accepts the model unchanged (status OK, not a
    warning: a warning means it altered something, e.g. dropped a tiny coefficient); otherwise
    the attributes are set one by one, as the model was given.
    """
    n, mrows, _nnz, _fmt, _sense, offset, c, lb, ub, row_lower, row_upper = arrays[:11]
    start, index, value, integrality = arrays[11:]
    h = new_highs()
    h.setOptionValue("output_flag", False)
    if h.passModel(*arrays) == highspy.HighsStatus.kOk:
        lp = h.getLp()
        if not integrality.any():
            lp.integrality_ = []  # an LP, as a HighsLp built by hand says
        return lp
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = mrows
    lp.col_cost_ = c
    lp.col_lower_ = lb
    lp.col_upper_ = ub
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = mrows
    lp.offset_ = offset
    if integrality.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
            for f in integrality
        ]
    return lp


_PLAIN = (int, float)


def _own_bounds(own: list[Any], none: float) -> np.ndarray | None:
    """Variables' own bounds as an array (``none`` where a variable has none); ``None`` when one
    is not a plain finite number (a param, an expression, ±inf: Pyomo resolves those)."""
    n = len(own)
    if own.count(None) == n:
        return np.full(n, none)
    if {x.__class__ for x in own} - {int, float, type(None)}:
        return None
    arr = np.array([none if x is None else x for x in own], dtype=np.float64)
    given = np.array([x is not None for x in own])
    if not np.isfinite(arr[given]).all():
        return None
    return arr


_DOMAIN, _LB, _UB = attrgetter("_domain"), attrgetter("_lb"), attrgetter("_ub")


def _column_bounds(
    columns: list[Any], segments: list[tuple[int, int, Any]] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds (±inf for none) and integrality of each column.

    ``VarData.lb``, ``.ub`` and ``.is_integer()`` each look the domain up again (about 5 µs a
    column together, 2.6 s at 500k columns); the domain's bounds and integrality are read once per
    domain object here, and plain numeric bounds combined as ``VarData._resolve_bound_value`` does.
    ``segments`` (first, end, component) name runs of columns that are one whole variable
    component: where its elements share one domain and have plain numeric bounds, the run is
    done with whole-list operations: ``lb = max(own lb, domain lb)``, ``ub = min(own ub, domain ub)``.
    """
    n = len(columns)
    lb = np.empty(n)
    ub = np.empty(n)
    integer = np.zeros(n, dtype=bool)
    per_domain: dict[int, tuple[Any, Any, bool]] = {}
    inf = highspy.kHighsInf
    done = np.zeros(n, dtype=bool)
    for first, end, comp in segments:
        if getattr(comp, "_ComponentDataClass", None) is not VarData or end <= first:
            continue
        data = columns[first:end]
        doms = list(map(_DOMAIN, data))
        if doms.count(doms[0]) != len(doms):  # identical objects: one C pass
            continue
        v0 = data[0]
        lo = _own_bounds(list(map(_LB, data)), -inf)
        hi = _own_bounds(list(map(_UB, data)), inf)
        if lo is None or hi is None:
            continue
        dlb, dub = v0._domain.bounds()
        if dlb is not None:
            lo = np.maximum(lo, dlb)
        if dub is not None:
            hi = np.minimum(hi, dub)
        lb[first:end] = lo
        ub[first:end] = hi
        integer[first:end] = v0.is_integer() or v0.is_binary()
        done[first:end] = True
    for i in np.flatnonzero(~done).tolist():
        v = columns[i]
        dom = v._domain
        info = per_domain.get(id(dom))
        if info is None:
            dlb, dub = dom.bounds()
            info = per_domain[id(dom)] = (dlb, dub, v.is_integer() or v.is_binary())
        dlb, dub, integer[i] = info
        rl, ru = v._lb, v._ub
        if (rl is None or (rl.__class__ in _PLAIN and -inf < rl < inf)) and (
            ru is None or (ru.__class__ in _PLAIN and -inf < ru < inf)
        ):
            lo = dlb if rl is None else (rl if dlb is None else max(rl, dlb))
            hi = dub if ru is None else (ru if dub is None else min(ru, dub))
        else:  # params, expressions, infinities: Pyomo's own resolution
            lo, hi = v.bounds
        lb[i] = -inf if lo is None else lo
        ub[i] = inf if hi is None else hi
    return lb, ub, integer


class RowDuals(Mapping):
    """Row duals by constraint (``duals[con]``), without a dict entry per array-built row.

    An array-built row (:class:`~optimizer.linear.ArrayConstraint`) finds its matrix row through
    its component and index (``RowMap.position``); other rows through a dict made on first use
    (for a ranged row, the dual of its ``≥`` row, as one dict over all rows would keep).
    """

    def __init__(self, rows: RowMap, dual: np.ndarray) -> None:
        self._rows = rows
        self._dual = dual
        self._plain: dict[Any, float] | None = None

    def _plain_duals(self) -> dict[Any, float]:
        if self._plain is None:
            d = self._dual
            self._plain = {e[0]: float(d[i]) for i, e in self._rows.plain_entries()}
        return self._plain

    def get(self, con: Any, default: Any = None) -> Any:
        """The dual of ``con``'s row, or ``default`` when it has none here."""
        i = self._rows.position(con)
        if i is not None:
            return float(self._dual[i])
        return self._plain_duals().get(con, default)

    def __getitem__(self, con: Any) -> float:
        got = self.get(con, _MISSING)
        if got is _MISSING:
            raise KeyError(con)
        return got

    def __contains__(self, con: Any) -> bool:
        return self.get(con, _MISSING) is not _MISSING

    def __iter__(self) -> Any:
        # every row object (array-built rows are created), each once
        return iter(dict.fromkeys(e[0] for e in self._rows))

    def __len__(self) -> int:
        return len(self._rows)


_MISSING = object()


_BANNER_SHOWN = False


def new_highs() -> highspy.Highs:
    """A ``highspy.Highs`` whose one-time licence banner goes to stderr, not stdout.

    HiGHS prints it from C on the first construction in a process; stdout must stay clean for
    ``--json`` output, so fd 1 points at stderr for that moment and the C buffer is flushed.
    """
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        h = highspy.Highs()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True
    return h


def claim_threads(threads: int) -> None:
    """Restart HiGHS's thread pool for ``threads`` threads; call only while no HiGHS runs.

    HiGHS keeps one pool per process, started by the first run at that run's ``threads``; a later
    run asking another count fails at once (model status "Not Set"). HiGHS also runs outside the
    planner (mpi-sppy's leaf solves through Pyomo's appsi, at HiGHS's default count): PH's plan,
    evaluated after PH on the 12-leaf base under ``--threads 1``, failed so in 0.25 s. The mpi-sppy
    bridge claims the count before its leaf solves (which then ask for it too), so that they and
    the planner's solves after them share one pool.
    """
    global _THREADS_IN_PROCESS
    highspy.Highs.resetGlobalScheduler(True)
    _THREADS_IN_PROCESS = int(threads)


def _new_highs(opts: SolveOptions) -> highspy.Highs:
    global _THREADS_IN_PROCESS
    h = new_highs()
    h.setOptionValue("output_flag", bool(opts.log))
    if opts.log:
        # HiGHS's console log goes to C's stdout, which --json keeps for the JSON alone: route
        # it through the logging callback to stderr, as --log promises
        h.setOptionValue("log_to_console", False)
        h.cbLogging.subscribe(_log_to_stderr)
    if opts.time_limit_s is not None:
        h.setOptionValue("time_limit", float(opts.time_limit_s))
    if opts.mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(opts.mip_gap))
        # an absolute gap of HiGHS's default 1e-6 $M would stop short of a requested 1e-9 relative gap
        h.setOptionValue("mip_abs_gap", 0.0)
    if _THREADS_IN_PROCESS is None:
        # the first model of the process fixes HiGHS's pool: HiGHS's default (0) when no count is
        # asked, so that a later request for another count is skipped instead of failing the run
        _THREADS_IN_PROCESS = int(opts.threads) if opts.threads is not None else 0
    if opts.threads is not None and opts.threads == _THREADS_IN_PROCESS:
        h.setOptionValue("threads", int(opts.threads))
    if opts.solver:
        h.setOptionValue("solver", opts.solver)
    if opts.run_crossover:
        h.setOptionValue("run_crossover", opts.run_crossover)
    for k, v in opts.highs_options.items():
        h.setOptionValue(k, v)
    return h


def _log_to_stderr(event: Any) -> None:
    """HiGHS logging callback: one log message to stderr."""
    sys.stderr.write(event.message)


_STOPPED = frozenset(
    {
        highspy.HighsModelStatus.kTimeLimit,
        highspy.HighsModelStatus.kIterationLimit,
        highspy.HighsModelStatus.kSolutionLimit,
        highspy.HighsModelStatus.kInterrupt,
        highspy.HighsModelStatus.kObjectiveBound,
        highspy.HighsModelStatus.kObjectiveTarget,
    }
)


def highs_status(h: highspy.Highs) -> tuple[str, str]:
    """The planner's status and HiGHS's termination (its model status in snake case) after a run.

    ``optimal``; ``infeasible``; ``unbounded`` (also "unbounded or infeasible"); ``feasible`` or
    ``no_solution`` when HiGHS stopped early (time, iteration, solution or node limits, interrupt,
    objective bound or target) with or without a feasible point; ``error`` otherwise.
    """
    MS = highspy.HighsModelStatus
    ms = h.getModelStatus()
    term = h.modelStatusToString(ms).lower().replace(" ", "_")
    if ms == MS.kOptimal:
        return "optimal", term
    if ms == MS.kInfeasible:
        return "infeasible", term
    if ms in (MS.kUnbounded, MS.kUnboundedOrInfeasible):
        return "unbounded", term
    if ms in _STOPPED:
        has_point = h.getInfo().primal_solution_status == 2  # kSolutionStatusFeasible
        return ("feasible" if has_point else "no_solution"), term
    return "error", term


def _run(h: highspy.Highs, monitor: Any, what: str) -> None:
    """``h.run()``, through ``monitor`` when there is one (live line, Ctrl-C stops HiGHS)."""
    if monitor is None:
        h.run()
    else:
        monitor.run(h, what)


def solve(
    model: pyo.ConcreteModel,
    options: SolveOptions | None = None,
    monitor: Any = None,
    started: float | None = None,
) -> Solution:
    """Solve ``model`` with HiGHS, load the solution into it and compute duals.

    Parameters
    ----------
    model : a model from :func:`optimizer.model.build_model`.
    options : solver options; blanks take the Settings sheet's values.
    monitor : an :class:`optimizer.progress.SolveMonitor` that shows a live line and turns Ctrl-C
        into :class:`optimizer.progress.SolveInterrupted` (HiGHS stopped, nothing loaded);
        ``None`` runs HiGHS plainly.
    started : ``time.perf_counter()`` when the time limit's clock started (e.g. before the model
        was built, so that its build counts); default: now, so that the hand-off counts.

    Returns
    -------
    Solution
        never raises for solver outcomes: an infeasible, unbounded or failed solve is a status.
    """
    opts = (options or SolveOptions()).merged(model.data.settings)
    if opts.highs_options:
        check_highs_options(opts.highs_options)
    dv = model.derived
    t0 = time.perf_counter()
    clock = t0 if started is None else float(started)
    sf = compile_model(model)
    handoff = time.perf_counter() - t0
    n, mrows = len(sf.columns), len(sf.rows)
    nnz = sf.nonzeros
    is_mip = bool(len(sf.integer_cols))

    calls: list[tuple[str, float]] = []

    def result(status: str, term: str, msg: str = "", obj=None, gap=None, secs=0.0) -> Solution:
        sol = Solution(
            model, status, term, obj, gap, secs, handoff, n, mrows, nnz, is_mip, opts, msg
        )
        sol.solver_calls = calls
        return sol

    if dv.infeasible:
        return result("infeasible", "infeasible_input", "; ".join(dv.infeasible))

    h = _new_highs(opts)
    sf.pass_to(h)
    if not _give_time(h, opts, clock):
        spent = time.perf_counter() - clock
        return result(
            "no_solution",
            "time_limit",
            f"the time limit of {opts.time_limit_s:g} s was spent before HiGHS started "
            f"({spent:.3g} s building the model and handing it over)",
        )
    relaxed = is_mip and opts.relaxation_first and _relaxation_first(h, sf, calls, monitor)
    if not relaxed:
        if calls and ("time limit" in calls[-1][0] or not _give_time(h, opts, clock)):
            # the relaxation stopped at the limit: branch and bound would only do its presolve
            # before HiGHS looks at the clock (module doc), and the relaxation's point is fractional
            return result(
                "no_solution",
                "time_limit",
                f"the time limit of {opts.time_limit_s:g} s was spent in the LP relaxation "
                f"({calls[-1][0].partition(' ')[2].strip('()')}), before branch and bound",
                secs=sum(t for _, t in calls),
            )
        t1 = time.perf_counter()
        _run(h, monitor, "solve")
        calls.append(("mip" if is_mip else "lp", time.perf_counter() - t1))
    secs = sum(t for _, t in calls)
    info = h.getInfo()
    has_point = info.primal_solution_status == 2  # kSolutionStatusFeasible
    branched = is_mip and not relaxed
    gap = float(info.mip_gap) if branched and has_point else (0.0 if has_point else None)
    if gap is not None and not math.isfinite(gap):
        gap = None
    status, term = highs_status(h)
    unsolved = _unsolved(h, status, term, sf, opts, clock, result, secs)
    if unsolved is not None:
        return unsolved

    x = np.asarray(h.getSolution().col_value, dtype=float)
    for var, val in zip(sf.columns, x, strict=True):
        var.set_value(float(val), skip_validation=True)
    obj = float(info.objective_function_value)
    sol = result(status, term, "", obj, gap, secs)
    if opts.duals:
        _add_duals(sol, h, sf, x, branched, opts, clock, monitor, calls)
    return sol


def _unsolved(
    h: highspy.Highs,
    status: str,
    term: str,
    sf: StandardForm,
    opts: SolveOptions,
    clock: float,
    result: Callable[..., Solution],
    secs: float,
) -> Solution | None:
    """The :class:`Solution` of a solve that ended without a plan (infeasible, with the IIS
    explanation asked for within what is left of the time limit; unbounded; no solution; a HiGHS
    error), or ``None`` when HiGHS has one."""
    if status == "infeasible":
        why = ""
        if opts.explain:
            left = _time_left(opts, clock)
            if left is not None and left <= 0:
                why = "no time was left of the time limit to explain it"
            else:
                limit = EXPLAIN_LIMIT_S if left is None else min(EXPLAIN_LIMIT_S, left)
                why = explain_infeasibility(h, sf.columns, sf.rows, limit_s=limit)
        msg = "the model is infeasible" + (f": {why}" if why else "")
        return result("infeasible", term, msg, secs=secs)
    if status == "unbounded":
        why = explain_unbounded(h, sf.columns) if opts.explain else ""
        msg = "the model is unbounded (or infeasible)" + (f": {why}" if why else "")
        return result("unbounded", term, msg, secs=secs)
    if status == "no_solution":
        return result(
            "no_solution", term, f"stopped ({term}) without a feasible solution", secs=secs
        )
    if status == "error":
        return result(
            "error", term, f"HiGHS: {h.modelStatusToString(h.getModelStatus())}", secs=secs
        )
    return None


def _add_duals(
    sol: Solution,
    h: highspy.Highs,
    sf: StandardForm,
    x: np.ndarray,
    branched: bool,
    opts: SolveOptions,
    clock: float,
    monitor: Any,
    calls: list[tuple[str, float]],
) -> None:
    """Row duals of the solved model in ``sol.duals``: the LP's own, or for a MIP that branched,
    those of the LP with its integer columns fixed at the plan's values (run within what is left of
    the time limit, its seconds added to the solve's). Where there are none, ``sol.message`` says
    why."""
    row_dual = None
    if not branched:
        row_dual = np.asarray(h.getSolution().row_dual, dtype=float)
    else:
        ic = sf.integer_cols
        fixed = np.round(x[ic])
        h.changeColsIntegrality(
            len(ic), ic.astype(np.int32), np.array([highspy.HighsVarType.kContinuous] * len(ic))
        )
        h.changeColsBounds(len(ic), ic.astype(np.int32), fixed, fixed)
        # what is left of the time limit, not a fresh one: the limit bounds the whole solve
        if not _give_time(h, opts, clock):
            sol.message = (
                "duals unavailable: the time limit was spent before the LP with integers "
                "fixed could run"
            )
            return
        t2 = time.perf_counter()
        _run(h, monitor, "duals")
        calls.append(("duals_lp", time.perf_counter() - t2))
        sol.solve_seconds += calls[-1][1]
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            row_dual = np.asarray(h.getSolution().row_dual, dtype=float)
        else:
            why = h.modelStatusToString(h.getModelStatus()).lower()
            sol.message = f"duals unavailable: the LP with integers fixed did not solve ({why})"
    if row_dual is not None:
        sol.duals = RowDuals(sf.rows, row_dual)


# the most an infeasibility explanation (HiGHS's IIS) may take, within what is left of the limit
EXPLAIN_LIMIT_S = 60.0


def _time_left(opts: SolveOptions, clock: float) -> float | None:
    """Seconds left of the solve's time limit counted from ``clock``; None without a limit."""
    if opts.time_limit_s is None:
        return None
    return float(opts.time_limit_s) - (time.perf_counter() - clock)


def _give_time(h: highspy.Highs, opts: SolveOptions, clock: float) -> bool:
    """Give HiGHS's next run what is left of the time limit; False when nothing is left.

    HiGHS compares ``time_limit`` with its run time summed over the object's life, so the
    option is that run time plus the seconds left (the same rule as ``warm.py``).
    """
    left = _time_left(opts, clock)
    if left is None:
        return True
    if left <= 0:
        return False
    h.setOptionValue("time_limit", h.getRunTime() + left)
    return True


def _relaxation_first(
    h: highspy.Highs, sf: StandardForm, calls: list[tuple[str, float]], monitor: Any = None
) -> bool:
    """Solve the MIP held by ``h`` as its LP relaxation; True when that solve is the answer.

    The answer is the relaxation's when it is optimal with every integer column within HiGHS's
    ``mip_feasibility_tolerance`` of an integer (then it is the MIP's optimum: the relaxation's
    bound is attained by an integer-feasible point), or when it is infeasible (so is the MIP).
    Otherwise the integrality is restored and False returned: the caller runs branch and bound on
    the same ``h`` with what is left of the time limit. Each run is appended to ``calls``.
    """
    cols = np.asarray(sf.integer_cols, dtype=np.int32)
    n = len(cols)
    h.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kContinuous))
    t0 = time.perf_counter()
    _run(h, monitor, "relaxed")
    secs = time.perf_counter() - t0
    ms = h.getModelStatus()
    if ms == highspy.HighsModelStatus.kInfeasible:
        calls.append(("lp_relaxation (infeasible)", secs))
        return True
    outcome = h.modelStatusToString(ms).lower()
    if ms == highspy.HighsModelStatus.kOptimal:
        z = np.asarray(h.getSolution().col_value, dtype=float)[cols]
        _, tol = h.getOptionValue("mip_feasibility_tolerance")
        if np.all(np.abs(z - np.round(z)) <= tol):
            calls.append(("lp_relaxation (integral)", secs))
            return True
        outcome = "fractional"
    calls.append((f"lp_relaxation ({outcome})", secs))
    h.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kInteger))
    return False
