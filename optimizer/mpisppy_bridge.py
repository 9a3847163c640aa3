"""Run the stochastic plan under mpi-sppy when the outcome tree outgrows one extensive form (DESIGN §8).

mpi-sppy receives the same per-leaf model as the built-in extensive form
(:func:`optimizer.stochastic.scenario_creator`), with the root node attached to its non-anticipative
variables (and, with Settings ``cvar_weight`` β > 0, the CVaR threshold η as one more first-stage
variable and each leaf's excess in its objective). Two methods:

- ``ef``: mpi-sppy's extensive form (the same optimum as the built-in one);
- ``ph``: progressive hedging. PH is a heuristic: its iterates agree on the first stage only in the
  limit, so the first stage it ends with (``xbar``, binaries rounded) is fixed in the built-in
  extensive form and solved exactly; that objective is PH's best plan (an upper bound), and PH's
  trivial bound (each leaf solved on its own after iteration 0) a lower bound. The result says
  honestly whether PH converged (its convergence metric below the threshold) or stopped at its
  iteration limit, and the relative gap between the two bounds.

Under MPI (``mpiexec -n N python -m mpi4py ...``) mpi-sppy spreads the leaves over ranks; in one
process it runs them in turn. The proximal term is linearised because HiGHS is used through Pyomo's
appsi interface, which does not take quadratic objectives.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from optimizer.data_io import InputData
from optimizer.stochastic import build_stochastic, fix_first_stage, leaves, scenario_creator


@dataclass(frozen=True)
class PHOptions:
    """Progressive hedging's knobs (``solve --ph-iterations/--ph-rho/--ph-convthresh``)."""

    iterations: int = 100  # PHIterLimit: PH stops here if it has not converged
    rho: float = 1.0  # defaultPHrho: the proximal weight; too large stops at a wrong plan
    convthresh: float = 1e-7  # PH has converged when its convergence metric falls below this


@dataclass(frozen=True)
class LeafFailure:
    """One leaf solve of PH that gave no solution: in which iteration (0: each leaf on its own),
    which leaf, what the solver said, how it was tried again and whether that solved it."""

    iteration: int
    leaf: str
    termination: str
    retry: str
    recovered: bool

    def __str__(self) -> str:
        then = "solved" if self.recovered else "no solution either"
        return (
            f"iteration {self.iteration}: leaf {self.leaf} {self.termination}, "
            f"{then} at a second attempt with {self.retry}"
        )


RETRY_LP = ("the interior point method", {"solver": "ipm"})
"""The second attempt at an LP leaf without a solution. PH's linearised proximal terms (cuts on
x² at every iterate) leave badly scaled leaves: on the chip case (rho 0.001) HiGHS's simplex ended
32 of 434 leaf solves with model status Unknown, its point 1e-7 to 2e-6 outside the primal
feasibility tolerance; the interior point method (with crossover) solved all 19 such leaves of
that run, presolve off 29 of 32, primal simplex 15 of 16."""

RETRY_MIP = ("presolve off", {"presolve": "off"})
"""The second attempt at a MIP leaf (the base's leaves carry the fund binaries) without a solution:
the LP solver option would make HiGHS drop integrality, so presolve is turned off instead. HiGHS
once called a leaf of the 12-leaf base infeasible in PH's iteration 1 that is optimal alone."""


def _is_mip(block: Any) -> bool:
    return any(not v.is_continuous() for v in block.component_data_objects(pyo.Var, active=True))


_HIGHS_DEFAULT = object()


def _highs_default(name: str) -> Any:
    """HiGHS's default value of option ``name`` (a fresh ``Highs`` object's)."""
    from optimizer.solve import new_highs

    return new_highs().getOptionValue(name)[1]


