r"""The futures of a hedging plan as data: one resolved input per Outcomes row (DESIGN §8.1).

An Outcomes row ``(outcome, probability, scenario)`` names a future by a Scenarios entry; its data is
the raw workbook with that scenario's changes applied, validated and resolved exactly like a
``solve --scenario`` run (§7). This module is Pyomo-free: it turns the rows into data
(:func:`resolve_leaves`), builds the probability-weighted mean data the VSS is measured against
(:func:`mean_data`), and counts the outcome tree (:func:`tree_size`) so that a tree too large to
build is refused before anything is built.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optimizer.data_io import (
    MAX_TREE_COPIES,
    InputData,
    InputError,
    Problem,
    RawBook,
    RawCell,
    parse,
    stochastic_limit_problem,
)
from optimizer.io.settings import tree_variables_text

#: ... or more variables than this in all its copies together (~3 GB of Pyomo model per million)
MAX_TREE_VARIABLES = 3_000_000


def _without_outcomes(raw: RawBook) -> RawBook:
    book = raw.copy()
    book.tables.pop("Outcomes", None)
    return book


def resolve_leaves(data: InputData) -> tuple[tuple[str, float, InputData], ...]:
    """(outcome, probability, resolved data) of every Outcomes row of ``data``.

    A blank scenario is the base data itself. Every problem of every future is reported at once,
    each tagged with the outcome and scenario it comes from.
    """
    from optimizer.scenarios import apply_changes, scenario_changes

    if not data.outcomes:
        return ()
    assert data.raw is not None, "InputData with outcomes keeps its raw book"
    base = _without_outcomes(data.raw)
    changes = scenario_changes(base)
    out: list[tuple[str, float, InputData]] = []
    problems: list[Problem] = []
    for name, p, sc in data.outcomes:
        if sc is None:
            out.append((name, p, data))
            continue
        try:
            out.append((name, p, parse(apply_changes(base, changes[sc]))))
        except InputError as exc:
            tag = f" (in outcome {name}, scenario {sc})"
            problems += [replace(q, message=q.message + tag) for q in exc.problems]
    if problems:
        raise InputError(problems)
    return tuple(out)


def mean_data(data: InputData) -> tuple[InputData | None, str]:
    """The probability-weighted mean of the futures' data, for the VSS (§8.1); ``(None, why)`` when
    some changed value is not a number or the futures' sheets differ in shape (rows added)."""
    if not data.outcomes:
        return data, ""
    from optimizer.scenarios import apply_changes, scenario_changes

    base = _without_outcomes(data.raw)
    changes = scenario_changes(base)
    books = [
        (p, base if sc is None else apply_changes(base, changes[sc])) for _n, p, sc in data.outcomes
    ]
    mean = base.copy()
    for sheet in set().union(*(b.tables for _p, b in books)):
        tabs = [b.tables.get(sheet) for _p, b in books]
        if any(t is None for t in tabs):
            return None, f"sheet {sheet} exists in some futures only"
        first = tabs[0]
        if any(t.headers != first.headers or len(t.rows) != len(first.rows) for t in tabs):
            return None, f"the futures' {sheet} sheets differ in rows or columns"
        out = first.copy()
        for i, row in enumerate(first.rows):
            for j in range(len(row)):
                vals = [t.rows[i][j].value for t in tabs]
                if all(v == vals[0] for v in vals):
                    continue
                nums = [_number(v) for v in vals]
                if any(x is None for x in nums):
                    return None, (
                        f"{sheet}!{first.letters[j]}{first.row_numbers[i]} differs between the "
                        f"futures and is not a number everywhere ({', '.join(map(repr, vals))})"
                    )
                avg = sum(p * x for (p, _b), x in zip(books, nums, strict=True))
                out.rows[i][j] = RawCell(avg)
        mean.tables[sheet] = out
    mean.tables.pop("Outcomes", None)
    return parse(mean), ""


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class TreeSize:
    """How large the outcome tree of a stochastic plan is (§8, §8.1)."""

    futures: int  # Outcomes rows (1 without the sheet)
    bets: int
    copies: int  # futures × 2^bets: one copy of the model per leaf

    def describe(self) -> str:
        """``"12 copies (3 Outcomes rows × 2^2 bet outcomes)"``."""
        return (
            f"{self.copies:,} copies of the model ({self.futures} Outcomes row"
            f"{'s' if self.futures != 1 else ''} × 2^{self.bets} bet outcomes)"
        )


def tree_size(data: InputData) -> TreeSize:
    """Count the leaves of the outcome tree without resolving or building anything."""
    futures = max(1, len(data.outcomes))
    n = len(data.bets)
    return TreeSize(futures, n, futures * 2**n)


def too_large(size: TreeSize, variables_per_copy: int | None) -> str | None:
    """Why the extensive form of a tree of ``size`` is refused, or None when it may be built;
    ``variables_per_copy`` (one copy's count, None when not yet counted) sizes the message and
    the variables limit."""
    hint = (
        "solve it by decomposition with --mpisppy ph, or use fewer bets or Outcomes rows "
        "(or --bet-mode succeed/fail)"
    )
    if size.copies > MAX_TREE_COPIES:
        p = stochastic_limit_problem(size.bets, "", size.futures, variables_per_copy)
        return f"{p.message} — {p.expected}"
    if variables_per_copy and size.copies * variables_per_copy > MAX_TREE_VARIABLES:
        return (
            f"the outcome tree has {size.describe()}, "
            f"{tree_variables_text(size.copies, variables_per_copy)}, above the limit of "
            f"{MAX_TREE_VARIABLES:,} variables — {hint}"
        )
    return None
