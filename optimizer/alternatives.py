r"""Near-optimal alternatives: which decisions are firm and which are free (DESIGN §10).

A least-cost plan is one point of a flat valley. With the least cost :math:`C^*` known, the cost row

.. math::  \sum_j c_j x_j + c_0 \le (1 + \varepsilon)\, C^*

(:math:`c` the objective of §5, :math:`c_0` its constant, :math:`\varepsilon` = ``mga_slack``) bounds a
set of plans that cost at most :math:`\varepsilon` more, and each **measure** :math:`\mu(x) = a \cdot x +
a_0` of the Alternatives sheet (or the default set) is minimised and maximised over it. The range
:math:`[\min \mu, \max \mu]` against :math:`\mu` at the optimum says how firm that decision is: a narrow
range is firm, a wide one is a tie the cost hardly decides. ``--random N`` further plans minimise
:math:`\sum_i w_i \mu_i / s_i` with :math:`w_i \sim U[-1, 1]` (seeded) and :math:`s_i` the range of
measure i found by the min/max plans (so no measure dominates by its unit), to map the valley inside.

How it is solved (PERFORMANCE.md, ``optimizer/warm.py``): the model is compiled once
(:func:`optimizer.solve.compile_model`) and the cost row is appended to it once, free at first; the
least cost is solved cold in a persistent :class:`~optimizer.warm.WarmSolver`, then the row gets its
bound :math:`(1+\varepsilon)C^* - c_0` (plus 1e-9·|C*| so that at ε = 0 the optimum itself, which
the solver meets only to its tolerances, stays feasible), and every plan only changes the objective
and re-solves from the previous basis. Integer columns (whole modules, bet funding) stay decisions
inside the bound: a MIP with few integer assignments (the shipped base: two bet binaries) is solved
exactly by the sweep workers' enumeration (each assignment's LP, warm), any other MIP by branch and
bound for each plan (cold).

Warm or cold, per plan: a warm re-solve is kept only if it ends optimal and passes cheap checks
(:meth:`MgaModel.check`: HiGHS holds the plan's objective and bound, the cost recomputed from the
solution is inside the bound, the objective recomputed from it is HiGHS's, and no plan already known
to be inside the bound — the optimum, the plans before — does better on this plan's objective).
Otherwise the plan is solved again from scratch and the cold solution reported; each plan records
its ``path`` (warm, cold, or warm then cold) and what the checks found (Plans sheet, ``--json``).

Measures (all in the units of DESIGN §3; fabs count capacity in output units per year):

=============  ==========================================================  ============
measure        :math:`\mu`                                                  unit
=============  ==========================================================  ============
capacity       :math:`\sum cap_{k,r,y}` (existing included)                 MW
build          :math:`\sum build_{k,r,v}`                                   MW
capital        :math:`\sum fin_{j,k,r,v}` (undiscounted capital raised)     $M
generation     :math:`\sum_h hours_h \cdot gen_{p,r,y,h}`                   MWh
deployed       :math:`\sum deploy_{r,v}`                                    accelerators
hosted         :math:`\sum_{g,c} serve_{g,r,c,y}` (r the host)              H100e
=============  ==========================================================  ============

each summed over the tuples its ``tech``, ``class``, ``region`` and ``year`` select (blank = all).
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.components.contract import declared, expression_items
from optimizer.data_io import InputData
from optimizer.schema import ACCELERATOR, TECH_CLASSES
from optimizer.solve import SolveOptions, StandardForm, compile_model, new_highs
from optimizer.warm import SIMPLEX_PRIMAL, WarmSolver, worker_options

logger = logging.getLogger(__name__)

BOUND_TOLERANCE = 1e-9
"""Relative room added to the cost bound, so that the optimum (met to the solver's tolerances) stays
inside it at ε = 0."""

CHECK_TOLERANCE = 1e-6
"""Relative tolerance of the checks of a plan (:meth:`MgaModel.check`): its cost against the bound,
its objective against HiGHS's, against the plans already known. Far above HiGHS's feasibility and
optimality tolerances (1e-7 on scaled rows), far below any difference worth a re-solve."""

WARM_BUDGET: float | None = None
"""Default of ``AltConfig.warm_budget``: off. A factor f stops a warm re-solve after f times the
optimum's cold solve (at least :data:`WARM_BUDGET_MIN_S`) and solves the plan cold instead. Off:
on the shipped base a plan solved cold is itself 2.6–7.8× the optimum (four hosted plans, 85–258 s
against 33 s; benchmarks/RESULTS.md), and whether stopping the warm re-solve pays depends on the plan
(those four warm took 0.73–4.98× their own cold solve) — too few plans measured to choose a factor."""

WARM_SIMPLEX = "dual"
"""Default of ``AltConfig.warm_simplex``: the simplex method of a plan's re-solve from the previous
basis. Only the objective changes between plans, so the old basis stays primal feasible and the
primal simplex can start from it (``primal``); ``dual`` keeps HiGHS's choice (dual simplex, Devex
pricing after a restart). See benchmarks/RESULTS.md for what each measured on the base."""

WARM_SIMPLICES = ("dual", "primal")

WARM_BUDGET_MIN_S = 5.0
"""Seconds a warm re-solve always gets (small models solve in milliseconds, and a budget that short
would stop re-solves on timer noise)."""

PATH_WARM = "warm"
PATH_COLD = "cold"
PATH_FALLBACK = "warm, then cold"
PATHS = (PATH_WARM, PATH_COLD, PATH_FALLBACK)
"""How a plan's reported solution was found: re-solved from the previous basis; solved from scratch
(the optimum, a Dask worker's first plan, every plan of a branch-and-bound MIP); or re-solved warm,
found wanting by the checks, and solved again from scratch (the cold solution is reported)."""

UNITS = {
    "capacity": "MW",
    "build": "MW",
    "capital": "$M",
    "generation": "MWh",
    "deployed": "accelerators",
    "hosted": "H100e",
}


class AlternativesError(ValueError):
    """The study cannot start (e.g. the least-cost plan was not solved to optimality)."""


@dataclass(frozen=True)
class MeasureSpec:
    """One row of the Alternatives sheet (DESIGN §10); ``None`` = all.

    Attributes
    ----------
    name : the measure's name (its row in Ranges, its column in Plans).
    measure : capacity, build, capital, generation, deployed or hosted.
    tech, cls, region, year : the selection (blank = all).
    sense : ``min``, ``max`` or ``both``.
    """

    name: str
    measure: str
    tech: str | None = None
    cls: str | None = None
    region: str | None = None
    year: int | None = None
    sense: str = "both"

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (what Dask tasks carry)."""
        return {
            "name": self.name,
            "measure": self.measure,
            "tech": self.tech,
            "cls": self.cls,
            "region": self.region,
            "year": self.year,
            "sense": self.sense,
        }


@dataclass
class Measure:
    """A measure compiled to the model's columns: ``μ(x) = coef · x[cols] + const``."""

    spec: MeasureSpec
    unit: str
    cols: np.ndarray
    coef: np.ndarray
    const: float

    @property
    def constant(self) -> bool:
        """True when no decision moves it (min = max = optimum, nothing to solve)."""
        return len(self.cols) == 0

    def value(self, x: np.ndarray) -> float:
        """The measure at the primal point ``x`` (columns of the standard form)."""
        return float(self.const + self.coef @ x[self.cols]) if len(self.cols) else self.const


@dataclass(frozen=True)
class PlanSpec:
    """One plan to solve: minimise ``Σ weights[name] · μ_name`` inside the cost bound.

    ``kind`` is ``min``, ``max`` or ``random``; ``target`` the measure a min/max plan moves.
    """

    name: str
    kind: str
    target: str | None
    weights: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (what Dask tasks carry)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "target": self.target,
            "weights": [list(w) for w in self.weights],
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> PlanSpec:
        """The inverse of :meth:`as_dict`."""
        return PlanSpec(
            d["name"], d["kind"], d["target"], tuple((n, float(w)) for n, w in d["weights"])
        )


@dataclass
class PlanResult:
    """What one plan came to: status, cost, every measure, capacity by class, region and year."""

    name: str
    kind: str
    target: str | None
    status: str
    termination: str
    cost_musd: float | None
    measures: dict[str, float]
    capacity: dict[tuple[str, str, int], float]
    solve_seconds: float
    warm: bool
    message: str = ""
    funded: tuple[str, ...] = ()  # R&D bets funded in this plan
    path: str = ""  # PATH_WARM, PATH_COLD or PATH_FALLBACK: how the reported solution was found
    check: str = ""  # why the warm re-solve was not trusted (PATH_FALLBACK), or why this one is not

    @property
    def solved(self) -> bool:
        """True when the plan has values (optimal, or feasible at a time limit)."""
        return self.status in ("optimal", "feasible")

    def as_json(self, c_star: float) -> dict[str, Any]:
        """One JSON line of ``--json``."""
        target_value = self.measures.get(self.target) if self.target else None
        return {
            "plan": self.name,
            "kind": self.kind,
            "measure": self.target,
            "value": target_value,
            "status": self.status,
            "cost_musd": self.cost_musd,
            "cost_vs_optimum": (self.cost_musd / c_star - 1.0)
            if self.cost_musd is not None and c_star
            else None,
            "solve_seconds": round(self.solve_seconds, 4),
            "warm": self.warm,
            "path": self.path,
            "check": self.check or None,
            "funded_bets": list(self.funded),
            "measures": self.measures,
        }

    def to_row(self) -> dict[str, Any]:
        """Plain dict (what a Dask worker sends back)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "target": self.target,
            "status": self.status,
            "termination": self.termination,
            "cost_musd": self.cost_musd,
            "measures": self.measures,
            "capacity": [[c, r, y, v] for (c, r, y), v in self.capacity.items()],
            "solve_seconds": self.solve_seconds,
            "warm": self.warm,
            "message": self.message,
            "funded": list(self.funded),
            "path": self.path,
            "check": self.check,
        }

    @staticmethod
    def from_row(d: dict[str, Any]) -> PlanResult:
        """The inverse of :meth:`to_row`."""
        return PlanResult(
            d["name"],
            d["kind"],
            d["target"],
            d["status"],
            d["termination"],
            d["cost_musd"],
            dict(d["measures"]),
            {(c, r, int(y)): float(v) for c, r, y, v in d["capacity"]},
            float(d["solve_seconds"]),
            bool(d["warm"]),
            d.get("message", ""),
            tuple(d.get("funded", ())),
            d.get("path", ""),
            d.get("check", ""),
        )


@dataclass(frozen=True)
class AltConfig:
    """Options of one alternatives study.

    Attributes
    ----------
    slack : ε; ``None`` = Settings ``mga_slack``.
    random : number of random-weight plans after the min/max plans.
    seed : seed of the random weights.
    bet_mode : ``succeed`` or ``fail`` (alternatives are deterministic plans; ``None`` = Settings, and
        ``succeed`` where Settings says ``stochastic``).
    options : HiGHS options (time limit per solve, MIP gap, threads).
    workers : local Dask workers (0 = solve in this process).
    scheduler : address of an existing Dask scheduler.
    warm_budget : a warm re-solve is stopped after this many times the optimum's cold solve time
        (:data:`WARM_BUDGET`) and the plan solved cold; None lets it run to the time limit.
    warm_simplex : ``dual`` or ``primal``: the simplex method of a re-solve from the previous basis
        (:data:`WARM_SIMPLEX`).
    """

    slack: float | None = None
    random: int = 0
    seed: int = 0
    bet_mode: str | None = None
    options: SolveOptions = field(default_factory=SolveOptions)
    workers: int = 0
    scheduler: str | None = None
    warm_budget: float | None = WARM_BUDGET
    warm_simplex: str = WARM_SIMPLEX


@dataclass
class AltResult:
    """A finished study: the optimum, every plan, the ranges."""

    source: str
    slack: float
    bet_mode: str
    c_star: float
    bound_musd: float
    measures: list[Measure]
    optimum: PlanResult
    plans: list[PlanResult]
    cold_seconds: float
    config: AltConfig
    default_set: bool
    run_seconds: float = 0.0

    def ranges(self) -> pd.DataFrame:
        """The Ranges table of §10: measure, optimum, min, max and each extreme plan's cost."""
        by_name = {p.name: p for p in self.plans}
        rows = []
        for m in self.measures:
            name = m.spec.name
            opt = self.optimum.measures.get(name)
            lo = hi = cost_lo = cost_hi = None
            if m.constant:
                lo = hi = m.const
                cost_lo = cost_hi = self.c_star
            else:
                p = by_name.get(plan_name("min", name))
                if p is not None and p.solved:
                    lo, cost_lo = p.measures[name], p.cost_musd
                p = by_name.get(plan_name("max", name))
                if p is not None and p.solved:
                    hi, cost_hi = p.measures[name], p.cost_musd
            if m.spec.sense == "min":
                hi = cost_hi = None
            elif m.spec.sense == "max":
                lo = cost_lo = None
            span = hi - lo if hi is not None and lo is not None else None
            rows.append(
                {
                    "measure": name,
                    "optimum": opt,
                    "min": lo,
                    "max": hi,
                    "cost_at_min_musd": cost_lo,
                    "cost_at_max_musd": cost_hi,
                    "span": span,
                    "unit": m.unit,
                    "sense": m.spec.sense,
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "measure",
                "optimum",
                "min",
                "max",
                "cost_at_min_musd",
                "cost_at_max_musd",
                "span",
                "unit",
                "sense",
            ],
        )

    def paths(self) -> dict[str, int]:
        """How many plans took each path (:data:`PATHS`), the optimum not counted."""
        return {k: sum(1 for p in self.plans if p.path == k) for k in PATHS}

    def summary(self) -> dict[str, Any]:
        """The final ``--json`` line."""
        failed = [p.name for p in self.plans if not p.solved]
        rng = self.ranges()
        return {
            "summary": True,
            "input": self.source,
            "optimum_musd": self.c_star,
            "slack": self.slack,
            "cost_bound_musd": self.bound_musd,
            "bet_mode": self.bet_mode,
            "plans": len(self.plans),
            "solved": len(self.plans) - len(failed),
            "failed": failed,
            "paths": self.paths(),
            "cold_seconds": round(self.cold_seconds, 4),
            "warm_seconds_median": _median(
                [p.solve_seconds for p in self.plans if p.warm and p.solved]
            ),
            "ranges": {
                r["measure"]: {
                    "optimum": _clean(r["optimum"]),
                    "min": _clean(r["min"]),
                    "max": _clean(r["max"]),
                    "unit": r["unit"],
                }
                for r in rng.to_dict("records")
            },
        }


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _clean(v: Any) -> Any:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return float(v)


def plan_name(kind: str, measure: str) -> str:
    """The name of a min/max plan of a measure (``min capital ARE``)."""
    return f"{kind} {measure}"


# ------------------------------------------------------------------------------------------------
# Measures
# ------------------------------------------------------------------------------------------------
def measure_specs(data: InputData) -> tuple[list[MeasureSpec], bool]:
    """The Alternatives rows of ``data`` (validated by the reader), or the default set.

    Returns the specs and whether they are the default set: capital by region over all years,
    capacity by class and region in the last model year, compute hosted by region over all years.
    """
    df = data.alternatives
    if df is not None and len(df):
        out = []
        for row in df.to_dict("records"):
            out.append(
                MeasureSpec(
                    name=str(row["name"]),
                    measure=row["measure"],
                    tech=row["tech"],
                    cls=row["class"],
                    region=row["region"],
                    year=None if row["year"] is None else int(row["year"]),
                    sense=row["sense"] or "both",
                )
            )
        return out, False
    regions = data.regions_list
    last = data.years[-1] if data.years else None
    specs = [MeasureSpec(f"capital {r}", "capital", region=r) for r in regions]
    for cls in TECH_CLASSES:
        specs += [
            MeasureSpec(f"capacity {cls} {r} {last}", "capacity", cls=cls, region=r, year=last)
            for r in regions
        ]
    specs += [MeasureSpec(f"hosted {r}", "hosted", region=r) for r in regions]
    return specs, True


def _match(value: Any, wanted: Any) -> bool:
    return wanted is None or value == wanted


def _terms(m: Any, spec: MeasureSpec) -> tuple[list[tuple[float, Any]], float]:
    """The (coefficient, variable) terms and constant of a measure on a deterministic model."""
    data, dv = m.data, m.derived
    tech_class = {k: v["class"] for k, v in data.tech.items()}
    terms: list[tuple[float, Any]] = []
    const = 0.0

    def tech_ok(k: str) -> bool:
        cls = tech_class.get(k, ACCELERATOR)
        return _match(k, spec.tech) and _match(cls, spec.cls)

    kind = spec.measure
    if kind == "capacity":
        for (k, r, y), lin in expression_items(m, "cap"):
            if tech_ok(k) and _match(r, spec.region) and _match(y, spec.year):
                cu = dv.cap_unit(k)
                const += cu * lin.const
                terms += [(cu * c, v) for c, v in zip(lin.coefs, lin.vars, strict=True)]
    elif kind == "build":
        for (k, r, v), var in declared(m, "v_build").items():
            if tech_ok(k) and _match(r, spec.region) and _match(v, spec.year):
                terms.append((dv.cap_unit(k), var))
    elif kind == "capital":
        for (_j, k, r, v), lin in expression_items(m, "capital"):
            if tech_ok(k) and _match(r, spec.region) and _match(v, spec.year):
                const += lin.const
                terms += list(zip(lin.coefs, lin.vars, strict=True))
    elif kind == "generation":
        hours = data.slice_hours
        for (p, r, y, h), var in declared(m, "v_gen").items():
            if tech_ok(p) and _match(r, spec.region) and _match(y, spec.year):
                terms.append((hours[h], var))
    elif kind == "deployed":
        for (r, v), var in declared(m, "v_deploy").items():
            if _match(r, spec.region) and _match(v, spec.year):
                terms.append((dv.unit, var))
    elif kind == "hosted":
        for (_g, r, _c, y), var in declared(m, "v_serve").items():
            if _match(r, spec.region) and _match(y, spec.year):
                terms.append((dv.unit, var))
    else:  # the reader accepts only the measures above
        raise ValueError(f"unknown measure {kind!r}")
    return terms, const


def _unit(spec: MeasureSpec, data: InputData) -> str:
    unit = UNITS[spec.measure]
    if spec.measure in ("capacity", "build"):
        cls = spec.cls or (data.tech[spec.tech]["class"] if spec.tech in data.tech else None)
        if cls == "fab":
            return "units/yr"
        if cls is None and data.techs_of("fab"):
            return "MW (fabs: units/yr)"
    return unit


def compile_measures(m: Any, columns: list[Any], specs: Iterable[MeasureSpec]) -> list[Measure]:
    """Each measure as coefficients on the standard form's columns.

    A variable that is in no row and not in the objective is not a column; it is free of the
    plan, so it contributes nothing (it is 0 in every solution the planner reports).
    """
    pos = {id(v): i for i, v in enumerate(columns)}
    out = []
    for spec in specs:
        terms, const = _terms(m, spec)
        acc: dict[int, float] = defaultdict(float)
        for c, v in terms:
            i = pos.get(id(v))
            if i is not None:
                acc[i] += c
        cols = np.fromiter(acc.keys(), dtype=np.int64, count=len(acc))
        coef = np.fromiter(acc.values(), dtype=float, count=len(acc))
        nz = coef != 0.0
        out.append(Measure(spec, _unit(spec, m.data), cols[nz], coef[nz], float(const)))
    return out


def _capacity_matrix(
    m: Any, columns: list[Any]
) -> tuple[list[tuple[str, str, int]], sp.csr_matrix, np.ndarray]:
    """Capacity by (class, region, year) as ``M @ x + c`` (the Capacity sheet of every plan)."""
    pos = {id(v): i for i, v in enumerate(columns)}
    tech_class = {k: v["class"] for k, v in m.data.tech.items()}
    keys: dict[tuple[str, str, int], int] = {}
    rows, cols, vals = [], [], []
    const: list[float] = []
    for (k, r, y), lin in expression_items(m, "cap"):
        key = (tech_class[k], r, int(y))
        i = keys.get(key)
        if i is None:
            i = keys[key] = len(keys)
            const.append(0.0)
        cu = m.derived.cap_unit(k)
        const[i] += cu * lin.const
        for c, v in zip(lin.coefs, lin.vars, strict=True):
            j = pos.get(id(v))
            if j is not None:
                rows.append(i)
                cols.append(j)
                vals.append(cu * c)
    mat = sp.csr_matrix((vals, (rows, cols)), shape=(len(keys), len(columns)))
    return list(keys), mat, np.asarray(const, dtype=float)


# ------------------------------------------------------------------------------------------------
# The persistent model with the cost row
# ------------------------------------------------------------------------------------------------
class MgaModel:
    """The compiled model plus the cost row, in a persistent :class:`~optimizer.warm.WarmSolver`.

    Parameters
    ----------
    model : the deterministic Pyomo model (:func:`optimizer.model.build_model`).
    specs : the measures.
    options : HiGHS options for every solve.
    monitor : a :class:`optimizer.progress.SolveMonitor` every solve runs through (a live line
        naming the plan; Ctrl-C stops HiGHS and raises ``SolveInterrupted``), or None.
    warm_simplex : the simplex method of a re-solve from the previous basis (:data:`WARM_SIMPLEX`).
    """

    def __init__(
        self,
        model: Any,
        specs: list[MeasureSpec],
        options: SolveOptions,
        monitor: Any = None,
        warm_simplex: str = WARM_SIMPLEX,
    ) -> None:
        if warm_simplex not in WARM_SIMPLICES:
            raise ValueError(f"warm_simplex {warm_simplex!r}: expected one of {WARM_SIMPLICES}")
        self.warm_simplex = warm_simplex
        sf = compile_model(model)
        self.columns = sf.columns
        self.offset = float(sf.offset)
        self.cost = np.array(sf.lp.col_cost_, dtype=float)
        self.measures = compile_measures(model, sf.columns, specs)
        self.by_name = {mm.spec.name: mm for mm in self.measures}
        self.cap_keys, self.cap_matrix, self.cap_const = _capacity_matrix(model, sf.columns)
        pos = {id(v): i for i, v in enumerate(sf.columns)}
        fund = getattr(model, "v_fund", {})
        self.fund_cols = [(b, pos[id(v)]) for b, v in fund.items() if id(v) in pos]
        self.options = options
        self.infeasible_input = list(model.derived.infeasible)
        # The cost row Σ c_j x_j ≤ bound is appended once, free until the least cost is known.
        nz = np.flatnonzero(self.cost)
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.passModel(sf.lp)
        h.addRow(-highspy.kHighsInf, highspy.kHighsInf, len(nz), nz.astype(np.int32), self.cost[nz])
        lp = h.getLp()
        if not len(sf.integer_cols):
            lp.integrality_ = []
        self.cost_row = lp.num_row_ - 1
        self.sf = StandardForm(lp, sf.columns, sf.rows, lp.offset_, sf.integer_cols)
        self.monitor = monitor
        self.solver = self._new_solver()
        self.c_star: float | None = None
        self.bound: float | None = None
        self.known: list[dict[str, float]] = []  # measures of plans known to be inside the bound
        self.warm_budget_s: float | None = None  # seconds a warm re-solve may take (then: cold)

    def _new_solver(self) -> WarmSolver:
        """A fresh persistent solver; its objective-only re-solves use :attr:`warm_simplex`."""
        solver = WarmSolver(self.options, self.monitor)
        solver.objective_strategy = SIMPLEX_PRIMAL if self.warm_simplex == "primal" else None
        return solver

    def solve_optimum(self) -> PlanResult:
        """Solve the least cost (cold; the cost row still free)."""
        if self.infeasible_input:
            return self._result(
                "optimum", "optimum", None, _failed("infeasible", "; ".join(self.infeasible_input))
            )
        res = self._run("optimum")
        out = self._result("optimum", "optimum", None, res)
        out.path = PATH_WARM if res.warm else PATH_COLD
        if res.status == "optimal":
            self.c_star = float(res.objective)
        return out

    def set_bound(self, c_star: float, slack: float) -> float:
        """Give the cost row its bound ``(1 + ε)·C*`` (in $M of net present cost); returns it."""
        bound = c_star + slack * abs(c_star) + BOUND_TOLERANCE * max(abs(c_star), 1.0)
        upper = np.array(self.sf.lp.row_upper_, dtype=float)
        upper[self.cost_row] = bound - self.offset
        self.sf.lp.row_upper_ = upper
        self.c_star, self.bound = c_star, bound
        return bound

    def objective(self, weights: Iterable[tuple[str, float]]) -> np.ndarray:
        """The objective vector of ``Σ w · μ``."""
        g = np.zeros(len(self.columns))
        for name, w in weights:
            mm = self.by_name[name]
            np.add.at(g, mm.cols, w * mm.coef)
        return g

    def solve_plan(self, plan: PlanSpec) -> PlanResult:
        """Minimise the plan's weighted measures inside the cost bound: warm, cold if that fails.

        The re-solve starts from the previous basis. If it does not end optimal, or its result
        fails :meth:`check`, the plan is solved again from scratch in a fresh HiGHS (whose basis
        the next plans then start from), and that solution is reported; the result's ``path`` says
        which (:data:`PATHS`) and ``check`` why the warm one was not kept. A cold result that
        fails the checks too is reported with status ``suspect`` (not solved).
        """
        if self.bound is None:
            raise AlternativesError("set_bound first: the cost row has no bound yet")
        g = self.objective(plan.weights)
        self.sf.lp.col_cost_ = g
        self.sf.lp.offset_ = 0.0
        self.sf.offset = 0.0
        res = self._run(plan.name, warm_budget=True)
        out = self._result(plan.name, plan.kind, plan.target, res)
        out.path = PATH_WARM if res.warm else PATH_COLD
        why = self.check(plan, g, res, out)
        if why and res.warm:
            logger.warning("%s: warm re-solve not kept (%s); solving it cold", plan.name, why)
            first = out.solve_seconds
            # from scratch; its basis serves the next plans
            self.solver = self._new_solver()
            res = self._run(f"{plan.name} (cold)")
            out = self._result(plan.name, plan.kind, plan.target, res)
            out.solve_seconds += first
            out.path, out.check = PATH_FALLBACK, f"warm: {why}"
            again = self.check(plan, g, res, out)
            if again:
                out.check += f"; cold: {again}"
                if res.status == "optimal":  # a time-limited point stays "feasible"
                    out.status = "suspect"
        elif why:
            out.check = why
            if out.status == "optimal":
                out.status = "suspect"
        if out.status == "optimal":
            self.known.append(out.measures)
        return out

    def check(self, plan: PlanSpec, g: np.ndarray, res: Any, out: PlanResult) -> str:
        """Why this solution of ``plan`` cannot be trusted, or ``""`` (cheap: no solve).

        1. HiGHS ended ``optimal``.
        2. HiGHS holds the intended model: its objective is ``g`` and the cost row's bound the one
           set (a change missed by an in-place update would leave the previous plan's).
        3. The cost ``c·x + c_0`` of the solution, recomputed here, is within the bound.
        4. ``g·x`` recomputed here equals HiGHS's objective value.
        5. No plan known to be inside the bound (the optimum, the plans before) has a lower
           objective ``Σ w_i μ_i``: each of them is a feasible point of this plan, so an optimum
           above one of them is wrong (a max plan that stopped at the previous min).

        Each comparison allows :data:`CHECK_TOLERANCE` relative to the values compared.
        """
        if res.status != "optimal":
            return f"ended {res.status} ({res.termination})"
        h = self.solver.h
        if h is not None:
            held = h.getLp()
            if not np.array_equal(np.asarray(held.col_cost_, dtype=float), g):
                return "HiGHS held another objective than the plan's"
            upper = float(np.asarray(held.row_upper_, dtype=float)[self.cost_row])
            if upper != float(self.sf.lp.row_upper_[self.cost_row]):
                return f"HiGHS held the cost bound {upper + self.offset:,.6g} $M"
        bound = self.bound or 0.0
        tol = CHECK_TOLERANCE * max(1.0, abs(bound))
        if out.cost_musd is None or out.cost_musd > bound + tol:
            return f"cost {out.cost_musd:,.9g} $M above the bound {bound:,.9g} $M"
        value = _weighted(plan.weights, out.measures)
        x = self.solver.x
        if x is not None and res.objective is not None:
            mine = float(g @ x)
            if abs(mine - res.objective) > CHECK_TOLERANCE * max(1.0, abs(mine)):
                return f"objective {res.objective:,.9g} reported, {mine:,.9g} at its solution"
        for known in self.known:
            other = _weighted(plan.weights, known)
            if other < value - CHECK_TOLERANCE * max(1.0, abs(value), abs(other)):
                return f"a known plan inside the bound does better ({other:,.9g} < {value:,.9g})"
        return ""

    def _run(self, label: str = "", warm_budget: bool = False) -> Any:
        """One solve; with ``warm_budget``, a re-solve from a basis stops after
        :attr:`warm_budget_s` (when shorter than the time limit)."""
        if self.monitor is not None:
            self.monitor.label = f"{label}: " if label else ""
        limit = self.options.time_limit_s
        if warm_budget and self.warm_budget_s is not None and self.solver.holds_basis:
            limit = self.warm_budget_s if limit is None else min(limit, self.warm_budget_s)
        self.solver.options = replace(self.options, time_limit_s=limit)
        try:
            # warm=True also for the first solve: a MIP with few integer assignments is then held
            # as its LP relaxation and enumerated, so the plans after it re-solve from a basis
            return self.solver.solve(self.sf, warm=True)
        finally:
            self.solver.options = self.options

    def _result(self, name: str, kind: str, target: str | None, res: Any) -> PlanResult:
        x = self.solver.x if res.status in ("optimal", "feasible") else None
        measures: dict[str, float] = {}
        capacity: dict[tuple[str, str, int], float] = {}
        cost = None
        if x is not None:
            cost = float(self.cost @ x + self.offset)
            measures = {mm.spec.name: mm.value(x) for mm in self.measures}
            vals = self.cap_matrix @ x + self.cap_const
            capacity = dict(zip(self.cap_keys, vals.tolist(), strict=True))
        funded = tuple(b for b, j in self.fund_cols if x is not None and x[j] > 0.5)
        return PlanResult(
            name,
            kind,
            target,
            res.status,
            res.termination,
            cost,
            measures,
            capacity,
            float(res.solve_seconds),
            bool(res.warm),
            getattr(res, "message", ""),
            funded,
        )


@dataclass(frozen=True)
class _Failed:
    status: str
    termination: str
    message: str
    objective: None = None
    solve_seconds: float = 0.0
    warm: bool = False


def _failed(status: str, message: str) -> _Failed:
    return _Failed(status, status, message)


def _weighted(weights: Iterable[tuple[str, float]], measures: dict[str, float]) -> float:
    """``Σ w · μ`` of a plan's objective from measure values (the objective is linear in them)."""
    return float(sum(w * measures[name] for name, w in weights))


# ------------------------------------------------------------------------------------------------
# Plans
# ------------------------------------------------------------------------------------------------
def extreme_plans(measures: list[Measure]) -> list[PlanSpec]:
    """A min and/or max plan for every measure that a decision moves (its ``sense``)."""
    plans = []
    for mm in measures:
        if mm.constant:
            continue
        name = mm.spec.name
        if mm.spec.sense in ("min", "both"):
            plans.append(PlanSpec(plan_name("min", name), "min", name, ((name, 1.0),)))
        if mm.spec.sense in ("max", "both"):
            plans.append(PlanSpec(plan_name("max", name), "max", name, ((name, -1.0),)))
    return plans


def random_plans(
    measures: list[Measure], spans: dict[str, float], n: int, seed: int
) -> list[PlanSpec]:
    """``n`` plans minimising ``Σ w_i μ_i / s_i``, ``w_i ~ U[−1, 1]`` (numpy, ``seed``).

    ``s_i`` is the range of measure i found by its min and max plans; a measure with no range
    (constant, or only one sense asked) is left out, as it has nothing to trade.
    """
    rng = np.random.default_rng(seed)
    names = [mm.spec.name for mm in measures if spans.get(mm.spec.name, 0.0) > 0.0]
    plans = []
    for i in range(n):
        w = rng.uniform(-1.0, 1.0, len(names))
        weights = tuple((nm, float(wi) / spans[nm]) for nm, wi in zip(names, w, strict=True))
        plans.append(PlanSpec(f"random {i + 1}", "random", None, weights))
    return plans


def chunks(items: list[Any], n: int) -> list[list[Any]]:
    """``items`` in at most ``n`` contiguous, near-equal parts (each part re-solves warm in one worker)."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return [c for c in out if c]


def deterministic_mode(data: InputData, bet_mode: str | None) -> str:
    """The bet mode of the plans: the option, else Settings, ``succeed`` where it says stochastic."""
    mode = bet_mode or data.settings.bet_mode
    return "succeed" if mode == "stochastic" else mode


def run_alternatives(
    data: InputData,
    config: AltConfig,
    progress: Callable[[PlanResult], None] | None = None,
    input_path: str | Path | None = None,
    monitor: Any = None,
) -> AltResult:
    """Solve the least cost, then every min/max plan and ``config.random`` random plans (§10).

    Parameters
    ----------
    data : the resolved input (its Alternatives sheet, or the default set).
    config : slack, random plans, bet mode, solver options, workers.
    progress : called with each plan as it finishes (the optimum first).
    input_path : the input file, needed only to run plans on Dask workers.
    monitor : a :class:`optimizer.progress.SolveMonitor` for the solves in this process.

    Raises
    ------
    AlternativesError
        the least-cost plan is not optimal (infeasible, unbounded, stopped by the time limit):
        no alternative is tried.
    """
    from optimizer.model import build_model

    t0 = time.perf_counter()
    mode = deterministic_mode(data, config.bet_mode)
    # + 0.0: a slack of -0 (accepted as 0) would print as -0.00 %
    slack = (data.settings.mga_slack if config.slack is None else float(config.slack)) + 0.0
    specs, default_set = measure_specs(data)
    opts = config.options.merged(data.settings)
    model = build_model(data, bet_mode=mode)
    mga = MgaModel(model, specs, opts, monitor, config.warm_simplex)
    if default_set:  # rows no decision moves say nothing in the default set
        keep = {mm.spec.name for mm in mga.measures if not mm.constant}
        specs = [s for s in specs if s.name in keep]
        mga.measures = [mm for mm in mga.measures if mm.spec.name in keep]
    opt = mga.solve_optimum()
    if progress:
        progress(opt)
    if opt.status != "optimal":
        raise AlternativesError(
            f"the least-cost plan is {opt.status} ({opt.message or opt.termination}); "
            "no alternative was tried"
        )
    c_star = float(opt.cost_musd)  # type: ignore[arg-type]
    bound = mga.set_bound(c_star, slack)
    mga.known.append(opt.measures)  # the optimum is inside every bound: a yardstick for each plan
    cold = opt.solve_seconds
    if config.warm_budget is not None:
        mga.warm_budget_s = max(WARM_BUDGET_MIN_S, config.warm_budget * cold)

    def run(plans: list[PlanSpec]) -> list[PlanResult]:
        if not plans:
            return []
        if config.workers > 0 or config.scheduler:
            if input_path is None:
                raise AlternativesError("running plans on Dask workers needs the input path")
            known = [*mga.known, *(r.measures for r in results if r.status == "optimal")]
            return _run_dask(
                plans,
                specs,
                c_star,
                slack,
                mode,
                opts,
                config,
                input_path,
                progress,
                known,
                mga.warm_budget_s,
            )
        out = []
        for p in plans:
            r = mga.solve_plan(p)
            out.append(r)
            if progress:
                progress(r)
        return out

    results: list[PlanResult] = []
    results += run(extreme_plans(mga.measures))
    if config.random > 0:
        spans = _spans(mga.measures, results)
        results += run(random_plans(mga.measures, spans, config.random, config.seed))
    return AltResult(
        source=str(data.source),
        slack=slack,
        bet_mode=mode,
        c_star=c_star,
        bound_musd=bound,
        measures=mga.measures,
        optimum=opt,
        plans=results,
        cold_seconds=cold,
        config=replace(config, options=opts),
        default_set=default_set,
        run_seconds=time.perf_counter() - t0,
    )


def _spans(measures: list[Measure], results: list[PlanResult]) -> dict[str, float]:
    by_name = {p.name: p for p in results}
    spans = {}
    for mm in measures:
        name = mm.spec.name
        lo, hi = by_name.get(plan_name("min", name)), by_name.get(plan_name("max", name))
        if lo is not None and hi is not None and lo.solved and hi.solved:
            spans[name] = hi.measures[name] - lo.measures[name]
    return spans


# ------------------------------------------------------------------------------------------------
# Dask: each worker solves a contiguous chunk of plans warm in its own persistent model
# ------------------------------------------------------------------------------------------------
SCHEDULER_CHUNKS = 4
"""Chunks of plans sent to an existing scheduler (its worker count is not known in advance)."""


def _run_dask(
    plans: list[PlanSpec],
    specs: list[MeasureSpec],
    c_star: float,
    slack: float,
    mode: str,
    opts: SolveOptions,
    config: AltConfig,
    input_path: str | Path,
    progress: Callable[[PlanResult], None] | None,
    known: list[dict[str, float]],
    warm_budget_s: float | None = None,
) -> list[PlanResult]:
    """Run ``plans`` through the shared Dask executor (:mod:`optimizer.parallel`), one task per chunk of plans.

    A worker reads and builds the input itself, appends the cost row with the driver's bound (the
    same C*: every plan obeys one bound) and solves its chunk in order: the first plan cold, the
    others warm from the previous basis, each checked against the plans ``known`` to the driver
    (the optimum, and the min/max plans before the random ones) and solved cold if it fails.
    """
    from optimizer.parallel import execute
    from optimizer.results import input_sha256

    n = config.workers if config.workers > 0 else SCHEDULER_CHUNKS
    parts = chunks(plans, n)
    sha = input_sha256(input_path)
    tasks = [
        {
            "key": f"alternatives-{i}",
            "input": str(Path(input_path).resolve()),  # workers may run in another folder
            "input_sha256": sha,
            "bet_mode": mode,
            "c_star": c_star,
            "slack": slack,
            "known": known,
            "warm_budget_s": warm_budget_s,
            "warm_simplex": config.warm_simplex,
            "options": {
                "time_limit_s": opts.time_limit_s,
                "mip_gap": opts.mip_gap,
            },
            "specs": [s.as_dict() for s in specs],
            "plans": [p.as_dict() for p in part],
        }
        for i, part in enumerate(parts)
    ]
    got: dict[str, PlanResult] = {}

    def on_row(row: dict[str, Any]) -> None:
        for d in row["plans"]:
            r = PlanResult.from_row(d)
            got[r.name] = r
            if progress:
                progress(r)

    def failed(task: dict[str, Any], message: str) -> dict[str, Any]:
        return {
            "key": task["key"],
            "plans": [
                PlanResult(
                    p["name"],
                    p["kind"],
                    p["target"],
                    "failed",
                    "crashed",
                    None,
                    {},
                    {},
                    0.0,
                    False,
                    message,
                ).to_row()
                for p in task["plans"]
            ],
        }

    execute(
        tasks,
        plans_task,
        on_row,
        failed,
        workers=config.workers,
        scheduler=config.scheduler,
        name="alternatives",
    )
    return [got[p.name] for p in plans]


def plans_task(task: dict[str, Any]) -> dict[str, Any]:
    """The Dask entry point: build the input, bound the cost, solve a chunk of plans warm."""
    from optimizer.data_io import parse, read_raw
    from optimizer.model import build_model
    from optimizer.results import input_sha256

    if task.get("input_sha256") and input_sha256(task["input"]) != task["input_sha256"]:
        raise RuntimeError(f"{task['input']} on this worker differs from the driver's input")
    data = parse(read_raw(task["input"]))
    opts = worker_options(task["options"]).merged(data.settings)
    specs = [MeasureSpec(**s) for s in task["specs"]]
    mga = MgaModel(
        build_model(data, bet_mode=task["bet_mode"]),
        specs,
        opts,
        warm_simplex=task.get("warm_simplex", WARM_SIMPLEX),
    )
    mga.set_bound(float(task["c_star"]), float(task["slack"]))
    mga.known += [{k: float(v) for k, v in m.items()} for m in task.get("known", [])]
    mga.warm_budget_s = task.get("warm_budget_s")
    rows = [mga.solve_plan(PlanSpec.from_dict(p)).to_row() for p in task["plans"]]
    return {"key": task["key"], "plans": rows}
