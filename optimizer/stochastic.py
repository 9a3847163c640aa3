r"""The two-stage stochastic plan for R&D bets: the extensive form over every outcome (DESIGN §8).

Each outcome (one success/failure per bet, probability :math:`\prod p_b` or :math:`1-p_b`) is a block
holding the *unchanged* deterministic model built by :func:`optimizer.model.populate` from that outcome's
bets. Non-anticipativity ties every variable indexed by a model year before
:math:`T^* = \min_b available\_year_b`, and every ``fund``, across the outcomes. Which variables
those are is read from the components' declarations (:mod:`optimizer.components.contract`): a
variable is first-stage by the year in which it acts (its ``y`` index, else its vintage ``v``;
DESIGN §5.2 v2), or always when it has no year and is declared ``first_stage`` (``fund``):

.. math::

    x^{(s)} = x^{(0)} \qquad \forall s,\ \forall x \text{ indexed by a year } < T^* \text{ or } x = fund_b

    \min \sum_s \pi_s \cdot cost^{(s)}

The standard measures are computed with further solves (:func:`measures`):

- EV, the expected-value problem: each bet's random availability (1 if it succeeds, 0 if not) replaced by
  its expectation — the bet's tech may be built up to ``probability × max_build`` if funded;
- EEV: the stochastic model with the first stage fixed at the EV solution; ``VSS = EEV − RP`` ≥ 0;
- WS: each outcome solved knowing it (wait-and-see); ``EVPI = RP − Σ π_s WS_s`` ≥ 0;
- the worth of each bet: the stochastic optimum with that bet forbidden minus RP.

``scenario_creator`` builds one outcome as a stand-alone model with its non-anticipative variables listed,
the shape mpi-sppy expects, so the same code runs under mpi-sppy when the tree outgrows one machine.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pyomo.environ as pyo

from optimizer.components.contract import variables
from optimizer.data_io import MAX_STOCHASTIC_BETS, InputData, stochastic_limit_problem
from optimizer.linear import Lin
from optimizer.model import Derived, ModelError, build_model, derive, populate, register_form


def outcomes(data: InputData) -> list[tuple[str, dict[str, bool], float]]:
    """Every combination of bet outcomes: (name, bet → succeeds, probability), all successes first."""
    bets = list(data.bets.index)
    if len(bets) > MAX_STOCHASTIC_BETS:
        # checked before anything is built: 2^20 copies of the model would hang, not fail
        p = stochastic_limit_problem(len(bets))
        raise ModelError(f"{p.message} — {p.expected}")
    out = []
    for flags in itertools.product((True, False), repeat=len(bets)):
        p = 1.0
        for b, f in zip(bets, flags, strict=True):
            q = float(data.bets.at[b, "probability"])
            p *= q if f else 1.0 - q
        name = (
            " ".join(f"{b}{'+' if f else '-'}" for b, f in zip(bets, flags, strict=True))
            or "certain"
        )
        out.append((name, dict(zip(bets, flags, strict=True)), p))
    return out


def first_stage_year(data: InputData) -> int:
    """T*: the earliest ``available_year`` of any bet; decisions before it are taken before anyone knows."""
    return min(int(y) for y in data.bets["available_year"])


def nonanticipative(block: pyo.Block, t_star: int) -> list[Any]:
    """The variables of one outcome block that must agree across outcomes: every declared variable
    whose stage year (:meth:`~optimizer.components.contract.Family.stage_position`) is before T*,
    and every one declared ``first_stage`` (``fund``), in the order the components declare them."""
    out = []
    for fam, comp in variables(block):
        pos = fam.stage_position()
        if pos is None:
            if fam.first_stage:
                out.extend(comp.values())
            continue
        for idx, var in comp.items():
            key = idx if isinstance(idx, tuple) else (idx,)
            if key[pos] < t_star:
                out.append(var)
    return out


def _key(var: Any) -> tuple[str, Any]:
    return (var.parent_component().local_name, var.index())


def build_stochastic(
    data: InputData, keep: list[tuple[str, dict[str, bool], float]] | None = None
) -> pyo.ConcreteModel:
    """The extensive form: one block per outcome, non-anticipativity, expected cost (see module doc).

    ``keep`` restricts the outcomes (used to fix a bet's funding in :func:`measures`); default all.
    """
    outs = keep or outcomes(data)
    t_star = first_stage_year(data)
    m = pyo.ConcreteModel(name="ai_infrastructure_plan_stochastic")
    m.data = data
    m.OUTCOMES = pyo.Set(initialize=[o[0] for o in outs], ordered=True)
    m.probability = {name: p for name, _o, p in outs}
    m.outcome_of = {name: o for name, o, _p in outs}
    m.t_star = t_star
    m.scen = pyo.Block(m.OUTCOMES)
    derived: list[Derived] = []
    for name, outcome, _p in outs:
        b = m.scen[name]
        populate(b, data, derive(data, "stochastic", outcome))
        b.objective.deactivate()
        derived.append(b.derived)
    # solve() reads settings, sizes and constant-only infeasibilities from m.derived
    m.derived = replace(derived[0], infeasible=[msg for d in derived for msg in d.infeasible])
    ref = m.scen[outs[0][0]]
    ref_vars = {_key(v): v for v in nonanticipative(ref, t_star)}
    pairs = []
    for name, _o, _p in outs[1:]:
        for v in nonanticipative(m.scen[name], t_star):
            r = ref_vars.get(_key(v))
            if r is not None:
                pairs.append((v, r))
    m.NONANT = pyo.Set(initialize=range(len(pairs)), ordered=True)
    m.nonant_pairs = pairs
    m.c_nonanticipativity = pyo.Constraint(m.NONANT, rule=nonanticipativity_rule)
    # Σ_o p_o · NPC_o, built as one linear expression from the outcomes' cost terms (a sum of
    # products of expressions would send the whole model through Pyomo's slower compiler)
    expected = Lin()
    for n in m.OUTCOMES:
        expected.add_lin(m.scen[n].total_cost, float(m.probability[n]))
    m.objective = pyo.Objective(expr=expected.expr(), sense=pyo.minimize)
    return m


def nonanticipativity_rule(m: pyo.ConcreteModel, i: int):
    r"""Decisions taken before the bets resolve are the same in every outcome.

    .. math:: x^{(s)} = x^{(0)} \qquad \forall x \text{ indexed by a year} < T^*,\ \text{and } fund
    """
    v, r = m.nonant_pairs[i]
    return v - r == 0


def first_stage_values(model: pyo.ConcreteModel) -> dict[tuple[str, Any], float]:
    """Values of the non-anticipative decisions of a solved model (deterministic or stochastic)."""
    block = model.scen[model.OUTCOMES.first()] if hasattr(model, "OUTCOMES") else model
    t_star = first_stage_year(model.data)
    return {_key(v): (v.value or 0.0) for v in nonanticipative(block, t_star)}


def fix_first_stage(model: pyo.ConcreteModel, values: dict[tuple[str, Any], float]) -> None:
    """Fix every outcome's non-anticipative variables at ``values`` (integers rounded)."""
    t_star = model.t_star
    for name in model.OUTCOMES:
        for v in nonanticipative(model.scen[name], t_star):
            val = values.get(_key(v), 0.0)
            v.fix(round(val) if v.is_integer() or v.is_binary() else max(val, 0.0))


def expected_value_data(data: InputData) -> InputData:
    """The EV problem's input: each bet's tech may be built up to probability × max_build."""
    scale: dict[str, float] = {}
    for b in data.bets.index:
        k = data.bets.at[b, "tech"]
        scale[k] = scale.get(k, 1.0) * float(data.bets.at[b, "probability"])
    mb = {key: (v * scale[key[0]] if key[0] in scale else v) for key, v in data.max_build.items()}
    return replace(data, max_build=mb)


def scenario_creator(name: str, data: InputData) -> pyo.ConcreteModel:
    """One outcome as a stand-alone model with ``_mpisppy_probability`` and its first-stage variables,
    the shape mpi-sppy's ``scenario_creator`` returns (attach the root node with
    ``mpisppy.utils.sputils.attach_root_node(model, model.objective, model.nonant_vars)``)."""
    outs = {n: (o, p) for n, o, p in outcomes(data)}
    outcome, p = outs[name]
    m = pyo.ConcreteModel(name=name)
    populate(m, data, derive(data, "stochastic", outcome))
    m._mpisppy_probability = p
    m.nonant_vars = nonanticipative(m, first_stage_year(data))
    return m


def measures(
    data: InputData, rp_objective: float, rp_model: pyo.ConcreteModel, options: Any = None
) -> dict[str, Any]:
    """EV, EEV, VSS, WS, EVPI and each bet's worth, by further solves (module doc)."""
    from optimizer.solve import solve

    out: dict[str, Any] = {}
    ev_data = expected_value_data(data)
    ev = solve(build_model(ev_data, bet_mode="succeed"), options)
    out["ev_objective_musd"] = ev.objective
    if ev.has_solution:
        eev_model = build_stochastic(data)
        fix_first_stage(eev_model, first_stage_values(ev.model))
        eev = solve(eev_model, options)
        out["eev_musd"] = eev.objective if eev.has_solution else None
        out["vss_musd"] = (eev.objective - rp_objective) if eev.has_solution else None
    ws_total = 0.0
    for name, outcome, p in outcomes(data):
        m = pyo.ConcreteModel(name=f"ws_{name}")
        populate(m, data, derive(data, "stochastic", outcome))
        ws = solve(m, options)
        out[f"ws_musd[{name}]"] = ws.objective
        ws_total += p * (ws.objective or 0.0)
    out["ws_expected_musd"] = ws_total
    out["evpi_musd"] = rp_objective - ws_total
    worth = {}
    for b in data.bets.index:
        m = build_stochastic(data)
        for name in m.OUTCOMES:
            m.scen[name].v_fund[b].fix(0)
        s = solve(m, options)
        worth[b] = (s.objective - rp_objective) if s.has_solution else None
    out["bet_worth_musd"] = worth
    return out


def attach_measures(tables: dict[str, Any], summary: dict[str, Any], meas: dict[str, Any]) -> None:
    """Add the measures to the Summary (table and dict) and each bet's worth to the Bets table."""
    import pandas as pd

    flat = {k: v for k, v in meas.items() if k != "bet_worth_musd"}
    summary.update(flat)
    rows = pd.DataFrame(list(flat.items()), columns=["metric", "value"])
    tables["Summary"] = pd.concat([tables["Summary"], rows], ignore_index=True)
    worth = meas.get("bet_worth_musd", {})
    bets = tables["Bets"].copy()
    bets["worth_musd"] = [worth.get(b) for b in bets["bet"]]
    tables["Bets"] = bets


# build_model(data) returns the extensive form for bet_mode stochastic (optimizer.model module doc)
register_form("stochastic", build_stochastic)
