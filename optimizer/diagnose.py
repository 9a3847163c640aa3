"""Explain a failed solve in the user's terms (DESIGN §4.3): which limits conflict, which variable runs away.

HiGHS computes an irreducible infeasible subsystem (IIS, ``iis_strategy`` 4, measured to return exactly
the conflicting rows and bounds in RELIABILITY.md). Each row and bound is mapped back to its Pyomo
constraint or variable, then to a sentence naming the sheet, region, year, tech or partner behind it.
"""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np

from optimizer.components.contract import declared

# Constraint family → sentence template over its index (DESIGN §5 numbering in brackets).
_ROWS = {
    "c_gen_limit": "generation of {0} in {1} in {2} (slice {3}) is limited by its capacity [1]",
    "c_electricity_balance": "electricity balance of {0} in {1}, slice {2}: supply must meet the load [3]",
    "c_charge_limit": "storage {0} charging in {1} in {2} is limited by its capacity [2]",
    "c_discharge_limit": "storage {0} discharging in {1} in {2} is limited by its capacity [2]",
    "c_soc_limit": "storage {0} energy in {1} in {2} is limited by duration_h × capacity [2]",
    "c_soc_balance": "storage {0} state of charge in {1} in {2} [2]",
    "c_datacenter_capacity": "data centers in {0} in {1} must hold the IT load of the accelerators [4]",
    "c_compute_capacity": "compute served from {0} in {1} is limited by the accelerators there [5]",
    "c_demand_balance": "{0} demand of {1} in {2} must be served or left unserved [6]",
    "c_sovereignty": "{1} must host its min_domestic_{0} share of its {0} demand in {2} (Regions) [7]",
    "c_fab_capacity": "production of {0} in {1} in {2} is limited by its capacity [8]",
    "c_fab_share": "{0} in {1} in {2} may make at most max_region_share of the coalition's output (Technologies) [8]",
    "c_commodity_balance": "balance of {0} in {1} in {2}: what is made, bought and shipped in must equal what is used [9]",
    "c_external_max": "purchases of {0} from outside in {1} are capped by external_max (Commodities) [9]",
    "c_max_capacity": "max_capacity of {0} in {1} in {2} (TechCosts) [10]",
    "c_modules": "{0} in {1} in {2} is built in whole modules of module_size (Technologies) [10]",
    "c_budget": "the budget of partner {0} in {1} (PartnerBudgets) [11]",
    "c_bet_build": "{1} may be built in {2} in {3} only if bet {0} is funded (Bets) [12]",
    "c_emission_cap": "the coalition emission cap co2_cap_t in {0} (Years) [13]",
    "c_clean_share": "the min_clean_share of {0} in {1} (Regions) [14]",
    "c_active_limit": "accelerators of vintage {1} running in {0} in {2} are at most those deployed [4a]",
    "c_no_reexport": "{1} re-exports no {0} in {2}: it ships out only what it makes or buys (Regions reexport) [9a]",
    "c_import_limit": "imports of {0} into {1} in {2} are capped (ImportLimits max_units) [9b]",
    "c_capacity_column": "the capacity of {0} in {1} in {2} is what exists plus what was built and is in service [1, 2]",
    "c_load_column": "the load of {0} in {1} is that of its running accelerators and fabs [3]",
    "c_firm_capacity": "firm capacity and grid access of {0} in {1} must cover the peak with its reserve_margin (Regions) [15]",
}
_UPPER = {
    "v_build": "max_build of {0} in {1} in {2} (TechCosts)",
    "v_grid": "grid access of {0} in {1} (GridAccess max_mw, else Regions grid_max_mw), slice {2}",
    "v_fund": "bet {0} cannot be funded in this bet_mode",
    "v_fleet_on": "the ExistingFleet of {0} in {1} (ExistingFleet h100e)",
}


def _index(obj: Any) -> tuple:
    idx = obj.index()
    return idx if isinstance(idx, tuple) else (idx,)


