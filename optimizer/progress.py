"""A solve you can watch and stop: a live progress line from HiGHS's callbacks, and Ctrl-C.

HiGHS runs in a worker thread (``Highs.run`` releases the GIL), so the main thread stays free to
redraw one status line on stderr and to receive ``SIGINT``. HiGHS's interrupt callbacks (simplex,
interior point, branch and bound; several hundred a second while it iterates) report the phase and,
for a MIP, the best bound, the incumbent and the gap; on Ctrl-C they tell HiGHS to stop, which it
does at its next callback (well under a second once it iterates). Presolve has no callback: a Ctrl-C
there is answered by giving up on the worker after :attr:`SolveMonitor.grace_s` seconds.

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
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        label: str = "",
        live: bool | None = None,
        interval_s: float = 0.25,
        grace_s: float = 1.5,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        if live is None:
            isatty = getattr(self.stream, "isatty", None)
            live = bool(isatty and isatty())
        self.live = live
        self.interval_s = interval_s
        self.grace_s = grace_s
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
        """``h.run()`` in a worker thread, drawing the line until it returns.

        Raises
        ------
        SolveInterrupted
            on Ctrl-C (KeyboardInterrupt in this thread), after HiGHS stopped or the grace period
            ran out.
        """
        self._reset(what)
        callbacks = (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt)
        for c in callbacks:
            c.subscribe(self._callback)
        failure: list[BaseException] = []

        def work() -> None:
            try:
                h.run()
                # HiGHS keeps its task scheduler per thread; release this thread's before it ends,
                # as highspy's own threaded solve does, so a later run elsewhere starts clean
                highspy.Highs.resetThreadScheduler(False)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=work, name="highs-run", daemon=True)
        try:
            worker.start()
            while worker.is_alive():
                worker.join(self.interval_s)
                self._draw()
        except KeyboardInterrupt:
            self._stop.set()
            worker.join(self.grace_s)
            self._clear()
            raise SolveInterrupted(
                time.perf_counter() - self.started, not worker.is_alive()
            ) from None
        finally:
            self._clear()
            if not worker.is_alive():
                for c in callbacks:
                    c.unsubscribe(self._callback)
        if failure:
            raise failure[0]
