"""Sensitivity sweeps (DESIGN §7, issue 7): designs, store and resume, warm == cold, Dask paths.

The solves run on ``tests/data/tiny`` (a MIP solved in ~0.1 s). Subprocess tests use at most two
worker processes: the machine has two cores shared with other work.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from optimizer.data_io import InputError, parse, read_raw
from optimizer.model import build_model
from optimizer.scenarios import Change, apply_changes
from optimizer.solve import SolveOptions, compile_model
from optimizer.sweep import (
    Parameter,
    SweepConfig,
    SweepSpec,
    check_spec,
    make_design,
    point_id,
    prepare,
    run_sweep,
    spec_from_raw,
    spec_from_yaml,
)
from optimizer.sweep_store import FAILED, StoreMismatchError, SweepStore
from optimizer.warm import WarmSolver, cold_objective, run_task

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
CLI = [sys.executable, str(ROOT / "cli.py")]

SPEC_YAML = """\
parameters:
  - {parameter: TechCosts.capex_musd, where: tech=dc, low: 0.8, high: 1.2, op: scale, steps: 5}
  - {parameter: Commodities.external_price_usd, where: commodity=accelerator, low: 0.7, high: 1.3,
     op: scale, steps: 5}
  - {parameter: Years.carbon_price_usd, where: year=2035, low: 0, high: 200, op: set, steps: 2}
