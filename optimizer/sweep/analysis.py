"""Sweep analysis from the store: the runs table, tornado, Sobol' and Morris indices (SALib)."""

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from optimizer.sweep.design import Design, _quiet_warnings
from optimizer.sweep.spec import MORRIS_LEVELS
from optimizer.sweep_store import COST_COLUMNS, FAILED, SweepStore

logger = logging.getLogger(__name__)


# Analysis
# ------------------------------------------------------------------------------------------------
def runs_table(design: Design, store: SweepStore) -> pd.DataFrame:
    """One row per distinct point (first-appearance order): parameter values, outcome, capital."""
    rows = store.runs(design.unique_ids).set_index("point_id")
    seq = {}
    for i, p in enumerate(design.points):
        seq.setdefault(p.point_id, (i, p))
    out = []
    regions: list[str] = []
    classes: list[str] = []
    for r in rows.itertuples():
        for k in r.capital_by_region or {}:
            if k not in regions:
                regions.append(k)
        for k in r.capital_by_class or {}:
            if k not in classes:
                classes.append(k)
    for pid, (i, p) in seq.items():
        rec: dict[str, Any] = {"seq": i, "point_id": pid}
        for n, v in zip(design.spec.names, p.values, strict=True):
            rec[n] = v
        if pid in rows.index:
            r = rows.loc[pid]
            rec["status"] = r["status"]
            for c in ("objective_musd", *COST_COLUMNS, "capital_musd", "unserved_h100e"):
                rec[c] = r[c]
            for k in regions:
                rec[f"capital_{k}_musd"] = (r["capital_by_region"] or {}).get(k)
            for k in classes:
                rec[f"capital_class_{k}_musd"] = (r["capital_by_class"] or {}).get(k)
            rec["solve_seconds"] = r["solve_seconds"]
            rec["warm"] = None if pd.isna(r["warm"]) else bool(r["warm"])
            rec["message"] = r["message"]
        else:
            rec["status"] = "not run"
        out.append(rec)
    return pd.DataFrame(out)


def _objectives(design: Design, store: SweepStore) -> tuple[np.ndarray, int]:
    """Objective of every design row (NaN where missing) and the count of missing rows."""
    rows = store.runs(design.unique_ids)
    ok = rows[(rows["status"] != FAILED) & rows["objective_musd"].notna()]
    obj = dict(zip(ok["point_id"], ok["objective_musd"], strict=True))
    y = np.array([obj.get(p.point_id, math.nan) for p in design.points], dtype=float)
    return y, int(np.isnan(y).sum())


def tornado(design: Design, store: SweepStore) -> pd.DataFrame:
    """OAT swings: objective at each parameter's low and high against the base, largest first."""
    y, _ = _objectives(design, store)
    base = y[0]
    rows = []
    for i, p in enumerate(design.spec.parameters):
        lo, hi = y[1 + 2 * i], y[2 + 2 * i]
        rows.append(
            {
                "parameter": p.label,
                "op": p.op,
                "low": p.low,
                "high": p.high,
                "objective_low_musd": lo,
                "objective_high_musd": hi,
                "objective_base_musd": base,
                "delta_low_musd": lo - base,
                "delta_high_musd": hi - base,
                "swing_musd": abs(hi - lo),
            }
        )
    df = pd.DataFrame(rows)
    return df.sort_values("swing_musd", ascending=False, na_position="last").reset_index(drop=True)


def sobol_indices(design: Design, store: SweepStore, seed: int | None = None) -> pd.DataFrame:
    """First-order and total Sobol' indices with 95 % confidence intervals (SALib)."""
    from SALib.analyze import sobol

    y, missing = _objectives(design, store)
    if missing:
        raise ValueError(f"{missing} design points have no objective (failed or not run)")
    with _quiet_warnings():
        si = sobol.analyze(
            design.spec.salib_problem(),
            y,
            calc_second_order=False,
            conf_level=0.95,
            seed=design.seed if seed is None else seed,
        )
    return pd.DataFrame(
        {
            "parameter": design.spec.names,
            "S1": si["S1"],
            "S1_conf": si["S1_conf"],
            "ST": si["ST"],
            "ST_conf": si["ST_conf"],
        }
    )


def morris_indices(design: Design, store: SweepStore) -> pd.DataFrame:
    """Morris elementary effects: μ, μ* (with its confidence interval) and σ (SALib)."""
    from SALib.analyze import morris

    y, missing = _objectives(design, store)
    if missing:
        raise ValueError(f"{missing} design points have no objective (failed or not run)")
    si = morris.analyze(
        design.spec.salib_problem(),
        design.x,
        y,
        conf_level=0.95,
        num_levels=MORRIS_LEVELS,
        seed=design.seed,
    )
    return pd.DataFrame(
        {
            "parameter": design.spec.names,
            "mu": np.asarray(si["mu"], dtype=float),
            "mu_star": np.asarray(si["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
            "sigma": np.asarray(si["sigma"], dtype=float),
        }
    )
