"""Layer 2: one LP snapshot per component on the tiny instance (STYLE.md).

A change in the mathematics shows here as a readable diff of the LP file, compared with Pyomo's
``lp_diff`` (which tolerates float formatting). Rebaseline on purpose with ``PLANNER_REBASELINE=1``.
"""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo
import pytest
from pyomo.repn.tests.lp_diff import lp_diff

from optimizer.data_io import load_inputs
from optimizer.model import build_model
from tests.conftest import REBASELINE, ROOT

SNAPSHOTS = ROOT / "tests" / "snapshots"

# Which constraints each component declares (DESIGN §5 numbering in the comments).
COMPONENTS = {
    "capacity": ["c_modules", "c_max_capacity"],  # 10
    "compute": [
        "c_datacenter_capacity",
        "c_compute_capacity",
        "c_demand_balance",
        "c_sovereignty",
    ],  # 4-7
    "chips": ["c_fab_capacity", "c_fab_share", "c_commodity_balance", "c_external_max"],  # 8-9
    "power": [
        "c_gen_limit",
        "c_charge_limit",
        "c_discharge_limit",
        "c_soc_limit",
        "c_soc_balance",
        "c_electricity_balance",
    ],  # 1-3
    "policy": ["c_emission_cap", "c_clean_share"],  # 13-14
    "finance": ["c_finance", "c_budget"],  # 11
    "bets": ["c_bet_build"],  # 12
    "objective": [],
}


def _lp_text(tiny_path: Path, keep: list[str], tmp_path: Path) -> str:
    m = build_model(load_inputs(tiny_path))
    for con in m.component_objects(pyo.Constraint, descend_into=True):
        if con.local_name not in keep:
            con.deactivate()
    out = tmp_path / "model.lp"
    m.write(str(out), io_options={"symbolic_solver_labels": True})
    return out.read_text()


def test_every_constraint_belongs_to_a_component(tiny_path):
    """The snapshot table covers every constraint the model declares, so none escapes review."""
    m = build_model(load_inputs(tiny_path))
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
