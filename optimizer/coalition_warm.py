r"""Every c(S) of the coalition game as a warm re-solve of one persistent model (DESIGN §9, issue 20).

DESIGN §9 defines c(S) on the input with every region outside S removed (:func:`optimizer.coalition.restrict`:
their rows of every sheet, and the partners homed in them, are gone). The same LP is reached from the
grand coalition's model by bounds alone, so one ``highspy.Highs`` can follow every S from basis to basis:

- a **column** (variable) whose index names a region outside S, or a partner homed outside S, is fixed
  at 0 — in the removed-rows model it does not exist, so it contributes nothing to any row or cost;
- a **row** whose index names such a region or partner is freed (bounds :math:`\pm\infty`) — in the
  removed-rows model it does not exist; a non-member's demand row goes this way, and its ``unserved``
  column is fixed at 0, so its demand is neither served nor paid for;
- rows of no region (the emission cap, an external market's limit, a fab's concentration limit, a
  partner with no home's budget) stay: their non-member terms are columns fixed at 0, which is what the
  removed-rows model sums over;
- the objective's constants that belong to a non-member region (fixed O&M of its existing capacity) are
  taken out of the objective offset.

What stays is, row by row and column by column, the LP that :func:`optimizer.coalition.restrict` +
``build_model`` make for S, plus rows and columns that are all zero: the optimum is c(S)
(``tests/test_coalition.py`` checks it against the removed-rows c(S) on hand cases, and
``benchmarks/coalition.py`` on the shipped dataset). Two numerical differences remain: chips and
compute may be modelled in a different unit (``model.derive`` picks it from the largest demand), and
HiGHS stops each LP at its own tolerances, so the two agree to about 1e-7 relative, not bit for bit.

Integer columns (the shipped dataset's two bet binaries) are handled like ``solve``: the LP relaxation
first, kept when integral; otherwise the best of the LPs with the integers fixed at each of their few
assignments (exact, as in the sweep workers, :mod:`optimizer.warm`); a MIP with more assignments than
:data:`optimizer.warm.MAX_ASSIGNMENTS` is solved by branch and bound on the same model.

:class:`BoundsUnsupported` is raised where the bounds form is not known to equal §9's definition (the
stochastic extensive form; an id that is both a region or partner and something else; an objective
constant of two regions at once); the caller then solves that game the removed-rows way.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import highspy
import numpy as np

from optimizer.coalition import _id, restrict
from optimizer.data_io import RawBook, parse
from optimizer.solve import SolveOptions, _new_highs, compile_model, highs_status

INF = highspy.kHighsInf

WARM_BUDGET_MIN_S = 60.0
"""A simplex solve of c(S) may take at least this long before it is given up (see :data:`WARM_BUDGET`)."""

WARM_BUDGET = 4.0
"""A simplex solve of c(S) that runs past this many times the median c(S) solved so far (at least
:data:`WARM_BUDGET_MIN_S`) is stopped and S is solved from scratch by HiGHS's interior point method:
with crossover within the same budget, else without (:meth:`BoundsGame._interior_point`).

