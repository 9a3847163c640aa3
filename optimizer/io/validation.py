"""Validation: what each sheet must satisfy beyond its cells' types (DESIGN §4.3).

Driven by the schema where it can say it: the key columns of a ``unique`` sheet have no repeats,
every column declaring ``ref`` holds ids of that sheet, every ``…year`` column holds plausible years.
The rest are the per-sheet rules the schema cannot carry (a storage needs a duration, a fab an
output, the hours of the slices sum to a year, a bet's tech can be built where it is unlocked, …).
Every finding is appended to the book's problems (or warnings); nothing is raised here.
"""

from __future__ import annotations

import pandas as pd

from optimizer.io.cells import TypedBook
from optimizer.io.problems import Problem
from optimizer.io.reading import RawBook, column_range
from optimizer.io.resolution import HOURS_PER_YEAR, Ids, key_text
from optimizer.io.settings import YEAR_RANGE, Settings, setting_ref
from optimizer.schema import ACCELERATOR, REQUIRED_SHEETS, SHEETS

PROBABILITY_TOLERANCE = 1e-6
"""How far the Outcomes probabilities may sum from 1 (§8.1)."""

_COMMODITY = "a commodity of Commodities, FabInputs or a fab output"


# ---------------------------------------------------------------------------------------------------------
# From the schema
# ---------------------------------------------------------------------------------------------------------
def check_required_sheets(raw: RawBook, problems: list[Problem]) -> None:
    """Every sheet the schema declares ``required`` is in the input."""
    for name in REQUIRED_SHEETS:
        if name not in raw.tables:
            problems.append(
                Problem(
                    name,
                    "",
                    "missing required sheet",
                    f"a sheet named {name!r} (see `cli.py template`)",
                )
            )


def check_duplicate_keys(book: TypedBook) -> None:
    """No two rows of a ``unique`` sheet share the values of its ``key`` columns."""
    for sheet in SHEETS:
        if sheet.kind == "settings" or not sheet.unique or not sheet.keys:
            continue
        if not book.has(sheet.name):
            continue
        cols = list(sheet.keys)
        df = book[sheet.name]
        numbers = book.raw.tables[sheet.name].row_numbers
        seen: dict[tuple, int] = {}
        for i, key in enumerate(zip(*(df[c] for c in cols), strict=False)):
            if key in seen:
                book.add(
                    sheet.name,
                    book.ref(sheet.name, cols[0], i),
                    f"duplicate row for {key_text(cols, key)} (also row {numbers[seen[key]]})",
                    "one row per key",
                )
            else:
                seen[key] = i


def check_references(book: TypedBook, ids: Ids) -> None:
    """Every column declaring ``ref`` holds ids listed in that sheet; commodities are known ones."""
    known = {
        "Regions.region": set(ids.regions.index),
        "Technologies.tech": set(ids.techs.index),
        "TimeSlices.slice": set(ids.slices),
        "Partners.partner": {p for p in book["Partners"]["partner"] if p is not None},
    }
    for sheet in SHEETS:
        if sheet.kind == "settings" or not book.has(sheet.name):
            continue
        df = book[sheet.name]
        for c in sheet.columns:
            if c.ref is None or c.ref not in known:
                continue
            what = c.ref.split(".")[0]
            if not book.has(what):
                continue  # the missing sheet is reported once; every id in it is not a problem
            for i, v in enumerate(df[c.name].tolist()):
                if v is not None and v not in known[c.ref]:
                    book.add(
                        sheet.name,
                        book.ref(sheet.name, c.name, i),
                        f"unknown {c.name} {v!r}",
                        f"an id listed in {what}",
                    )
    comm_set = set(ids.commodities)
    for sheet_name in ("ChipRoutes", "ImportLimits"):
        for i, m in enumerate(book[sheet_name]["commodity"].tolist()):
            if m is not None and m not in comm_set:
                book.add(
                    sheet_name,
                    book.ref(sheet_name, "commodity", i),
                    f"unknown commodity {m!r}",
                    _COMMODITY,
                )


def _in_year_range(y: int) -> bool:
    """Whether ``y`` passes :func:`check_year_columns`; a year outside is reported there once, and
    not again as "not a model year" for the same cell."""
    return YEAR_RANGE[0] <= y <= YEAR_RANGE[1]


