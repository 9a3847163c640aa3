"""Sweep workers: evaluate one point, re-solving warm in a persistent HiGHS model (PERFORMANCE.md).

A worker receives a plain task dict (the input path and the point's list of changes, never a
model), applies the changes to the raw input it keeps in memory, resolves, builds and compiles the
model, and then either

- **warm**: when the compiled LP has the same structure as the one its persistent ``highspy.Highs``
  holds (same row and column counts, the same sparsity pattern, the same integrality), only the
  costs, bounds, row bounds, matrix values and objective offset that differ are changed in place and
  HiGHS re-solves from the previous basis; or
- **cold**: the model is passed to a fresh ``Highs``.

A MIP with a few bounded integer columns (the shipped dataset: two bet-funding binaries) is
solved warm by enumeration: the persistent model holds its LP relaxation, which is solved first and
is the answer when its integer columns come out integral (one LP; the shipped base's bets do);
otherwise, for each assignment of
the integer columns (at most :data:`MAX_ASSIGNMENTS`) the integer columns are fixed and the LP
re-solved from the current basis; the best assignment is the MIP's optimum, exactly (no gap). A
data change re-solves the first assignment from the previous point's basis, and switching
assignments moves a few bounds (measured on the shipped dataset: the first assignment ~1/15 of a
cold LP, the others 0 simplex iterations). Any other MIP is always solved cold: branch and bound has
no basis to restart from, and offering the previous optimum as a start (``setSolution``) was
measured on the shipped dataset (MIP gap 1e-3) 1.5x slower than a cold solve.

Either way HiGHS solves exactly the LP that a cold ``solve`` of the point compiles — the in-place
updates make the persistent model equal to it entry by entry — so a warm result equals a cold one
(up to the solver's tolerances; tested to 1e-6).

HiGHS fixes its thread pool at the first run in a process, so a worker uses one thread throughout.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import highspy
import numpy as np

from optimizer.components.contract import expression_items
from optimizer.data_io import InputError, RawBook, parse, read_raw
from optimizer.results import input_sha256, summary, tables
from optimizer.scenarios import Change, apply_changes
from optimizer.solve import (
    Solution,
    SolveOptions,
    StandardForm,
    _new_highs,
    compile_model,
    highs_status,
    solve,
)
from optimizer.sweep_store import COST_COLUMNS, FAILED

SIMPLEX_DEFAULT = 1
"""HiGHS's default ``simplex_strategy`` (dual simplex), restored after an objective-only re-solve."""

SIMPLEX_PRIMAL = 4
"""HiGHS's ``simplex_strategy`` for the primal simplex."""

MAX_ASSIGNMENTS = 16
"""A MIP is re-solved warm by enumeration when its integer columns have at most this many joint
assignments (e.g. four binaries); beyond that, branch and bound (cold) is the better method."""


@dataclass(frozen=True)
class PointResult:
    """Outcome of one HiGHS solve of a point (before it becomes a store row)."""

    status: str
    termination: str
    objective: float | None
    mip_gap: float | None
    solve_seconds: float
    warm: bool


