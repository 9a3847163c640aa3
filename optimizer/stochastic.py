r"""The two-stage stochastic plan: the extensive form over every leaf of the outcome tree (DESIGN §8, §8.1).

The outcome tree is the product of the futures of the Outcomes sheet (§8.1; one future, the base data,
without it) and the bet outcomes (one success/failure per bet, probability :math:`\prod p_b` or
:math:`1-p_b`); a leaf's probability is the product of its future's and its bet outcome's. Each leaf is
a block holding the *unchanged* deterministic model built by :func:`optimizer.model.populate` from the
leaf's future's data (:mod:`optimizer.outcomes`) and its bets. Non-anticipativity ties every variable
indexed by a model year before the stage year :math:`T^*` (Settings ``stage_year``; default the earliest
``available_year`` of any bet, else the second model year), and every ``fund``, across the leaves:

.. math::

    x^{(s)} = x^{(s_0)} \qquad \forall s \ni x,\ \forall x \text{ indexed by a year } < T^* \text{ or } x = fund_b

    x^{(s)} = 0 \qquad \text{when some leaf lacks } x \text{ (its data makes it impossible)}

    \min\ \sum_s \pi_s\, cost^{(s)} + \beta \Big(\eta + \frac{1}{1-\alpha} \sum_s \pi_s\, z_s\Big),
    \qquad z_s \ge cost^{(s)} - \eta,\ z_s \ge 0

the last part (Rockafellar–Uryasev) only when Settings ``cvar_weight`` β > 0: at the optimum η is the
α-quantile (VaR) of the cost and the bracket is :math:`CVaR_\alpha`, the mean cost of the worst 1 − α of
probability.

The standard measures are computed with further solves (:func:`measures`), all in the same objective:

- EV, the expected-value problem: the probability-weighted mean of the futures' data (where every
  changed value is a number) and each bet's random availability replaced by its expectation — the
  bet's tech may be built up to ``probability × max_build`` if funded;
- EEV: the stochastic model with the first stage fixed at the EV solution; ``VSS = EEV − RP`` ≥ 0;
- WS: each leaf solved knowing it (wait-and-see); ``EVPI = RP − (Σ π_s WS_s + β·CVaR_α[WS])`` ≥ 0;
- the worth of each bet: the stochastic optimum with that bet forbidden minus RP.

``scenario_creator`` builds one leaf as a stand-alone model with its non-anticipative variables listed
(in one order common to every leaf), the shape mpi-sppy expects, so the same code runs under mpi-sppy
when the tree outgrows one machine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any

import pyomo.environ as pyo

from optimizer.components.contract import variables
from optimizer.data_io import InputData
from optimizer.linear import Lin, LinObjective
from optimizer.model import (
    Derived,
    ModelError,
    derive,
    model_unit,
    populate,
    register_form,
)
from optimizer.outcomes import too_large, tree_size


@dataclass(frozen=True)
class Leaf:
    """One leaf of the outcome tree: a future (Outcomes row) and an outcome of every bet."""

    name: str
    probability: float
    data: InputData  # the future's resolved data
    bets: dict[str, bool]  # bet → succeeds
    future: str | None = None  # the Outcomes row (None without the sheet)


def bet_outcomes(data: InputData) -> list[tuple[str, dict[str, bool], float]]:
    """Every possible combination of bet outcomes: (name, bet → succeeds, probability), all
    successes first. A combination of probability 0 (a bet of probability 0 succeeding, or of 1
    failing) cannot happen and is left out: a bet of probability 0 or 1 adds no leaves."""
    size = tree_size(data)
    if too_large(size, None):
        # before enumerating: 2^20 combinations would hang, not fail
        raise ModelError(too_large(size, variables_per_copy(data)))
    bets = list(data.bets.index)
    out = []
    for flags in itertools.product((True, False), repeat=len(bets)):
        p = 1.0
        for b, f in zip(bets, flags, strict=True):
            q = float(data.bets.at[b, "probability"])
            p *= q if f else 1.0 - q
        if p <= 0.0:
            continue
        name = " ".join(f"{b}{'+' if f else '-'}" for b, f in zip(bets, flags, strict=True))
        out.append((name, dict(zip(bets, flags, strict=True)), p))
    return out


def leaves(data: InputData) -> list[Leaf]:
    """Every leaf of the outcome tree (module doc), futures in sheet order, bets' successes first.

    Leaves of probability 0 are not built: an Outcomes row of probability 0 and a bet outcome that
    cannot happen (:func:`bet_outcomes`) are not futures the plan must hold up in. So
    ``--change 'Bets.probability set 0'`` hedges the futures alone, with every bet failing (one
    leaf per future instead of 2^|B|).

    Raises :class:`~optimizer.model.ModelError` for a tree too large to build (before resolving
    anything) and :class:`~optimizer.data_io.InputError` for a future whose data is invalid.
    """
    bets = bet_outcomes(data)
    futures: list[tuple[str | None, float, InputData]] = (
        list(data.outcome_data) if data.outcomes else [(None, 1.0, data)]
    )
    out = []
    for fname, fp, fdata in futures:
        if fp <= 0.0:
            continue
        for bname, flags, bp in bets:
            name = "/".join(x for x in (fname, bname) if x) or "certain"
            out.append(Leaf(name, fp * bp, fdata, flags, fname))
    return out


def outcomes(data: InputData) -> list[tuple[str, dict[str, bool], float]]:
    """The leaves as (name, bet → succeeds, probability), as earlier versions listed them."""
    return [(lf.name, lf.bets, lf.probability) for lf in leaves(data)]


def stage_year(data: InputData) -> int:
    """T*: Settings ``stage_year``, else the earliest bet ``available_year``, else the second model
    year (§8.1); decisions of years before it are taken before anyone knows which leaf comes."""
    if data.settings.stage_year is not None:
        return int(data.settings.stage_year)
    if len(data.bets):
        return min(int(y) for y in data.bets["available_year"])
    years = list(data.years)
    return years[1] if len(years) > 1 else years[0]


first_stage_year = stage_year  # the name of §8's first version


def tree_unit(data: InputData) -> float:
    """The one model unit of every copy of the tree: the largest of the futures' units.

    Each deterministic model scales chips, fab output and compute by a power of ten that brings
    its largest demand near 1e3 (:func:`optimizer.model.model_unit`); a future with ten times the
    demand would otherwise count chips in tens, and tying its 2026 deployment to another leaf's
    would equate different numbers of chips (the base's low future made the tree infeasible)."""
    futures = [fd for _n, p, fd in data.outcome_data if p > 0] if data.outcomes else [data]
    return max(model_unit(fd) for fd in futures)


def is_stochastic(data: InputData, bet_mode: str | None = None) -> bool:
    """True when ``build_model`` makes the extensive form: bet_mode stochastic with bets or futures."""
    mode = bet_mode or data.settings.bet_mode
    return mode == "stochastic" and bool(len(data.bets) or data.outcomes)


def nonanticipative(block: pyo.Block, t_star: int) -> list[Any]:
    """The variables of one leaf block that must agree across leaves: every declared variable
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


def _count_variables(block: pyo.Block) -> int:
    return sum(len(v) for v in block.component_objects(pyo.Var, descend_into=True))


def _copy_variables(data: InputData) -> int:
    """Variables of one copy of the model of ``data`` (one leaf: every bet succeeding)."""
    m = pyo.ConcreteModel()
    populate(m, data, derive(data, "stochastic", {b: True for b in data.bets.index}))
    return _count_variables(m)


def variables_per_copy(source: InputData | Any) -> int | None:
    """Variables of one copy of the model (one leaf, every bet succeeding), to size an outcome tree
    that is refused; ``source`` is resolved data or a raw book (then parsed as bet_mode succeed,
    without its Outcomes sheet). None when that copy cannot be built (the input has other
    problems): the count is a courtesy of the refusal, never a reason for another error."""
    try:
        if not isinstance(source, InputData):
            book = source.copy()
            book.tables.pop("Outcomes", None)
            settings = book.tables.get("Settings")
            if settings is not None and {"key", "value"} <= set(settings.headers):
                k, v = settings.headers.index("key"), settings.headers.index("value")
                for row in settings.rows:
                    if str(row[k].value).strip() == "bet_mode":
                        row[v].value = "succeed"
            from optimizer.data_io import parse

            source = parse(book)
        return _copy_variables(source)
    except Exception:  # noqa: BLE001 - see the docstring
        return None


def check_tree(data: InputData, bet_mode: str | None = None) -> str | None:
    """Why the extensive form of ``data`` would be refused (module :mod:`optimizer.outcomes`), or
    None. Counts the copies first; one copy is built to count variables (for the message of a tree
    of too many copies, and for the variables limit of one of allowed size)."""
    if not is_stochastic(data, bet_mode):
        return None
    size = tree_size(data)
    if too_large(size, None):  # too many copies: refused whatever their size
        return too_large(size, variables_per_copy(data))
    return too_large(size, _copy_variables(data))


def build_stochastic(data: InputData, keep: list[Leaf] | None = None) -> pyo.ConcreteModel:
    """The extensive form: one block per leaf, non-anticipativity, E[cost] (+ β·CVaR) (module doc).

    ``keep`` restricts the leaves (default all). Raises :class:`~optimizer.model.ModelError` when
    the tree is too large (before building anything, or after the first copy shows its size).
    """
    outs = keep or leaves(data)
    t_star = stage_year(data)
    m = pyo.ConcreteModel(name="ai_infrastructure_plan_stochastic")
    m.data = data
    m.OUTCOMES = pyo.Set(initialize=[lf.name for lf in outs], ordered=True)
    m.probability = {lf.name: lf.probability for lf in outs}
    m.outcome_of = {lf.name: lf.bets for lf in outs}
    m.leaf = {lf.name: lf for lf in outs}
    m.t_star = t_star
    m.scen = pyo.Block(m.OUTCOMES)
    derived: list[Derived] = []
    for i, lf in enumerate(outs):
        b = m.scen[lf.name]
        populate(b, lf.data, derive(lf.data, "stochastic", lf.bets, tree_unit(data)))
        b.objective.deactivate()
        derived.append(b.derived)
        if i == 0 and keep is None:
            why = too_large(tree_size(data), _count_variables(b))
            if why:
                raise ModelError(why)
    # solve() reads settings, sizes and constant-only infeasibilities from m.derived; an infeasible
    # leaf makes the whole plan infeasible, and the message names it
    m.derived = replace(
        derived[0],
        infeasible=[
            f"{msg} (leaf {lf.name})"
            for lf, d in zip(outs, derived, strict=True)
            for msg in d.infeasible
        ],
    )
    pairs, absent = _tie(m, [lf.name for lf in outs], t_star)
    m.NONANT = pyo.Set(initialize=range(len(pairs)), ordered=True)
    m.nonant_pairs = pairs
    m.c_nonanticipativity = pyo.Constraint(m.NONANT, rule=nonanticipativity_rule)
    m.absent_first_stage = absent
    _objective(m, data)
    return m


def _tie(
    m: pyo.ConcreteModel, names: list[str], t_star: int
) -> tuple[list[tuple[Any, Any]], list[tuple[str, Any]]]:
    """Equality pairs of every first-stage variable all leaves have; variables some leaf lacks are
    fixed at 0 in every leaf that has them (returned as the second list, by key)."""
    by_key: dict[tuple[str, Any], list[Any]] = {}
    for n in names:
        for v in nonanticipative(m.scen[n], t_star):
            by_key.setdefault(_key(v), []).append(v)
    pairs = []
    absent = []
    for key, vs in by_key.items():
        if len(vs) < len(names):
            for v in vs:
                v.fix(0)
            absent.append(key)
            continue
        pairs.extend((v, vs[0]) for v in vs[1:])
    return pairs, absent


def _objective(m: pyo.ConcreteModel, data: InputData) -> None:
    """Σ_s π_s cost_s, plus β·(η + Σ_s π_s z_s / (1−α)) with the CVaR rows when β > 0 (module doc).

    Built as one linear expression from the leaves' cost terms: a sum of products of expressions
    would send the whole model through Pyomo's slower compiler.
    """
    beta = float(data.settings.cvar_weight)
    alpha = float(data.settings.cvar_alpha)
    m.cvar_weight, m.cvar_alpha = beta, alpha
    obj = Lin()
    for n in m.OUTCOMES:
        obj.add_lin(m.scen[n].total_cost, float(m.probability[n]))
    if beta > 0:
        m.v_cvar_var = pyo.Var(within=pyo.Reals, doc="η: the α-quantile (VaR) of the cost, $M")
        m.v_cvar_excess = pyo.Var(
            m.OUTCOMES, within=pyo.NonNegativeReals, doc="z_s: leaf cost above η, $M"
        )
        m.c_cvar_excess = pyo.Constraint(m.OUTCOMES, rule=cvar_excess_rule)
        obj.add(beta, m.v_cvar_var)
        for n in m.OUTCOMES:
            obj.add(beta * float(m.probability[n]) / (1.0 - alpha), m.v_cvar_excess[n])
    # the hand-off reads the Lin; the expression is built only if asked for (linear.LinObjective)
    m.objective = LinObjective(obj)


def cvar_excess_rule(m: pyo.ConcreteModel, s: str):
    r"""A leaf's cost above the value at risk (Rockafellar–Uryasev).

    .. math:: z_s \ge cost^{(s)} - \eta \qquad \forall s \in \text{leaves}
    """
    lin = Lin()
    lin.add(1.0, m.v_cvar_excess[s])
    lin.add(1.0, m.v_cvar_var)
    lin.add_lin(m.scen[s].total_cost, -1.0)
    return lin.expr() >= 0


def nonanticipativity_rule(m: pyo.ConcreteModel, i: int):
    r"""Decisions taken before the outcome is known are the same in every leaf.

    .. math:: x^{(s)} = x^{(s_0)} \qquad \forall x \text{ indexed by a year} < T^*,\ \text{and } fund
    """
    v, r = m.nonant_pairs[i]
    return v - r == 0


def cvar(costs: list[float], probs: list[float], alpha: float) -> float:
    r"""CVaR_α of a discrete cost distribution: the mean of the worst 1 − α of probability.

    .. math:: CVaR_\alpha = \min_\eta \ \eta + \frac{1}{1-\alpha} \sum_s \pi_s (c_s - \eta)^+

    The function of η is convex and piecewise linear with breaks at the costs, so its minimum is at
    one of them.
    """
    if not costs:
        return 0.0
    return min(
        eta + sum(p * max(c - eta, 0.0) for c, p in zip(costs, probs, strict=True)) / (1 - alpha)
        for eta in costs
    )


def risk_objective(costs: list[float], probs: list[float], beta: float, alpha: float) -> float:
    """``E[cost] + β · CVaR_α[cost]`` of a discrete distribution (the plan's objective, §8.1)."""
    e = sum(p * c for c, p in zip(costs, probs, strict=True))
    return e + (beta * cvar(costs, probs, alpha) if beta > 0 else 0.0)


def leaf_costs(model: pyo.ConcreteModel) -> dict[str, float]:
    """Each leaf's net present cost ($M) at the values loaded in ``model``."""

    def val(v: Any) -> float:
        return 0.0 if v.value is None else float(v.value)

    return {n: model.scen[n].total_cost.value(val) for n in model.OUTCOMES}


def first_stage_values(model: pyo.ConcreteModel) -> dict[tuple[str, Any], float]:
    """Values of the non-anticipative decisions of a solved model (deterministic or stochastic)."""
    if hasattr(model, "OUTCOMES"):
        out: dict[tuple[str, Any], float] = {}
        for n in model.OUTCOMES:
            for v in nonanticipative(model.scen[n], model.t_star):
                out.setdefault(_key(v), v.value or 0.0)
        return out
    return {_key(v): (v.value or 0.0) for v in nonanticipative(model, stage_year(model.data))}


BOUND_TOL = 1e-6
"""Relative distance past a bound within which a first-stage value counts as on it (averages of
values on a bound land a rounding error past it: PH's mean of twelve 11.84 was 11.840000000000002)."""


def fix_first_stage(
    model: pyo.ConcreteModel, values: dict[tuple[str, Any], float]
) -> list[tuple[tuple[str, Any], float, float]]:
    """Fix every leaf's non-anticipative variables at ``values`` (integers rounded; absent = 0),
    each put inside the bounds it has in every leaf; returns ``(key, value, fixed at)`` of the
    values moved more than :data:`BOUND_TOL` (relative) to get there.

    A fixed variable is a constant to HiGHS, so its bounds no longer bind: a value past one would
    be a plan that breaks it, reported as solved. The bounds are intersected over the leaves (a
    leaf's data may bound a variable tighter), so the first stage stays one value for all leaves.
    """
    t_star = model.t_star
    blocks = [model.scen[name] for name in model.OUTCOMES]
    lo: dict[tuple[str, Any], float] = {}
    hi: dict[tuple[str, Any], float] = {}
    for b in blocks:
        for v in nonanticipative(b, t_star):
            k = _key(v)
            lb, ub = v.bounds
            lo[k] = max(lo.get(k, -math.inf), -math.inf if lb is None else float(lb))
            hi[k] = min(hi.get(k, math.inf), math.inf if ub is None else float(ub))
    fixed: dict[tuple[str, Any], float] = {}
    moved: list[tuple[tuple[str, Any], float, float]] = []
    for b in blocks:
        for v in nonanticipative(b, t_star):
            k = _key(v)
            if k not in fixed:
                val = float(values.get(k, 0.0))
                if v.is_integer() or v.is_binary():
                    val = float(round(val))
                at = min(max(val, lo[k]), hi[k]) if lo[k] <= hi[k] else val
                if abs(at - val) > BOUND_TOL * max(1.0, abs(val)):
                    moved.append((k, val, at))
                fixed[k] = at
            v.fix(fixed[k])
    return moved


def expected_value_data(data: InputData) -> InputData:
    """The EV problem's bets: each bet's tech may be built up to probability × max_build."""
    scale: dict[str, float] = {}
    for b in data.bets.index:
        k = data.bets.at[b, "tech"]
        scale[k] = scale.get(k, 1.0) * float(data.bets.at[b, "probability"])
    mb = {key: (v * scale[key[0]] if key[0] in scale else v) for key, v in data.max_build.items()}
    return replace(data, max_build=mb)


_TREE_KEYS: dict[int, tuple[list[tuple[str, Any]], set[tuple[str, Any]]]] = {}


def _tree_keys(data: InputData) -> tuple[list[tuple[str, Any]], set[tuple[str, Any]]]:
    """The first-stage keys of all leaves together (first-seen order) and those some leaf lacks
    (cached per input: mpi-sppy calls the creator once per leaf)."""
    got = _TREE_KEYS.get(id(data))
    if got is None:
        t_star = stage_year(data)
        counts: dict[tuple[str, Any], int] = {}
        lvs = leaves(data)
        for lf in lvs:
            m = pyo.ConcreteModel()
            populate(m, lf.data, derive(lf.data, "stochastic", lf.bets, tree_unit(data)))
            for v in nonanticipative(m, t_star):
                counts[_key(v)] = counts.get(_key(v), 0) + 1
        got = (list(counts), {k for k, c in counts.items() if c < len(lvs)})
        _TREE_KEYS[id(data)] = got
    return got


def scenario_creator(name: str, data: InputData) -> pyo.ConcreteModel:
    """One leaf as a stand-alone model with ``_mpisppy_probability`` and its first-stage variables,
    the shape mpi-sppy's ``scenario_creator`` returns (attach the root node with
    ``mpisppy.utils.sputils.attach_root_node(model, model.objective, model.nonant_vars)``).

    The first-stage list has one order for every leaf; a variable some leaf lacks is 0 in every
    leaf (§8.1): fixed here where the leaf has it, a variable bounded to 0 (``v_absent``) where it
    does not, so that the lists line up as mpi-sppy requires.
    """
    lf = {x.name: x for x in leaves(data)}[name]
    keys, absent = _tree_keys(data)
    m = pyo.ConcreteModel(name=name)
    populate(m, lf.data, derive(lf.data, "stochastic", lf.bets, tree_unit(data)))
    m._mpisppy_probability = lf.probability
    mine = {_key(v): v for v in nonanticipative(m, stage_year(data))}
    missing = [k for k in keys if k not in mine]
    m.ABSENT = pyo.Set(initialize=range(len(missing)))
    m.v_absent = pyo.Var(m.ABSENT, bounds=(0, 0), initialize=0)
    stand_in = {k: m.v_absent[i] for i, k in enumerate(missing)}
    m.nonant_vars = [mine[k] if k in mine else stand_in[k] for k in keys]
    m.nonant_keys = list(keys)
    for k in absent & set(mine):
        mine[k].fix(0)
    beta, alpha = float(data.settings.cvar_weight), float(data.settings.cvar_alpha)
    if beta > 0:
        # Rockafellar–Uryasev per leaf: η is first-stage, z ≥ cost − η this leaf's excess, so that
        # Σ_s π_s (cost_s + β(η + z_s/(1−α))) is the extensive form's objective (module doc)
        m.v_cvar_var = pyo.Var(within=pyo.Reals)
        m.v_cvar_excess = pyo.Var(within=pyo.NonNegativeReals)
        lin = Lin()
        lin.add(1.0, m.v_cvar_excess)
        lin.add(1.0, m.v_cvar_var)
        lin.add_lin(m.total_cost, -1.0)
        m.c_cvar_excess = pyo.Constraint(expr=lin.expr() >= 0)
        obj = Lin()
        obj.add_lin(m.total_cost)
        obj.add(beta, m.v_cvar_var)
        obj.add(beta / (1.0 - alpha), m.v_cvar_excess)
        m.objective.deactivate()
        m.risk_objective = pyo.Objective(expr=obj.expr(), sense=pyo.minimize)
        m.nonant_vars.append(m.v_cvar_var)
        m.nonant_keys.append(("v_cvar_var", None))
    return m


def measures(
    data: InputData, rp_objective: float, rp_model: pyo.ConcreteModel, options: Any = None
) -> dict[str, Any]:
    """EV, EEV, VSS, WS, EVPI and each bet's worth, by further solves (module doc)."""
    from optimizer.outcomes import mean_data
    from optimizer.solve import solve

    beta, alpha = float(data.settings.cvar_weight), float(data.settings.cvar_alpha)
    out: dict[str, Any] = {}
    mean, why = mean_data(data)
    if mean is None:
        out["ev_objective_musd"] = None
        out["vss_musd"] = None
        out["vss_note"] = f"no mean future: {why}"
    else:
        evd = expected_value_data(mean)
        ev_model = pyo.ConcreteModel(name="ai_infrastructure_plan")
        populate(ev_model, evd, derive(evd, "succeed", unit=tree_unit(data)))  # the tree's unit
        ev = solve(ev_model, options)
        # a measure is a difference of optima: a solve stopped early (time limit) gives none
        out["ev_objective_musd"] = ev.objective if ev.status == "optimal" else None
        if ev.has_solution:  # the mean-future plan, optimal or not, is a plan to evaluate
            eev_model = build_stochastic(data)
            fix_first_stage(eev_model, first_stage_values(ev.model))
            eev = solve(eev_model, options)
            ok = eev.status == "optimal"
            out["eev_musd"] = eev.objective if ok else None
            out["vss_musd"] = (eev.objective - rp_objective) if ok else None
            if not ok:
                out["vss_note"] = f"the mean-future plan is {eev.status} in some leaf"
    ws_costs, probs, unsolved = [], [], []
    for lf in leaves(data):
        m = pyo.ConcreteModel(name=f"ws_{lf.name}")
        populate(m, lf.data, derive(lf.data, "stochastic", lf.bets, tree_unit(data)))
        ws = solve(m, options)
        ok = ws.status == "optimal"
        out[f"ws_musd[{lf.name}]"] = ws.objective if ok else None
        if not ok:
            unsolved.append(f"{lf.name} ({ws.status})")
        ws_costs.append(ws.objective if ok else 0.0)
        probs.append(lf.probability)
    if unsolved:
        # before: an unsolved leaf counted as a cost of 0, so EVPI came out too large, unsaid
        out["ws_expected_musd"] = None
        out["evpi_musd"] = None
        out["evpi_note"] = "wait-and-see not solved to optimality for " + ", ".join(unsolved)
    else:
        ws_total = risk_objective(ws_costs, probs, beta, alpha)
        out["ws_expected_musd"] = ws_total
        out["evpi_musd"] = rp_objective - ws_total
    worth = {}
    for b in data.bets.index:
        m = build_stochastic(data)
        for name in m.OUTCOMES:
            m.scen[name].v_fund[b].fix(0)
        s = solve(m, options)
        worth[b] = (s.objective - rp_objective) if s.status == "optimal" else None
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
