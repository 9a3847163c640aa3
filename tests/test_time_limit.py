"""The time limit is one budget for a whole solve (issue 18): each HiGHS run gets what is left.

HiGHS compares its ``time_limit`` option with its run time summed over the life of one ``Highs``
object, so the budget HiGHS holds for a run is ``time_limit − getRunTime()`` at the run's start;
these tests record it. The wall clock of ``optimizer.solve`` is replaced by one that jumps by a
chosen number of seconds during a run (or the hand-off), so that a run "takes" 30 s without the
test waiting: the test then checks what HiGHS is given, not how fast anything is.

The model is the module-size case of ``test_solve_paths`` (module 0.4 MW): its LP relaxation is
fractional (n = 2.5), so a solve makes three HiGHS runs: the relaxation, branch and bound, and the
LP with the integers fixed for the duals.
"""

from __future__ import annotations

import importlib
import time
import types
from pathlib import Path

import highspy
import numpy as np
import pytest

from optimizer import build_model, load_inputs
from optimizer.diagnose import explain_infeasibility
from optimizer.solve import SolveOptions, solve

try:
    from hand_cases import base_case, write_case
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.hand_cases import base_case, write_case

# the module, not the function ``optimizer.solve`` that the package exports under the same name
solve_mod = importlib.import_module("optimizer.solve")


def _modules_case(tmp_path: Path) -> Path:
    case = base_case()
    case["Technologies"][0]["module_size"] = 0.4
    return write_case(tmp_path / "modules_0.4", case)


def _infeasible_case(tmp_path: Path) -> Path:
    """Existing 2 MW of dc above its max_capacity 1 MW: no solution (test_solve_paths)."""
    case = base_case()
    case["Technologies"][0]["module_size"] = 0.5
    case["TechCosts"][0]["max_capacity"] = 1.0
    case["ExistingCapacity"] = [{"tech": "dc", "region": "A", "capacity": 2.0}]
    return write_case(tmp_path / "infeasible", case)


class _Clock:
    """``optimizer.solve``'s clock: the real one plus seconds added when a run or the hand-off ends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, jumps: dict[str, float]) -> None:
        self.offset = 0.0
        self.jumps = jumps
        self.budgets: list[tuple[str, float]] = []  # (run, seconds HiGHS may take in it)
        real_run, real_compile = solve_mod._run, solve_mod.compile_model

        def run(h: highspy.Highs, monitor: object, what: str) -> None:
            self.budgets.append((what, h.getOptionValue("time_limit")[1] - h.getRunTime()))
            real_run(h, monitor, what)
            self.offset += self.jumps.get(what, 0.0)

        def compile_model(model: object) -> object:
            sf = real_compile(model)
            self.offset += self.jumps.get("handoff", 0.0)
            return sf

        monkeypatch.setattr(solve_mod, "_run", run)
        monkeypatch.setattr(solve_mod, "compile_model", compile_model)
        monkeypatch.setattr(
            solve_mod, "time", types.SimpleNamespace(perf_counter=self.perf_counter)
        )

    def perf_counter(self) -> float:
        return time.perf_counter() + self.offset


def test_each_later_run_gets_what_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Limit 100 s, each run taking 30 s: the relaxation may take 100 s, branch and bound the 70 s
    left, the duals LP the 40 s left — not a fresh 100 s (before: the duals LP was given the whole
    limit again, so a solve could take twice its limit)."""
    model = build_model(load_inputs(_modules_case(tmp_path)))
    clock = _Clock(monkeypatch, {"relaxed": 30.0, "solve": 30.0, "duals": 30.0})
    sol = solve(model, SolveOptions(time_limit_s=100.0, threads=1))
    assert sol.status == "optimal"
    assert [w for w, _ in clock.budgets] == ["relaxed", "solve", "duals"]
    for (what, got), want in zip(clock.budgets, (100.0, 70.0, 40.0), strict=True):
        assert want - 1.0 < got <= want, what
    assert sol.duals  # the duals LP ran within what was left