class WarmSolver:
    """A persistent HiGHS model that follows a sequence of same-structure LPs/MIPs.

    Parameters
    ----------
    options : SolveOptions
        HiGHS options for every solve (``threads`` should be 1 in a sweep worker).
    monitor : an :class:`optimizer.progress.SolveMonitor` to run HiGHS through (a live line, and
        Ctrl-C stops HiGHS and raises ``SolveInterrupted``); None runs it plainly.
    """

    def __init__(self, options: SolveOptions, monitor: Any = None) -> None:
        self.options = options
        self.monitor = monitor
        self.h: highspy.Highs | None = None
        self._sig: tuple | None = None
        self._cost = self._lb = self._ub = self._rlo = self._rhi = self._val = None
        self._offset = 0.0
        self._x: np.ndarray | None = None
        self._is_mip = False
        self._best_assignment: tuple[float, ...] | None = None
        self.warm_solves = 0
        self.cold_solves = 0
        self.shared_starts = 0  # points started from another worker's basis (export_start)
        # an enumerated MIP tries its LP relaxation first (_relaxation); the counts say how often
        # that one LP was the answer
        self.relaxation_first = True
        # HiGHS simplex_strategy for a re-solve after which only the objective changed (the old
        # basis stays primal feasible: 4 = primal simplex); None = HiGHS's choice (dual)
        self.objective_strategy: int | None = None
        self._strategy_next: int | None = None
        self.relaxation_runs = 0
        self.relaxation_integral = 0

    @staticmethod
    def _arrays(sf: StandardForm) -> dict[str, np.ndarray]:
        """Copies of the LP's arrays: what the persistent model holds after this solve.

        Copies, never views: highspy hands out ``lp.col_cost_`` and the like as numpy views into
        the ``HighsLp``'s own vectors, so a caller that changes the same ``HighsLp`` in place, or
        assigns it a new array (which frees the old vector), would change or free what the next
        solve compares against; the change would then be missed and HiGHS re-solve the previous
        objective (seen in the alternatives study: a max plan solved as the min before it).
        """
        lp = sf.lp
        a = lp.a_matrix_
        return {
            "cost": np.array(lp.col_cost_, dtype=float),
            "lb": np.array(lp.col_lower_, dtype=float),
            "ub": np.array(lp.col_upper_, dtype=float),
            "rlo": np.array(lp.row_lower_, dtype=float),
            "rhi": np.array(lp.row_upper_, dtype=float),
            "start": np.array(a.start_, dtype=np.int64),
            "index": np.array(a.index_, dtype=np.int64),
            "val": np.array(a.value_, dtype=float),
        }

    @staticmethod
    def _signature(sf: StandardForm, arr: dict[str, np.ndarray]) -> tuple:
        # the structure a basis or a start can be carried across: sizes, pattern, integrality
        h = hashlib.sha256()
        h.update(arr["start"].tobytes())
        h.update(arr["index"].tobytes())
        h.update(np.asarray(sf.integer_cols, dtype=np.int64).tobytes())
        return (sf.lp.num_col_, sf.lp.num_row_, len(arr["val"]), h.hexdigest())

    def solve(
        self, sf: StandardForm, warm: bool = True, start: dict[str, Any] | None = None
    ) -> PointResult:
        """Solve the compiled point ``sf``, warm when its structure matches the previous one.

        Parameters
        ----------
        sf : the point's compiled model (:func:`optimizer.solve.compile_model`).
        warm : allow a warm re-solve; False always passes the model afresh (a MIP then goes to
            branch and bound).
        start : a basis (and best integer assignment) another worker's solver exported
            (:meth:`export_start`); used when this solver has no model of the same structure yet,
            so the point starts from that basis instead of cold.

        Returns
        -------
        PointResult
            status and objective; the primal values are in :attr:`x` afterwards.
        """
        arr = self._arrays(sf)
        sig = self._signature(sf, arr)
        is_mip = bool(len(sf.integer_cols))
        assignments = _assignments(arr, sf.integer_cols) if warm and is_mip else None
        # a MIP is re-solved in place only by enumeration: see the module docstring
        enumerate_ = assignments is not None
        is_warm = bool(
            warm and (enumerate_ or not is_mip) and self.h is not None and sig == self._sig
        )
        t0 = time.perf_counter()
        if is_warm:
            h = self.h
            if not self._update(h, arr, sf.offset) and self.objective_strategy is not None:
                self._strategy_next = self.objective_strategy
            self._restart_pricing(h)
            self._renew_time_limit(h, self.options.time_limit_s)
            self.warm_solves += 1
        else:
            h = _new_highs(self.options)
            h.passModel(sf.lp)
            if enumerate_:  # the persistent model is the LP relaxation
                cols = np.asarray(sf.integer_cols, dtype=np.int32)
                h.changeColsIntegrality(
                    len(cols), cols, np.full(len(cols), highspy.HighsVarType.kContinuous)
                )
            self._is_mip = is_mip and not enumerate_
            shared = (
                warm
                and start is not None
                and (enumerate_ or not is_mip)
                and tuple(start["signature"]) == sig
                and _set_basis(h, start)
            )
            if shared:
                is_warm = True
                self._best_assignment = start.get("assignment")
                self._restart_pricing(h)
                self.shared_starts += 1
            else:
                self.cold_solves += 1
        if enumerate_:
            res = self._enumerate(h, sf, assignments, t0, is_warm)
        else:
            self._run_highs(h)
            res = self._outcome(h, time.perf_counter() - t0, is_warm)
        self.h, self._sig = h, sig
        self._cost, self._lb, self._ub = arr["cost"], arr["lb"], arr["ub"]
        self._rlo, self._rhi, self._val = arr["rlo"], arr["rhi"], arr["val"]
        self._offset = sf.offset
        if res.status not in ("optimal", "feasible"):
            # an infeasible or failed point leaves no useful start, and its basis may be poor
            self._x = None
            self.h, self._sig = None, None
        return res

    def _enumerate(
        self,
        h: highspy.Highs,
        sf: StandardForm,
        assignments: list[tuple[float, ...]],
        t0: float,
        is_warm: bool,
    ) -> PointResult:
        """The MIP's optimum as the best of its LPs with the integer columns fixed.

        ``min_{z ∈ Z} min_x {c·x : A x ⋚ b, x_I = z}`` over the finite set Z of integer
        assignments is the MIP's optimum exactly; the LP relaxation is tried first
        (:meth:`_relaxation`) and ends it when integral. The previous point's best assignment goes first
        (its basis is the one HiGHS holds). An assignment that is infeasible is skipped; one that
        stops at the time limit leaves the point ``feasible`` (gap unknown) or ``no_solution``.
        """
        cols = np.asarray(sf.integer_cols, dtype=np.int32)
        limit = self.options.time_limit_s
        relaxed = self._relaxation(h, sf, cols, t0, is_warm)
        if relaxed is not None:
            return relaxed
        order = sorted(assignments, key=lambda z: z != self._best_assignment)
        best: PointResult | None = None
        best_x: np.ndarray | None = None
        best_z: tuple[float, ...] | None = None
        incomplete = unbounded = False
        for z in order:
            if limit is not None:
                left = limit - (time.perf_counter() - t0)
                if left <= 0:
                    incomplete = True
                    break
                self._renew_time_limit(h, left)
            vals = np.asarray(z, dtype=float)
            h.changeColsBounds(len(cols), cols, vals, vals)
            self._run_highs(h)
            self._restart_pricing(h)  # the next assignment starts from this basis
            res = self._outcome(h, time.perf_counter() - t0, is_warm)
            if res.status == "infeasible":
                continue
            if res.status == "unbounded":
                unbounded = True
                break
            if res.status != "optimal":
                incomplete = True
            if res.objective is not None and (best is None or res.objective < best.objective):
                best, best_x, best_z = res, self._x, z
        secs = time.perf_counter() - t0
        if unbounded:
            return PointResult("unbounded", "unbounded", None, None, secs, is_warm)
        if best is None:
            status = "no_solution" if incomplete else "infeasible"
            return PointResult(
                status, "time_limit" if incomplete else "infeasible", None, None, secs, is_warm
            )
        self._x, self._best_assignment = best_x, best_z
        if incomplete:
            return PointResult("feasible", "time_limit", best.objective, None, secs, is_warm)
        return PointResult("optimal", "optimal", best.objective, 0.0, secs, is_warm)

    def _relaxation(
        self, h: highspy.Highs, sf: StandardForm, cols: np.ndarray, t0: float, is_warm: bool
    ) -> PointResult | None:
        """The LP relaxation first: the MIP's answer when it is integral or infeasible, else None.

        An optimal relaxation whose integer columns are all within HiGHS's
        ``mip_feasibility_tolerance`` of an integer is the MIP's optimum (its bound
        ``min c·x ≤ MIP optimum`` is attained by an integer-feasible point); an infeasible
        relaxation means an infeasible MIP. Either way one LP replaces the enumeration (on the
        shipped base the bets come out integral, as in :func:`optimizer.solve._relaxation_first`).
        Otherwise the enumeration goes on from the relaxation's basis.
        """
        if not self.relaxation_first:
            return None
        lp = sf.lp
        lo = np.asarray(lp.col_lower_, dtype=float)[cols]
        hi = np.asarray(lp.col_upper_, dtype=float)[cols]
        h.changeColsBounds(len(cols), cols, lo, hi)
        self._renew_time_limit(h, self.options.time_limit_s)
        self._run_highs(h)
        self._restart_pricing(h)
        res = self._outcome(h, time.perf_counter() - t0, is_warm)
        self.relaxation_runs += 1
        if res.status == "infeasible":
            return res
        if res.status != "optimal" or self._x is None:
            return None
        z = self._x[cols]
        _, tol = h.getOptionValue("mip_feasibility_tolerance")
        if not np.all(np.abs(z - np.round(z)) <= tol):
            return None
        self._best_assignment = tuple(float(v) for v in np.round(z))
        self.relaxation_integral += 1
        return res

    @property
    def holds_basis(self) -> bool:
        """True when the next solve of a model of the same structure starts from a basis (an LP,
        or a MIP by enumeration); False when it starts from scratch (nothing held yet, or a MIP
        solved by branch and bound)."""
        return self.h is not None and not self._is_mip

    def _run_highs(self, h: highspy.Highs) -> None:
        strategy, self._strategy_next = self._strategy_next, None
        if strategy is not None and "simplex_strategy" not in self.options.highs_options:
            h.setOptionValue("simplex_strategy", int(strategy))
        else:
            strategy = None
        try:
            if self.monitor is None:
                h.run()
            else:
                self.monitor.run(h, "plan")
        finally:
            if strategy is not None:
                # the runs after it (assignments: bounds move, the basis turns primal
                # infeasible) are the dual simplex's
                h.setOptionValue("simplex_strategy", SIMPLEX_DEFAULT)

    @staticmethod
    def _renew_time_limit(h: highspy.Highs, seconds: float | None) -> None:
        """Give the next run ``seconds`` from now.

        HiGHS compares ``time_limit`` with the run time summed over the object's life
        (ERGO-Code/HiGHS#1477; highspy 1.16 has no ``zeroAllClocks``), so a persistent model's limit
        is its run time so far plus the time this solve may take; otherwise a long sweep's later
        warm points would stop at once.
        """
        if seconds is not None:
            h.setOptionValue("time_limit", h.getRunTime() + float(seconds))

    def _restart_pricing(self, h: highspy.Highs) -> None:
        """Devex pricing for re-solves from a basis, unless the user chose a pricing rule.

        HiGHS's default dual steepest-edge pricing recomputes its edge weights for the whole
        basis when it restarts, and a warm re-solve runs on the full LP (presolve is skipped
        with a basis): measured on the shipped dataset after a ±5 % change of demand, capex and
        prices, 5.2 and 7.4 s with steepest edge, 3.1 and 3.6 s with Devex, 5.9 and 7.7 s with
        Dantzig, 28 s with primal simplex (a cold solve: 37 s). A cold solve keeps HiGHS's choice.
        """
        if "simplex_dual_edge_weight_strategy" not in self.options.highs_options:
            h.setOptionValue("simplex_dual_edge_weight_strategy", 1)

    def _update(self, h: highspy.Highs, arr: dict[str, np.ndarray], offset: float) -> bool:
        """Change in ``h`` what differs from the previous LP; True when the previous solution may
        no longer be primal feasible: a bound moved past it, or a matrix value changed (False:
        only the objective changed, or bounds that still hold the previous solution)."""
        i32 = np.int32
        moved = False
        dr = np.flatnonzero((arr["rlo"] != self._rlo) | (arr["rhi"] != self._rhi))
        if len(dr):  # the previous row activities, read before any change resets the solution
            sol = h.getSolution()
            act = np.asarray(sol.row_value, dtype=float) if sol.value_valid else None
            moved = act is None or not _within(act[dr], arr["rlo"][dr], arr["rhi"][dr])
        d = np.flatnonzero(arr["cost"] != self._cost)
        if len(d):
            h.changeColsCost(len(d), d.astype(i32), arr["cost"][d])
        d = np.flatnonzero((arr["lb"] != self._lb) | (arr["ub"] != self._ub))
        if len(d):
            x = self._x
            moved = moved or x is None or not _within(x[d], arr["lb"][d], arr["ub"][d])
            h.changeColsBounds(len(d), d.astype(i32), arr["lb"][d], arr["ub"][d])
        if len(dr):
            h.changeRowsBounds(len(dr), dr.astype(i32), arr["rlo"][dr], arr["rhi"][dr])
        d = np.flatnonzero(arr["val"] != self._val)
        if len(d):
            moved = True
            # column-wise storage: the column of entry e is the last start ≤ e
            cols = np.searchsorted(arr["start"], d, side="right") - 1
            rows = arr["index"][d]
            for r, c, v in zip(rows.tolist(), cols.tolist(), arr["val"][d].tolist(), strict=True):
                h.changeCoeff(r, c, v)
        if offset != self._offset:
            h.changeObjectiveOffset(float(offset))
        return moved

    def _outcome(self, h: highspy.Highs, secs: float, is_warm: bool) -> PointResult:
        info = h.getInfo()
        status, term = highs_status(h)
        obj = gap = None
        if status in ("optimal", "feasible"):
            self._x = np.asarray(h.getSolution().col_value, dtype=float)
            obj = float(info.objective_function_value)
            gap = float(info.mip_gap) if self._is_mip else 0.0
            if not np.isfinite(gap):
                gap = None
        return PointResult(status, term, obj, gap, secs, is_warm)

    @property
    def x(self) -> np.ndarray | None:
        """Primal values of the last solve (column order of its standard form)."""
        return self._x

    def export_start(self) -> dict[str, Any] | None:
        """The persistent model's basis, structure signature and best integer assignment, as plain
        arrays another worker's :meth:`solve` can start from (None without a valid basis)."""
        if self.h is None or self._sig is None:
            return None
        b = self.h.getBasis()
        if not b.valid:
            return None
        return {
            "signature": list(self._sig),
            "col_status": np.fromiter(map(int, b.col_status), np.int8, len(b.col_status)),
            "row_status": np.fromiter(map(int, b.row_status), np.int8, len(b.row_status)),
            "assignment": self._best_assignment,
        }


