"""A solve you can watch and stop: a live progress line from HiGHS's callbacks, and Ctrl-C.

HiGHS runs in the calling thread (``Highs.run`` releases the GIL) while a watcher thread redraws
one status line on stderr and receives ``SIGINT`` through Python's wakeup pipe. HiGHS's interrupt callbacks (simplex,
interior point, branch and bound; several hundred a second while it iterates) report the phase and,
for a MIP, the best bound, the incumbent and the gap; on Ctrl-C they tell HiGHS to stop, which it
does at its next callback (well under a second once it iterates). Presolve has no callback: a Ctrl-C
there ends the command-line process after :attr:`SolveMonitor.grace_s` seconds.

The line follows click's progress-bar conventions: drawn on stderr with a carriage return, only when
stderr is a terminal; when it is not (a log file, a pipe, a test), nothing is drawn, so redirected
output holds no control characters. Stdout is never touched (``--json`` stays one clean object).
"""

from __future__ import annotations

import math
import sys
import threading
import time
from typing import Any, TextIO

import highspy

_PHASES = {
    int(highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt): "simplex",
    int(highspy.cb.HighsCallbackType.kCallbackIpmInterrupt): "interior point",
    int(highspy.cb.HighsCallbackType.kCallbackMipInterrupt): "branch and bound",
}
_MIP = int(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)


class SolveInterrupted(Exception):
    """Ctrl-C during a solve; HiGHS was asked to stop and nothing was loaded or written.

    Attributes
    ----------
    seconds : how long HiGHS had been running.
    stopped : True when HiGHS returned (False: it was still in presolve after the grace period and
        was abandoned; the process should exit without waiting for it).
    """

    def __init__(self, seconds: float, stopped: bool) -> None:
        super().__init__(f"interrupted after {seconds:.1f} s of solving")
        self.seconds = seconds
        self.stopped = stopped


def _number(x: float) -> str:
    """A bound or objective in $M as people read it: 3,101,234 or 3.10e+09."""
    if not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) < 1e12 else f"{x:.3e}"


