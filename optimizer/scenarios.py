"""Named what-if scenarios: changes applied to the raw sheets before resolution (DESIGN §7).

A change is ``(sheet, where, column, op, value)``: ``where`` selects rows by ``key=value;key=value``
over the sheet's columns (blank = every row; ``key=`` selects rows whose cell is blank, e.g. the
all-regions rows); ``op`` is ``set``, ``scale`` or ``add``. ``set`` on a row that does not exist adds it
when ``where`` names every key column of the sheet. Changes act on the cells as the user wrote them, so
the usual validation and §4.2 resolution then apply to the changed workbook exactly as to a hand-edited
copy. Sweeps (§7) reuse :class:`Change` for each sampled point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optimizer.data_io import (
    InputData,
    InputError,
    Problem,
    RawBook,
    RawCell,
    RawTable,
    _Bad,
    convert,
    parse,
)
from optimizer.schema import OPS, SETTINGS_BY_KEY, SHEETS_BY_NAME, Column

BASE = "base"


@dataclass(frozen=True)
class Change:
    """One change to the raw input; ``origin`` says where it was written (for error messages)."""

    sheet: str
    where: str
    column: str
    op: str
    value: Any
    origin: str = ""


def parse_where(where: str | None) -> list[tuple[str, str | None]]:
    """``"region=UAE;tech=solar"`` → ``[("region", "UAE"), ("tech", "solar")]``; ``key=`` → ``(key, None)``."""
    out: list[tuple[str, str | None]] = []
    if where is None or not str(where).strip():
        return out
    for part in str(where).split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"{part!r} is not key=value")
        k, v = part.split("=", 1)
        v = v.strip()
        out.append((k.strip(), v if v else None))
    return out


def scenario_changes(raw: RawBook) -> dict[str, list[Change]]:
    """The changes of every scenario in the raw ``Scenarios`` sheet, by scenario name (sheet order)."""
    t = raw.tables.get("Scenarios")
    out: dict[str, list[Change]] = {}
    if t is None:
        return out
    problems: list[Problem] = []
    sheet = SHEETS_BY_NAME["Scenarios"]
    for i, row in enumerate(t.rows):
        cells = {h: c.value for h, c in zip(t.headers, row, strict=False)}
        vals = {}
        for col in sheet.columns:
            try:
                vals[col.name] = convert(cells.get(col.name), col)
            except _Bad as b:
                problems.append(
                    Problem(
                        "Scenarios",
                        t.cell_ref(col.name, i)
                        if col.name in t.headers
                        else f"A{t.row_numbers[i]}",
                        b.message,
                        b.expected,
                    )
                )
        name = vals.get("scenario")
        if not name:
            problems.append(
                Problem(
                    "Scenarios",
                    f"A{t.row_numbers[i]}",
                    "blank scenario name",
                    "a name for the scenario",
                )
            )
            continue
        if str(name).strip().lower() == BASE:
            if BASE not in {str(n).strip().lower() for n in out}:
                problems.append(
                    Problem(
                        "Scenarios",
                        f"A{t.row_numbers[i]}",
                        f"scenario name {name!r} is the name of the unchanged input",
                        "another name (every comparison has the base as its first run)",
                    )
                )
            out.setdefault(name, [])
            continue
        origin = f"Scenarios!A{t.row_numbers[i]} ({name})"
        out.setdefault(name, []).append(
            Change(
                vals.get("sheet") or "",
                vals.get("where") or "",
                vals.get("column") or "",
                vals.get("op") or "set",
                cells.get("value"),
                origin,
            )
        )
    if problems:
        raise InputError(problems)
    return out


def _row_value(t: RawTable, row: list[RawCell], col: Column | Any, name: str) -> Any:
    if name not in t.headers:
        return None
    try:
        return convert(row[t.headers.index(name)].value, col)
    except _Bad:
        return row[t.headers.index(name)].value


def _column_decl(sheet: str, name: str, row_key: Any = None) -> Column | Any | None:
    decl = SHEETS_BY_NAME[sheet]
    if decl.kind == "settings" and name == "value" and row_key in SETTINGS_BY_KEY:
        return SETTINGS_BY_KEY[row_key]
    return decl.column(name) if name in decl.column_names else None


def apply_changes(raw: RawBook, changes: list[Change]) -> RawBook:
    """A copy of ``raw`` with ``changes`` applied in order; every bad change is reported at once."""
    book = raw.copy()
    problems: list[Problem] = []
    for ch in changes:
        err = _apply(book, ch)
        if err:
            # origin is "WHERE (WHAT)": Scenarios!A5 (name), --change 2 (its text), Sweep (label)
            where, _, what = (ch.origin or "Scenarios").partition(" (")
            sheet, _, cell = where.partition("!")
            tag = f" ({what}" if what else ""
            problems.append(Problem(sheet or "Scenarios", cell, f"{err}{tag}", _hint(ch, err)))
    if problems:
        raise InputError(problems)
    return book


def _hint(ch: Change, err: str) -> str:
    if "unknown sheet" in err:
        return "one of " + ", ".join(n for n in SHEETS_BY_NAME if n not in ("Scenarios", "Sweep"))
    if "unknown column" in err and ch.sheet in SHEETS_BY_NAME:
        return "one of " + ", ".join(SHEETS_BY_NAME[ch.sheet].column_names)
    if "matches no row" in err:
        return "a where that selects existing rows, or one naming every key to add a row with set"
    if "number" in err:
        return "a number"
    return "a valid change"


def _apply(book: RawBook, ch: Change) -> str:
    if ch.sheet not in SHEETS_BY_NAME or ch.sheet in ("Scenarios", "Sweep"):
        return f"unknown sheet {ch.sheet!r}"
    decl = SHEETS_BY_NAME[ch.sheet]
    if ch.column not in decl.column_names:
        return f"unknown column {ch.column!r} of {ch.sheet}"
    if ch.op not in OPS:
        return f"unknown op {ch.op!r}"
    try:
        where = parse_where(ch.where)
    except ValueError as exc:
        return f"bad where: {exc}"
    for k, _v in where:
        if k not in decl.column_names:
            return f"unknown key {k!r} in where (not a column of {ch.sheet})"
    if ch.op in ("scale", "add"):
        try:
            num = convert(ch.value, Column("value", "float"))
        except _Bad:
            num = None
        if num is None:
            return f"{ch.op} needs a number, got {ch.value!r}"
    t = book.tables.get(ch.sheet)
    if t is None:
        t = RawTable(
            ch.sheet,
            list(decl.column_names),
            [chr(65 + i) for i in range(len(decl.column_names))],
            [],
            [],
        )
        book.tables[ch.sheet] = t
    if ch.column not in t.headers:
        t.headers.append(ch.column)
        t.letters.append(_next_letter(t.letters))
        for row in t.rows:
            row.append(RawCell(None))
    matched = []
    for i, row in enumerate(t.rows):
        ok = True
        for k, v in where:
            key_cell = (
                row[t.headers.index("key")].value
                if decl.kind == "settings" and "key" in t.headers
                else None
            )
            col = _column_decl(ch.sheet, k, key_cell)
            have = _row_value(t, row, col, k) if col is not None else None
            want = None
            if v is not None:
                try:
                    want = convert(v, col) if col is not None else v
                except _Bad:
                    want = v
            if have != want:
                ok = False
                break
        if ok:
            matched.append(i)
    j = t.headers.index(ch.column)
    if not matched:
        keys = set(decl.keys)
        if ch.op == "set" and keys and keys <= {k for k, _ in where}:
            new = [RawCell(None) for _ in t.headers]
            for k, v in where:
                if k not in t.headers:
                    t.headers.append(k)
                    t.letters.append(_next_letter(t.letters))
                    for row in t.rows:
                        row.append(RawCell(None))
                    new.append(RawCell(None))
                new[t.headers.index(k)] = RawCell(v)
            new[j] = RawCell(ch.value)
            t.rows.append(new)
            t.row_numbers.append((t.row_numbers[-1] if t.row_numbers else 1) + 1)
            return ""
        return f"where {ch.where!r} matches no row of {ch.sheet}"
    changed = 0
    for i in matched:
        cell = t.rows[i][j]
        if ch.op == "set":
            t.rows[i][j] = RawCell(ch.value)
            changed += 1
            continue
        if cell.value is None:
            continue  # a blank is "not given here" (§5.2): there is nothing to scale or shift
        key_cell = t.rows[i][t.headers.index("key")].value if decl.kind == "settings" else None
        col = _column_decl(ch.sheet, ch.column, key_cell) or Column(ch.column, "float")
        try:
            cur = convert(cell.value, Column(ch.column, "float"))
        except _Bad:
            return f"{ch.sheet}!{t.cell_ref(ch.column, i)} holds {cell.value!r}, which is not a number to {ch.op}"
        num = float(convert(ch.value, Column("value", "float")))
        new = cur * num if ch.op == "scale" else cur + num
        if getattr(col, "dtype", "float") == "int":
            new = round(new)
        t.rows[i][j] = RawCell(new)
        changed += 1
    if not changed:
        return f"where {ch.where!r} selects only blank {ch.column} cells of {ch.sheet}: nothing to {ch.op}"
    return ""


def book_key(raw: RawBook) -> tuple:
    """What a run's input is, cell by cell, for telling two runs with the same input apart from
    different ones: every sheet but Scenarios and Sweep (which only describe other runs), each as
    its headers and cell values. Equal keys give the same model, so one solve serves both."""
    return tuple(
        (
            name,
            tuple(t.headers),
            tuple(tuple(c.value for c in row) for row in t.rows),
        )
        for name, t in sorted(raw.tables.items())
        if name not in ("Scenarios", "Sweep")
    )


def _next_letter(letters: list[str]) -> str:
    from openpyxl.utils import column_index_from_string, get_column_letter

    return get_column_letter((column_index_from_string(letters[-1]) if letters else 0) + 1)


_CHANGE_OPS = {"*": "scale", "+": "add", "=": "set", "scale": "scale", "add": "add", "set": "set"}


def parse_change(text: str, origin: str = "--change") -> Change:
    """One what-if written on the command line, in the grammar of the Scenarios and Sweep sheets.

    ``SHEET.COLUMN[WHERE] OP VALUE`` where ``WHERE`` is the Scenarios sheet's ``key=value;…`` (may be
    left out: every row) and ``OP`` is ``*`` (scale), ``+`` (add), ``=`` (set) or the words
    ``scale``, ``add``, ``set``; e.g. ``TechCosts.capex_musd[region=USA;tech=solar] *2`` or
    ``Settings.value[key=carbon_price_usd] = 80``. The change is applied and validated exactly like
    a Scenarios row (:func:`apply_changes`); a malformed text raises :class:`InputError`.
    """
    import re

    m = re.fullmatch(
        r"\s*([A-Za-z]\w*)\.(\w+)\s*(?:\[([^\]]*)\])?\s*(\*|\+|=|scale\b|add\b|set\b)\s*(.*?)\s*",
        text,
    )
    if m is None or m.group(5) == "":
        raise InputError(
            [
                Problem(
                    origin,
                    "",
                    f"{text!r} is not a change",
                    "SHEET.COLUMN[key=value;…] OP VALUE, OP one of * + = (scale, add, set), "
                    "e.g. 'TechCosts.capex_musd[region=USA;tech=solar] *2'",
                )
            ]
        )
    sheet, column, where, op, value = m.groups()
    try:
        parse_where(where)
    except ValueError as exc:
        raise InputError(
            [Problem(origin, "", f"{text!r}: where {exc}", "key=value pairs joined by ';'")]
        ) from None
    try:
        number: Any = float(value)
    except ValueError:
        number = value
    return Change(sheet, where or "", column, _CHANGE_OPS[op], number, f"{origin} ({text})")


def describe_changes(changes: list[Change]) -> str:
    """Changes as one line for the Run sheet, in the command-line grammar (reproducible)."""
    sym = {"scale": "*", "add": "+", "set": "="}
    return "; ".join(
        f"{c.sheet}.{c.column}[{c.where}] {sym.get(c.op, c.op)}"
        f"{format(c.value, 'g') if isinstance(c.value, float) else c.value}"
        for c in changes
    )


COOKBOOK: tuple[tuple[str, str, tuple[tuple[str, str, str, str, Any], ...]], ...] = (
    (
        "demand_up_50",
        "What if compute demand is 50 % higher in every region and year?",
        (("Demand", "", "h100e", "scale", 1.5),),
    ),
    (
        "inference_doubles",
        "What if inference demand doubles (training unchanged)?",
        (("Demand", "segment=inference", "h100e", "scale", 2),),
    ),
    (
        "us_solar_dearer",
        "What if solar costs twice as much to build in the USA?",
        (("TechCosts", "tech=solar;region=USA", "capex_musd", "scale", 2),),
    ),
    (
        "no_new_nuclear",
        "What if no new nuclear plants can be built?",
        (("TechCosts", "tech=nuclear", "max_build", "set", 0),),
    ),
    (
        "carbon_price_100",
        "What if emissions cost $100 a tonne in every year?",
        (("Years", "", "carbon_price_usd", "set", 100),),
    ),
    (
        "grid_dearer",
        "What if grid electricity costs 50 % more everywhere?",
        (("Regions", "", "grid_price_usd", "scale", 1.5),),
    ),
    (
        "cheaper_saudi_capital",
        "What if capital in Saudi Arabia costs one percentage point less?",
        (("Regions", "region=SAU", "wacc", "add", -0.01),),
    ),
    (
        "no_chips_to_uae",
        "What if no accelerators may be shipped to the UAE?",
        (("ChipRoutes", "to=ARE;commodity=accelerator", "allowed", "set", "FALSE"),),
    ),
    (
        "bigger_us_fund",
        "What if the US fund has twice the budget?",
        (("PartnerBudgets", "partner=us_fund", "budget_musd", "scale", 2),),
    ),
    (
        "slower_chips",
        "What if chips improve more slowly (20 % fewer H100e per chip)?",
        (("Accelerators", "", "h100e_per_chip", "scale", 0.8),),
    ),
)
"""The ten what-ifs analysts ask most, as Scenarios rows (name, question, rows of sheet, where,
column, op, value): the README and the template's About sheet show them, and a test applies each
to the shipped dataset so they never go stale. A row is also a ``--change``:
:func:`cookbook_change_text`."""

_OP_SIGNS = {"scale": "*", "add": "+", "set": "="}


def cookbook_change_text(row: tuple[str, str, str, str, Any]) -> str:
    """A cookbook row as ``solve --change`` text, e.g. ``TechCosts.max_build[tech=nuclear] = 0``."""
    sheet, where, column, op, value = row
    return f"{sheet}.{column}{f'[{where}]' if where else ''} {_OP_SIGNS[op]} {value}"


def cookbook_markdown() -> str:
    """The cookbook as the README's markdown table (a test checks the README holds it)."""
    out = [
        "| scenario | sheet | where | column | op | value | the question | as `--change` |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, question, rows in COOKBOOK:
        for sheet, where, column, op, value in rows:
            change = cookbook_change_text((sheet, where, column, op, value))
            out.append(
                f"| `{name}` | {sheet} | {where or '(all rows)'} | {column} | {op} | {value} "
                f"| {question} | `{change}` |"
            )
    return "\n".join(out)


def blame_changes(problems: list[Problem], book: RawBook, changes: list[Change]) -> list[Problem]:
    """Problems found in a changed input, each in a column a change wrote saying which change
    (``--change 2 (…)``, ``Scenarios!A5 (name)``): the cell named is in the changed copy, which the
    user never sees."""
    out = []
    for p in problems:
        letters = "".join(ch for ch in p.cell if ch.isalpha())
        t = book.tables.get(p.sheet)
        blamed = [
            ch.origin
            for ch in changes
            if t is not None
            and ch.sheet == p.sheet
            and ch.column in t.headers
            and t.letters[t.headers.index(ch.column)] == letters
            and ch.origin
        ]
        if blamed:
            p = Problem(
                p.sheet, p.cell, f"{p.message} (column changed by {'; '.join(blamed)})", p.expected
            )
        out.append(p)
    return out


@dataclass(frozen=True)
class Run:
    """One run of a scenario study: its name (``""`` for a lone run), its resolved input and every
    change it applies to the input as given (the ``--change`` ones first), for its Run sheet."""

    label: str
    data: InputData
    changes: tuple[Change, ...]
    same_as: int | None = None  # an earlier run with the same input, whose result serves this one


class UnknownScenarioError(ValueError):
    """A scenario asked for by name is not in the Scenarios sheet."""


def plan_runs(
    raw: RawBook,
    what_ifs: tuple[str, ...] | list[str] = (),
    names: tuple[str, ...] | list[str] = (),
    every: bool = False,
) -> list[Run]:
    """The runs of one study of ``raw`` (DESIGN §7): the ``what_ifs`` (``--change`` texts) applied to
    the input, then the base and each scenario of ``names`` (or ``every`` scenario), or the one run.

    Raises :class:`InputError` listing every bad change and every problem of every run's input
    (tagged with its scenario), and :class:`UnknownScenarioError` for a name the sheet lacks.
    """
    bad: list[Problem] = []
    given: list[Change] = []
    for i, text in enumerate(what_ifs, start=1):
        try:
            given.append(parse_change(text, f"--change {i}"))
        except InputError as exc:
            bad += exc.problems
    if bad:
        raise InputError(bad)
    if given:
        raw = apply_changes(raw, given)
    if not (names or every):
        try:
            return [Run("", parse(raw), tuple(given))]
        except InputError as exc:
            raise InputError(blame_changes(exc.problems, raw, given)) from None
    changes = scenario_changes(raw)
    wanted = list(changes) if every else list(dict.fromkeys(names))  # named twice: one run
    unknown = [n for n in wanted if n not in changes]
    if unknown:
        known = ", ".join(changes) or "none"
        raise UnknownScenarioError(
            f"no scenario named {', '.join(map(repr, unknown))} in the Scenarios sheet (known: {known})"
        )
    books: list[tuple[str, RawBook, list[Change]]] = [(BASE, raw, [])]
    for n in wanted:
        try:
            books.append((n, apply_changes(raw, changes[n]), changes[n]))
        except InputError as exc:
            bad += exc.problems
    if bad:
        raise InputError(bad)
    keys = [book_key(book) for _n, book, _own in books]
    runs = []
    for i, (n, book, own) in enumerate(books):
        try:
            data = parse(book)
        except InputError as exc:
            tag = "" if n == BASE else f" (in scenario {n})"
            found = blame_changes(exc.problems, book, [*given, *own])
            bad += [replace(p, message=p.message + tag) for p in found]
            continue
        # a run whose changed input is the same as an earlier run's reuses that result
        twin = keys.index(keys[i])
        runs.append(Run(n, data, (*given, *own), twin if twin < i else None))
    if bad:
        raise InputError(bad)
    return runs