def _within(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, tol: float = 1e-7) -> bool:
    """True when every value is within its bounds, up to ``tol`` (HiGHS's default primal
    feasibility tolerance), relative to the value where it exceeds 1."""
    room = tol * np.maximum(1.0, np.abs(v))
    return bool(np.all((v >= lo - room) & (v <= hi + room)))


def _set_basis(h: highspy.Highs, start: dict[str, Any]) -> bool:
    """Load an exported basis into ``h``; False when HiGHS rejects it (sizes or validity)."""
    lp = h.getLp()
    col, row = start["col_status"], start["row_status"]
    if len(col) != lp.num_col_ or len(row) != lp.num_row_:
        return False
    status = [highspy.HighsBasisStatus(i) for i in range(5)]  # kLower .. kNonbasic
    b = highspy.HighsBasis()
    b.col_status = [status[i] for i in col.tolist()]
    b.row_status = [status[i] for i in row.tolist()]
    b.valid = True
    return h.setBasis(b) == highspy.HighsStatus.kOk


def _assignments(arr: dict[str, np.ndarray], integer_cols: Any) -> list[tuple[float, ...]] | None:
    """Every joint value of the integer columns within their bounds, or None when there are more
    than :data:`MAX_ASSIGNMENTS` (or an integer column is unbounded)."""
    domains = []
    count = 1
    for j in np.asarray(integer_cols, dtype=np.int64):
        lo, hi = np.ceil(arr["lb"][j]), np.floor(arr["ub"][j])
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi < lo:
            return None
        count *= int(hi - lo) + 1
        if count > MAX_ASSIGNMENTS:
            return None
        domains.append(np.arange(lo, hi + 1))
    return [tuple(float(v) for v in z) for z in itertools.product(*domains)]