"""
SPEC = SweepSpec(
    (
        Parameter("TechCosts", "capex_musd", "tech=dc", 0.8, 1.2, "scale", 5, "dc_capex"),
        Parameter(
            "Commodities",
            "external_price_usd",
            "commodity=accelerator",
            0.7,
            1.3,
            "scale",
            5,
            "chip",
        ),
        Parameter("Years", "carbon_price_usd", "year=2035", 0.0, 200.0, "set", 2, "carbon"),
    )
)


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    p = tmp_path / "spec.yaml"
    p.write_text(SPEC_YAML)
    return p


@pytest.fixture
def tiny_lp(tmp_path: Path) -> Path:
    """The tiny case as an LP (continuous modules, bets failing): workers re-solve it warm."""
    case = tmp_path / "tiny_lp"
    shutil.copytree(TINY, case)
    s = (case / "Settings.csv").read_text()
    s = s.replace("integer_modules,TRUE", "integer_modules,FALSE")
    (case / "Settings.csv").write_text(s.replace("bet_mode,succeed", "bet_mode,fail"))
    return case


def _cold(changes: list, case: Path = TINY) -> float:
    sol = cold_objective(str(case), changes)
    assert sol.status == "optimal"
    return float(sol.objective)


# ------------------------------------------------------------------------------------------------
# designs
# ------------------------------------------------------------------------------------------------
def test_oat_is_base_then_each_parameter_low_and_high():
    d = make_design(SPEC, "oat")
    assert len(d.points) == 1 + 2 * 3
    assert d.points[0].changes == ()
    for i, p in enumerate(SPEC.parameters):
        lo, hi = d.points[1 + 2 * i], d.points[2 + 2 * i]
        assert lo.changes == ((p.sheet, p.where, p.column, p.op, p.low),)
        assert hi.changes == ((p.sheet, p.where, p.column, p.op, p.high),)
        assert [v is None for v in lo.values] == [j != i for j in range(3)]


def test_grid_is_the_full_product_of_steps():
    d = make_design(SPEC, "grid")
    assert len(d.points) == 5 * 5 * 2 == len(d.unique_ids)
    assert sorted({p.values[0] for p in d.points}) == [0.8, 0.9, 1.0, 1.1, 1.2]
    assert sorted({p.values[2] for p in d.points}) == [0.0, 200.0]


def test_lhs_has_one_point_per_stratum():
    d = make_design(SPEC, "lhs", samples=8, seed=3)
    assert d.x.shape == (8, 3)
    for j, p in enumerate(SPEC.parameters):
        strata = np.floor((d.x[:, j] - p.low) / (p.high - p.low) * 8).astype(int)
        assert sorted(np.minimum(strata, 7)) == list(range(8))
    assert make_design(SPEC, "lhs", samples=8, seed=3).x.tolist() == d.x.tolist()  # reproducible
    assert make_design(SPEC, "lhs", samples=8, seed=4).x.tolist() != d.x.tolist()


def test_sobol_and_morris_sizes_and_bounds():
    s = make_design(SPEC, "sobol", samples=4, seed=1)
    assert len(s.points) == 4 * (3 + 2)
    m = make_design(SPEC, "morris", samples=3, seed=1)
    assert len(m.points) == 3 * (3 + 1)
    for d in (s, m):
        for j, p in enumerate(SPEC.parameters):
            assert (d.x[:, j] >= p.low).all() and (d.x[:, j] <= p.high).all()
    # Morris moves on a grid of 4 levels
    levels = np.linspace(0.0, 200.0, 4)
    assert all(np.isclose(v, levels).any() for v in m.x[:, 2])
    with pytest.raises(ValueError, match="low < high"):
        make_design(SweepSpec((Parameter("Years", "carbon_price_usd", "", 1, 1),)), "sobol")


def test_identical_points_share_an_id():
    a = point_id([("Regions", "region=A", "wacc", "set", 0.05)])
    assert a == point_id([["Regions", "region=A", "wacc", "set", 0.05]])
    assert a != point_id([("Regions", "region=A", "wacc", "set", 0.06)])
    flat = SweepSpec((Parameter("Regions", "wacc", "region=A", 0.05, 0.05, "set", 3),))
    d = make_design(flat, "grid")
    assert len(d.points) == 3 and len(d.unique_ids) == 1


def test_spec_from_sweep_sheet_and_its_errors(tmp_path: Path):
    case = tmp_path / "case"
    shutil.copytree(TINY, case)
    (case / "Sweep.csv").write_text(
        "parameter,where,low,high,op,steps\n"
        "TechCosts.capex_musd,tech=dc,0.8,1.2,scale,\n"
        "TechCosts.capex_musd,tech=solar,0.5,1.5,scale,4\n"
    )
    spec = spec_from_raw(read_raw(case))
    assert spec.names == ["TechCosts.capex_musd[tech=dc]", "TechCosts.capex_musd[tech=solar]"]
    assert spec.parameters[0].steps == 3 and spec.parameters[1].steps == 4
    (case / "Sweep.csv").write_text(
        "parameter,where,low,high,op,steps\nTechCost.capex,,1,2,set,\nRegions.wacc,,2,1,mul,\n"
    )
    with pytest.raises(InputError) as e:
        spec_from_raw(read_raw(case))
    text = str(e.value)
    assert "Sweep!A2: unknown sheet 'TechCost'" in text
    assert "Sweep!A3" in text and "above high" in text and "unknown op 'mul'" in text
    bad = SweepSpec((Parameter("TechCosts", "capex_musd", "tech=nope", 0.1, 0.2, "scale"),))
    with pytest.raises(InputError, match="parameter TechCosts.capex_musd at low"):
        check_spec(read_raw(TINY), bad)


def test_yaml_spec(spec_file: Path):
    spec = spec_from_yaml(spec_file)
    assert spec.names == [
        "TechCosts.capex_musd",
        "Commodities.external_price_usd",
        "Years.carbon_price_usd",
    ]
    spec_file.write_text("parameters:\n  - {parameter: Regions.wacc, low: 1, hgh: 2}\n")
    with pytest.raises(InputError, match="unknown key"):
        spec_from_yaml(spec_file)


# ------------------------------------------------------------------------------------------------
# warm re-solves
# ------------------------------------------------------------------------------------------------
def _compiled(raw, changes):
    data = parse(apply_changes(raw, [Change(*c) for c in changes]))
    return compile_model(build_model(data))


@pytest.mark.parametrize(
    "variant", ["modules", "bets", "lp"], ids=["mip-branch-and-bound", "mip-enumerated", "lp"]
)
def test_warm_equals_cold(tmp_path: Path, variant: str):
    """Every warm result equals a cold ``solve`` of the point (1e-6).

    ``modules``: the tiny case as shipped, integer modules without an upper bound: branch and
    bound, always cold. ``bets``: continuous modules, one bet binary: the LP relaxation re-solved
    warm with the binary fixed at 0 and at 1. ``lp``: no integer column: re-solved warm.
    """
    case = tmp_path / "case"
    shutil.copytree(TINY, case)
    if variant != "modules":
        s = (
            (case / "Settings.csv")
            .read_text()
            .replace("integer_modules,TRUE", "integer_modules,FALSE")
        )
        (case / "Settings.csv").write_text(s)
    if variant == "lp":
        (case / "Bets.csv").unlink()  # funding a bet is a binary decision
    raw = read_raw(case)
    design = make_design(SPEC, "lhs", samples=6, seed=11)
    solver = WarmSolver(SolveOptions(threads=1, mip_gap=1e-9))
    warm = 0
    for p in design.points:
        sf = _compiled(raw, p.changes)
        assert bool(len(sf.integer_cols)) is (variant != "lp")
        res = solver.solve(sf)
        warm += res.warm
        cold = cold_objective(str(case), [list(c) for c in p.changes])
        assert res.status == cold.status == "optimal"
        assert res.objective == pytest.approx(cold.objective, rel=1e-6, abs=1e-6)
    # after the first point, everything but branch and bound re-solves in place (warm.py)
    assert warm == (0 if variant == "modules" else len(design.points) - 1)


def _fusion_bet_points(tmp_path: Path) -> tuple[Path, Any, list[list[tuple]]]:
    """The tiny case with continuous modules (its folder and raw book), and six (fusion capex, R&D
    cost) points on either side of the funding decision."""
    case = tmp_path / "case"
    shutil.copytree(TINY, case)
    s = (case / "Settings.csv").read_text()
    (case / "Settings.csv").write_text(s.replace("integer_modules,TRUE", "integer_modules,FALSE"))
    points = [
        [
            ("TechCosts", "tech=fusion", "capex_musd", "set", capex),
            ("Bets", "bet=fusion_rd", "rd_cost_musd", "set", rd),
        ]
        for capex, rd in [(0.3, 1), (0.3, 100), (1.0, 1), (5.0, 1), (0.6, 1), (2.0, 100)]
    ]
    return case, read_raw(case), points


def test_enumerated_mip_follows_the_best_funding_decision(tmp_path: Path):
    """Warm enumeration finds the optimum on both sides of a funding decision.

    In the tiny case with continuous modules, funding ``fusion_rd`` (the only binary) pays when
    R&D is cheap and fusion capex low: at capex 0.3 it is funded for R&D 1 (NPC 260.68 against
    262.58 unfunded) and not for R&D 100 (262.58 either way, so funding would add 100·DP).
    A design across both regions must reproduce the cold MIP's objective and decision at each
    point, whatever the previous point's decision (the warm start's first assignment) was.
    """
    case, raw, points = _fusion_bet_points(tmp_path)
    solver = WarmSolver(SolveOptions(threads=1, mip_gap=1e-9))
    decisions = []
    for changes in points:
        sf = _compiled(raw, changes)
        (j,) = sf.integer_cols
        res = solver.solve(sf)
        cold = cold_objective(str(case), [list(c) for c in changes])
        assert res.status == cold.status == "optimal" and res.mip_gap == 0.0
        assert res.objective == pytest.approx(cold.objective, rel=1e-6, abs=1e-6)
        fund = round(float(solver.x[j]))
        assert fund == round(cold.model.v_fund["fusion_rd"].value)
        decisions.append(fund)
    assert decisions == [1, 0, 1, 0, 1, 0]
    assert solver.warm_solves == len(points) - 1


def test_enumeration_out_of_time_has_no_solution_and_restarts_cold(tmp_path: Path):
    """A time limit spent before any assignment is solved leaves ``no_solution``, never a guess,
    and the next point starts afresh (no basis of a failed point is reused)."""
    case = tmp_path / "case"
    shutil.copytree(TINY, case)
    s = (case / "Settings.csv").read_text()
    (case / "Settings.csv").write_text(s.replace("integer_modules,TRUE", "integer_modules,FALSE"))
    sf = _compiled(read_raw(case), [])
    limited = WarmSolver(SolveOptions(threads=1, time_limit_s=1e-9))
    res = limited.solve(sf)
    assert res.status == "no_solution" and res.objective is None and limited.x is None
    assert limited.h is None  # the next point is passed afresh
    res = WarmSolver(SolveOptions(threads=1)).solve(sf)
    assert res.status == "optimal" and res.objective == pytest.approx(_cold([], case), rel=1e-6)


@pytest.mark.parametrize("variant", ["bets", "lp"], ids=["mip-enumerated", "lp"])
def test_shared_start_equals_cold(tmp_path: Path, variant: str):
    """A second worker that starts from the first worker's exported basis (and integer assignment)
    re-solves warm — no cold solve of its own — and every result equals a cold ``solve`` (1e-6)."""
    case = tmp_path / "case"
    shutil.copytree(TINY, case)
    s = (case / "Settings.csv").read_text()
    (case / "Settings.csv").write_text(s.replace("integer_modules,TRUE", "integer_modules,FALSE"))
    if variant == "lp":
        (case / "Bets.csv").unlink()
    raw = read_raw(case)
    design = make_design(SPEC, "lhs", samples=5, seed=3)
    first, *rest = design.points
    one = WarmSolver(SolveOptions(threads=1, mip_gap=1e-9))
    assert one.solve(_compiled(raw, first.changes)).status == "optimal"
    start = one.export_start()
    assert start is not None and len(start["col_status"]) == one.h.getLp().num_col_
    for p in rest:  # each point on a fresh worker that only has the shared start
        other = WarmSolver(SolveOptions(threads=1, mip_gap=1e-9))
        res = other.solve(_compiled(raw, p.changes), start=start)
        assert res.warm and other.shared_starts == 1 and other.cold_solves == 0
        cold = cold_objective(str(case), [list(c) for c in p.changes])
        assert res.status == cold.status == "optimal"
        assert res.objective == pytest.approx(cold.objective, rel=1e-6, abs=1e-6)
    # a start of another structure is ignored: the point is solved cold
    other = WarmSolver(SolveOptions(threads=1))
    bad = {**start, "signature": [0, 0, 0, "x"]}
    assert not other.solve(_compiled(raw, first.changes), start=bad).warm
    assert other.cold_solves == 1


def test_two_workers_one_cold_solve(tmp_path: Path, spec_file: Path, tiny_lp: Path):
    """On two Dask workers only the sweep's first run is cold: it is solved alone and its basis
    is broadcast, so every other run (on either worker) is warm; results equal cold solves."""
    store = tmp_path / "two.sqlite"
    cfg = SweepConfig(
        tiny_lp, method="lhs", samples=6, seed=5, workers=2, spec=spec_file, store=store
    )
    res = run_sweep(cfg)
    assert res.finished == res.runs == 6 and res.failed == 0
    with SweepStore(store) as st:
        runs = st.runs()
    assert int(runs["warm"].sum()) == 5
    for r in runs.itertuples():
        assert r.objective_musd == pytest.approx(_cold(r.changes, tiny_lp), rel=1e-6)


def test_enumeration_only_for_few_bounded_integer_columns():
    """At most MAX_ASSIGNMENTS joint values, and only for integer columns with finite bounds."""
    from optimizer.warm import MAX_ASSIGNMENTS, _assignments

    def arr(lb, ub):
        return {"lb": np.asarray(lb, dtype=float), "ub": np.asarray(ub, dtype=float)}

    assert _assignments(arr([0, 0], [1, 1]), [0, 1]) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert _assignments(arr([0, 1], [2, 1]), [0, 1]) == [(0, 1), (1, 1), (2, 1)]  # one fixed
    assert _assignments(arr([0], [np.inf]), [0]) is None
    n = MAX_ASSIGNMENTS.bit_length()  # 2^n binaries > MAX_ASSIGNMENTS
    assert _assignments(arr([0] * n, [1] * n), list(range(n))) is None
    assert len(_assignments(arr([0] * (n - 1), [1] * (n - 1)), list(range(n - 1)))) == 2 ** (n - 1)


def test_structure_change_rebuilds():
    raw = read_raw(TINY)
    solver = WarmSolver(SolveOptions(threads=1))
    lp = [
        ("Settings", "key=integer_modules", "value", "set", "FALSE"),
        ("Settings", "key=bet_mode", "value", "set", "fail"),
    ]
    assert not solver.solve(_compiled(raw, lp)).warm
    assert solver.solve(_compiled(raw, lp)).warm
    # battery capex in B makes storage buildable there: new columns and rows
    more = [*lp, ("TechCosts", "tech=battery;region=B;year=", "capex_musd", "set", 1.0)]
    res = solver.solve(_compiled(raw, more))
    assert not res.warm and res.objective == pytest.approx(_cold([list(c) for c in more]), rel=1e-6)
    assert solver.solve(_compiled(raw, more)).warm


def test_a_crashing_point_is_retried_then_recorded_failed(tmp_path: Path):
    task = {"input": str(tmp_path / "gone"), "point_id": "x", "changes": [], "params": {}}
    row = run_task(task)
    assert row["status"] == FAILED and row["attempts"] == 2 and "not found" in row["message"]


CRASH_ID = "crash-me"


def crash_or_run(task: dict) -> dict:
    """Worker entry point for the test below: one point kills its worker process outright."""
    if task["point_id"] == CRASH_ID:
        os._exit(3)
    return run_task(task)


def test_a_point_that_kills_its_worker_is_recorded_failed_and_the_sweep_goes_on(spec_file: Path):
    import cloudpickle

    from optimizer.sweep import _execute_dask, tasks_for

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cfg = SweepConfig(TINY, "oat", workers=1, spec=spec_file, allowed_failures=1)
    design = prepare(cfg)[2]
    tasks = tasks_for(cfg, design, design.unique_ids[:3])
    tasks[1] = {**tasks[1], "point_id": CRASH_ID}
    rows: list[dict] = []
    _execute_dask(tasks, cfg, rows.append, fn=crash_or_run)
    by_id = {r["point_id"]: r for r in rows}
    assert len(rows) == 3 and by_id[CRASH_ID]["status"] == FAILED
    assert "KilledWorker" in by_id[CRASH_ID]["message"]
    assert all(r["status"] == "optimal" for k, r in by_id.items() if k != CRASH_ID)


# ------------------------------------------------------------------------------------------------
# store and resume
# ------------------------------------------------------------------------------------------------
def test_store_resume_semantics(tmp_path: Path, spec_file: Path):
    store = tmp_path / "s.sqlite"
    cfg = SweepConfig(TINY, "oat", workers=0, store=store, spec=spec_file)
    prepared = prepare(cfg)
    design = prepared[2]
    ids = design.unique_ids
    with SweepStore(store) as st:
        st.start({"input_sha256": "?", "method": "oat"}, ids, resume=False)
    with pytest.raises(StoreMismatchError, match="different sweep"):
        run_sweep(SweepConfig(TINY, "oat", workers=0, store=store, spec=spec_file, resume=True))
    store.unlink()
    # a first pass records two runs, one of them failed
    with SweepStore(store) as st:
        from optimizer.sweep import _meta, tasks_for

        st.start(_meta(cfg, design), [p.point_id for p in design.points], resume=False)
        t0, t1 = tasks_for(cfg, design, ids[:2])
        st.record(run_task(t0))
        st.record({**run_task(t1), "status": FAILED, "objective_musd": None})
        assert st.finished_ids() == {ids[0]}
        assert st.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(StoreMismatchError, match="--resume"):
        run_sweep(cfg, prepared=prepared)
    res = run_sweep(SweepConfig(TINY, "oat", workers=0, store=store, spec=spec_file, resume=True))
    assert (res.runs, res.finished, res.failed, res.solved_now) == (7, 7, 0, 6)  # failed retried
    again = run_sweep(SweepConfig(TINY, "oat", workers=0, store=store, spec=spec_file, resume=True))
    assert again.solved_now == 0 and again.finished == 7
    with SweepStore(store) as st:
        runs = st.runs()
    assert sorted(runs["point_id"]) == sorted(ids)
    row = runs.iloc[0]
    assert set(row["capital_by_region"]) <= {"A", "B"} and row["capital_by_class"]
    assert row["cost_capital_musd"] > 0 and row["unserved_h100e"] is not None
    for r in runs.itertuples():
        assert sum(r.capital_by_region.values()) == pytest.approx(r.capital_musd, rel=1e-9)
        assert sum(r.capital_by_class.values()) == pytest.approx(r.capital_musd, rel=1e-9)


def _wait_rows(store: Path, n: int, timeout: float) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if store.exists():
            try:
                with sqlite3.connect(store, timeout=1) as db:
                    got = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                if got >= n:
                    return got
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"the sweep did not finish {n} runs in {timeout} s")


def test_killed_sweep_resumes_to_exactly_the_design(tmp_path: Path, spec_file: Path, tiny_lp: Path):
    store, out = tmp_path / "kill.sqlite", tmp_path / "kill.xlsx"
    args = [*CLI, "sweep", str(tiny_lp), "--spec", str(spec_file), "--method", "grid"]
    args += ["--workers", "1", "--store", str(store), "-o", str(out)]
    proc = subprocess.Popen(
        args, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _wait_rows(store, 4, timeout=60)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its Dask worker processes
        proc.wait(timeout=30)
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        killed_at = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    design = make_design(spec_from_yaml(spec_file), "grid")
    assert 4 <= killed_at < len(design.unique_ids), "the kill should land part-way"
    done = subprocess.run(
        [*args, "--resume", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["runs"] == summary["finished"] == len(design.unique_ids) == 50
    assert summary["failed"] == 0 and f"({50 - killed_at} solved now" in done.stderr
    with SweepStore(store) as st:
        runs = st.runs()
    assert sorted(runs["point_id"]) == sorted(design.unique_ids)
    assert runs["warm"].sum() >= 40  # the worker re-solved in place after its first point
    for r in runs.itertuples():
        assert r.objective_musd == pytest.approx(_cold(r.changes, tiny_lp), rel=1e-6)
    assert summary["objective_min"] == pytest.approx(runs["objective_musd"].min())
    assert out.exists()


# ------------------------------------------------------------------------------------------------
# command line and Dask cluster
# ------------------------------------------------------------------------------------------------
def test_cli_summary_workbooks(tmp_path: Path, spec_file: Path):
    runner = CliRunner()
    from cli import main

    sheets = {}
    for method, extra in (
        ("oat", []),
        ("sobol", ["--samples", "2"]),
        ("morris", ["--samples", "2"]),
    ):
        out = tmp_path / f"{method}.xlsx"
        args = ["sweep", str(TINY), "--spec", str(spec_file), "--method", method, "--workers", "0"]
        args += ["--store", str(tmp_path / f"{method}.sqlite"), "-o", str(out), "--json", *extra]
        r = runner.invoke(main, args)
        assert r.exit_code == 0, r.output
        js = json.loads(r.stdout.strip().splitlines()[-1])
        assert js["failed"] == 0 and js["finished"] == js["runs"]
        wb = openpyxl.load_workbook(out)
        sheets[method] = {ws.title: len(ws._charts) for ws in wb}
    assert sheets["oat"] == {"About": 0, "Runs": 0, "Tornado": 1, "Scatter": 3}
    assert sheets["sobol"]["Sobol"] == 1 and sheets["morris"]["Morris"] == 1
    wb = openpyxl.load_workbook(tmp_path / "oat.xlsx")
    tor = [r for r in wb["Tornado"].iter_rows(values_only=True)]
    assert tor[0][0] == "parameter" and tor[1][0] == "Commodities.external_price_usd"
    hdr = [c.value for c in wb["Runs"][1]]
    assert {"objective_musd", "cost_energy_musd", "capital_class_datacenter_musd"} <= set(hdr)
    wb = openpyxl.load_workbook(tmp_path / "sobol.xlsx")
    assert [c.value for c in wb["Sobol"][1]] == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
    # an existing store is never overwritten by accident
    r = runner.invoke(
        main,
        ["sweep", str(TINY), "--spec", str(spec_file), "--workers", "0"]
        + ["--store", str(tmp_path / "oat.sqlite"), "-o", str(tmp_path / "x.xlsx")],
    )
    assert r.exit_code == 2 and "--resume" in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_on_an_existing_dask_cluster(tmp_path: Path, spec_file: Path, tiny_lp: Path):
    dask = shutil.which("dask") or str(Path(sys.executable).parent / "dask")
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                cwd=tmp_path,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    addr,
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                cwd=tmp_path,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        from dask.distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(addr, timeout="5s") as c:
                    c.wait_for_workers(1, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        store = tmp_path / "cluster.sqlite"
        r = subprocess.run(
            [*CLI, "sweep", str(tiny_lp), "--spec", str(spec_file), "--scheduler", addr]
            + ["--store", str(store), "-o", str(tmp_path / "c.xlsx"), "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        js = json.loads(r.stdout)
        assert (js["runs"], js["finished"], js["failed"]) == (7, 7, 0)
        with SweepStore(store) as st:
            runs = st.runs()
        assert runs["worker"].nunique() == 1 and runs["warm"].sum() == 6
        for r in runs.itertuples():
            assert r.objective_musd == pytest.approx(_cold(r.changes, tiny_lp), rel=1e-6)
    finally:
        for p in reversed(procs):
            with_group = p.pid
            try:
                os.killpg(with_group, signal.SIGTERM)
                p.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(with_group, signal.SIGKILL)
                p.wait(timeout=15)


def test_warm_follows_an_lp_whose_vectors_are_changed_in_place_or_reassigned():
    """One LP object re-solved with new costs and bounds put into it (the alternatives study).

    min c·x  s.t.  Σ_j x_j = 1,  0 ≤ x_j ≤ u_j  (16 columns, u_j = 1): the optimum is min_j c_j,
    and with u_k = 0 for the cheapest column k, the second-cheapest c_j. highspy hands a HighsLp's
    costs out as a numpy *view* of the C++ buffer: a solver that kept such a view as "the
    previous costs" saw an in-place edit as no change at all (and, after the attribute was assigned
    anew, compared with freed memory), so HiGHS kept stale costs and returned a wrong optimum.
    """
    import highspy

    from optimizer.solve import StandardForm

    n = 16
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, 1
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.ones(1), np.ones(1)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(n + 1, dtype=np.int32)
    lp.a_matrix_.index_ = np.zeros(n, dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(n)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, 1
    sf = StandardForm(lp, list(range(n)), [0], 0.0, [])
    solver = WarmSolver(SolveOptions(threads=1))
    rng = np.random.default_rng(7)
    for i in range(12):
        c = rng.uniform(-1.0, 1.0, n)
        in_place = i % 2 == 1
        if in_place:
            sf.lp.col_cost_[:] = c
        else:
            sf.lp.col_cost_ = c
        res = solver.solve(sf)
        assert res.status == "optimal" and res.warm == (i > 0)
        assert res.objective == pytest.approx(c.min(), abs=1e-9), (i, in_place)
        upper = np.ones(n)  # highspy 1.16 returns col_upper_ as a list copy: assigned only
        upper[int(np.argmin(c))] = 0.0
        sf.lp.col_upper_ = upper
        res = solver.solve(sf)
        assert res.objective == pytest.approx(np.sort(c)[1], abs=1e-9), (i, in_place)
        sf.lp.col_upper_ = np.ones(n)


def test_relaxation_first_equals_the_enumeration(tmp_path: Path):
    """An enumerated MIP tries its LP relaxation first and keeps it only when it is integral.

    The tiny case's points of ``test_enumerated_mip_follows_the_best_funding_decision``: where
    funding does not pay the relaxation leaves ``fund`` at 0 (integral: one LP is the answer);
    where it pays, the relaxation funds a fraction (fusion's build is bounded by M·fund), so the
    four-way enumeration runs. Both give the enumeration's objective and decision at every point.
    """
    case, raw, points = _fusion_bet_points(tmp_path)
    runs = {}
    for first in (True, False):
        solver = WarmSolver(SolveOptions(threads=1, mip_gap=1e-9))
        solver.relaxation_first = first
        got = []
        for changes in points:
            sf = _compiled(raw, changes)
            (j,) = sf.integer_cols
            res = solver.solve(sf)
            assert res.status == "optimal" and res.mip_gap == 0.0
            got.append((res.objective, round(float(solver.x[j]))))
        runs[first] = (got, solver.relaxation_runs, solver.relaxation_integral)
    (with_relax, n_runs, n_integral), (enumerated, n_off, _) = runs[True], runs[False]
    assert n_runs == len(points) and n_off == 0
    assert 0 < n_integral < len(points)  # both ways were taken
    assert [d for _, d in with_relax] == [d for _, d in enumerated] == [1, 0, 1, 0, 1, 0]
    for (a, _), (b, _) in zip(with_relax, enumerated, strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