def check_year_columns(book: TypedBook) -> None:
    """Every whole-number column named ``…year`` holds a year in :data:`YEAR_RANGE`."""
    for sheet in SHEETS:
        for col in sheet.columns:
            if col.dtype != "int" or not col.name.endswith("year") or sheet.name not in book.frames:
                continue
            for i, y in enumerate(book[sheet.name][col.name].tolist()):
                if y is not None and not _in_year_range(y):
                    book.add(
                        sheet.name,
                        book.ref(sheet.name, col.name, i),
                        f"{col.name} {y} is out of range",
                        f"a year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}, such as 2030",
                    )


# ---------------------------------------------------------------------------------------------------------
# Per sheet
# ---------------------------------------------------------------------------------------------------------
def check_years(book: TypedBook, years: list[int]) -> None:
    """Years strictly increase, and there is at least one."""
    yd = book["Years"]
    for i in range(1, len(yd)):
        a, b = yd["year"].iat[i - 1], yd["year"].iat[i]
        if a is not None and b is not None and b <= a:
            book.add(
                "Years",
                book.ref("Years", "year", i),
                f"year {b} does not follow {a}",
                "strictly increasing years",
            )
    if book.has("Years") and not years:
        book.add("Years", "A2", "no model years", "at least one year")


def check_id_sheets(book: TypedBook, ids: Ids) -> None:
    """Regions, time slices and technologies exist; each technology row is whole for its class; the
    accelerator is a commodity; there are accelerator vintages."""
    if book.has("Regions") and not len(ids.regions):
        book.add("Regions", "A2", "no regions", "at least one region")
    if book.has("TimeSlices") and not ids.slices:
        book.add(
            "TimeSlices",
            "A2",
            "no time slices",
            "at least one slice (one hour each) with hours summing to 8760",
        )
    if book.has("Technologies") and not len(ids.techs):
        book.add(
            "Technologies",
            "A2",
            "no technologies",
            "at least one data-center technology (class datacenter)",
        )
    _check_technology_rows(book)
    if book.has("Commodities") and ACCELERATOR not in set(book["Commodities"]["commodity"]):
        book.add(
            "Commodities",
            "A2",
            f"the commodity {ACCELERATOR!r} is missing",
            f"a row for {ACCELERATOR!r} (what data centers deploy)",
        )
    if book.has("Accelerators") and book["Accelerators"].empty:
        book.add("Accelerators", "A2", "no accelerator vintages", "at least one row")


def _check_technology_rows(book: TypedBook) -> None:
    """A storage has a duration, a fab an output and nothing else does, a module size is positive."""
    sheet = "Technologies"
    for i, row in book[sheet].iterrows():
        k, cls = row["tech"], row["class"]

        def bad(col: str, message: str, expected: str, i: int = i) -> None:
            book.add(sheet, book.ref(sheet, col, i), message, expected)

        if cls == "storage" and row["duration_h"] is None:
            bad("duration_h", f"storage {k} has no duration_h", "hours of storage energy per MW")
        if cls == "fab" and row["output"] is None:
            bad("output", f"fab {k} has no output", "the commodity it makes")
        if cls != "fab" and row["output"] is not None:
            bad("output", f"{k} is a {cls}, only fabs have an output", "blank")
        if row["module_size"] is not None and row["module_size"] <= 0:
            bad(
                "module_size",
                "module_size must be positive",
                "a positive size, or blank for continuous",
            )


def check_tech_classes(book: TypedBook, ids: Ids) -> None:
    """FabInputs name fabs, Profiles name power techs."""
    for sheet, cls, what in (("FabInputs", "fab", "a fab"), ("Profiles", "power", "a power tech")):
        for i, k in enumerate(book[sheet]["tech"].tolist()):
            if k in ids.tech_classes and ids.tech_classes[k] != cls:
                book.add(
                    sheet,
                    book.ref(sheet, "tech", i),
                    f"{k} is not {what}",
                    f"a tech of class {cls}",
                )


def check_slice_hours(book: TypedBook, ids: Ids, slice_hours: dict[str, float]) -> None:
    """The hours of the time slices sum to a year."""
    total = sum(slice_hours.values())
    if book.has("TimeSlices") and ids.slices and abs(total - HOURS_PER_YEAR) > 0.01:
        book.add(
            "TimeSlices",
            column_range(book.raw.tables["TimeSlices"], "hours"),
            f"hours sum to {total:g}",
            "hours summing to 8760 (±0.01)",
        )