Every c(S) but a worker's first has this budget: a warm re-solve, and the cold simplex solve of the
S after a fallback (which has no basis to start from). Measured on the base's six-player game: the
warm dual simplex re-solve of USA+ARE+SAU+IND took 1,015 s, a cold dual simplex solve of it had not
finished after 9 min, the interior point method solved it cold in 33 s (the same c(S) to the
solver's tolerances); the other 62 c(S) took ~3 s each warm. On the ten-player base game a cold
solve after a fallback, USA+ARE+SAU+FRA+IND, ran 78 min unbudgeted where its neighbours took
12-14 s. Crossover is bounded because its basis can be imprecise, and HiGHS then cleans it up by
simplex: on the ten-player game's USA+ARE+SAU+FRA+SWE+IND the interior point method converged in
32 s and the clean-up ran for over an hour (without crossover: 31 s, the same c(S) to 2e-9). Where
crossover finishes, its basis starts the next S well (the six-player game: 24 s less than starting
it cold)."""


class BoundsUnsupported(Exception):
    """This game cannot be played by bounds on one model; solve each c(S) with its rows removed."""


def gray_order(subsets: Iterable[tuple[str, ...]], order: list[str]) -> list[tuple[str, ...]]:
    """``subsets`` sorted so that neighbours differ in few members (the binary-reflected Gray code).

    Over every subset of ``order`` neighbours differ in exactly one member, so each warm re-solve
    starts from the basis of a coalition one member away. The first player of ``order`` joins or
    leaves at every other step and the last only once: pass the players smallest first
    (:func:`flip_order`), so that most steps move a small part of the model.
    """
    bit = {p: 1 << i for i, p in enumerate(order)}

    def rank(s: tuple[str, ...]) -> int:
        g = sum(bit[p] for p in s)
        r = 0
        while g:  # inverse Gray code: the position of code g in the reflected sequence
            r ^= g
            g >>= 1
        return r

    return sorted(subsets, key=rank)


def player_weights(raw: RawBook, order: list[str]) -> dict[str, int]:
    """Each player's share of the input: the number of rows of every sheet that name the player
    (its techs' costs and limits, routes, demand, fleet, partners), a proxy for how much of the
    model joins or leaves with it (measured on the shipped dataset: a warm re-solve after the USA
    leaves took 11k simplex iterations, after Saudi Arabia joins 8k)."""
    from optimizer.coalition import REGION_COLUMNS

    weight = dict.fromkeys(order, 0)
    for t in book_tables(raw):
        cols = [t.headers.index(c) for c in REGION_COLUMNS if c in t.headers]
        if not cols:
            continue
        for row in t.rows:
            for p in {_id(row[j].value) for j in cols}:
                if p in weight:
                    weight[p] += 1
    return weight


def flip_order(raw: RawBook, order: list[str]) -> list[str]:
    """The players from the smallest share of the input (:func:`player_weights`) to the largest."""
    weight = player_weights(raw, order)
    return sorted(order, key=lambda p: (weight[p], order.index(p)))


def book_tables(raw: RawBook) -> list[Any]:
    """The raw input's tables of data sheets (not Settings, Scenarios or Sweep)."""
    from optimizer.schema import SHEETS_BY_NAME

    return [
        t
        for name, t in raw.tables.items()
        if name in SHEETS_BY_NAME
        and SHEETS_BY_NAME[name].kind != "settings"
        and name not in ("Scenarios", "Sweep")
    ]


class BoundsGame:
    """The grand coalition's model held in one ``Highs``; :meth:`cost` re-solves it for any S.

    Parameters
    ----------
    raw : the raw input (scenario changes already applied).
    order : the players; the grand coalition N is all of them (regions outside ``order`` are removed
        from every c(S), as in :func:`optimizer.coalition.restrict`).
    options : solver options (``threads``, ``time_limit_s`` per c(S), ``mip_gap`` for branch and bound).
    bet_mode : overrides Settings ``bet_mode``.
    """

    def __init__(
        self,
        raw: RawBook,
        order: list[str],
        options: SolveOptions | None = None,
        bet_mode: str | None = None,
    ) -> None:
        from optimizer.model import build_model

        self.order = list(order)
        book = restrict(raw, order)
        self._demand_regions, self._demand_everywhere = _demand_regions(book)
        data = parse(book)
        model = build_model(data, bet_mode=bet_mode)
        if hasattr(model, "OUTCOMES"):
            raise BoundsUnsupported("the stochastic extensive form (bet_mode stochastic)")
        if model.derived.infeasible:
            raise BoundsUnsupported("the grand coalition's data are infeasible")
        self.options = (options or SolveOptions()).merged(data.settings)
        owner = _owners(data, self.order)
        sf = compile_model(model)
        self._check_ids(data, owner)
        self.col_owner = _column_owners(sf.columns, owner, len(self.order))
        self.row_owner = _row_owners(sf.rows, owner, len(self.order))
        self.const_by_player = _objective_constants(model, owner, len(self.order), sf.offset)
        self._categories = _category_lines(model, sf.columns, owner, len(self.order))
        self.sf = sf
        lp = sf.lp
        self._lb0 = np.asarray(lp.col_lower_, dtype=float)
        self._ub0 = np.asarray(lp.col_upper_, dtype=float)
        self._rlo0 = np.asarray(lp.row_lower_, dtype=float)
        self._rhi0 = np.asarray(lp.row_upper_, dtype=float)
        self._offset0 = float(sf.offset)
        self.int_cols = np.asarray(sf.integer_cols, dtype=np.int32)
        self.h: highspy.Highs | None = None
        self._lb = self._ub = self._rlo = self._rhi = None
        self.solves = 0
        self.cold_solves = 0
        self.fallbacks = 0  # warm re-solves past their budget, solved again by IPM
        self._times: list[float] = []  # seconds of each c(S) solved so far
        self._gap: float | None = 0.0  # of the last solve (set by branch and bound)

    # -------------------------------------------------------------------------------- set-up
    def _check_ids(self, data: Any, owner: dict[str, int]) -> None:
        """Refuse when a region or partner id is also the id of something else in the model."""
        others: set[str] = set(map(str, data.techs.index)) | set(map(str, data.commodities))
        others |= set(map(str, data.slices)) | set(data.slice_day.values())
        others |= set(map(str, data.bets.index)) | {"training", "inference"}
        clash = sorted(set(owner) & others)
        if clash:
            raise BoundsUnsupported(f"ids used both as a region/partner and otherwise: {clash}")

    def _has_demand(self, members: set[str]) -> bool:
        return self._demand_everywhere or bool(self._demand_regions & members)

    # -------------------------------------------------------------------------------- solving
    def cost(
        self, members: Iterable[str], detail: dict[str, float] | None = None
    ) -> tuple[float | None, str, dict[str, Any]]:
        """c(S) for the members S: ``(cost, status, info)``; ``info`` has ``seconds``, ``warm`` and
        ``gap`` (the relative MIP gap: 0 for an LP, an integral relaxation or the enumerated
        assignments, HiGHS's gap after branch and bound, None without a solution).

        A coalition whose members have no demand costs 0 without a solve (as in
        :func:`optimizer.coalition.subset_input`). ``detail``, when given, receives the cost of
        each objective category at the optimum of S ($M), as
        :func:`optimizer.coalition.solve_subset` gives it.
        """
        s = set(members)
        unknown = s - set(self.order)
        if unknown:
            raise ValueError(f"not players of this game: {sorted(unknown)}")
        if not self._has_demand(s):
            if detail is not None:
                detail.update(dict.fromkeys(self._categories, 0.0))
            return 0.0, "optimal", {"seconds": 0.0, "warm": False, "gap": 0.0}
        gone = np.array([p not in s for p in self.order] + [False])
        # owner position len(order) means "no player": never removed; any owner gone removes it
        col_off = gone[self.col_owner].any(axis=1)
        row_off = gone[self.row_owner].any(axis=1)
        lb = np.where(col_off, 0.0, self._lb0)
        ub = np.where(col_off, 0.0, self._ub0)
        rlo = np.where(row_off, -INF, self._rlo0)
        rhi = np.where(row_off, INF, self._rhi0)
        offset = self._offset0 - float(self.const_by_player[gone[:-1]].sum())
        t0 = time.perf_counter()
        warm = self.h is not None
        if warm:
            h = self.h
            self._set_cols(np.flatnonzero((lb != self._lb) | (ub != self._ub)), lb, ub)
            d = np.flatnonzero((rlo != self._rlo) | (rhi != self._rhi))
            if len(d):
                h.changeRowsBounds(len(d), d.astype(np.int32), rlo[d], rhi[d])
            if "simplex_dual_edge_weight_strategy" not in self.options.highs_options:
                h.setOptionValue("simplex_dual_edge_weight_strategy", 1)  # Devex: see warm.py
        else:
            h = self._cold_for(lb, ub, rlo, rhi)
        self._rlo, self._rhi = rlo, rhi
        h.changeObjectiveOffset(offset)
        budget = self._warm_budget()  # None for the worker's first c(S): no pace to judge by
        self._deadline(h, budget)
        self._gap = 0.0
        obj, status, x = self._solve_relaxation_or_enumerate(h, lb, ub)
        fallback = False
        if _stopped_by_budget(h, status, budget):
            # this simplex solve went astray (a degenerate walk): S from scratch by interior point
            fallback = True
            self.fallbacks += 1
            obj, status, x = self._interior_point(lb, ub, rlo, rhi, offset, budget, t0)
        self.solves += 1
        if detail is not None and x is not None:
            for cat, (c, const, by_player) in self._categories.items():
                detail[cat] = float(c @ x) + const - float(by_player[gone[:-1]].sum())
        if status not in ("optimal", "feasible"):
            self.h = None  # a failed solve's basis is a poor start; the next S starts cold
        gap = self._gap if x is not None else None
        seconds = time.perf_counter() - t0
        self._times.append(seconds)
        info = {"seconds": seconds, "warm": warm, "gap": gap, "fallback": fallback}
        return obj, status, info

    def _interior_point(
        self,
        lb: np.ndarray,
        ub: np.ndarray,
        rlo: np.ndarray,
        rhi: np.ndarray,
        offset: float,
        budget: float,
        t0: float,
    ) -> tuple[float | None, str, np.ndarray | None]:
        """S from scratch by HiGHS's interior point method, after a simplex solve ran past its budget.

        First with crossover, within the same ``budget``: its basis then starts the next S warm.
        Where crossover does not finish in that time (an imprecise crossover basis is cleaned up by
        simplex, which can run for hours), S is solved again without crossover and the next S
        starts cold. A ``run_crossover`` the analyst chose is used as given, in one run. The time
        limit per c(S), if any, counts from ``t0`` (the start of this c(S)).
        """
        chosen = self.options.run_crossover or self.options.highs_options.get("run_crossover")
        tries = [(chosen, None)] if chosen else [("on", budget), ("off", None)]
        limit = self.options.time_limit_s
        for crossover, seconds in tries:
            h = self._cold_for(lb, ub, rlo, rhi)
            h.changeObjectiveOffset(offset)
            left = None if limit is None else max(limit - (time.perf_counter() - t0), 0.0)
            cap = [t for t in (seconds, left) if t is not None]
            self._deadline(h, min(cap) if cap else None)
            h.setOptionValue("solver", "ipm")
            h.setOptionValue("run_crossover", crossover)
            obj, status, x = self._solve_relaxation_or_enumerate(h, lb, ub)
            if not _stopped_by_budget(h, status, seconds):
                break
        if self.h is not None and self.h.getInfo().basis_validity != 1:
            self.h = None  # no basis to start from: the next S is cold (under the same budget)
        if self.h is not None:  # crossover's basis starts the next S, by the analyst's solver
            o = self.options
            self.h.setOptionValue("solver", o.highs_options.get("solver", o.solver or "choose"))
        return obj, status, x

    def _warm_budget(self) -> float | None:
        """Seconds this simplex solve of c(S), warm or cold, may take before S is solved by IPM
        (:data:`WARM_BUDGET`); None (no budget of its own) before any c(S) is solved or when that
        is not shorter than the time limit."""
        if not self._times:
            return None
        budget = max(WARM_BUDGET_MIN_S, WARM_BUDGET * float(np.median(self._times)))
        limit = self.options.time_limit_s
        return None if limit is not None and budget >= limit else budget

    def _cold_for(
        self, lb: np.ndarray, ub: np.ndarray, rlo: np.ndarray, rhi: np.ndarray
    ) -> highspy.Highs:
        """A fresh ``Highs`` holding the grand coalition's LP with S's column and row bounds."""
        h = self._cold()
        self._lb, self._ub = self._lb0.copy(), self._ub0.copy()
        self._set_cols(np.flatnonzero((lb != self._lb) | (ub != self._ub)), lb, ub)
        h.changeRowsBounds(len(rlo), np.arange(len(rlo), dtype=np.int32), rlo, rhi)
        return h

    def _cold(self) -> highspy.Highs:
        h = _new_highs(self.options)
        h.passModel(self.sf.lp)
        n = len(self.int_cols)
        if n:  # the persistent model is the LP relaxation
            h.changeColsIntegrality(n, self.int_cols, np.full(n, highspy.HighsVarType.kContinuous))
        self.h = h
        self.cold_solves += 1
        return h

    def _set_cols(self, d: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:
        if len(d):
            self.h.changeColsBounds(len(d), d.astype(np.int32), lb[d], ub[d])
            self._lb[d], self._ub[d] = lb[d], ub[d]

    def _deadline(self, h: highspy.Highs, seconds: float | None = None) -> None:
        """Give this c(S) its own time budget: ``seconds``, else the time limit per c(S) (HiGHS
        counts its limit over every run of one object)."""
        from optimizer.warm import WarmSolver

        limit = self.options.time_limit_s if seconds is None else seconds
        if limit is None:
            h.setOptionValue("time_limit", INF)
        else:
            WarmSolver._renew_time_limit(h, limit)

    def _solve_relaxation_or_enumerate(
        self, h: highspy.Highs, lb: np.ndarray, ub: np.ndarray
    ) -> tuple[float | None, str, np.ndarray | None]:
        """(objective, status, primal values) of the LP held by ``h`` with its integer columns:
        the relaxation when integral, else the best fixed assignment, else branch and bound."""
        h.run()
        status, _term = highs_status(h)
        ic = self.int_cols
        if status != "optimal" or not len(ic):
            return _objective(h, status), status, _primal(h, status)
        x = _primal(h, status)
        z = x[ic]
        _, tol = h.getOptionValue("mip_feasibility_tolerance")
        if np.all(np.abs(z - np.round(z)) <= tol):
            return _objective(h, status), status, x
        from optimizer.warm import _assignments

        assignments = _assignments({"lb": lb, "ub": ub}, ic)
        if assignments is None:
            return self._branch_and_bound(h)
        best: float | None = None
        best_x: np.ndarray | None = None
        worst = "infeasible"
        for a in assignments:
            vals = np.asarray(a, dtype=float)
            h.changeColsBounds(len(ic), ic, vals, vals)
            h.run()
            st, _ = highs_status(h)
            if st == "optimal":
                v = _objective(h, st)
                if best is None or v < best:
                    best, best_x = v, _primal(h, st)
            elif st != "infeasible":
                worst = st
        h.changeColsBounds(len(ic), ic, lb[ic], ub[ic])
        if worst != "infeasible":  # an assignment stopped early or failed: no exact answer
            if best is not None and worst == "feasible":
                return best, "feasible", best_x
            return None, worst, None
        return (best, "optimal", best_x) if best is not None else (None, "infeasible", None)

    def _branch_and_bound(self, h: highspy.Highs) -> tuple[float | None, str, np.ndarray | None]:
        ic = self.int_cols
        n = len(ic)
        h.changeColsIntegrality(n, ic, np.full(n, highspy.HighsVarType.kInteger))
        h.run()
        status, _ = highs_status(h)
        obj, x = _objective(h, status), _primal(h, status)
        gap = float(h.getInfo().mip_gap) if x is not None else None
        self._gap = gap if gap is not None and np.isfinite(gap) else None
        h.changeColsIntegrality(n, ic, np.full(n, highspy.HighsVarType.kContinuous))
        self.h = None  # after branch and bound the LP basis is gone: start the next S afresh
        return obj, status, x


def _stopped_by_budget(h: highspy.Highs, status: str, budget: float | None) -> bool:
    """Whether the run just done on ``h`` was cut short by a ``budget`` of its own (not finished,
    not failed): the sign to solve S again another way."""
    stopped = status in ("feasible", "no_solution")
    return (
        budget is not None and stopped and h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    )


def _primal(h: highspy.Highs, status: str) -> np.ndarray | None:
    if status not in ("optimal", "feasible"):
        return None
    return np.asarray(h.getSolution().col_value, dtype=float)


def _objective(h: highspy.Highs, status: str) -> float | None:
    if status not in ("optimal", "feasible"):
        return None
    return float(h.getInfo().objective_function_value)


def _demand_regions(book: RawBook) -> tuple[set[str], bool]:
    """Regions with Demand rows, and whether a blank-region row gives every region demand."""
    t = book.tables.get("Demand")
    if t is None or "region" not in t.headers:
        return set(), bool(t is not None and t.rows)
    j = t.headers.index("region")
    regions = {_id(r[j].value) for r in t.rows}
    return {str(r) for r in regions if r is not None}, None in regions


def _owners(data: Any, order: list[str]) -> dict[str, int]:
    """Player position of every id that belongs to one player: its region, and partners homed there."""
    owner = {p: i for i, p in enumerate(order)}
    if len(data.partners) and "home_region" in data.partners.columns:
        for j, home in data.partners["home_region"].items():
            home = None if home is None or home != home else str(home)  # NaN: no home
            if home in owner:
                owner[str(j)] = owner[home]
    return owner


MAX_OWNERS = 3


def _owners_of(index: Any, owner: dict[str, int], none: int) -> tuple[int, ...]:
    """The players an index tuple names (at most :data:`MAX_OWNERS`, padded with ``none``)."""
    if not isinstance(index, tuple):
        index = (index,)
    found: list[int] = []
    for x in index:
        p = owner.get(x) if isinstance(x, str) else None
        if p is not None and p not in found:
            found.append(p)
    if len(found) > MAX_OWNERS:
        raise BoundsUnsupported(f"{index} names more than {MAX_OWNERS} players")
    return (*found, *([none] * (MAX_OWNERS - len(found))))


def _column_owners(columns: list[Any], owner: dict[str, int], n: int) -> np.ndarray:
    """``(columns, MAX_OWNERS)`` player positions of every column (``n`` = none)."""
    out = [_owners_of(v.index(), owner, n) for v in columns]
    return np.asarray(out, dtype=np.int64).reshape(len(columns), MAX_OWNERS)


def _row_owners(rows: Any, owner: dict[str, int], n: int) -> np.ndarray:
    """``(rows, MAX_OWNERS)`` player positions of every row of a :class:`~optimizer.linear.RowMap`."""
    out: list[tuple[int, ...]] = []
    for seg in rows._segs:  # plain entries, or (component, ordinals, count) of array-built rows
        if isinstance(seg, list):
            out.extend(_owners_of(e[0].index(), owner, n) for e in seg)
        else:
            comp, ordinals, count = seg
            index = comp._rows.index
            ks = range(count) if ordinals is None else (int(o) for o in ordinals)
            out.extend(_owners_of(index[k], owner, n) for k in ks)
    return np.asarray(out, dtype=np.int64).reshape(len(out), MAX_OWNERS)


def _objective_constants(model: Any, owner: dict[str, int], n: int, offset: float) -> np.ndarray:
    """The objective's constant ($M) that belongs to each player (fixed O&M of existing capacity).

    Every cost line is a sum of keyed parts (``m.reg.cost``); a part's constant belongs to the one
    player its key names, or to nobody (kept in every c(S)). A constant naming two players would be
    in c(S) only when both are in S: not expressible as a sum over players, so refused.
    """
    k = np.zeros(n)
    total = 0.0
    for part in model.reg.cost.values():
        for key, lin in part.items():
            if not lin.const:
                continue
            total += lin.const
            players = [p for p in _owners_of(key, owner, n) if p != n]
            if len(players) > 1:
                raise BoundsUnsupported(f"an objective constant of {key} names two players")
            if players:
                k[players[0]] += lin.const
    if abs(total - offset) > 1e-9 * max(1.0, abs(offset)):
        raise BoundsUnsupported(f"objective constants {total} do not add up to the offset {offset}")
    return k


_GAME: dict[tuple, BoundsGame | None] = {}


def game_for(task: dict[str, Any], raw: RawBook, options: SolveOptions) -> BoundsGame | None:
    """The worker's persistent game for a coalition task (made on first use), or None where the
    bounds form does not apply (the caller then solves S with its rows removed)."""
    import json
    from pathlib import Path

    st = Path(task["input"]).stat()
    key = (
        task["input"],
        st.st_mtime_ns,
        st.st_size,
        json.dumps(task.get("changes") or [], default=str),
        tuple(task["order"]),
        task.get("bet_mode"),
        json.dumps(task.get("options") or {}, sort_keys=True, default=str),
    )
    if key not in _GAME:
        _GAME.clear()  # one game per worker at a time keeps memory flat
        try:
            _GAME[key] = BoundsGame(raw, task["order"], options, task.get("bet_mode"))
        except BoundsUnsupported:
            _GAME[key] = None
    return _GAME[key]


def _category_lines(
    model: Any, columns: list[Any], owner: dict[str, int], n: int
) -> dict[str, tuple[np.ndarray, float, np.ndarray]]:
    """Each objective category of §5 as (cost vector over the columns, constant, constant by player),
    so its value at any S's optimum is ``c·x + constant − Σ_{gone} by_player``."""
    from optimizer.components.objective import CATEGORIES

    pos = {id(v): i for i, v in enumerate(columns)}
    out = {}
    for cat in CATEGORIES:
        lin = model.cost_lines[cat]
        c = np.zeros(len(columns))
        const = float(lin.const)
        for coef, v in zip(lin.coefs, lin.vars, strict=True):
            i = pos.get(id(v))
            if i is None:  # not a column (fixed by the model): a constant
                const += coef * float(v.value or 0.0)
            else:
                c[i] += coef
        by_player = np.zeros(n)
        for key, part in model.reg.cost[cat].items():
            if part.const:
                players = [p for p in _owners_of(key, owner, n) if p != n]
                if players:
                    by_player[players[0]] += part.const
        out[cat] = (c, const, by_player)
    return out
