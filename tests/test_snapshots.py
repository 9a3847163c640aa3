"""Layer 2: one LP snapshot per component on the tiny instance (STYLE.md).

The snapshots are taken on ``tests/data/tiny_v2``: the tiny instance plus one use of every v2 sheet
and column (GridAccess, ImportLimits, reexport FALSE, reserve_margin, it_load_factor, FabInputs by
year, value_usd, start_year), so that every constraint family has rows to review; ``tiny`` itself
stays v1-only (the reference case and the v1 tests).

A change in the mathematics shows here as a readable diff of the LP file, compared with Pyomo's
``lp_diff`` (which tolerates float formatting). Rebaseline on purpose with ``PLANNER_REBASELINE=1``.
"""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo
import pytest
from pyomo.repn.tests.lp_diff import lp_diff

from optimizer.data_io import load_inputs
from optimizer.model import COMPONENTS as MODEL_COMPONENTS
from optimizer.model import build_model
from tests.conftest import REBASELINE, ROOT

SNAPSHOTS = ROOT / "tests" / "snapshots"
SNAPSHOT_CASE = "tiny_v2"

# The constraint families each component declares in its CONTRACT (optimizer.components.contract).
COMPONENTS = {comp.CONTRACT.name: list(comp.CONTRACT.constraints) for comp in MODEL_COMPONENTS}


def _lp_text(tiny_path: Path, keep: list[str], tmp_path: Path) -> str:
    m = build_model(load_inputs(tiny_path.parent / SNAPSHOT_CASE))
    for con in m.component_objects(pyo.Constraint, descend_into=True):
        if con.local_name not in keep:
            con.deactivate()
    out = tmp_path / "model.lp"
    m.write(str(out), io_options={"symbolic_solver_labels": True})
    return out.read_text()


def test_every_constraint_belongs_to_a_component(tiny_path):
    """The snapshot table covers every constraint the model declares, so none escapes review."""
    m = build_model(load_inputs(tiny_path.parent / SNAPSHOT_CASE))
    declared = {c.local_name for c in m.component_objects(pyo.Constraint)}
    listed = {c for cs in COMPONENTS.values() for c in cs}
    assert declared == listed


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_component_lp_snapshot(component, tiny_path, tmp_path):
    """The component's rows on the tiny instance match the reviewed snapshot."""
    text = _lp_text(tiny_path, COMPONENTS[component], tmp_path)
    snap = SNAPSHOTS / f"{component}.lp"
    if REBASELINE or not snap.exists():
        if not REBASELINE:
            pytest.fail(f"no snapshot {snap.name}: run with PLANNER_REBASELINE=1 and review it")
        snap.write_text(text)
    base, test = lp_diff(snap.read_text(), text, baseline=str(snap), testfile="current")
    assert base == test, f"{component}: the LP differs from {snap.name} (diff printed above)"
    for name in COMPONENTS[component]:
        # an empty family would make the snapshot vacuous: the tiny instance must exercise each one
        assert f"{name}(" in text or f"{name}\n" in text or f"{name}:" in text, (
            f"{name} has no rows on the tiny instance"
        )
