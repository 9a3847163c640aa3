"""Shared fixtures: paths to the small instances shipped with the tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT))

# Set PLANNER_REBASELINE=1 to rewrite LP snapshots and reference figures on purpose (then review the diff).
REBASELINE = os.environ.get("PLANNER_REBASELINE") == "1"


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    """A two-region, two-year instance that exercises every constraint family."""
    return DATA / "tiny"
