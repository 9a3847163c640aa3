r"""The coalition game: what each member gains from the alliance, and whether it holds together (§9).

Players are the regions with ``coalition`` TRUE. For a sub-coalition :math:`S`, the cost :math:`c(S)` is
the optimal net present cost of serving **the demand of S's members only**, with:

- **territory**: only S's regions — their buildable capacity, existing capacity and fleet, grid imports;
  every other region (including non-coalition regions such as a rest of the world) is removed with all
  its rows (costs, profiles, routes, demand, existing assets);
- **capital**: partners whose ``home_region`` is in S; partners with no ``home_region`` are treated like
  the market, open to every coalition; and the market at each region's wacc (if ``market_finance``);
- **the outside world**: the external commodity markets (Commodities prices and ``external_max``) are open
  to every coalition on the same terms, under each member's ``chips_external_allowed``;
- everything else (settings, years, slices, technologies, accelerators, bets) is shared knowledge.

So :math:`c(N)` is the cost of the whole alliance serving its members, and the game is a cost game:
an allocation :math:`x` is in the core when :math:`\sum_i x_i = c(N)` and
:math:`\sum_{i \in S} x_i \le c(S)` for every :math:`S`. Reported: the Shapley value (exact over every
subset up to ``EXACT_LIMIT`` players, else estimated from sampled permutations with a confidence
interval), each member's stand-alone cost and saving :math:`c(\{i\}) - \phi_i`, the value of the alliance
:math:`\sum_i c(\{i\}) - c(N)`, whether the Shapley allocation is in the core, the least-core
:math:`\varepsilon` (an LP), and the nucleolus for small games (sequential LPs).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.data_io import InputData, InputError, RawBook, convert, parse
from optimizer.schema import SHEETS_BY_NAME

EXACT_LIMIT = 12
REGION_COLUMNS = ("region", "from", "to", "host", "consumer", "home_region")


def players(data: InputData) -> list[str]:
    """The coalition members (regions with ``coalition`` TRUE), in sheet order."""
    return [r for r in data.regions.index if bool(data.region[r]["coalition"])]


MAX_SUBCOALITIONS = 10_000
"""Most sub-coalitions one game solves (12 players, every subset: 4,095)."""

MAX_SAMPLES = 100_000
"""Most sampled permutations (each asks for up to one sub-coalition per player)."""


class PlayerError(ValueError):
    """The players asked for are not a game: unknown regions, or no coalition region at all."""


def choose_players(data: InputData, only: str | None = None) -> list[str]:
    """The players of the game: the coalition regions (:func:`players`), or those of them named in
    ``only`` (``"R1,R2"``, ``--players``); :class:`PlayerError` when a name is not one or none remain."""
    order = players(data)
    if only:
        wanted = [p.strip() for p in only.split(",") if p.strip()]
        unknown = [p for p in wanted if p not in order]
        if unknown:
            raise PlayerError(
                f"--players: {', '.join(unknown)} are not coalition regions (players: "
                f"{', '.join(order)})"
            )
        order = [p for p in order if p in wanted]
    if not order:
        raise PlayerError("no region has coalition TRUE in Regions: there are no players")
    return order


def game_subsets(
    order: list[str], samples: int | None, seed: int = 0
) -> tuple[bool, int | None, list[tuple[str, ...]]]:
    """Whether the game is exact, its permutation samples, and the sub-coalitions to solve (§9).

    Exact (every subset) when no ``samples`` are asked for and there are at most
    :data:`EXACT_LIMIT` players; else Shapley values are estimated from ``samples`` random
    permutations (200 when not given), whose prefixes plus each player alone are solved.
    """
    exact = samples is None and len(order) <= EXACT_LIMIT
    if samples is None and not exact:
        samples = 200
    if exact:
        return True, samples, all_subsets(order)
    return False, samples, permutation_subsets(order, samples, seed) + [(p,) for p in order]


def check_player_names(raw: RawBook, order: list[str]) -> None:
    """Refuse player names the game cannot keep apart: ``+`` joins members in a sub-coalition's
    name, so a region ``A+B`` would be the same key as the coalition of ``A`` and ``B``.

    Raises
    ------
    InputError
        naming the Regions cell.
    """
    from optimizer.data_io import Problem

    bad = [p for p in order if "+" in p]
    if not bad:
        return
    t = raw.tables.get("Regions")
    problems = []
    for p in bad:
        ref = ""
        if t is not None and "region" in t.headers:
            j = t.headers.index("region")
            for i, row in enumerate(t.rows):
                if _id(row[j].value) == p:
                    ref = t.cell_ref("region", i)
        problems.append(
            Problem(
                "Regions",
                ref,
                f"coalition region {p!r} has a '+', which joins members' names in the coalition "
                "game",
                f"a region id without '+' (e.g. {p.replace('+', '_')!r}), or coalition FALSE",
            )
        )
    raise InputError(problems)


def check_game_size(
    n_players: int, samples: int | None, workers: int, n_subsets: int | None = None
) -> None:
    """Refuse a game too large to play before anything is solved (GuardError, exit 2)."""
    from optimizer.guards import MAX_WORKERS, GuardError, check_count

    if samples is not None:
        if samples < 1:
            raise GuardError(f"--samples {samples}: at least 1 permutation")
        check_count("--samples", samples, MAX_SAMPLES, "fewer permutations (200 is the default)")
    if workers < 0:
        raise GuardError(f"--workers {workers}: 0 (solve in this process) or more")
    check_count("--workers", workers, MAX_WORKERS, "at most one worker per CPU core")
    if n_subsets is not None:
        check_count(
            "sub-coalitions to solve",
            n_subsets,
            MAX_SUBCOALITIONS,
            "fewer --samples, or --players to play among fewer members",
        )


def key_of(members: Iterable[str], order: list[str]) -> str:
    """A subset's name: its members joined with ``+`` in player order (``"USA+ARE"``)."""
    s = set(members)
    return "+".join(p for p in order if p in s)