def _leaf_watch(limit: float | None) -> type:
    """An mpi-sppy extension that records every leaf solve without a solution and tries each such
    leaf once more (:data:`RETRY_LP`, :data:`RETRY_MIP`; within what is left of ``limit``), after the loop
    over the leaves; mpi-sppy itself only prints the failure and goes on (after iteration 0 it
    stops only when no leaf has a solution)."""
    from mpisppy.extensions.extension import Extension

    class LeafWatch(Extension):
        def __init__(self, opt: Any) -> None:
            super().__init__(opt)
            self.failures: list[LeafFailure] = []
            self._failed: dict[str, str] = {}
            self._again = False

        def post_solve(self, subproblem: Any, results: Any) -> Any:
            if not self._again and not subproblem._mpisppy_data.solution_available:
                term = "no results"
                if results is not None:
                    term = f"{results.solver.termination_condition}"
                for k, s in self.opt.local_scenarios.items():
                    if s is subproblem:
                        self._failed[k] = term
            return results

        def post_solve_loop(self) -> None:
            failed, self._failed = self._failed, {}
            for k, term in failed.items():
                s = self.opt.local_scenarios[k]
                how, retry = RETRY_MIP if _is_mip(s) else RETRY_LP
                recovered = self._again_solve(k, s, retry)
                self.failures.append(LeafFailure(int(self.opt._PHIter), k, term, how, recovered))

        def _again_solve(self, k: str, s: Any, retry: dict[str, Any]) -> bool:
            opts = dict(self.opt._effective_solver_options(self.opt._PHIter)) | retry
            if limit is not None:
                left = limit - (time.perf_counter() - self.opt.start_time)
                if left <= 0:
                    return False
                opts["time_limit"] = left
            plugin_options = s._solver_plugin.options
            before = {key: plugin_options.get(key, _HIGHS_DEFAULT) for key in opts}
            self._again = True
            try:
                self.opt.solve_one(opts, k, s, gripe=True, need_solution=False)
            finally:
                self._again = False
                # the plugin keeps options between solves (and sets them on its persistent HiGHS
                # each solve): put back the values PH's own solves had, HiGHS's defaults if unset
                for key, value in before.items():
                    plugin_options[key] = _highs_default(key) if value is _HIGHS_DEFAULT else value
            return bool(s._mpisppy_data.solution_available)

    return LeafWatch


@dataclass(frozen=True)
class MpiSppyResult:
    """What an mpi-sppy run gave: the objective, the first stage, and for PH its honest status."""

    method: str
    objective: float
    first_stage: dict[tuple[str, Any], float]
    lower_bound: float | None = None
    iterations: int | None = None
    converged: bool | None = None
    conv: float | None = None  # PH's final convergence metric
    options: PHOptions | None = None
    time_limit_s: float | None = None  # stopped at this time limit (PH: between iterations)
    failures: tuple[LeafFailure, ...] = ()  # PH's leaf solves that gave no solution

    @property
    def unrecovered(self) -> tuple[LeafFailure, ...]:
        """The failed leaf solves that a second attempt did not repair."""
        return tuple(f for f in self.failures if not f.recovered)

    @property
    def gap(self) -> float | None:
        """(best plan − lower bound) / |best plan|: how far PH's plan may be from the optimum."""
        if self.lower_bound is None:
            return None
        return (self.objective - self.lower_bound) / max(abs(self.objective), 1e-12)

    @property
    def status(self) -> str:
        """For an extensive form ``optimal``, ``time_limit`` (stopped with a plan) or
        ``no_solution``; for PH ``converged``, ``time_limit`` or ``iteration_limit``, and
        ``leaf_failed`` when a leaf's solve gave no solution even at a second attempt (PH went on
        with that leaf's previous solution: its iterates, and whether they agree, mean little)."""
        if self.method == "ef":
            if not self.first_stage:
                return "no_solution"
            return "time_limit" if self.time_limit_s is not None else "optimal"
        if self.unrecovered:
            return "leaf_failed"
        if self.converged:
            return "converged"
        return "time_limit" if self.time_limit_s is not None else "iteration_limit"

    def summary(self) -> dict[str, Any]:
        """The Summary metrics of this run (``mpisppy_*`` and ``ph_*``)."""
        out: dict[str, Any] = {
            "mpisppy_method": self.method,
            "mpisppy_status": self.status,
            "mpisppy_objective_musd": self.objective,
        }
        if self.method == "ph":
            o = self.options or PHOptions()
            out |= {
                "ph_lower_bound_musd": self.lower_bound,
                "ph_gap": self.gap,
                "ph_iterations": self.iterations,
                "ph_iteration_limit": o.iterations,
                "ph_rho": o.rho,
                "ph_convthresh": o.convthresh,
                "ph_conv": self.conv,
            }
            if self.failures:
                out["ph_failed_leaf_solves"] = "; ".join(str(f) for f in self.failures)
        return out


