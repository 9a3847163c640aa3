"""One store pattern for every study that solves many times: sweeps and the coalition game (§7, §9).

A store is a SQLite file of finished results, committed one by one (WAL, ``synchronous=FULL``) so
that a stopped run loses nothing and a rerun continues where it stopped. Two rules keep it honest:

1. **A result is keyed by the question it answers.** The key holds everything that changes the
   answer: the input's SHA-256, the changes applied to it (a sweep point, ``--relax-integers``), the
   bet mode — see :func:`question_key`. A result of another question is never reused, and never
   deleted either: it stays in the file, answering its own question.
2. **A result is reused only at the quality asked for** (:func:`reusable`): a proven status
   (``optimal``, ``infeasible``, ``unbounded``) and, for a MIP, a gap no larger than the one
   requested now. A run stopped by its time limit (``feasible``, ``no_solution``) or solved to a
   looser gap is not finished: the next ``--resume`` solves it again.

One process at a time: :class:`StoreFile` takes an exclusive ``flock`` on the file for as long as it
is open, so a second sweep (or game) started on the same store stops at once with
:class:`StoreBusyError` instead of racing the first one into an ``IntegrityError``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optimizer.guards import EXIT_ENVIRONMENT, SQLITE_MAGIC, GuardError

PROVEN = frozenset({"optimal", "infeasible", "unbounded"})
"""Statuses that answer the question for good; anything else is solved again on resume."""

GAP_SLACK = 1e-12
"""Rounding allowed when comparing a stored gap with the requested one."""


class StoreMismatchError(ValueError):
    """The store holds something else than the run asks for (another kind of study, or another
    sweep), and reusing or extending it would mix answers of different questions."""


class StoreBusyError(GuardError):
    """Another process has the store open (a second sweep or game on the same file)."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} is in use by another run (a sweep or game on the same store); wait for it "
            "to finish, or name another --store file",
            EXIT_ENVIRONMENT,
        )


def question_key(parts: Mapping[str, Any]) -> str:
    """The SHA-256 of the canonical JSON of ``parts``: everything that changes the answer.

    Floats are written with ``repr`` (exact); ``None`` stands for "the input's own setting", which
    the input's hash already covers.
    """
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def reusable(status: str | None, gap: float | None, requested_gap: float | None) -> bool:
    """Whether a stored result answers the question to the quality asked for now.

    Parameters
    ----------
    status : the stored status.
    gap : the stored result's relative MIP gap (0 or None for an LP).
    requested_gap : the relative gap asked for now (None: any proven result will do).
    """
    if status not in PROVEN:
        return False
    if status != "optimal" or requested_gap is None or gap is None:
        return True
    g = float(gap)
    return math.isfinite(g) and g <= float(requested_gap) + GAP_SLACK


def _lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on ``fd``; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: SQLite's own locking is all there is
        return True
    try:
        # flock, not fcntl/lockf: SQLite uses POSIX record locks on the same file, which a flock
        # neither sees nor releases (and closing SQLite's descriptors does not drop ours)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class StoreFile:
    """An open store: one SQLite connection, held under an exclusive lock until :meth:`close`.

    Parameters
    ----------
    path : the ``.sqlite`` file (created with its folder when missing).
    kind : what the store holds (``"sweep"`` or ``"coalition"``); a store of the other kind is
        refused with :class:`StoreMismatchError`.

    Raises
    ------
    StoreBusyError
        another process has the store open.
    StoreMismatchError
        the file is not a store, or a store of another kind.
    """

    def __init__(self, path: str | Path, kind: str) -> None:
        self.path = Path(path)
        self.kind = kind
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _lock(self._fd):
                raise StoreBusyError(self.path)
            head = os.pread(self._fd, len(SQLITE_MAGIC), 0)
            if head and head != SQLITE_MAGIC:
                raise StoreMismatchError(
                    f"{self.path} is not a store (not a SQLite file); name a new .sqlite file"
                )
            # isolation_level=None: autocommit, so every write is its own explicit transaction
            self.db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed result survives power loss too, not only a killed process
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            row = self.db.execute("SELECT value FROM meta WHERE key='store_kind'").fetchone()
            if row is None:
                self.db.execute(
                    "INSERT INTO meta VALUES ('store_kind', ?)", (json.dumps(self.kind),)
                )
            elif json.loads(row[0]) != kind:
                self.db.close()
                raise StoreMismatchError(
                    f"{self.path} is the store of a {json.loads(row[0])}, not of a {kind}; name "
                    "another --store file"
                )
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # drops the flock
            self._fd = None

    def __enter__(self) -> StoreFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and release the lock (everything is already committed)."""
        if getattr(self, "db", None) is not None:
            self.db.close()
            self.db = None
        self._release()