def describe_row(con: Any) -> str:
    """A sentence for one constraint, in the user's terms."""
    name = con.parent_component().local_name
    idx = _index(con)
    if name == "c_finance":
        # the block that holds the row (a scenario's block in the stochastic form) declares its items
        key, _amount, _cls, r, v, *_rest = declared(con.parent_block(), "fin_items")[idx[0]]
        return (
            f"the capital for {key[0]} in {r} built in {v} must be financed by a partner allowed there "
            f"(PartnerRules) or by the market (Settings market_finance) [11]"
        )
    tpl = _ROWS.get(name)
    return tpl.format(*idx) if tpl else f"{con.name}"


def describe_bound(var: Any, upper: bool) -> str:
    """A sentence for one variable bound in an IIS."""
    name = var.parent_component().local_name
    idx = _index(var)
    if upper and name in _UPPER:
        return _UPPER[name].format(*idx)
    side = "upper" if upper else "lower"
    return f"the {side} bound of {var.name}"


# HighsIis::status_ when getIis stopped at iis_time_limit: its set conflicts but is not narrowed down
_IIS_TIME_LIMIT = 1


def explain_infeasibility(
    h: highspy.Highs, columns: list[Any], rows: list[tuple[Any, int]], limit_s: float = 60.0
) -> str:
    """Compute an IIS on the (already passed) model in ``h`` within ``limit_s`` seconds and describe
    it; '' when none is found.

    The limit is HiGHS's ``iis_time_limit`` (HiGHS ≥ 1.14): ``getIis`` ignores ``time_limit``
    (measured on highspy 1.16: an IIS of 85 s ran 85 s under ``time_limit`` 2, whether set as 2 or
    as the run time so far + 2) and solves its LPs on a Highs of its own whose clock starts at 0.
    Stopped at the limit, HiGHS's set still conflicts but may hold limits that do not matter: it
    is named as such, or only counted when too large to read.
    """
    # a model handed over as arrays (StandardForm.pass_to) lists every column, continuous or not
    if any(int(t) for t in h.getLp().integrality_):
        n = h.getNumCol()
        h.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kContinuous] * n)
        )
    h.setOptionValue("iis_strategy", 4)
    h.setOptionValue("iis_time_limit", max(float(limit_s), 0.0))
    try:
        status, iis = h.getIis()
    except Exception:  # noqa: BLE001 - an explanation is a courtesy; the status stands without it
        return ""
    # HiGHS may answer kWarning (e.g. after relaxing integrality or at its time limit) with a valid IIS
    if status == highspy.HighsStatus.kError or not iis.valid_:
        return ""
    stopped = int(getattr(iis, "status_", -2)) == _IIS_TIME_LIMIT
    cut = f"HiGHS's explanation stopped at its {limit_s:g} s limit"
    n_rows, n_cols = len(iis.row_index_), len(iis.col_index_)
    if stopped and n_rows + n_cols > 12:
        return (
            f"{cut} before narrowing the conflict down "
            f"({n_rows:,} rows and {n_cols:,} bounds still in it)"
        )
    parts = []
    for r in iis.row_index_:
        parts.append(describe_row(rows[r][0]))
    for c, b in zip(iis.col_index_, iis.col_bound_, strict=False):
        if b in (3, 4):  # upper or boxed
            parts.append(describe_bound(columns[c], True))
        elif b == 2 and columns[c].lb not in (None, 0, 0.0):
            parts.append(describe_bound(columns[c], False))
    parts = list(dict.fromkeys(parts))
    if stopped:
        if not parts:
            return f"{cut} before narrowing the conflict down"
        return f"these limits conflict, some perhaps needlessly ({cut}): " + "; ".join(parts)
    if not parts:
        return ""
    shown = parts[:12]
    more = f" (and {len(parts) - 12} more)" if len(parts) > 12 else ""
    return "these limits conflict: " + "; ".join(shown) + more


def explain_unbounded(h: highspy.Highs, columns: list[Any]) -> str:
    """Name the variables along which the cost falls without limit (HiGHS's primal ray)."""
    try:
        status, has_ray, ray = h.getPrimalRay()
    except Exception:  # noqa: BLE001
        return ""
    if not has_ray:
        return ""
    ray = np.asarray(ray)
    order = np.argsort(-np.abs(ray))[:5]
    names = [columns[i].name for i in order if abs(ray[i]) > 1e-9]
    return (
        "these variables can grow without limit while the cost falls: " + ", ".join(names)
        if names
        else ""
    )
