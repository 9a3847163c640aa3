"""Read an input workbook (or a folder of CSV files) into a validated, resolved :class:`InputData`.

The stages live in :mod:`optimizer.io`, one job each (DESIGN §2, §4); this module runs them in order
and keeps exporting their public names, so studies can wrap any stage:

1. :func:`read_raw` (:mod:`optimizer.io.reading`) — cells as found, with their addresses, no
   interpretation (``RawBook``).
2. types and ranges of every cell (:mod:`optimizer.io.cells`), the Settings sheet
   (:mod:`optimizer.io.settings`), keys, references and per-sheet rules
   (:mod:`optimizer.io.validation`): every problem collected, then raised at once by :func:`parse` as
   :class:`InputError` with ``Sheet!Cell: what is wrong — what is expected`` lines (DESIGN §4.3).
3. resolution (:mod:`optimizer.io.resolution`) — defaults, wildcards and interpolation of §4.2 and
   the conventions of §5.2, giving plain dicts and frames keyed by the model's index tuples
   (:class:`InputData`, :mod:`optimizer.io.input_data`).

This module never imports Pyomo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimizer.io import resolution, validation
from optimizer.io.cells import (
    MIN_COEFFICIENT,
    BadValue,
    TypedBook,
    check_coefficient,
    convert,
    matrix_columns,
    typed_book,
)
from optimizer.io.input_data import InputData
from optimizer.io.problems import InputError, Problem
from optimizer.io.reading import RawBook, RawCell, RawTable, read_raw
from optimizer.io.resolution import interpolate
from optimizer.io.settings import (
    MAX_STOCHASTIC_BETS,
    MAX_TREE_COPIES,
    Settings,
    check_settings,
    read_settings,
    stochastic_limit_problem,
)

# the names other modules imported before the stages moved to optimizer.io
_Bad = BadValue
_check_coefficient = check_coefficient

__all__ = [
    "MAX_STOCHASTIC_BETS",
    "MAX_TREE_COPIES",
    "MIN_COEFFICIENT",
    "BadValue",
    "InputData",
    "InputError",
    "Problem",
    "RawBook",
    "RawCell",
    "RawTable",
    "Settings",
    "convert",
    "interpolate",
    "load_inputs",
    "matrix_columns",
    "parse",
    "read_raw",
    "stochastic_limit_problem",
]


def __getattr__(name: str) -> Any:
    """``MATRIX_COLUMNS``: :func:`matrix_columns`, computed when first asked for."""
    if name == "MATRIX_COLUMNS":
        return matrix_columns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_inputs(path: str | Path) -> InputData:
    """Read, validate and resolve an input workbook or CSV folder (DESIGN §4).

    Raises
    ------
    InputError
        listing every problem found, each as ``Sheet!Cell: what is wrong — what is expected``.
    """
    return parse(read_raw(path))


def parse(raw: RawBook) -> InputData:
    """Validate and resolve a :class:`RawBook` (see :func:`load_inputs`).

    Every check runs, whatever an earlier one found, so that all problems are reported at once.
    """
    book = _typed(raw)
    validation.check_duplicate_keys(book)
    years = resolution.model_years(book)
    validation.check_years(book, years)
    settings = read_settings(raw.tables.get("Settings"), years, book.problems)
    check_settings(book, settings, years)

    ids = resolution.ids(book, years)
    validation.check_id_sheets(book, ids)
    validation.check_references(book, ids)
    validation.check_tech_classes(book, ids)
    validation.check_year_columns(book)
    validation.check_service_years(book)
    validation.check_partner_budgets(book, ids)
    validation.check_alternatives(book, ids)

    fields = resolution.resolve_sheets(book, ids, settings)
    validation.check_slice_hours(book, ids, fields["slice_hours"])
    validation.check_bets(book, ids, fields["capex"], fields["max_build"])
    outcomes = validation.check_outcomes(book, settings, years, fields["bets"])
    if book.problems:
        raise InputError(book.problems)

    data = InputData(
        source=raw.source,
        settings=settings,
        warnings=tuple(book.warnings),
        notes=tuple(book.notes),
        outcomes=outcomes,
        raw=raw if outcomes else None,
        **fields,
    )
    if outcomes and settings.bet_mode == "stochastic":
        # every future is resolved (and checked) now, so that a bad one is reported before any build
        from optimizer.outcomes import resolve_leaves

        data.__dict__["outcome_data"] = resolve_leaves(data)
    return data


def _typed(raw: RawBook) -> TypedBook:
    """The book's problems and warnings so far, the required sheets, and every cell typed."""
    problems = list(raw.problems)
    warnings = [
        f"sheet {s!r} is not part of the input schema and was ignored" for s in raw.extra_sheets
    ]
    warnings += raw.warnings
    validation.check_required_sheets(raw, problems)
    return typed_book(raw, problems, warnings)