# ------------------------------------------------------------------------------------------------
# The task a worker runs
# ------------------------------------------------------------------------------------------------
class _WorkerState(threading.local):
    """Per-thread state of a worker process: raw inputs read once, one warm solver per input."""

    def __init__(self) -> None:
        self.raw: dict[tuple[str, str], RawBook] = {}
        self.solvers: dict[tuple[str, str], WarmSolver] = {}


_STATE = _WorkerState()


def changes_from_task(task: dict[str, Any]) -> list[Change]:
    """The :class:`Change` list of a task's JSON-able ``changes``."""
    return [Change(*c[:5], origin=f"Sweep ({task.get('point_id', '')})") for c in task["changes"]]


def _raw_for(path: str, sha: str) -> RawBook:
    key = (path, sha)
    raw = _STATE.raw.get(key)
    if raw is None:
        if sha and input_sha256(path) != sha:
            raise RuntimeError(
                f"{path} on this worker differs from the sweep's input (SHA-256 mismatch)"
            )
        raw = read_raw(path)
        _STATE.raw = {key: raw}  # one input per worker at a time keeps memory flat
    return raw


def solve_point(task: dict[str, Any], start: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate one sweep point and return its store row (see :mod:`optimizer.sweep_store`).

    Parameters
    ----------
    task : dict
        ``input`` (path), ``input_sha256``, ``point_id``, ``changes`` (lists of sheet, where,
        column, op, value), ``params`` (parameter name → value), ``options`` (``time_limit_s``,
        ``mip_gap``, ``bet_mode``), ``warm`` (bool) and ``export_start`` (bool: put this
        worker's basis in the row as ``_start`` for the other workers).
    start : another worker's exported basis (:meth:`WarmSolver.export_start`), used when this
        worker has no model of the point's structure yet.

    Returns
    -------
    dict
        the run's row: status, objective, costs, capital by region and class, timings. Input
        errors are a run with status ``error``; exceptions propagate (the caller retries them).
    """
    from optimizer.model import build_model

    t0 = time.perf_counter()
    c0 = time.process_time()
    options = task.get("options", {})
    opts = worker_options(options)
    row: dict[str, Any] = {
        "point_id": task["point_id"],
        "changes": task["changes"],
        "params": task.get("params", {}),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    raw = _raw_for(task["input"], task.get("input_sha256", ""))
    try:
        data = parse(apply_changes(raw, changes_from_task(task)))
    except InputError as exc:
        return {**row, "status": "error", "termination": "input_error", "message": str(exc)}
    t_build = time.perf_counter()
    model = build_model(data, bet_mode=options.get("bet_mode"))
    build_s = time.perf_counter() - t_build
    opts = opts.merged(data.settings)
    if model.derived.infeasible:
        return {
            **row,
            "status": "infeasible",
            "termination": "infeasible_input",
            "message": "; ".join(model.derived.infeasible),
            "run_seconds": time.perf_counter() - t0,
        }
    sf = compile_model(model)
    key = (task["input"], task.get("input_sha256", ""))
    solver = _STATE.solvers.get(key)
    if solver is None or solver.options != opts:
        solver = WarmSolver(opts)
        _STATE.solvers = {key: solver}
    res = solver.solve(sf, warm=bool(task.get("warm", True)), start=start)
    sol = Solution(
        model=model,
        status=res.status,
        termination=res.termination,
        objective=res.objective,
        mip_gap=res.mip_gap,
        solve_seconds=res.solve_seconds,
        handoff_seconds=0.0,
        variables=len(sf.columns),
        constraints=len(sf.rows),
        nonzeros=len(sf.lp.a_matrix_.value_),
        is_mip=bool(len(sf.integer_cols)),
        options=opts,
        build_seconds=build_s,
    )
    if sol.has_solution:
        for var, val in zip(sf.columns, solver.x, strict=True):
            var.set_value(float(val), skip_validation=True)
    row.update(
        {
            "status": res.status,
            "termination": res.termination,
            "mip_gap": res.mip_gap,
            "solve_seconds": res.solve_seconds,
            "warm": res.warm,
        }
    )
    row.update(_metrics(sol))
    row["run_seconds"] = time.perf_counter() - t0
    # not stored; benchmarks compare it with run_seconds to see whether a worker had its core
    row["cpu_seconds"] = time.process_time() - c0
    if task.get("export_start") and sol.has_solution:
        row["_start"] = solver.export_start()  # not stored: the driver hands it to the others
    return row


def _metrics(sol: Solution) -> dict[str, Any]:
    """Objective, cost categories, unserved and capital by region and class of a solved point."""
    s = summary(sol)
    out: dict[str, Any] = {"objective_musd": s.get("objective_musd")}
    for c in (*COST_COLUMNS, "capital_musd", "unserved_h100e"):
        out[c] = s.get(c)
    if not sol.has_solution:
        return out
    data = sol.model.data
    tech_class = {k: v["class"] for k, v in data.tech.items()}
    by_region: dict[str, float] = {}
    by_class: dict[str, float] = {}
    for k, r, musd in _capital_rows(sol):
        by_region[str(r)] = by_region.get(str(r), 0.0) + float(musd)
        cls = tech_class.get(k, str(k))  # the accelerator is its own class
        by_class[cls] = by_class.get(cls, 0.0) + float(musd)
    out["capital_by_region"] = by_region
    out["capital_by_class"] = by_class
    return out


def _capital_rows(sol: Solution) -> list[tuple[str, str, float]]:
    """(tech, region, $M) of every financing term of a solved model.

    A deterministic model's declared ``capital`` expression is read directly: ``tables`` would also build every
    other results table, a quarter of a warm run's overhead. The stochastic extensive form has no
    top-level registry; ``tables`` weighs its outcome blocks.
    """
    if not hasattr(sol.model, "contracts"):  # the extensive form: its outcome blocks have them
        cap = tables(sol)["Capital"]
        return list(zip(cap["tech"], cap["region"], cap["musd"], strict=True))
    terms = expression_items(sol.model, "capital")
    return [(k, r, e.value(_var_value)) for (_j, k, r, _v), e in terms]


def _var_value(var: Any) -> float:
    return 0.0 if var.value is None else float(var.value)


def worker_options(options: Mapping[str, Any]) -> SolveOptions:
    """The options a study's worker solves with: the task's ``time_limit_s`` and ``mip_gap``, one
    HiGHS thread (one per worker process), and neither duals nor an infeasibility explanation (a
    study reads objectives and values only)."""
    return SolveOptions(
        time_limit_s=options.get("time_limit_s"),
        mip_gap=options.get("mip_gap"),
        threads=1,
        duals=False,
        explain=False,
    )


def run_task(task: dict[str, Any], start: dict[str, Any] | None = None) -> dict[str, Any]:
    """:func:`solve_point` with one local retry: the Dask entry point of a sweep worker.

    A Python exception is retried once from a clean state (no warm model, input re-read); a second
    failure becomes a ``failed`` run carrying the traceback, so the sweep goes on. A crash of the
    worker process itself is retried by Dask and recorded by the driver. ``start``: see
    :func:`solve_point`.
    """
    attempts = 0
    last = ""
    while attempts < 2:
        attempts += 1
        try:
            row = solve_point(task, start)
            row["attempts"] = attempts
            row["finished_utc"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            return row
        except Exception:  # noqa: BLE001 - any failure of one point must not stop the sweep
            last = traceback.format_exc(limit=8)
            _STATE.raw, _STATE.solvers = {}, {}
    return failed_row(task, last, attempts)


def failed_row(task: dict[str, Any], message: str, attempts: int) -> dict[str, Any]:
    """The store row of a point that crashed after its retries."""
    return {
        "point_id": task["point_id"],
        "changes": task["changes"],
        "params": task.get("params", {}),
        "status": FAILED,
        "termination": "crashed",
        "message": message[-4000:],
        "attempts": attempts,
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }


def cold_objective(path: str, changes: list[list[Any]], bet_mode: str | None = None) -> Solution:
    """Solve a point from scratch through the ordinary ``solve`` path (the reference for tests)."""
    from optimizer.model import build_model

    raw = read_raw(path)
    task = {"changes": changes, "point_id": "cold"}
    data = parse(apply_changes(raw, changes_from_task(task)))
    return solve(build_model(data, bet_mode=bet_mode), SolveOptions(duals=False, explain=False))


def canonical_json(obj: Any) -> str:
    """Compact, key-sorted JSON: the text a point id hashes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
