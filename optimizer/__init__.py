"""Coalition AI-infrastructure planner: where capital for fabs, energy and data centers should go.

The public API is four calls (DESIGN §2)::

    data = load_inputs("inputs/base.xlsx")
    model = build_model(data)
    solution = solve(model)
    write_results(solution, "outputs/base_results.xlsx")
"""

from __future__ import annotations

__version__ = "0.1.0"

from optimizer import stochastic as _stochastic  # noqa: F401  registers bet_mode stochastic
from optimizer.data_io import InputData, InputError, load_inputs
from optimizer.model import ModelError, build_model
from optimizer.results import write_results
from optimizer.solve import Solution, SolveOptions, solve

__all__ = [
    "InputData",
    "InputError",
    "ModelError",
    "Solution",
    "SolveOptions",
    "build_model",
    "load_inputs",
    "solve",
    "write_results",
]