def restrict(raw: RawBook, members: Iterable[str]) -> RawBook:
    """A copy of the raw input where only ``members`` exist (see the module docstring for the rules)."""
    keep = set(members)
    book = raw.copy()
    book.tables.pop("Scenarios", None)
    book.tables.pop("Sweep", None)
    # c(S) plans for the base data, as a solve does outside bet_mode stochastic: the Outcomes
    # sheet's futures name scenarios of the sheet just removed, and would fail every c(S)
    book.tables.pop("Outcomes", None)
    regions = book.tables.get("Regions")
    all_regions = set()
    if regions is not None and "region" in regions.headers:
        j = regions.headers.index("region")
        all_regions = {str(_id(r[j].value)) for r in regions.rows if r[j].value is not None}
    gone = all_regions - keep
    partners = book.tables.get("Partners")
    dropped_partners: set[str] = set()
    if partners is not None and "home_region" in partners.headers:
        jp, jh = partners.headers.index("partner"), partners.headers.index("home_region")
        for r in partners.rows:
            home = _id(r[jh].value)
            if home is not None and home not in keep:
                dropped_partners.add(str(_id(r[jp].value)))
    for name, t in book.tables.items():
        if name not in SHEETS_BY_NAME or SHEETS_BY_NAME[name].kind == "settings":
            continue
        cols = [t.headers.index(c) for c in REGION_COLUMNS if c in t.headers]
        pcol = t.headers.index("partner") if "partner" in t.headers else None
        rows, numbers = [], []
        for row, n in zip(t.rows, t.row_numbers, strict=True):
            if any(_id(row[j].value) in gone for j in cols):
                continue
            if pcol is not None and _id(row[pcol].value) in dropped_partners:
                continue
            rows.append(row)
            numbers.append(n)
        t.rows, t.row_numbers = rows, numbers
    return book


def _id(v: Any) -> str | None:
    if v is None:
        return None
    return convert(v, SHEETS_BY_NAME["Regions"].column("region"))