def check_service_years(book: TypedBook) -> None:
    """A row whose ``start_year`` is not before its ``retire_year`` never counts: surely a typo."""
    for sheet in ("ExistingCapacity", "ExistingFleet"):
        df = book[sheet]
        for i, (sy, ry) in enumerate(zip(df["start_year"], df["retire_year"], strict=True)):
            if sy is not None and ry is not None and sy >= ry:
                book.add(
                    sheet,
                    book.ref(sheet, "start_year", i),
                    f"start_year {sy} is not before retire_year {ry} (the row would never count)",
                    "a start_year before the retire_year, or a blank start_year",
                )


def check_partner_budgets(book: TypedBook, ids: Ids) -> None:
    """Every partner has a budget row."""
    budgeted = set(book["PartnerBudgets"]["partner"])
    for j in ids.partners.index:
        if j not in budgeted:
            book.add(
                "PartnerBudgets",
                "",
                f"partner {j!r} has no budget row",
                "at least one PartnerBudgets row per partner",
            )


def check_bets(
    book: TypedBook, ids: Ids, capex: dict[tuple, float], max_build: dict[tuple, float]
) -> None:
    """A bet is decided in a model year and unlocks a power tech, which has a ``max_build`` wherever
    it has a capex from the bet's ``available_year`` on."""
    bd = book["Bets"]
    year_set = set(ids.years)
    for i, (b, k, dy, ay) in enumerate(
        zip(bd["bet"], bd["tech"], bd["decide_year"], bd["available_year"], strict=False)
    ):
        if dy is not None and ids.years and dy not in year_set and _in_year_range(dy):
            book.add(
                "Bets",
                book.ref("Bets", "decide_year", i),
                f"decide_year {dy} is not a model year",
                "one of the years in Years",
            )
        if k not in ids.tech_classes:
            continue
        if ids.tech_classes[k] != "power":
            book.add(
                "Bets",
                book.ref("Bets", "tech", i),
                f"bet {b} unlocks {k}, which is not a power tech",
                "a power tech",
            )
        missing = next(
            (
                (r, y)
                for r in ids.regions_l
                for y in ids.years
                if (k, r, y) in capex and (ay is None or y >= ay) and (k, r, y) not in max_build
            ),
            None,
        )
        if missing is not None:
            book.add(
                "TechCosts",
                "",
                f"bet tech {k} has no max_build in {missing[0]} {missing[1]}",
                "a max_build for every region and year where the bet's tech may be built",
            )


def check_alternatives(book: TypedBook, ids: Ids) -> None:
    """Check that each Alternatives row (§10) names a measure its tech, class and year fit.

    ``capacity`` and ``build`` take a tech or class of Technologies; ``capital`` also the
    accelerator; ``generation`` only power techs; ``deployed`` and ``hosted`` neither. A year must be
    a model year. Regions and the measure name are checked by the schema (ref, enum).
    """
    sheet = "Alternatives"
    df, ref, problems = book[sheet], book.ref, book.problems
    classes = ids.tech_classes
    year_set = set(ids.years)
    for i, (meas, k, cls, y) in enumerate(
        zip(df["measure"], df["tech"], df["class"], df["year"], strict=True)
    ):
        if meas is None:
            continue
        if meas in ("deployed", "hosted"):
            for col, v in (("tech", k), ("class", cls)):
                if v is not None:
                    problems.append(
                        Problem(
                            sheet,
                            ref(sheet, col, i),
                            f"{col} {v!r} does not apply to measure {meas}",
                            "blank (deployed counts accelerators, hosted counts H100e served)",
                        )
                    )
        else:
            allowed = {
                "capacity": set(classes),
                "build": set(classes),
                "capital": {*classes, ACCELERATOR},
                "generation": {t for t, c in classes.items() if c == "power"},
            }[meas]
            if k is not None and k not in allowed:
                what = {
                    "capital": "a tech of Technologies or accelerator",
                    "generation": "a power tech of Technologies",
                }.get(meas, "a tech of Technologies")
                problems.append(
                    Problem(sheet, ref(sheet, "tech", i), f"unknown {meas} tech {k!r}", what)
                )
            if meas == "generation" and cls not in (None, "power"):
                problems.append(
                    Problem(
                        sheet,
                        ref(sheet, "class", i),
                        f"class {cls!r} does not generate",
                        "power, or blank",
                    )
                )
            elif meas in ("capacity", "build") and cls == ACCELERATOR:
                problems.append(
                    Problem(
                        sheet,
                        ref(sheet, "class", i),
                        f"class {cls!r} has no {meas} (accelerators are measured by deployed)",
                        "power, storage, fab or datacenter, or blank",
                    )
                )
            elif k is not None and cls is not None and k in allowed:
                k_cls = classes.get(k, ACCELERATOR)
                if k_cls != cls:
                    problems.append(
                        Problem(
                            sheet,
                            ref(sheet, "class", i),
                            f"tech {k!r} is of class {k_cls}, not {cls}",
                            f"{k_cls}, or blank",
                        )
                    )
        if y is not None and year_set and y not in year_set and _in_year_range(y):
            problems.append(
                Problem(
                    sheet,
                    ref(sheet, "year", i),
                    f"year {y} is not a model year",
                    "one of the years in Years, or blank for all",
                )
            )


