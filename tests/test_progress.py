"""A solve you can watch and stop (issue #19): the live stderr line and Ctrl-C.

The line is drawn only on a terminal (click's convention), so redirected stderr holds no control
characters; Ctrl-C stops HiGHS through its interrupt callback and the command exits 130 without
writing anything.
"""

from __future__ import annotations

import io
import math
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import highspy

from optimizer.data_io import load_inputs
from optimizer.model import build_model
from optimizer.progress import SolveMonitor
from optimizer.solve import solve
from tests.conftest import ROOT

CONTROL = [chr(c) for c in range(32) if chr(c) not in "\n\t"] + ["\x7f"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _mip_event(bound: float, best: float, gap: float, nodes: int) -> SimpleNamespace:
    out = SimpleNamespace(
        mip_node_count=nodes,
        mip_dual_bound=bound,
        mip_primal_bound=best,
        mip_gap=gap,
        simplex_iteration_count=0,
        ipm_iteration_count=0,
    )
    data_in = SimpleNamespace(user_interrupt=False)
    ev = SimpleNamespace(
        callback_type=highspy.cb.HighsCallbackType.kCallbackMipInterrupt,
        data_out=out,
        data_in=data_in,
    )
    ev.interrupt = lambda: setattr(data_in, "user_interrupt", True)
    return ev


def test_line_shows_phase_bound_and_gap_and_stop_interrupts():
    """A branch-and-bound callback with bound 3,000 and incumbent 3,030 (gap 1 %) shows those
    numbers; once Ctrl-C has set the stop flag, the next callback asks HiGHS to interrupt."""
    mon = SolveMonitor(stream=io.StringIO(), label="[x] ")
    ev = _mip_event(3000.0, 3030.0, 0.0099, 12)
    mon._callback(ev)
    line = mon.line()
    assert line.startswith("[x] solve")
    assert "branch and bound" in line and "bound 3,000" in line and "best 3,030" in line
    assert "gap 0.99 %" in line and "nodes 12" in line
    assert ev.data_in.user_interrupt is False
    mon._stop.set()
    mon._callback(ev)
    assert ev.data_in.user_interrupt is True
    root = SolveMonitor(stream=io.StringIO())
    root._callback(_mip_event(-math.inf, math.inf, math.inf, 0))
    assert "(root LP)" in root.line() and "gap" not in root.line()


def test_line_drawn_on_a_terminal_and_silent_otherwise(tiny_path):
    """The same solve draws carriage-return lines on a terminal and writes nothing to a pipe."""
    data = load_inputs(tiny_path)
    tty, pipe = _Terminal(), io.StringIO()
    for stream in (tty, pipe):
        sol = solve(build_model(data), monitor=SolveMonitor(stream=stream, interval_s=0.0005))
        assert sol.status == "optimal"
    assert "\r" in tty.getvalue() and "solve" in tty.getvalue()
    assert tty.getvalue().endswith("\r")  # the line is wiped before the next message
    assert pipe.getvalue() == ""


def test_redirected_stderr_has_no_control_characters(tiny_path, tmp_path):
    """A real `solve` with stderr to a pipe: plain lines only, and --json stdout is one object."""
    out = tmp_path / "r.xlsx"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "solve", str(tiny_path), "-o", str(out), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in CONTROL if c in proc.stderr], repr(proc.stderr)
    assert proc.stdout.count("\n") == 1 and proc.stdout.startswith("{")


def test_ctrl_c_stops_the_solve_exits_130_and_writes_nothing(tmp_path):
    """SIGINT during a generated size-M solve (minutes on one thread, no time limit): exit 130
    within 5 s, no results workbook and no temporary file left in the output folder."""
    case = tmp_path / "M"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--size", "M", str(case)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "m.xlsx"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "solve",
            str(case),
            "-o",
            str(out),
            "--threads",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        # a shell starts background jobs with SIGINT ignored; the child must get the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("build"):
            break
    assert any(s.startswith("build") for s in seen), "".join(seen)
    time.sleep(2.0)  # into the hand-off or HiGHS's simplex
    assert proc.poll() is None, "the solve ended before it could be interrupted"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        rest = proc.communicate(timeout=5)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("still running 5 s after Ctrl-C") from None
    elapsed = time.monotonic() - t0
    assert proc.returncode == 130, "".join(seen) + rest
    assert elapsed < 5.0
    assert "interrupted" in rest and "Traceback" not in rest
    assert list(outdir.iterdir()) == []
    assert not out.exists()


def test_monitor_gives_the_same_optimum_as_a_plain_run(tiny_path):
    """Running HiGHS in the monitor's worker thread changes nothing about the answer."""
    data = load_inputs(tiny_path)
    plain = solve(build_model(data))
    watched = solve(build_model(data), monitor=SolveMonitor(stream=io.StringIO()))
    assert watched.status == plain.status == "optimal"
    assert abs(watched.objective - plain.objective) <= 1e-9 * max(1.0, abs(plain.objective))
