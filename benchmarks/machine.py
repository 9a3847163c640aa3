"""What the benchmarks note about the machine beside each measurement.

The benchmarks run as scripts (``python benchmarks/X.py``), so their own folder is on ``sys.path``
and they import this module by its bare name.
"""

from __future__ import annotations

import os


def load_average() -> str:
    """The 1, 5 and 15-minute load averages as ``"load 1.26 2.42 5.15"`` ("" where the OS has none).

    Ratios are measured in one run, but a ratio taken while the load changes a lot is still
    skewed: the load beside it says how far to trust it.
    """
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return ""
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"
