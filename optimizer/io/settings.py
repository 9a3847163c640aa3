"""The Settings sheet: key/value rows read into a typed :class:`Settings`, and checked (DESIGN §4.1).

Every key has its declaration in :data:`optimizer.schema.SETTINGS` (type, default, range); a value
that is legal but probably a typo (a base year of 1030, a discount rate of 8 meaning 8 %) is an
error or a warning here, never a quiet answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimizer.io.cells import BadValue, TypedBook, convert
from optimizer.io.problems import Problem
from optimizer.io.reading import RawTable
from optimizer.schema import SETTINGS, SETTINGS_BY_KEY

YEAR_RANGE = (1900, 2500)
"""Years outside this range are typos (1030 for 2030, 100000), never a plan."""

BASE_YEAR_SLACK = 10
"""A base year further than this before the first model year (or after the last) is probably a typo."""

HIGH_RATE = 0.3
"""A discount rate or wacc above this is probably a percentage typed as a fraction's digits."""

MAX_STOCHASTIC_BETS = 8
MAX_TREE_COPIES = 2**MAX_STOCHASTIC_BETS
"""The outcome tree holds at most this many copies of the model (leaves), Outcomes rows included."""


@dataclass(frozen=True)
class Settings:
    """Resolved Settings sheet (DESIGN §4.1); every field carries its default."""

    base_year: int
    discount_rate: float
    last_period_length: int
    unserved_penalty_usd: float
    market_finance: bool
    integer_modules: bool
    bet_mode: str
    time_limit_s: float | None
    mip_gap: float
    threads: int | None
    mga_slack: float = 0.05
    it_load_factor: float = 1.0  # λ (v2): average share of nameplate IT power running chips draw
    stage_year: int | None = (
        None  # §8.1: None = earliest bet available_year, else second model year
    )
    cvar_weight: float = 0.0  # §8.1: β of E[cost] + β·CVaR_α[cost]
    cvar_alpha: float = 0.9  # §8.1: α, the confidence level of CVaR


def setting_ref(t: RawTable | None, key: str) -> str:
    """Address of the value cell of Settings ``key`` in the Settings table ``t`` (empty when not found)."""
    if t is None or "key" not in t.headers or "value" not in t.headers:
        return ""
    k = t.headers.index("key")
    for i, row in enumerate(t.rows):
        if row[k].value is not None and str(row[k].value).strip() == key:
            return t.cell_ref("value", i)
    return ""


def read_settings(t: RawTable | None, years: list[int], problems: list[Problem]) -> Settings:
    """The Settings table ``t`` (None when the input has none) with every default applied; a blank
    ``base_year`` is the first model year and a blank ``last_period_length`` the last step of ``years``."""

    def bad(cell: str, message: str, expected: str) -> None:
        problems.append(Problem("Settings", cell, message, expected))

    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    if t is not None:
        for h in ("key", "value"):
            if h not in t.headers:
                bad("1:1", f"missing column {h!r}", "columns key and value")
                return read_settings(None, years, problems)
        for h in t.headers:
            if h not in ("key", "value"):
                bad(t.column_ref(h), f"unknown column {h!r}", "columns key and value")
        seen: set[str] = set()
        for i, row in enumerate(t.rows):
            kc = row[t.headers.index("key")]
            vc = row[t.headers.index("value")]
            key = str(kc.value).strip() if kc.value is not None else ""
            if not key:
                bad(t.cell_ref("key", i), "blank key", "a setting name")
                continue
            s = SETTINGS_BY_KEY.get(key)
            if s is None:
                expected = "one of " + ", ".join(SETTINGS_BY_KEY)
                bad(t.cell_ref("key", i), f"unknown setting {key!r}", expected)
                continue
            if key in seen:
                bad(t.cell_ref("key", i), f"setting {key!r} given twice", "each key once")
            seen.add(key)
            ref = t.cell_ref("value", i)
            if vc.error or vc.formula:
                bad(ref, "error value or uncalculated formula", "a plain value")
                continue
            try:
                v = convert(vc.value, s)
            except BadValue as b:
                bad(ref, b.message, b.expected)
                continue
            if v is not None:
                values[key] = v
    if values["base_year"] is None:
        values["base_year"] = years[0] if years else 0
    if values["last_period_length"] is None:
        values["last_period_length"] = (years[-1] - years[-2]) if len(years) > 1 else 1
    return Settings(**values)