def test_the_clock_may_start_at_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``started`` 60 s ago (the model took 60 s to build): with a limit of 100 s, HiGHS's first run
    may take at most 40 s."""
    model = build_model(load_inputs(_modules_case(tmp_path)))
    clock = _Clock(monkeypatch, {})
    solve(model, SolveOptions(time_limit_s=100.0, threads=1), started=time.perf_counter() - 60.0)
    assert clock.budgets[0][0] == "relaxed"
    assert 39.0 < clock.budgets[0][1] <= 40.0


def test_a_spent_budget_starts_no_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-off took 120 s of a 100 s limit: HiGHS is not started (a run started on a spent
    budget still does its presolve before it looks at the clock), and the status says so."""
    model = build_model(load_inputs(_modules_case(tmp_path)))
    clock = _Clock(monkeypatch, {"handoff": 120.0})
    sol = solve(model, SolveOptions(time_limit_s=100.0, threads=1))
    assert clock.budgets == []
    assert (sol.status, sol.termination) == ("no_solution", "time_limit")
    assert "spent before HiGHS started" in sol.message


def test_no_branch_and_bound_after_a_relaxation_that_spent_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relaxation (fractional) took 120 s of 100: branch and bound is not started, and its
    fractional point is no plan: no_solution."""
    model = build_model(load_inputs(_modules_case(tmp_path)))
    clock = _Clock(monkeypatch, {"relaxed": 120.0})
    sol = solve(model, SolveOptions(time_limit_s=100.0, threads=1))
    assert [w for w, _ in clock.budgets] == ["relaxed"]
    assert (sol.status, sol.termination) == ("no_solution", "time_limit")
    assert "LP relaxation (fractional), before branch and bound" in sol.message


def test_duals_are_skipped_when_the_budget_is_spent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Branch and bound ended optimal but took the whole limit: the plan stands, without duals."""
    model = build_model(load_inputs(_modules_case(tmp_path)))
    clock = _Clock(monkeypatch, {"solve": 120.0})
    sol = solve(model, SolveOptions(time_limit_s=100.0, threads=1))
    assert [w for w, _ in clock.budgets] == ["relaxed", "solve"]
    assert sol.status == "optimal" and not sol.duals
    assert "duals unavailable: the time limit was spent" in sol.message