def check_outcomes(
    book: TypedBook, settings: Settings, years: list[int], bets: pd.DataFrame
) -> tuple[tuple[str, float, str | None], ...]:
    """Check the Outcomes sheet and the hedging settings (§8.1); return the Outcomes rows.

    Probabilities must lie in 0..1 (the column declaration) and sum to 1 within
    :data:`PROBABILITY_TOLERANCE`; each ``scenario`` must name a Scenarios entry; ``stage_year`` must
    be a model year; ``cvar_alpha`` must be below 1 (the tail 1 − α must hold some probability).
    """
    raw, problems, warnings = book.raw, book.problems, book.warnings
    od = book["Outcomes"]
    tab = raw.tables.get("Outcomes")
    known = [n for n in dict.fromkeys(book["Scenarios"]["scenario"].tolist()) if n]
    rows: list[tuple[str, float, str | None]] = []
    seen: dict[str, int] = {}
    total = 0.0
    for i, (o, p, sc) in enumerate(
        zip(od["outcome"], od["probability"], od["scenario"], strict=False)
    ):
        if o is None or p is None:
            continue  # a blank required cell is already a problem
        if o in seen:
            problems.append(
                Problem(
                    "Outcomes",
                    tab.cell_ref("outcome", i),
                    f"outcome {o!r} given twice (also row {tab.row_numbers[seen[o]]})",
                    "one row per outcome",
                )
            )
            continue
        seen[o] = i
        if sc is not None and sc not in known:
            problems.append(
                Problem(
                    "Outcomes",
                    tab.cell_ref("scenario", i),
                    f"unknown scenario {sc!r}",
                    "a scenario of the Scenarios sheet (" + (", ".join(known) or "none") + ")"
                    ", or blank for the base data",
                )
            )
        total += float(p)
        rows.append((str(o), float(p), sc))
    if rows and len(rows) == len(od) and abs(total - 1.0) > PROBABILITY_TOLERANCE:
        problems.append(
            Problem(
                "Outcomes",
                column_range(tab, "probability"),
                f"probabilities sum to {total:.9g}",
                f"probabilities summing to 1 (±{PROBABILITY_TOLERANCE:g})",
            )
        )
    if settings.stage_year is not None and years and settings.stage_year not in years:
        problems.append(
            Problem(
                "Settings",
                setting_ref(raw.tables.get("Settings"), "stage_year"),
                f"stage_year {settings.stage_year} is not a model year",
                "one of the years in Years (" + ", ".join(map(str, years)) + ")",
            )
        )
    if settings.cvar_alpha >= 1.0:
        problems.append(
            Problem(
                "Settings",
                setting_ref(raw.tables.get("Settings"), "cvar_alpha"),
                f"cvar_alpha {settings.cvar_alpha:g} leaves no tail to average",
                "a confidence level 0 ≤ α < 1, e.g. 0.9 (the worst 10 % of outcomes)",
            )
        )
    if rows and settings.bet_mode != "stochastic":
        # an information, not a warning: the shipped base carries its hedging futures on purpose
        book.notes.append(
            f"the Outcomes sheet is used only with bet_mode stochastic (Settings says "
            f"{settings.bet_mode}): this run plans for the base data; use --bet-mode stochastic "
            "for the hedging plan"
        )
    # a missing available_year (a dropped column or blank cell) is reported by the Bets checks
    available = (
        [int(y) for y in bets["available_year"] if y is not None and y == y] if len(bets) else []
    )
    early = min(available, default=None)
    if settings.stage_year is not None and early is not None and settings.stage_year > early:
        warnings.append(
            f"stage_year {settings.stage_year} is after the earliest bet available_year {early}: "
            "decisions of the years between are shared although the bets have resolved"
        )
    return tuple(rows)