class LeafSolveError(RuntimeError):
    """PH could not start: a leaf of its iteration 0 has no solution (the message names it)."""


def _creator(name: str, data: InputData | None = None) -> pyo.ConcreteModel:
    from mpisppy.utils import sputils

    m = scenario_creator(name, data)
    obj = m.risk_objective if hasattr(m, "risk_objective") else m.objective
    sputils.attach_root_node(m, obj, m.nonant_vars)
    return m


def _first_stage(
    model: pyo.ConcreteModel, values: dict[int, float]
) -> dict[tuple[str, Any], float]:
    return {key: values[i] for i, key in enumerate(model.nonant_keys)}


def run_mpisppy(*args: Any, **kwargs: Any) -> MpiSppyResult:
    """Solve the stochastic plan with mpi-sppy (see :func:`_run`); its progress lines go to stderr so
    that stdout stays clean for ``--json``."""
    with contextlib.redirect_stdout(sys.stderr):
        return _run(*args, **kwargs)


def _run_ef(
    names: list[str],
    kwargs: dict[str, Any],
    solver: str,
    limit: float | None,
    leaf_options: dict[str, Any] | None = None,
) -> MpiSppyResult:
    """mpi-sppy's extensive form of the leaves ``names``, solved by HiGHS within ``limit`` seconds.

    Stopped at the limit with a plan, the result says so (status ``time_limit``, the plan kept:
    feasible, not proven optimal); without a plan, its first stage is empty and its objective NaN,
    for the caller to report — never a first stage of zeros read from unsolved variables."""
    from mpisppy.opt.ef import ExtensiveForm
    from pyomo.opt import TerminationCondition

    ef = ExtensiveForm(
        {"solver": solver}, names, _creator, model_name="plan", scenario_creator_kwargs=kwargs
    )
    solver_options = dict(leaf_options or {})
    if limit is not None:
        solver_options["time_limit"] = float(limit)
    results = ef.solve_extensive_form(solver_options=solver_options or None)
    stopped = results is not None and results.solver.termination_condition in (
        TerminationCondition.maxTimeLimit,
        TerminationCondition.maxIterations,
    )
    if not ef.first_stage_solution_available:
        return MpiSppyResult("ef", float("nan"), {}, time_limit_s=limit if stopped else None)
    first = ef.ef.component(names[0]) if hasattr(ef.ef, names[0]) else None
    scen = first if first is not None else next(iter(ef.scenarios()))[1]
    values = {i: (v.value or 0.0) for i, v in enumerate(scen.nonant_vars)}
    return MpiSppyResult(
        "ef",
        float(pyo.value(ef.ef.EF_Obj)),
        _first_stage(scen, values),
        time_limit_s=limit if stopped else None,
    )


