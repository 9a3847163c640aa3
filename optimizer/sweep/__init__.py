"""Sensitivity sweeps (DESIGN §7): designs, parallel execution, the resumable store, the summary.

Modules: :mod:`~optimizer.sweep.spec` (ranges), :mod:`~optimizer.sweep.design` (points),
:mod:`~optimizer.sweep.execution` (run loop on the shared executor :mod:`optimizer.parallel`),
:mod:`~optimizer.sweep.analysis` (indices) and :mod:`~optimizer.sweep.report` (summary workbook).

A sweep draws points from parameter ranges (the ``Sweep`` sheet, or a YAML spec), turns each point
into a list of scenario changes (:class:`optimizer.scenarios.Change`) — so any point can be
reproduced with ``solve`` through a Scenarios row — and solves the points on Dask workers. Every
finished run is committed to a SQLite store as it arrives (:mod:`optimizer.sweep_store`), so a
stopped sweep resumes where it stopped; workers re-solve warm (:mod:`optimizer.warm`).

Designs
-------
``oat``    one at a time (tornado): the base point, then each parameter at its low and its high
           with the others at base (no change).
``grid``   the full grid of ``steps`` evenly spaced values per parameter.
``lhs``    Latin hypercube of ``samples`` points (SALib).
``sobol``  Saltelli/Sobol' sampling, ``samples``·(D+2) points; first- and total-order indices with
           bootstrap confidence intervals (SALib).
``morris`` ``samples`` Morris trajectories, ``samples``·(D+1) points; μ*, σ (SALib).
"""

from __future__ import annotations

from optimizer.sweep.analysis import (  # noqa: F401
    morris_indices,
    runs_table,
    sobol_indices,
    tornado,
)
from optimizer.sweep.design import (  # noqa: F401
    MAX_POINTS,
    Design,
    Point,
    make_design,
    point_changes,
    point_id,
)
from optimizer.sweep.execution import (  # noqa: F401
    Progress,
    ProgressFn,
    SweepConfig,
    SweepResult,
    _execute_dask,
    _meta,
    load_spec,
    prepare,
    run_sweep,
    tasks_for,
    with_spec_choices,
)
from optimizer.sweep.report import (  # noqa: F401
    MARKER_COLORS,
    write_summary,
)
from optimizer.sweep.spec import (  # noqa: F401
    DEFAULT_SAMPLES,
    METHODS,
    MORRIS_LEVELS,
    SIGNIFICANT_DIGITS,
    Parameter,
    SweepSpec,
    check_spec,
    spec_from_raw,
    spec_from_yaml,
)
