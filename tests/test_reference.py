"""Layer 3: reference cases — objective (rel 1e-6) plus variable and constraint counts.

A change to any figure below must be deliberate: update it in the same commit as the change to the
mathematics, with a line in the history comment saying why.

History
-------
- 2026-11-29: first baseline (core of issue 2).
- 2026-11-29: 106 → 103 variables, 90 → 89 constraints: builds that would come online only after the
  horizon (gas, lead 1, in 2035 in A and B, and its financing) are no longer offered; same objective.
- 2026-12-05 (issue 15, v2): 103 → 108 variables, 89 → 93 constraints: the chips running,
  ``active[r,v,y]`` for the four deployments alive in one model year each (A and B, vintages 2030
  and 2035), with their four rows ``active ≤ deploy`` (4a), and ``fleet_on[A,2030]`` (a bound, no
  row); same objective — no chip in tiny is worth idling.
- 2026-12-06 (issue 15, speed): 108 → 115 variables, 93 → 100 constraints: the per-slice rows hold
  the capacity in service and the load through one column each (``v_capacity`` for solar A and B
  and battery A in 2035, the entries with two builds; ``v_load`` for A and B in 2030 and 2035),
  each defined by one equality row; an exact substitution, same objective.
"""

from __future__ import annotations

import pytest

from optimizer.data_io import load_inputs
from optimizer.model import build_model
from optimizer.solve import solve

REFERENCE = {
    # case folder: (objective $M, variables, constraints, integer model)
    "tiny": (262.57648169553516, 115, 100, True),
}


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_reference_case(case, tiny_path):
    """Objective and problem size of each reference case are unchanged."""
    objective, nvars, ncons, is_mip = REFERENCE[case]
    sol = solve(build_model(load_inputs(tiny_path.parent / case)))
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(objective, rel=1e-6)
    assert (sol.variables, sol.constraints, sol.is_mip) == (nvars, ncons, is_mip)