def check_settings(book: TypedBook, settings: Settings, years: list[int]) -> None:
    """Typos of a year or a rate give an error or a warning, never a quiet answer.

    A base year of 1030 (for 2030) discounts every cost by ~1e-18, so the plan serves nothing at no
    visible cost; 100000 overflows. A discount rate or wacc of 0.5 is legal but rarely meant. An
    outcome tree too large to build, a last period under a year and an ``it_load_factor`` of 0 are
    errors.
    """
    raw, problems, warnings = book.raw, book.problems, book.warnings
    table = raw.tables.get("Settings")
    by = settings.base_year
    lo, hi = YEAR_RANGE
    if by is not None and years and not lo <= by <= hi:
        problems.append(
            Problem(
                "Settings",
                setting_ref(table, "base_year"),
                f"base_year {by} is out of range",
                f"a year between {lo} and {hi}, normally the first model year ({years[0]})",
            )
        )
    elif by is not None and years and not years[0] - BASE_YEAR_SLACK <= by <= years[-1]:
        ref = setting_ref(table, "base_year")
        warnings.append(
            f"Settings!{ref}: base_year {by} is far from the model years {years[0]}–{years[-1]} "
            f"(money is discounted to {by}); is it a typo for {years[0]}?"
        )
    if settings.discount_rate > HIGH_RATE:
        warnings.append(
            f"Settings!{setting_ref(table, 'discount_rate')}: discount_rate "
            f"{settings.discount_rate:g} is {settings.discount_rate:.0%} a year; "
            f"did you mean {settings.discount_rate / 100:g}?"
        )
    if settings.bet_mode == "stochastic":
        bets = raw.tables.get("Bets")
        n = len(bets.rows) if bets is not None else 0
        outs = raw.tables.get("Outcomes")
        futures = max(1, len(outs.rows)) if outs is not None else 1
        if futures * 2**n > MAX_TREE_COPIES:
            # one copy is built to count its variables (what an analyst needs to judge memory): a
            # Pyomo build inside validation, on this refusal path only
            from optimizer.stochastic import variables_per_copy

            problems.append(
                stochastic_limit_problem(
                    n, setting_ref(table, "bet_mode"), futures, variables_per_copy(raw)
                )
            )
    for sheet_name in ("Regions", "Partners"):
        tab = raw.tables.get(sheet_name)
        for i, w in enumerate(book[sheet_name]["wacc"].tolist()):
            if w is not None and w > HIGH_RATE and tab is not None and "wacc" in tab.headers:
                warnings.append(
                    f"{sheet_name}!{tab.cell_ref('wacc', i)}: wacc {w:g} is {w:.0%} a year; "
                    f"did you mean {w / 100:g}?"
                )
    if settings.last_period_length is not None and settings.last_period_length < 1:
        problems.append(
            Problem("Settings", "", "last_period_length below 1", "a whole number of years ≥ 1")
        )
    if settings.it_load_factor <= 0:
        problems.append(
            Problem(
                "Settings",
                setting_ref(table, "it_load_factor"),
                f"it_load_factor {settings.it_load_factor:g} is not above 0 (running chips "
                "would draw no power)",
                "a share 0 < λ ≤ 1 of nameplate IT power",
            )
        )


GB_PER_MILLION_VARIABLES = 7.0
"""Peak memory of an extensive form per million variables, Pyomo model and HiGHS together (measured on
model v2: the base's 12-leaf tree, 916,000 variables, 6.4 GB maximum resident set; its 3-leaf tree,
227,103 variables, 1.0 GB; notes of issue 18)."""


def tree_variables_text(copies: int, variables_per_copy: int | None) -> str:
    """``about 109 variables each: 1,048,576 copies hold ~114,294,784 variables (~800 GB …)``, or
    a word on why the count is unknown."""
    if not variables_per_copy:
        return "variables per copy unknown (the input has other problems)"
    total = copies * variables_per_copy
    gb = total / 1e6 * GB_PER_MILLION_VARIABLES
    return (
        f"about {variables_per_copy:,} variables each: ~{total:,} variables in the extensive "
        f"form, ~{gb:,.0f} GB of memory at the {GB_PER_MILLION_VARIABLES:g} GB per million "
        "variables measured on the base"
    )


def stochastic_limit_problem(
    n_bets: int, ref: str = "", futures: int = 1, variables_per_copy: int | None = None
) -> Problem:
    """The problem of an outcome tree too large to build: ``futures × 2^|B|`` copies of the model
    (§8, §8.1), with the variables they would hold when ``variables_per_copy`` (one copy's count)
    is known. The one limit and message for parse, the guards and the stochastic form."""
    copies = futures * 2**n_bets
    return Problem(
        "Settings",
        ref,
        f"bet_mode stochastic builds {copies:,} copies of the model ({futures} Outcomes "
        f"row{'s' if futures != 1 else ''} × 2^{n_bets} bet outcomes, one copy per leaf), "
        f"{tree_variables_text(copies, variables_per_copy)}; at most "
        f"{MAX_TREE_COPIES} copies (at most {MAX_STOCHASTIC_BETS} bets without an Outcomes sheet)",
        "bet_mode succeed or fail (or --bet-mode), fewer Outcomes rows, or fewer bets: merge the "
        "small ones",
    )