def _run(
    data: InputData,
    method: str = "ef",
    solver: str = "appsi_highs",
    ph: PHOptions | None = None,
    options: Any = None,
    evaluate: bool = True,
) -> MpiSppyResult:
    """Solve the stochastic plan of ``data`` with mpi-sppy's extensive form or progressive hedging.

    ``evaluate=False`` (PH only) skips the exact evaluation of PH's first stage: the caller, which
    builds the extensive form anyway, fixes :attr:`MpiSppyResult.first_stage` there, solves it once
    and sets ``objective`` (``dataclasses.replace``); until then ``objective`` is NaN. On the base
    that saves one solve and one 12-copy model in memory.
    """
    names = [lf.name for lf in leaves(data)]
    kwargs = {"data": data}
    # the solve's time limit (Settings or --time-limit) bounds mpi-sppy too: HiGHS's own for the
    # extensive form; for PH mpi-sppy looks at it after each iteration (each leaf solved once), so
    # PH may pass it by one iteration
    limit = (
        options.merged(data.settings).time_limit_s
        if options is not None
        else data.settings.time_limit_s
    )
    threads = (
        options.merged(data.settings).threads if options is not None else data.settings.threads
    )
    # --threads bounds mpi-sppy's HiGHS runs too (before, its leaves ran on HiGHS's default pool
    # whatever the analyst asked)
    leaf_options: dict[str, Any] = {} if threads is None else {"threads": int(threads)}
    if threads is not None:
        from optimizer.solve import claim_threads

        claim_threads(int(threads))  # a pool started at another count would fail every leaf
    if method == "ef":
        return _run_ef(names, kwargs, solver, limit, leaf_options)
    if method != "ph":
        raise ValueError(f"unknown mpi-sppy method {method!r}: use 'ef' or 'ph'")
    from mpisppy.opt.ph import PH

    po = ph or PHOptions()
    ph_options = {
        "solver_name": solver,
        "PHIterLimit": po.iterations,
        "defaultPHrho": po.rho,
        "convthresh": po.convthresh,
        "verbose": False,
        "display_progress": False,
        "display_timing": False,
        "iter0_solver_options": dict(leaf_options),
        "iterk_solver_options": dict(leaf_options),
        "linearize_proximal_terms": True,
        "linearize_binary_proximal_terms": True,
        "proximal_linearization_tolerance": 1e-4,
        "time_limit": limit,
    }
    algo = PH(
        ph_options,
        names,
        _creator,
        scenario_creator_kwargs=kwargs,
        extensions=_leaf_watch(limit),
    )
    try:
        conv, _eobj, bound = algo.ph_main()
    except RuntimeError as exc:
        failed = [f for f in algo.extobject.failures if not f.recovered]
        if not failed:
            raise
        # mpi-sppy stops after iteration 0 when a leaf has no solution: no bound, no plan
        raise LeafSolveError(
            "progressive hedging: no solution for a leaf in its iteration 0 ("
            + "; ".join(str(f) for f in failed)
            + "), so PH has no bound and no plan"
        ) from exc
    failures = tuple(algo.extobject.failures)
    converged = conv is not None and conv < po.convthresh
    timed_out = (
        not converged
        and limit is not None
        and int(algo._PHIter) < po.iterations
        and time.perf_counter() - algo.start_time >= limit
    )
    scen = next(iter(algo.local_scenarios.values()))
    xbar = {
        i: pyo.value(scen._mpisppy_model.xbars[ndn_i])
        for i, ndn_i in enumerate(scen._mpisppy_data.nonant_indices)
    }
    first = _first_stage(scen, xbar)
    objective = float("nan")
    if evaluate:  # PH's first stage evaluated exactly in the built-in extensive form
        from optimizer.solve import solve

        ef = build_stochastic(data)
        fix_first_stage(ef, first)  # values past a bound are put on it (moved ones in the CLI)
        sol = solve(ef, options)
        if not sol.has_solution:
            raise RuntimeError(f"PH's first stage is not feasible in every leaf ({sol.status})")
        objective = float(sol.objective)
    return MpiSppyResult(
        "ph",
        objective,
        first,
        float(bound),
        int(algo._PHIter),
        converged,
        None if conv is None else float(conv),
        po,
        float(limit) if timed_out else None,
        failures,
    )
