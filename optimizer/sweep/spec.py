"""The ranges of a sweep (DESIGN §7): :class:`Parameter`, :class:`SweepSpec`, read from the
``Sweep`` sheet or a YAML spec and checked against the input.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.data_io import InputError, Problem, RawBook, convert, parse
from optimizer.scenarios import Change, apply_changes
from optimizer.schema import OPS, SHEETS_BY_NAME, Column

logger = logging.getLogger(__name__)

METHODS = ("oat", "grid", "lhs", "sobol", "morris")
DEFAULT_SAMPLES = {"lhs": 32, "sobol": 16, "morris": 10}
"""Samples when ``--samples`` is not given (Sobol' wants a power of two)."""
MORRIS_LEVELS = 4
SIGNIFICANT_DIGITS = 12
"""Sampled values are rounded to this many digits, so the stored point is exactly what was solved."""


# ------------------------------------------------------------------------------------------------
# Specification
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One swept quantity: the cells ``where`` selects in ``sheet.column``, changed by ``op``.

    Attributes
    ----------
    sheet : input sheet whose cells change, e.g. ``TechCosts``.
    column : the column of that sheet, e.g. ``capex_musd``.
    where : row selection ``key=value;key=value`` (blank = every row), as in Scenarios.
    low, high : the range the value is drawn from.
    op : ``set`` the cells to the value, ``scale`` them by it or ``add`` it.
    steps : grid points between low and high (the ``grid`` design).
    name : the label in tables and charts (``Sheet.column``, with ``[where]`` when ambiguous).
    """

    sheet: str
    column: str
    where: str
    low: float
    high: float
    op: str = "set"
    steps: int = 3
    name: str = ""

    @property
    def label(self) -> str:
        """``name`` or ``Sheet.column``."""
        return self.name or f"{self.sheet}.{self.column}"


@dataclass(frozen=True)
class SweepSpec:
    """The parameters of a sweep, with unique names.

    Attributes
    ----------
    parameters : the ranges, in the order their changes are applied.
    method, samples, seed : defaults a YAML spec may carry (the command line wins).
    """

    parameters: tuple[Parameter, ...]
    method: str | None = None
    samples: int | None = None
    seed: int | None = None

    @property
    def names(self) -> list[str]:
        """Parameter labels in order."""
        return [p.label for p in self.parameters]

    def salib_problem(self) -> dict[str, Any]:
        """The SALib problem dict (names and bounds)."""
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [[p.low, p.high] for p in self.parameters],
        }

    def as_json(self) -> list[dict[str, Any]]:
        """The parameters as plain dicts (stored in the sweep's meta)."""
        return [
            {
                "name": p.label,
                "sheet": p.sheet,
                "column": p.column,
                "where": p.where,
                "low": p.low,
                "high": p.high,
                "op": p.op,
                "steps": p.steps,
            }
            for p in self.parameters
        ]


def _parameter(
    fields: Mapping[str, Any], where_ref: str, problems: list[Problem], sheet_name: str
) -> Parameter | None:
    """Validate one row of a spec (Sweep sheet or YAML) into a :class:`Parameter`."""
    bad = len(problems)

    def err(msg: str, expected: str) -> None:
        problems.append(Problem(sheet_name, where_ref, msg, expected))

    par = str(fields.get("parameter") or "").strip()
    sheet, _, column = par.partition(".")
    if not par or not column:
        err(f"parameter {par!r} is not Sheet.column", "e.g. TechCosts.capex_musd")
    elif sheet not in SHEETS_BY_NAME or sheet in ("Scenarios", "Sweep"):
        err(f"unknown sheet {sheet!r} in parameter {par!r}", "an input sheet name")
    elif column not in SHEETS_BY_NAME[sheet].column_names:
        err(
            f"unknown column {column!r} of {sheet}",
            "one of " + ", ".join(SHEETS_BY_NAME[sheet].column_names),
        )
    vals: dict[str, Any] = {}
    for key, col in (
        ("low", Column("low", "float", required=True)),
        ("high", Column("high", "float", required=True)),
        ("steps", Column("steps", "int")),
    ):
        try:
            vals[key] = convert(fields.get(key), col)
        except Exception as exc:  # noqa: BLE001 - data_io's conversion error carries the message
            err(f"{key} {fields.get(key)!r}: {getattr(exc, 'message', exc)}", "a number")
    op = str(fields.get("op") or "set").strip()
    if op not in OPS:
        err(f"unknown op {op!r}", "one of " + ", ".join(OPS))
    low, high = vals.get("low"), vals.get("high")
    if low is None or high is None:
        if "low" in vals and "high" in vals:
            err("low and high are required", "two numbers, low ≤ high")
    elif low > high:
        err(f"low {low} is above high {high}", "low ≤ high")
    steps = vals.get("steps")
    steps = 3 if steps is None else steps
    if steps < 1:
        err(f"steps {steps} is below 1", "a whole number ≥ 1")
    if len(problems) > bad:
        return None
    where = fields.get("where")
    return Parameter(
        sheet, column, "" if where is None else str(where).strip(), low, high, op, int(steps)
    )


def _named(params: list[Parameter]) -> tuple[Parameter, ...]:
    """Give each parameter a unique label: ``Sheet.column``, plus ``[where]`` where ambiguous."""
    base = [f"{p.sheet}.{p.column}" for p in params]
    out = []
    seen: dict[str, int] = {}
    for p, b in zip(params, base, strict=True):
        name = b if base.count(b) == 1 else f"{b}[{p.where}]"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}#{seen[name]}"
        out.append(Parameter(p.sheet, p.column, p.where, p.low, p.high, p.op, p.steps, name))
    return tuple(out)


def spec_from_raw(raw: RawBook) -> SweepSpec:
    """The ranges of the input's ``Sweep`` sheet.

    Raises
    ------
    InputError
        every bad row at once, located ``Sweep!Cell``; or no Sweep rows at all.
    """
    t = raw.tables.get("Sweep")
    problems: list[Problem] = []
    params: list[Parameter] = []
    if t is not None:
        for i, row in enumerate(t.rows):
            cells = {h: c.value for h, c in zip(t.headers, row, strict=False)}
            if all(v is None for v in cells.values()):
                continue
            ref = t.cell_ref("parameter", i) if "parameter" in t.headers else f"A{t.row_numbers[i]}"
            p = _parameter(cells, ref, problems, "Sweep")
            if p is not None:
                params.append(p)
    if not params and not problems:
        problems.append(
            Problem(
                "Sweep",
                "",
                "no parameter ranges to sweep",
                "rows in the Sweep sheet (parameter, where, low, high, op, steps) or --spec FILE.yaml",
            )
        )
    if problems:
        raise InputError(problems)
    return SweepSpec(_named(params))


def spec_from_yaml(path: str | Path) -> SweepSpec:
    """The ranges of a YAML spec.

    The file holds ``parameters:`` — a list of mappings with the Sweep sheet's columns
    (``parameter``, ``where``, ``low``, ``high``, ``op``, ``steps``) — and optionally ``method``,
    ``samples`` and ``seed`` (the command line's options win). A bare list is also accepted.
    """
    import yaml

    from optimizer.guards import load_yaml

    p = Path(path)
    try:
        doc = load_yaml(p)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise InputError(
            [Problem(str(p), "", f"cannot read the spec: {exc}", "a YAML file")]
        ) from None
    if isinstance(doc, list):
        doc = {"parameters": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), list):
        raise InputError(
            [
                Problem(
                    str(p),
                    "",
                    "no `parameters:` list",
                    "parameters: - {parameter: Sheet.column, low: .., high: ..}",
                )
            ]
        )
    problems: list[Problem] = []
    params = []
    for i, item in enumerate(doc["parameters"]):
        if not isinstance(item, dict):
            problems.append(
                Problem(p.name, f"parameters[{i}]", "not a mapping", "key: value pairs")
            )
            continue
        unknown = set(item) - {"parameter", "where", "low", "high", "op", "steps"}
        if unknown:
            problems.append(
                Problem(
                    p.name,
                    f"parameters[{i}]",
                    f"unknown key(s) {', '.join(sorted(unknown))}",
                    "parameter, where, low, high, op, steps",
                )
            )
            continue
        par = _parameter(item, f"parameters[{i}]", problems, p.name)
        if par is not None:
            params.append(par)
    method = doc.get("method")
    if method is not None and method not in METHODS:
        problems.append(Problem(p.name, "method", f"unknown method {method!r}", ", ".join(METHODS)))
    if not params and not problems:
        problems.append(Problem(p.name, "parameters", "empty", "at least one parameter range"))
    if problems:
        raise InputError(problems)
    return SweepSpec(
        _named(params),
        method,
        None if doc.get("samples") is None else int(doc["samples"]),
        None if doc.get("seed") is None else int(doc["seed"]),
    )


def check_spec(raw: RawBook, spec: SweepSpec) -> None:
    """Apply each parameter's low and high to the input and validate, before any solve.

    Raises
    ------
    InputError
        every problem, each tagged with the parameter and end that causes it.
    """
    problems: list[Problem] = []
    for p in spec.parameters:
        for end, value in (("low", p.low), ("high", p.high)):
            ch = Change(p.sheet, p.where, p.column, p.op, value, origin=f"Sweep ({p.label})")
            try:
                parse(apply_changes(raw, [ch]))
            except InputError as exc:
                for q in exc.problems:
                    problems.append(
                        Problem(
                            q.sheet,
                            q.cell,
                            f"{q.message} (parameter {p.label} at {end} {value})",
                            q.expected,
                        )
                    )
    if problems:
        raise InputError(problems)