def test_no_limit_gives_every_run_all_the_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a time limit, every run is unbounded in time (the budget is HiGHS's infinity)."""
    model = build_model(load_inputs(_modules_case(tmp_path)))
    clock = _Clock(monkeypatch, {"relaxed": 1e6, "solve": 1e6})
    sol = solve(model, SolveOptions(threads=1))
    assert sol.status == "optimal" and sol.duals
    assert [b for _, b in clock.budgets] == [highspy.kHighsInf] * 3


def test_the_explanation_gets_only_what_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An infeasible relaxation that spent the limit: no explanation is started, and it says why."""
    model = build_model(load_inputs(_infeasible_case(tmp_path)))
    _Clock(monkeypatch, {"relaxed": 120.0})
    sol = solve(model, SolveOptions(time_limit_s=100.0, threads=1))
    assert sol.status == "infeasible"
    assert "no time was left of the time limit to explain it" in sol.message


@pytest.mark.parametrize(
    ("limit", "want"), [(None, 60.0), (1000.0, 60.0), (100.0, 50.0)], ids=["none", "1000", "100"]
)
def test_the_explanation_is_capped_by_what_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: float | None, want: float
) -> None:
    """The relaxation (infeasible) took 50 s: the explanation may take its own 60 s, or the 50 s
    left of a 100 s limit."""
    asked: list[float] = []

    def explain(h: highspy.Highs, columns: list, rows: list, limit_s: float = 60.0) -> str:
        asked.append(limit_s)
        return ""

    monkeypatch.setattr(solve_mod, "explain_infeasibility", explain)
    model = build_model(load_inputs(_infeasible_case(tmp_path)))
    _Clock(monkeypatch, {"relaxed": 50.0})
    sol = solve(model, SolveOptions(time_limit_s=limit, threads=1))
    assert sol.status == "infeasible"
    assert len(asked) == 1 and want - 1.0 < asked[0] <= want


def _infeasible_transport(n: int) -> highspy.Highs:
    """n supplies of at most 1 and n demands of at least 1.01 on a complete bipartite graph:
    Σ supply ≤ n < 1.01 n ≤ Σ demand, infeasible; every row is in the conflict, so HiGHS's
    deletion filter solves one LP per row (about 1.6 s for n = 40, 85 s for n = 100)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addVars(n * n, np.zeros(n * n), np.full(n * n, inf))
    h.changeColsCost(n * n, np.arange(n * n, dtype=np.int32), np.ones(n * n))
    for i in range(n):
        h.addRow(-inf, 1.0, n, np.arange(i * n, (i + 1) * n, dtype=np.int32), np.ones(n))
    for j in range(n):
        h.addRow(1.01, inf, n, np.arange(j, n * n, n, dtype=np.int32), np.ones(n))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kInfeasible
    return h


def test_explain_infeasibility_honours_its_limit_after_a_long_run() -> None:
    """``limit_s`` 0 on a conflict of 80 rows: the explanation stops at once and says how much is
    left, whatever HiGHS's run time so far (``time_limit`` is not what ``getIis`` reads)."""
    h = _infeasible_transport(40)
    h.setOptionValue("time_limit", h.getRunTime() + 1e6)  # a solve's generous budget
    why = explain_infeasibility(h, [None] * (40 * 40), [(None, i) for i in range(80)], limit_s=0)
    assert why.startswith("HiGHS's explanation stopped at its 0 s limit")
    assert "80 rows" in why


def test_solve_counts_the_build_against_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``solve --time-limit 0.2`` on a model whose build takes at least 0.3 s (the build is made to
    sleep): the limit is spent before HiGHS starts, exit 1 without results (before: HiGHS was given
    0.2 s of its own after the build and solved the tiny model)."""
    try:
        from hand_cases import _invoke
    except ImportError:  # pragma: no cover
        from tests.hand_cases import _invoke
    model_mod = importlib.import_module("optimizer.model")
    real_build = model_mod.build_model

    def slow_build(*args: object, **kwargs: object) -> object:
        time.sleep(0.3)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(model_mod, "build_model", slow_build)
    out = tmp_path / "r.xlsx"
    res = _invoke(["solve", str(_modules_case(tmp_path)), "--time-limit", "0.2", "-o", str(out)])
    assert res.returncode == 1, res.stderr
    assert "spent before HiGHS started" in res.stderr
    assert not out.exists()


@pytest.mark.parametrize("found", [True, False])
def test_mpisppy_extensive_form_gets_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, found: bool
) -> None:
    """``--mpisppy ef`` hands the solve's time limit to HiGHS (it ignored it before) and reads how
    the solve ended: stopped at the limit with a plan → status ``time_limit`` (a plan, not proven
    optimal; the CLI says so); without one → ``no_solution`` with no first stage (never zeros read
    from unsolved variables). mpi-sppy's solve is replaced by one that stops at the limit, since a
    case small enough for a test is solved inside HiGHS's presolve, before it looks at the clock."""
    from mpisppy.opt.ef import ExtensiveForm
    from pyomo.opt import SolverResults, TerminationCondition

    import cli
    from optimizer.mpisppy_bridge import run_mpisppy
    from tests.test_stochastic import write_bet_case

    seen: dict = {}
    real = ExtensiveForm.solve_extensive_form

    def stopped(self, solver_options=None, tee=False):  # noqa: ANN001, ANN202
        seen["options"] = solver_options
        if found:  # a plan at the limit: solve for real, then report the limit
            results = real(self, solver_options=None, tee=tee)
        else:
            results = SolverResults()
            self.first_stage_solution_available = False
        results.solver.termination_condition = TerminationCondition.maxTimeLimit
        return results

    monkeypatch.setattr(ExtensiveForm, "solve_extensive_form", stopped)
    data = load_inputs(write_bet_case(tmp_path / "case"))
    opts = SolveOptions(time_limit_s=30.0)
    r = run_mpisppy(data, "ef", options=opts)
    assert seen["options"] == {"time_limit": 30.0}
    assert r.time_limit_s == 30.0
    if found:
        assert r.status == "time_limit" and r.first_stage
        assert r.objective == pytest.approx(0.738, rel=1e-6)  # test_hand_derived_bet's optimum
        assert "not proven optimal" in cli._ph_not_optimal(r, opts, data)
    else:
        assert r.status == "no_solution" and not r.first_stage