class SolveMonitor:
    """Runs ``Highs.run`` so that it can be watched (a live stderr line) and stopped (Ctrl-C).

    Parameters
    ----------
    stream : where the line goes (default ``sys.stderr``).
    label : text in front of the line, e.g. the scenario's ``[name] ``.
    live : draw the line; default: only when ``stream`` is a terminal.
    interval_s : seconds between redraws.
    grace_s : after Ctrl-C, how long to wait for HiGHS to reach a callback and stop.
    hard_exit : when HiGHS has not stopped after ``grace_s``, end the process with status 130
        (for the command line; a library caller keeps waiting for HiGHS).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        label: str = "",
        live: bool | None = None,
        interval_s: float = 0.25,
        grace_s: float = 1.5,
        hard_exit: bool = False,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        if live is None:
            isatty = getattr(self.stream, "isatty", None)
            live = bool(isatty and isatty())
        self.live = live
        self.interval_s = interval_s
        self.grace_s = grace_s
        self.hard_exit = hard_exit
        self._stop = threading.Event()
        self._width = 0
        self._reset("solve")

    def _reset(self, phase: str) -> None:
        self.what = phase
        self.phase = "presolve"
        self.iterations = 0
        self.nodes = 0
        self.bound = -math.inf
        self.best = math.inf
        self.gap = math.inf
        self.started = time.perf_counter()

    def _callback(self, e: Any) -> None:
        """HiGHS interrupt callback: record the phase and MIP progress; stop when asked."""
        kind = int(e.callback_type)
        out = e.data_out
        if kind == _MIP:
            self.phase = _PHASES[kind]
            self.nodes = int(out.mip_node_count)
            self.bound = float(out.mip_dual_bound)
            self.best = float(out.mip_primal_bound)
            self.gap = float(out.mip_gap)
        elif self.phase != _PHASES[_MIP]:  # the LPs inside branch and bound keep its phase
            self.phase = _PHASES.get(kind, self.phase)
            self.iterations = max(int(out.simplex_iteration_count), int(out.ipm_iteration_count), 0)
        if self._stop.is_set():
            e.interrupt()

    def line(self) -> str:
        """The current status line (no control characters)."""
        secs = time.perf_counter() - self.started
        parts = [f"{self.label}{self.what:<9} {secs:7.1f} s  {self.phase}"]
        if self.phase == _PHASES[_MIP] and not math.isfinite(self.bound):
            parts[0] += " (root LP)"
        elif self.phase == _PHASES[_MIP]:
            gap = f"{100 * self.gap:.2f} %" if math.isfinite(self.gap) and self.gap < 1e3 else "–"
            parts.append(
                f"bound {_number(self.bound)}  best {_number(self.best)}  gap {gap}  "
                f"nodes {self.nodes:,}"
            )
        elif self.iterations:
            parts.append(f"iteration {self.iterations:,}")
        parts.append("(Ctrl-C stops)")
        return "  ".join(parts)

    def _draw(self) -> None:
        if not self.live:
            return
        text = self.line()
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def _clear(self) -> None:
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def run(self, h: highspy.Highs, what: str = "solve") -> None:
        """``h.run()`` in this thread, with a watcher thread drawing the line and taking Ctrl-C.

        HiGHS stays in the calling thread (its task scheduler is fixed by the first run in a
        process, and the planner's other solves run in the main thread too). Python runs a signal
        handler only between bytecodes, which a thread inside HiGHS never reaches until the next
        callback; so during the run SIGINT is also written to a wakeup pipe that the watcher
        reads at once: it sets the stop flag that the interrupt callbacks pass to HiGHS, and if
        HiGHS has not returned after :attr:`grace_s` (presolve has no callback) it ends the
        process with status 130 — nothing is being written during a solve.

        Raises
        ------
        SolveInterrupted
            after Ctrl-C, once HiGHS has stopped.
        """
        import os
        import select
        import signal

        self._reset(what)
        self._stop.clear()
        callbacks = (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt)
        for c in callbacks:
            c.subscribe(self._callback)
        done = threading.Event()
        main = threading.current_thread() is threading.main_thread()
        rfd = wfd = None
        old_handler = old_fd = None
        if main:
            rfd, wfd = os.pipe()
            os.set_blocking(wfd, False)
            old_handler = signal.signal(signal.SIGINT, self._on_sigint)
            old_fd = signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)

        def watch() -> None:
            stop_at = None
            while not done.is_set():
                if rfd is not None:
                    ready, _, _ = select.select([rfd], [], [], self.interval_s)
                    if ready and int(signal.SIGINT) in os.read(rfd, 64):
                        self._stop.set()  # the wakeup pipe carries each signal's number
                else:
                    done.wait(self.interval_s)
                if self._stop.is_set() and stop_at is None:
                    stop_at = time.perf_counter()
                if stop_at is not None and time.perf_counter() - stop_at > self.grace_s:
                    if self.hard_exit:
                        self._clear()
                        self.stream.write(
                            f"interrupted (Ctrl-C); HiGHS did not stop within {self.grace_s:.1f} s "
                            "(presolve); no results were written.\n"
                        )
                        self.stream.flush()
                        os._exit(130)
                    stop_at = math.inf
                if not done.is_set():
                    self._draw()

        # drawn once before HiGHS starts, so that a run shorter than one interval (an LP of a few
        # milliseconds, such as a MIP whose relaxation is integral) still shows its line
        self._draw()
        watcher = threading.Thread(target=watch, name="solve-progress", daemon=True)
        watcher.start()
        try:
            h.run()
        finally:
            done.set()
            watcher.join()
            self._clear()
            if main:
                signal.set_wakeup_fd(old_fd if old_fd is not None else -1)
                signal.signal(signal.SIGINT, old_handler)
                os.close(rfd)
                os.close(wfd)
            for c in callbacks:
                c.unsubscribe(self._callback)
        if self._stop.is_set():
            raise SolveInterrupted(time.perf_counter() - self.started, True)

    def _on_sigint(self, signum: int, frame: Any) -> None:
        """SIGINT during a run: ask HiGHS to stop (no KeyboardInterrupt inside its callbacks)."""
        self._stop.set()
