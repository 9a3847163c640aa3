"""Sweep designs: points drawn from the ranges (oat, grid, lhs, sobol, morris), each a list of
scenario changes with a stable id.
"""

import hashlib
import itertools
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.sweep.spec import (
    DEFAULT_SAMPLES,
    METHODS,
    MORRIS_LEVELS,
    SIGNIFICANT_DIGITS,
    SweepSpec,
)
from optimizer.warm import canonical_json

logger = logging.getLogger(__name__)


# Designs
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """One sampled point: its id, the parameter values (None = at base) and its changes."""

    point_id: str
    values: tuple[float | None, ...]
    changes: tuple[tuple[str, str, str, str, float], ...]


@dataclass(frozen=True)
class Design:
    """The points of a sweep in design order (repeats allowed; they share a point id).

    Attributes
    ----------
    method, samples, seed : how it was drawn.
    spec : the parameters.
    points : every point in design order.
    x : the sampled matrix (design rows × parameters) SALib's analysis expects; NaN = at base.
    """

    method: str
    samples: int | None
    seed: int
    spec: SweepSpec
    points: tuple[Point, ...]
    x: np.ndarray = field(repr=False)

    @property
    def unique_ids(self) -> list[str]:
        """Distinct point ids in order of first appearance: the runs to solve."""
        return list(dict.fromkeys(p.point_id for p in self.points))


def _round(v: float) -> float:
    return float(f"{float(v):.{SIGNIFICANT_DIGITS}g}")


def point_changes(
    spec: SweepSpec, values: Iterable[float | None]
) -> tuple[tuple[str, str, str, str, float], ...]:
    """The changes ``(sheet, where, column, op, value)`` of a point (None = leave at base)."""
    return tuple(
        (p.sheet, p.where, p.column, p.op, v)
        for p, v in zip(spec.parameters, values, strict=True)
        if v is not None
    )


def point_id(changes: Iterable[Iterable[Any]]) -> str:
    """A hash of the canonical changes: identical points get the same id, so they solve once."""
    text = canonical_json([list(c) for c in changes])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


MAX_POINTS = 10_000
"""Most points one sweep may draw: a grid of 6 parameters × 1,000 steps is 10^18 solves, and drawing
it alone would hang; the check comes before anything is drawn."""


def _check_size(spec: SweepSpec, method: str, n: int | None) -> None:
    """Refuse a design of more than :data:`MAX_POINTS` points before drawing it (ValueError)."""
    d = len(spec.parameters)
    if method == "grid":
        size = math.prod(max(1, p.steps) for p in spec.parameters)
        instead = "fewer steps, or --method lhs with --samples N"
    elif method == "oat":
        size = 1 + 2 * d
        instead = "fewer parameters"
    else:
        size = (n or 0) * {"lhs": 1, "sobol": d + 2, "morris": d + 1}[method]
        instead = "a smaller --samples"
    if size > MAX_POINTS:
        raise ValueError(
            f"the {method} design has {size:,} points, more than the limit of {MAX_POINTS:,} "
            f"solves in one sweep — {instead}"
        )


def make_design(spec: SweepSpec, method: str, samples: int | None = None, seed: int = 0) -> Design:
    """Draw the points of ``method`` over ``spec``.

    Parameters
    ----------
    spec : the parameter ranges.
    method : ``oat``, ``grid``, ``lhs``, ``sobol`` or ``morris``.
    samples : LHS points, Sobol' base samples (N → N·(D+2) points), Morris trajectories
        (N → N·(D+1) points); ignored by ``oat`` and ``grid``.
    seed : random seed of the SALib samplers (a sweep is reproducible from it).

    Returns
    -------
    Design
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: one of {', '.join(METHODS)}")
    d = len(spec.parameters)
    n = samples if samples is not None else DEFAULT_SAMPLES.get(method)
    if n is not None and n < 1:
        raise ValueError(f"samples must be ≥ 1, got {n}")
    _check_size(spec, method, n)
    problem = spec.salib_problem()
    if method in ("lhs", "sobol", "morris"):
        flat = [p.label for p in spec.parameters if not p.low < p.high]
        if flat:
            raise ValueError(
                f"{method} needs low < high for every parameter; not so for {', '.join(flat)}"
            )
    if method == "oat":
        rows: list[list[float]] = [[math.nan] * d]
        for i, p in enumerate(spec.parameters):
            for v in (p.low, p.high):
                r = [math.nan] * d
                r[i] = v
                rows.append(r)
        x = np.array(rows, dtype=float)
    elif method == "grid":
        axes = [
            np.linspace(p.low, p.high, p.steps) if p.steps > 1 else [p.low] for p in spec.parameters
        ]
        x = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, d)
    elif method == "lhs":
        from SALib.sample import latin

        x = latin.sample(problem, n, seed=seed)
    elif method == "sobol":
        from SALib.sample import sobol

        with _quiet_warnings():
            x = sobol.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import morris

        x = morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    x = np.vectorize(lambda v: v if math.isnan(v) else _round(v), otypes=[float])(x)
    points = []
    for row in x:
        values = tuple(None if math.isnan(v) else float(v) for v in row)
        ch = point_changes(spec, values)
        points.append(Point(point_id(ch), values, ch))
    return Design(method, n if method in DEFAULT_SAMPLES else None, seed, spec, tuple(points), x)


class _quiet_warnings:
    """Silence SALib's "N should be a power of 2" advice: the user chose N."""

    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)
