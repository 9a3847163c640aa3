"""Run the stochastic plan under mpi-sppy when the outcome tree outgrows one extensive form (DESIGN §8).

mpi-sppy receives the same per-outcome model as the built-in extensive form
(:func:`optimizer.stochastic.scenario_creator`), with the root node attached to its non-anticipative
variables. Two methods:

- ``ef``: mpi-sppy's extensive form (the same optimum as the built-in one);
- ``ph``: progressive hedging. PH is a heuristic: its iterates agree on the first stage only in the
  limit, so the first stage it converges to (``xbar``, binaries rounded) is fixed in the built-in
  extensive form and solved exactly; that objective is reported (an upper bound, equal to the optimum
  when PH found the optimal first stage), with PH's own lower bound beside it.

Under MPI (``mpiexec -n N python -m mpi4py ...``) mpi-sppy spreads the outcomes over ranks; in one
process it runs them in turn. The proximal term is linearised because HiGHS is used through Pyomo's
appsi interface, which does not take quadratic objectives.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from optimizer.data_io import InputData
from optimizer.stochastic import build_stochastic, fix_first_stage, outcomes, scenario_creator


@dataclass(frozen=True)
class MpiSppyResult:
    """What an mpi-sppy run gave: the objective, the first stage, and for PH its bound and iterations."""

    method: str
    objective: float
    first_stage: dict[tuple[str, Any], float]
    lower_bound: float | None = None
    iterations: int | None = None


def _creator(name: str, data: InputData | None = None) -> pyo.ConcreteModel:
    from mpisppy.utils import sputils

    m = scenario_creator(name, data)
    sputils.attach_root_node(m, m.objective, m.nonant_vars)
    return m


def _first_stage(
    model: pyo.ConcreteModel, values: dict[int, float]
) -> dict[tuple[str, Any], float]:
    return {
        (v.parent_component().local_name, v.index()): values[i]
        for i, v in enumerate(model.nonant_vars)
    }


def run_mpisppy(*args: Any, **kwargs: Any) -> MpiSppyResult:
    """Solve the stochastic plan with mpi-sppy (see :func:`_run`); its progress lines go to stderr so
    that stdout stays clean for ``--json``."""
    with contextlib.redirect_stdout(sys.stderr):
        return _run(*args, **kwargs)


def _run(
    data: InputData,
    method: str = "ef",
    solver: str = "appsi_highs",
    ph_iterations: int = 100,
    rho: float = 1.0,
    options: Any = None,
) -> MpiSppyResult:
    """Solve the stochastic plan of ``data`` with mpi-sppy's extensive form or progressive hedging."""
    names = [n for n, _o, _p in outcomes(data)]
    kwargs = {"data": data}
    if method == "ef":
        from mpisppy.opt.ef import ExtensiveForm

        ef = ExtensiveForm(
            {"solver": solver}, names, _creator, model_name="plan", scenario_creator_kwargs=kwargs
        )
        ef.solve_extensive_form()
        first = ef.ef.component(names[0]) if hasattr(ef.ef, names[0]) else None
        scen = first if first is not None else next(iter(ef.scenarios()))[1]
        values = {i: (v.value or 0.0) for i, v in enumerate(scen.nonant_vars)}
        return MpiSppyResult("ef", float(pyo.value(ef.ef.EF_Obj)), _first_stage(scen, values))
    if method != "ph":
        raise ValueError(f"unknown mpi-sppy method {method!r}: use 'ef' or 'ph'")
    from mpisppy.opt.ph import PH

    ph_options = {
        "solver_name": solver,
        "PHIterLimit": ph_iterations,
        "defaultPHrho": rho,
        "convthresh": 1e-7,
        "verbose": False,
        "display_progress": False,
        "display_timing": False,
        "iter0_solver_options": {},
        "iterk_solver_options": {},
        "linearize_proximal_terms": True,
        "linearize_binary_proximal_terms": True,
        "proximal_linearization_tolerance": 1e-4,
    }
    ph = PH(ph_options, names, _creator, scenario_creator_kwargs=kwargs)
    _conv, _eobj, bound = ph.ph_main()
    scen = next(iter(ph.local_scenarios.values()))
    xbar = {
        i: pyo.value(scen._mpisppy_model.xbars[ndn_i])
        for i, ndn_i in enumerate(scen._mpisppy_data.nonant_indices)
    }
    first = _first_stage(scen, xbar)
    # evaluate PH's first stage exactly in the built-in extensive form
    from optimizer.solve import solve

    ef = build_stochastic(data)
    fix_first_stage(ef, first)
    sol = solve(ef, options)
    if not sol.has_solution:
        raise RuntimeError(f"PH's first stage is not feasible in every outcome ({sol.status})")
    return MpiSppyResult("ph", float(sol.objective), first, float(bound), ph._PHIter)