@dataclass
class GameResult:
    """Costs of the sub-coalitions solved and what follows from them."""

    players: list[str]
    cost: dict[str, float]  # subset key → c(S)
    shapley: dict[str, float]
    shapley_ci: dict[str, float] = field(
        default_factory=dict
    )  # half-width of a 95% interval (sampled)
    standalone: dict[str, float] = field(default_factory=dict)
    value_of_alliance: float = 0.0
    in_core: bool | None = None
    least_core_epsilon: float | None = None
    nucleolus: dict[str, float] | None = None
    exact: bool = True
    status: dict[str, str] = field(default_factory=dict)
    # subset key → cost category → $M (the seven objective lines of §5; they add up to c(S))
    category_cost: dict[str, dict[str, float]] = field(default_factory=dict)
    # player → cost category → $M: the Shapley value of each category's game (they add up to φ_i)
    shapley_by_category: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The object ``coalition --json`` prints."""
        return {
            "players": self.players,
            "cost": self.cost,
            "shapley": self.shapley,
            "standalone": self.standalone,
            "value_of_alliance": self.value_of_alliance,
            "in_core": self.in_core,
            "least_core_epsilon": self.least_core_epsilon,
            "shapley_ci95": self.shapley_ci or None,
            "nucleolus": self.nucleolus,
            "exact": self.exact,
            "shapley_by_category": self.shapley_by_category or None,
        }


def all_subsets(order: list[str]) -> list[tuple[str, ...]]:
    """Every non-empty subset, smallest first."""
    return [s for k in range(1, len(order) + 1) for s in itertools.combinations(order, k)]


def shapley_exact(order: list[str], cost: Callable[[tuple[str, ...]], float]) -> dict[str, float]:
    r"""Shapley value of a cost game from every subset's cost.

    .. math:: \phi_i = \sum_{S \not\ni i} \frac{|S|!\,(n-|S|-1)!}{n!}\,\big(c(S \cup \{i\}) - c(S)\big)
    """
    n = len(order)
    fact = [math.factorial(k) for k in range(n + 1)]
    phi = {}
    for i in order:
        others = [p for p in order if p != i]
        total = 0.0
        for k in range(n):
            w = fact[k] * fact[n - k - 1] / fact[n]
            for s in itertools.combinations(others, k):
                with_i = tuple(p for p in order if p in s or p == i)
                total += w * (cost(with_i) - (cost(s) if s else 0.0))
        phi[i] = total
    return phi


def shapley_sampled(
    order: list[str], cost: Callable[[tuple[str, ...]], float], samples: int, seed: int = 0
) -> tuple[dict[str, float], dict[str, float]]:
    """Shapley value estimated from ``samples`` random permutations; returns (mean, 95% half-width)."""
    rng = random.Random(seed)
    contrib: dict[str, list[float]] = {p: [] for p in order}
    for _ in range(samples):
        perm = order[:]
        rng.shuffle(perm)
        prev, members = 0.0, []
        for p in perm:
            members.append(p)
            c = cost(tuple(q for q in order if q in members))
            contrib[p].append(c - prev)
            prev = c
    mean = {p: float(np.mean(v)) for p, v in contrib.items()}
    ci = {
        p: float(1.96 * np.std(v, ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.inf
        for p, v in contrib.items()
    }
    return mean, ci


def permutation_subsets(order: list[str], samples: int, seed: int = 0) -> list[tuple[str, ...]]:
    """The subsets :func:`shapley_sampled` will ask for, so they can be solved in parallel first."""
    rng = random.Random(seed)
    out: dict[tuple[str, ...], None] = {}
    for _ in range(samples):
        perm = order[:]
        rng.shuffle(perm)
        members: list[str] = []
        for p in perm:
            members.append(p)
            out[tuple(q for q in order if q in members)] = None
    return list(out)


def in_core(
    order: list[str], alloc: dict[str, float], cost: dict[tuple[str, ...], float], tol: float = 1e-6
) -> bool:
    """True when ``alloc`` is efficient and no solved sub-coalition pays more than its own cost."""
    grand = tuple(order)
    scale = max(1.0, abs(cost[grand]))
    if abs(sum(alloc.values()) - cost[grand]) > tol * scale:
        return False
    return all(sum(alloc[p] for p in s) <= c + tol * scale for s, c in cost.items())


def least_core(
    order: list[str], cost: dict[tuple[str, ...], float]
) -> tuple[float, dict[str, float]]:
    r"""The least-core :math:`\varepsilon` and an allocation in it (an LP solved with HiGHS).

    .. math::

        \min \varepsilon \quad \text{s.t.} \quad \sum_{i \in S} x_i \le c(S) + \varepsilon
        \ \ \forall S \ne N, \qquad \sum_i x_i = c(N)

    ε ≤ 0 means the core is non-empty. Only the subsets in ``cost`` are constrained.
    """
    eps, x, _ = _least_core_lp(order, cost, {})
    return eps, x


def _least_core_lp(order, cost, fixed: dict[tuple[str, ...], float]):
    """min ε over the free coalitions, with the ``fixed`` ones held at their excess; returns
    (ε, allocation, [(coalition, dual)] for the free rows)."""
    import highspy

    from optimizer.solve import new_highs

    n = len(order)
    grand = tuple(order)
    h = new_highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    # columns: x_1..x_n (free), eps (free)
    h.addVars(n + 1, np.full(n + 1, -inf), np.full(n + 1, inf))
    h.changeColCost(n, 1.0)
    h.addRow(cost[grand], cost[grand], n, np.arange(n, dtype=np.int32), np.ones(n))
    free = []
    for s, c in cost.items():
        if s == grand or not s:
            continue
        idx = np.array([order.index(p) for p in s], dtype=np.int32)
        if s in fixed:
            h.addRow(c + fixed[s], c + fixed[s], len(idx), idx, np.ones(len(idx)))
            continue
        coef = np.append(np.ones(len(idx)), -1.0)
        h.addRow(-inf, c, len(idx) + 1, np.append(idx, n).astype(np.int32), coef)
        free.append((s, h.getNumRow() - 1))
    h.run()
    sol = h.getSolution()
    x = {p: float(sol.col_value[i]) for i, p in enumerate(order)}
    eps = float(sol.col_value[n]) if free else 0.0
    return eps, x, [(s, abs(float(sol.row_dual[r]))) for s, r in free]


def nucleolus(order: list[str], cost: dict[tuple[str, ...], float]) -> dict[str, float]:
    """The nucleolus by sequential least-core LPs.

    Each round minimises the largest excess :math:`x(S) - c(S)` over the coalitions not yet fixed; the
    coalitions whose rows carry a positive dual are tight in every optimal solution, so their excess is
    fixed at that level and the next round minimises over the rest. Exact when every subset's cost is
    known; used for small games.
    """
    fixed: dict[tuple[str, ...], float] = {}
    x: dict[str, float] = {}
    for _ in range(len(cost)):
        eps, x, free = _least_core_lp(order, cost, fixed)
        tight = [s for s, d in free if d > 1e-9]
        if not free or not tight:
            break
        for s in tight:
            fixed[s] = eps
    return x


def analyse(
    order: list[str],
    cost: dict[tuple[str, ...], float],
    exact: bool,
    shapley: dict[str, float],
    ci: dict[str, float] | None = None,
) -> GameResult:
    """Assemble every measure of §9 from the solved subset costs."""
    grand = tuple(order)
    standalone = {p: cost[(p,)] for p in order if (p,) in cost}
    res = GameResult(
        players=order,
        cost={key_of(s, order): c for s, c in cost.items()},
        shapley=shapley,
        shapley_ci=ci or {},
        standalone=standalone,
        value_of_alliance=sum(standalone.values()) - cost[grand]
        if len(standalone) == len(order)
        else math.nan,
        exact=exact,
    )
    res.in_core = in_core(order, shapley, cost)
    res.least_core_epsilon, _x = least_core(order, cost)
    if exact and len(order) <= 8:
        res.nucleolus = nucleolus(order, cost)
    return res


def split_by_category(
    res: GameResult,
    order: list[str],
    category_cost: dict[tuple[str, ...], dict[str, float]],
    samples: int | None = None,
    seed: int = 0,
) -> None:
    r"""Each player's Shapley value split by cost category (capital, energy, supply chain, unserved, …).

    The Shapley value is linear in the cost function, and c(S) = Σ_cat c_cat(S) (the objective lines of
    §5 add up to the optimum of S), so φ_i(c) = Σ_cat φ_i(c_cat): the game of each category alone,
    played over the same sub-coalitions (and, when sampled, the same permutations: same seed).
    Note that c_cat(S) are the category costs *at the optimum of S*, not a separate optimisation per
    category: a share says where a member's contribution shows up in the plan, e.g. cheaper power or
    demand left unserved. Sets ``res.category_cost`` and ``res.shapley_by_category``; leaves them
    empty when a solved sub-coalition has no split (a store written before the split existed).
    """
    from optimizer.components.objective import CATEGORIES

    if not category_cost or any(s not in category_cost for s in _cost_keys(res, order)):
        return
    res.category_cost = {key_of(s, order): dict(c) for s, c in category_cost.items()}
    split: dict[str, dict[str, float]] = {p: {} for p in order}
    for cat in CATEGORIES:

        def cost(s: tuple[str, ...], cat: str = cat) -> float:
            return float(category_cost[s].get(cat, 0.0))

        if res.exact:
            phi = shapley_exact(order, cost)
        else:
            phi, _ci = shapley_sampled(order, cost, samples or 0, seed)
        for p in order:
            split[p][cat] = phi[p]
    res.shapley_by_category = split


def _cost_keys(res: GameResult, order: list[str]) -> list[tuple[str, ...]]:
    return [tuple(k.split("+")) for k in res.cost]


def subset_input(raw: RawBook, members: Iterable[str]) -> InputData | None:
    """The resolved input of a sub-coalition, or None when its members have no demand (c(S) = 0)."""
    book = restrict(raw, members)
    demand = book.tables.get("Demand")
    if demand is None or not demand.rows:
        return None
    return parse(book)


def solve_subset(
    raw: RawBook,
    members: Iterable[str],
    options: Any = None,
    bet_mode: str | None = None,
    detail: dict[str, float] | None = None,
) -> tuple[float | None, str, float | None]:
    """c(S) for one sub-coalition: (cost, status, relative MIP gap); a sub-coalition without demand
    costs 0. An infeasible c(S) (S cannot meet its hard limits alone) is a status, not an error.

    ``detail``, when given, receives the cost of each objective category at the optimum of S ($M).
    """
    from optimizer.model import build_model
    from optimizer.solve import solve

    data = subset_input(raw, members)
    if data is None:
        if detail is not None:
            from optimizer.components.objective import CATEGORIES

            detail.update(dict.fromkeys(CATEGORIES, 0.0))
        return 0.0, "optimal", 0.0
    sol = solve(build_model(data, bet_mode=bet_mode), options)
    if detail is not None and sol.has_solution:
        detail.update(category_costs(sol))
    return (sol.objective if sol.has_solution else None), sol.status, sol.mip_gap


def category_costs(sol: Any) -> dict[str, float]:
    """The objective of a solved model split into the cost categories of §5 ($M, NPV)."""
    from optimizer.components.objective import CATEGORIES
    from optimizer.results import summary

    s = summary(sol)
    return {c: float(s.get(f"cost_{c}_musd") or 0.0) for c in CATEGORIES}


def write_game_workbook(res: GameResult, path: Any) -> Any:
    """The coalition workbook: a plain-language Summary, Players (stand-alone, Shapley, saving), every
    solved sub-coalition, and native charts."""
    from pathlib import Path

    from openpyxl import Workbook

    from optimizer.workbook import atomic_save

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    _summary_sheet(ws, _summary_lines(res))
    _players_sheet(wb, res)
    if res.shapley_by_category:
        _category_sheet(wb, res)
    _coalitions_sheet(wb, res)
    return atomic_save(wb, Path(path))


def _unsolved(res: GameResult) -> tuple[list[str], list[str]]:
    """Every sub-coalition asked for, solved or not (an infeasible c(S) is a result to report), and
    those without a cost."""
    keys = list(dict.fromkeys([*res.cost, *res.status]))
    return keys, [k for k in keys if k not in res.cost]


def _summary_lines(res: GameResult) -> list[tuple[str, Any]]:
    """(label, value) rows of the Summary sheet."""
    order = res.players
    grand = key_of(order, order)
    _keys, unsolved = _unsolved(res)
    lines = [
        (
            "What this is",
            "The cost game of the coalition (DESIGN §9): c(S) is the least net present cost of serving the demand of the members of S with only their territory, their partners' capital and the market.",
        ),
        ("Players", ", ".join(order)),
        ("Cost of the whole alliance c(N) ($M)", res.cost.get(grand)),
        ("Sum of stand-alone costs ($M)", sum(res.standalone.values()) if res.standalone else None),
        ("Value of the alliance ($M)", res.value_of_alliance),
        (
            "Shapley allocation in the core?",
            {True: "yes", False: "no"}.get(res.in_core, "not computed"),
        ),
        ("Least-core epsilon ($M)", res.least_core_epsilon),
        ("Reading", _plain_language(res)),
        *(
            [
                (
                    "Not solved",
                    f"{len(unsolved)} sub-coalition(s) have no cost, so the Shapley value, core "
                    "and least core are not computed: "
                    + "; ".join(f"{k}: {res.status.get(k)}" for k in unsolved[:20])
                    + (" …" if len(unsolved) > 20 else "")
                    + ". An infeasible c(S) means S cannot meet its hard limits (budgets, caps, "
                    "existing capacity) on its own; see the Coalitions sheet.",
                )
            ]
            if unsolved
            else []
        ),
        (
            "Shapley value",
            "exact over every sub-coalition"
            if res.exact
            else "estimated from sampled permutations (95% interval on Players)",
        ),
        (
            "By cost category",
            "ShapleyByCategory splits each player's Shapley value into the objective lines of §5 "
            "(capital, fixed O&M, energy, carbon, supply chain, unserved demand, bets), each the "
            "Shapley value of that line's cost at the optimum of every sub-coalition; they add up "
            "to the player's Shapley value."
            if res.shapley_by_category
            else "not available (a sub-coalition was solved without its cost split)",
        ),
    ]
    return lines


def _summary_sheet(ws: Any, lines: list[tuple[str, Any]]) -> None:
    """Write the Summary rows: bold labels, wrapped left-aligned values, one page wide."""
    from openpyxl.styles import Alignment, Font

    from optimizer.workbook import set_cell

    ws.column_dimensions["A"].width = 38
    ws.column_dimensions["B"].width = 80
    for i, (a, b) in enumerate(lines, start=1):
        if isinstance(b, float) and not math.isfinite(b):
            b = None  # not computed (a sub-coalition without a cost)
        set_cell(ws.cell(i, 1), a)
        set_cell(ws.cell(i, 2), b)
        ws.cell(i, 1).font = Font(bold=True)
        ws.cell(i, 1).alignment = Alignment(vertical="top")
        # left-aligned and wrapped: a right-aligned number in a wide column prints off the page
        ws.cell(i, 2).alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        if isinstance(b, float):
            ws.cell(i, 2).number_format = "#,##0.0"
        if isinstance(b, str) and len(b) > 90:
            # spreadsheets do not grow a row for wrapped text written by a program: size it
            ws.row_dimensions[i].height = 15 * math.ceil(len(b) / 90)
    # one page wide when printed or exported to PDF
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


def _players_sheet(wb: Any, res: GameResult) -> None:
    """Players: stand-alone cost, Shapley share (with its interval), saving and nucleolus, with the
    stand-alone vs Shapley and saving charts under the table."""
    import pandas as pd

    from optimizer.workbook import write_table

    order = res.players
    players_df = pd.DataFrame(
        {
            "player": order,
            "standalone_musd": [res.standalone.get(p) for p in order],
            "shapley_musd": [res.shapley.get(p) for p in order],
            "shapley_ci95_musd": [res.shapley_ci.get(p) for p in order]
            if res.shapley_ci
            else [None] * len(order),
            "saving_musd": [
                (res.standalone[p] - res.shapley[p])
                if p in res.standalone and p in res.shapley
                else None
                for p in order
            ],
            "nucleolus_musd": [res.nucleolus.get(p) for p in order]
            if res.nucleolus
            else [None] * len(order),
        }
    )
    wp = wb.create_sheet("Players")
    write_table(wp, players_df, blank_ok=set(players_df.columns))
    # under the table: charts beside it fall outside the printed range in LibreOffice
    n = len(order)
    wp.add_chart(_bar_chart(wp, "Stand-alone cost vs Shapley share", 2, 3, n), f"A{n + 4}")
    saving = _bar_chart(wp, "Saving from the alliance", 5, 5, n)
    saving.legend = None
    wp.add_chart(saving, f"J{n + 4}")


def _bar_chart(ws: Any, title: str, first: int, last: int, n: int) -> Any:
    """A column chart in $M of columns ``first``..``last`` of ``ws`` over its ``n`` players."""
    from openpyxl.chart import BarChart, Reference

    ch = BarChart()
    ch.type = "col"
    ch.title, ch.y_axis.title = title, "$M"
    ch.add_data(
        Reference(ws, min_col=first, max_col=last, min_row=1, max_row=1 + n), titles_from_data=True
    )
    ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + n))
    return ch


def _coalitions_sheet(wb: Any, res: GameResult) -> None:
    """Coalitions: every sub-coalition asked for with its size, cost, status and cost by category."""
    import pandas as pd

    from optimizer.workbook import write_table

    keys, _unsolved_keys = _unsolved(res)
    subsets = pd.DataFrame(
        [
            {
                "coalition": k,
                "size": len(k.split("+")),
                "cost_musd": res.cost.get(k),
                "status": res.status.get(k, "optimal"),
            }
            for k in keys
        ]
    ).sort_values(["size", "coalition"])
    wc = wb.create_sheet("Coalitions")
    if res.category_cost:
        from optimizer.components.objective import CATEGORIES

        for cat in CATEGORIES:
            subsets[f"{cat}_musd"] = [
                res.category_cost.get(k, {}).get(cat) for k in subsets["coalition"]
            ]
    write_table(wc, subsets, blank_ok=set(subsets.columns) - {"coalition", "size", "status"})


def _category_sheet(wb: Any, res: GameResult) -> None:
    """``ShapleyByCategory``: each player's Shapley value split by cost category, with a stacked chart,
    so a reader sees whether a share comes from cheaper power, cheaper capital, the chip chain or demand
    left unserved (issue 16)."""
    import pandas as pd
    from openpyxl.chart import BarChart, Reference

    from optimizer.components.objective import CATEGORIES
    from optimizer.workbook import write_table

    order = res.players
    rows = []
    for p in order:
        split = res.shapley_by_category[p]
        row: dict[str, Any] = {"player": p}
        row.update({f"{c}_musd": split.get(c, 0.0) for c in CATEGORIES})
        row["shapley_musd"] = res.shapley[p]
        row["largest_category"] = max(CATEGORIES, key=lambda c: abs(split.get(c, 0.0)))
        rows.append(row)
    df = pd.DataFrame(rows)
    ws = wb.create_sheet("ShapleyByCategory")
    write_table(ws, df)
    n = len(order)
    ch = BarChart()
    ch.type, ch.grouping, ch.overlap = "col", "stacked", 100
    ch.title, ch.y_axis.title = "Shapley value by cost category", "$M (NPV)"
    ch.add_data(
        Reference(ws, min_col=2, max_col=1 + len(CATEGORIES), min_row=1, max_row=1 + n),
        titles_from_data=True,
    )
    ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + n))
    ch.width, ch.height = 22, 11
    ws.add_chart(ch, f"A{n + 4}")


def _plain_language(res: GameResult) -> str:
    if not res.standalone or res.value_of_alliance != res.value_of_alliance:
        return "Not every stand-alone cost is known."
    gain = res.value_of_alliance
    best = max(res.players, key=lambda p: res.standalone[p] - res.shapley[p])
    core = (
        "Splitting the cost by Shapley value leaves no group better off on its own: the alliance is stable."
        if res.in_core
        else "Under the Shapley split some group would pay less on its own: the alliance needs side payments beyond Shapley to hold."
    )
    return (
        f"Together the members save {gain:,.1f} $M against going alone; {best} gains most. {core}"
    )


def coalition_task(task: dict[str, Any]) -> dict[str, Any]:
    """Solve one sub-coalition on a worker: the task is a plain dict (input path and members).

    With ``order`` in the task (the players), c(S) is a warm re-solve of the worker's persistent
    model of the grand coalition, S expressed by bounds (:mod:`optimizer.coalition_warm`); without it,
    or where that form does not apply, S's input is restricted and solved from scratch.
    """
    import time

    from optimizer.solve import SolveOptions

    t0 = time.perf_counter()
    try:
        raw = _raw_for_task(task)
    except InputChangedError as exc:
        return {
            "key": task["key"],
            "cost": None,
            "status": f"error: {exc}",
            "seconds": 0.0,
            "input_changed": True,
        }
    # c(S) needs neither prices nor an infeasibility explanation: for a MIP that branched, duals
    # meant a second solve of the fixed LP without a time limit (measured >25 min on one c(S))
    opts = SolveOptions(**task["options"], duals=False, explain=False)
    detail: dict[str, float] = {}
    warm = None
    fallback = False
    try:
        if task.get("order"):
            from optimizer.coalition_warm import game_for

            game = game_for(task, raw, opts)
            if game is not None:
                cost, status, info = game.cost(task["members"], detail)
                warm, gap = info["warm"], info.get("gap")
                fallback = bool(info.get("fallback"))
        if warm is None:
            cost, status, gap = solve_subset(
                raw, task["members"], opts, task.get("bet_mode"), detail
            )
    except InputError as exc:
        # a sub-coalition's own data can be invalid (e.g. a partner left without its region)
        cost, status, gap = None, "error: " + "; ".join(map(str, exc.problems[:3])), None
    except Exception as exc:  # noqa: BLE001 - a bad sub-coalition is recorded, not fatal
        cost, status, gap = None, f"error: {type(exc).__name__}: {exc}", None
    return {
        "key": task["key"],
        "cost": cost,
        "status": status,
        "gap": gap,
        "seconds": time.perf_counter() - t0,
        "categories": detail or None,
        "warm": warm,
        "fallback": fallback,
    }


_RAW: dict[tuple, RawBook] = {}


class InputChangedError(RuntimeError):
    """The input a worker reads is not the one the game started with (``input_sha256`` of the task)."""


def _raw_for_task(task: dict[str, Any]) -> RawBook:
    """The task's input with its changes applied, read once per worker (keyed by file and changes).

    Each read checks the file's SHA-256 against the task's ``input_sha256`` (the driver's, taken
    when the game started) and raises :class:`InputChangedError` when they differ: an analyst who
    saves the workbook during an hour-long game must not get c(S) of two inputs under one key.
    """
    import json

    from optimizer.data_io import read_raw
    from optimizer.results import input_sha256

    p = Path(task["input"])
    st = p.stat()
    key = (str(p), st.st_mtime_ns, st.st_size, json.dumps(task.get("changes") or [], default=str))
    raw = _RAW.get(key)
    if raw is None:
        if task.get("input_sha256") and input_sha256(p) != task["input_sha256"]:
            raise InputChangedError(f"{p} is not the input the game started with")
        raw = read_raw(p)
        if task.get("changes"):
            from optimizer.scenarios import Change, apply_changes

            raw = apply_changes(raw, [Change(*c) for c in task["changes"]])
        _RAW.clear()  # one input per worker at a time keeps memory flat
        _RAW[key] = raw
    return raw


class GameStore:
    """The coalition game's store of solved sub-coalitions (the shared pattern of
    :mod:`optimizer.store`): each c(S) is committed as it arrives with its cost split, keyed by the
    question it answers (input, changes, bet mode) and the sub-coalition; reused only at the
    quality asked for. Results of other questions stay in the file, unused and never deleted.

    Parameters
    ----------
    path : the ``.sqlite`` file.
    question : :func:`optimizer.store.question_key` of what changes c(S).
    """

    def __init__(self, path: Any, question: str) -> None:
        from optimizer.store import StoreFile

        self._file = StoreFile(path, "coalition game")
        self.db = self._file.db
        self.question = question
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS results (question TEXT NOT NULL, key TEXT NOT NULL, "
            "cost REAL, status TEXT, gap REAL, seconds REAL, categories TEXT, "
            "PRIMARY KEY (question, key))"
        )

    def done(self, requested_gap: float | None = None) -> dict[str, tuple[float | None, str]]:
        """Sub-coalitions of this question solved to the quality asked for: key → (cost, status)."""
        from optimizer.store import reusable

        rows = self.db.execute(
            "SELECT key, cost, status, gap FROM results WHERE question = ?", (self.question,)
        ).fetchall()
        return {k: (c, s) for k, c, s, g in rows if reusable(s, g, requested_gap)}

    def categories(self) -> dict[str, dict[str, float]]:
        """The cost split of each solved sub-coalition of this question that has one."""
        import json

        rows = self.db.execute(
            "SELECT key, categories FROM results WHERE question = ?", (self.question,)
        ).fetchall()
        return {k: json.loads(c) for k, c in rows if c}

    def record(self, row: dict[str, Any]) -> None:
        """Commit one finished sub-coalition."""
        import json

        cats = row.get("categories")
        self.db.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self.question,
                row["key"],
                row["cost"],
                row["status"],
                row.get("gap"),
                row["seconds"],
                json.dumps(cats) if cats else None,
            ),
        )

    def close(self) -> None:
        """Close the connection and release the store."""
        self._file.close()


def estimate_note(
    tasks: int,
    done: int,
    elapsed_s: float,
    per_s: float,
    parallel: int,
    scheduler: str | None,
    revise: int | None = None,
) -> str:
    """The time the whole game will take, and what to do when that is hours.

    ``done`` sub-coalitions took ``elapsed_s`` so far; the other ``tasks − done`` are expected at
    ``per_s`` each, ``parallel`` at a time: the first sub-coalition's time for a game solved cold
    (every c(S) is a model about the size of the input's), the first warm re-solve's for the
    default path (only each worker's first c(S) builds and solves the model from scratch; the
    others re-solve it, and those of larger coalitions take longer, so this errs on the short side
    where the first re-solve is small — the ETA on each progress line follows the measured pace).
    With ``revise`` (the warm path's Gray order, revised after that many), the line says the
    figure is a floor and when it is revised: on the ten-player base game it said 5–8 min where
    the game took over an hour (benchmarks/RESULTS.md §3).
    """
    parallel = max(int(parallel), 1)
    total = elapsed_s + (tasks - done) * per_s / parallel
    where = f"{parallel} worker(s)" + (" of the cluster" if scheduler else "")
    msg = (
        f"estimate  {tasks} sub-coalitions: {done} in {elapsed_s:,.0f} s, the rest at "
        f"{per_s:,.1f} s each on {where}: about {_duration(total)} in all"
    )
    if revise is not None:
        msg += (
            f" at least (the smallest sub-coalitions come first; revised after {revise:,}, "
            "when larger ones have been solved)"
        )
    return msg + _shorter(total)


REVISE_SHARE = 0.05
"""The share of a game's sub-coalitions after which its time is estimated again (at least 8)."""


def revise_at(tasks: int) -> int | None:
    """After how many solved sub-coalitions :func:`revised_note` is said: 5 % of ``tasks`` and at
    least 8, or None for a game too short to need it (fewer than twice that many)."""
    at = max(8, math.ceil(REVISE_SHARE * tasks))
    return at if tasks >= 2 * at else None


def revised_note(
    tasks: int, done: int, elapsed_s: float, done_weight: float, left_weight: float
) -> str:
    """The game's time again after ``done`` sub-coalitions, weighing each by its size.

    The first estimate extrapolates one re-solve; in Gray-code order the first sub-coalitions are
    those of the smallest players, so it errs short (the ten-player base game: 7 min said, 42 min
    revised, 1 h 30 min measured on two workers). Here the wall time so far, ``elapsed_s``, is spread
    over the work done, each c(S) weighted by its members' share of the input (``done_weight``, from
    :func:`optimizer.coalition_warm.player_weights`), and the rest, ``left_weight``, is expected
    at that rate: total = elapsed · (1 + left / done). Checked on the six-player base game's
    stored times: at 5 % done, 0.42 of the final time where the pace alone said 0.17 — still
    short, as a re-solve grows faster than linearly with its coalition; the ETA on every progress
    line keeps following the measured pace.
    """
    total = elapsed_s * (1.0 + left_weight / max(done_weight, 1e-9))
    share = done_weight / max(done_weight + left_weight, 1e-9)
    return (
        f"revised   {tasks} sub-coalitions: {done} in {elapsed_s:,.0f} s are {share:.0%} of the "
        f"work counted by size (later ones are larger): about {_duration(total)} in all, "
        "likely more"
    ) + _shorter(total)


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{max(seconds / 60, 1):.0f} min"


def _shorter(total_s: float) -> str:
    """The ways to shorten a game of an hour or more (nothing below)."""
    if total_s < 3600:
        return ""
    return (
        "; to make it shorter: --players R1,R2,… (n players: 2^n−1 sub-coalitions), "
        "--samples N (sampled permutations), --relax-integers, or --scheduler tcp://… (a cluster)"
    )


def _how_solved(row: dict[str, Any]) -> str:
    """How a c(S) of the progress line was solved: ``warm``, ``cold``, or ``warm, then interior
    point`` when the warm re-solve ran past its budget and S was solved again from scratch
    (:mod:`optimizer.coalition_warm`; the seconds printed after it count both)."""
    if row.get("fallback"):
        return "warm, then interior point"
    return "warm" if row.get("warm") else "cold"


def run_game(
    input_path: Any,
    raw: RawBook,
    order: list[str],
    subsets: list[tuple[str, ...]],
    *,
    exact: bool,
    samples: int | None,
    seed: int,
    options: Any,
    bet_mode: str | None,
    workers: int = 0,
    scheduler: str | None = None,
    store: Any = None,
    progress: Callable[[str], None] | None = None,
    changes: list[Any] | None = None,
    warm: bool = True,
) -> GameResult:
    """Solve every needed sub-coalition (resuming from ``store``), then analyse the game.

    ``changes`` (scenario :class:`~optimizer.scenarios.Change` s) are applied to the input on every
    worker before restricting it, e.g. to relax integer modules. ``warm`` (default) solves each c(S)
    as a re-solve of one persistent model per worker (:mod:`optimizer.coalition_warm`); False solves
    each S's restricted input from scratch.
    """
    import time
    from dataclasses import asdict

    from optimizer.results import input_sha256

    say = progress or (lambda _m: None)
    wanted = list(dict.fromkeys(subsets))
    keys = {key_of(s, order): s for s in wanted}
    from optimizer.store import question_key

    change_rows = [[c.sheet, c.where, c.column, c.op, c.value] for c in (changes or [])]
    # everything that changes c(S) is in the key; the time limit and gap are the quality asked for
    sha = input_sha256(input_path)
    question = question_key({"input_sha256": sha, "changes": change_rows, "bet_mode": bet_mode})
    gap = options.mip_gap if options.mip_gap is not None else parse(raw).settings.mip_gap
    st = GameStore(store, question)
    done = {k: v for k, v in st.done(gap).items() if k in keys}
    todo = [k for k in keys if k not in done]
    if done:
        say(
            f"resume    {len(keys) - len(todo)} of {len(keys)} sub-coalitions already solved in {store}"
        )
    opts = {k: v for k, v in asdict(options).items() if k in ("time_limit_s", "mip_gap", "threads")}
    if warm:  # neighbours one member apart: each re-solve starts from a close basis
        from optimizer.coalition_warm import flip_order, gray_order

        flips = flip_order(raw, order)  # the smallest player joins and leaves most often
        todo = [key_of(s, order) for s in gray_order([keys[k] for k in todo], flips)]
    tasks = [
        {
            "input": str(Path(input_path).resolve()),  # workers may run in another folder
            "input_sha256": sha,
            "members": list(keys[k]),
            "key": k,
            "options": opts,
            "bet_mode": bet_mode,
            "changes": change_rows,
            "order": list(order) if warm else None,
        }
        for k in todo
    ]
    from optimizer.coalition_warm import player_weights

    pw = player_weights(raw, order)
    size = {t["key"]: float(sum(pw[p] for p in t["members"])) for t in tasks}
    work = {"done": 0.0, "left": sum(size.values())}
    revise = revise_at(len(tasks))
    t0 = time.perf_counter()
    n = 0
    estimated = False
    pool = {"workers": workers if workers and not scheduler else 1}

    def on_start(count: int) -> None:
        pool["workers"] = count

    def on_row(row: dict[str, Any]) -> None:
        nonlocal n, estimated
        if row.get("input_changed"):
            from optimizer.guards import GuardError

            raise GuardError(
                f"{input_path} changed on disk during the game (its bytes are no longer those "
                f"the game started with; an Excel save is enough): the {n} sub-coalition(s) "
                f"solved before are {f'kept in the store {store}' if store else 'not stored'}; "
                "put the file back and run again to resume, or run again to start the game of "
                "the new input"
            )
        st.record(row)
        done[row["key"]] = (row["cost"], row["status"])
        n += 1
        work["done"] += size.get(row["key"], 0.0)
        work["left"] -= size.get(row["key"], 0.0)
        rate = n / max(time.perf_counter() - t0, 1e-9)
        eta = (len(tasks) - n) / rate if rate else 0.0
        say(
            f"solved    {n}/{len(tasks)}  {row['key']}: {row['status']} {row['cost'] if row['cost'] is not None else ''}"
            f"  ({_how_solved(row)} {row.get('seconds') or 0:.1f} s; ETA {eta:,.0f} s)"
        )
        paced = row.get("status") in ("optimal", "feasible") and row.get("seconds")
        if (
            not estimated
            and n < len(tasks)
            and paced
            and (not warm or row.get("warm") is not False)
        ):
            # cold path: the first solved c(S) sets the pace; warm path: the first re-solve does
            # (a worker's first c(S) builds the model and solves it from scratch); a failed or
            # demand-free c(S) took no solve and says nothing of the pace
            estimated = True
            per = float(row.get("seconds") or 0.0)
            elapsed = time.perf_counter() - t0
            said_revise = revise if warm and revise is not None and revise > n else None
            say(estimate_note(len(tasks), n, elapsed, per, pool["workers"], scheduler, said_revise))
        if n == revise:
            elapsed = time.perf_counter() - t0
            say(revised_note(len(tasks), n, elapsed, work["done"], work["left"]))

    try:
        if tasks and (workers or scheduler):
            _execute_dask(tasks, workers, scheduler, on_row, on_start, say)
        else:
            for t in tasks:
                on_row(coalition_task(t))
        cats = st.categories()
    finally:
        st.close()
    return _game_result(order, keys, done, cats, exact=exact, samples=samples, seed=seed)


def _game_result(
    order: list[str],
    keys: dict[str, tuple[str, ...]],
    done: dict[str, tuple[float | None, str]],
    cats: dict[str, Any],
    *,
    exact: bool,
    samples: int | None,
    seed: int,
) -> GameResult:
    """The game's values from the solved c(S): Shapley (exact or sampled), core, least core and the
    split by category; without a cost for every sub-coalition, only the costs and statuses."""
    status = {k: done[k][1] if k in done else "not solved" for k in keys}
    cost = {keys[k]: done[k][0] for k in keys if k in done and done[k][0] is not None}
    if len(cost) < len(keys):
        res = GameResult(
            order,
            {key_of(s, order): c for s, c in cost.items()},
            {},
            value_of_alliance=math.nan,
            exact=exact,
            status=status,
        )
        return res
    cost_fn = cost.__getitem__
    if exact:
        phi, ci = shapley_exact(order, cost_fn), None
    else:
        phi, ci = shapley_sampled(order, cost_fn, samples or 0, seed)
    res = analyse(order, cost, exact, phi, ci)
    res.status = status
    split_by_category(res, order, {keys[k]: cats[k] for k in keys if k in cats}, samples, seed)
    return res


def _execute_dask(
    tasks: list[dict[str, Any]],
    workers: int,
    scheduler: str | None,
    on_row: Callable[[dict[str, Any]], None],
    on_start: Callable[[int], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> None:
    """Solve sub-coalitions on the shared executor (:func:`optimizer.parallel.execute`: a
    LocalCluster with one HiGHS thread per worker, or an existing scheduler; a worker that dies is
    retried, then recorded)."""
    from optimizer.parallel import execute

    def failed(task: dict[str, Any], message: str) -> dict[str, Any]:
        return {"key": task["key"], "cost": None, "status": f"failed: {message}", "seconds": 0.0}

    execute(
        tasks,
        coalition_task,
        on_row,
        failed,
        workers=workers,
        scheduler=scheduler,
        name="game",
        on_start=on_start,
        say=say,
    )
