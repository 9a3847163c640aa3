"""The SQLite store of a sensitivity sweep (DESIGN §7): one row per finished run, never lost.

Only the process that drives the sweep writes; workers return results to it. Each run is committed
on its own as soon as it arrives, in WAL mode with ``synchronous=FULL``, so killing the sweep at any
moment keeps every run committed before the kill and never leaves a half-written row (SQLite's
journal rolls an interrupted transaction back on the next open).

Tables
------
``meta``   (key, value): what the sweep is — input path and SHA-256, method, samples, seed, spec.
``design`` (seq, point_id): the sampled points in design order (analysis needs that order).
``runs``   one row per point id (a hash of the point's canonical changes, so identical points are
           solved once): the changes and parameter values as JSON, status, objective, every cost
           category, capital by region and by class (JSON objects), unserved compute, solve time.
           ``status = 'failed'`` marks a run that crashed after its retries; ``--resume`` retries it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.components.objective import CATEGORIES
from optimizer.store import StoreBusyError, StoreFile, StoreMismatchError, reusable

FAILED = "failed"
"""Status of a run that crashed (worker died or raised) after its retries."""

COST_COLUMNS = tuple(f"cost_{c}_musd" for c in CATEGORIES)

RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("point_id", "TEXT PRIMARY KEY"),
    ("changes", "TEXT NOT NULL"),
    ("params", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("termination", "TEXT"),
    ("objective_musd", "REAL"),
    *((c, "REAL") for c in COST_COLUMNS),
    ("capital_musd", "REAL"),
    ("capital_by_region", "TEXT"),
    ("capital_by_class", "TEXT"),
    ("unserved_h100e", "REAL"),
    ("mip_gap", "REAL"),
    ("solve_seconds", "REAL"),
    ("run_seconds", "REAL"),
    ("warm", "INTEGER"),
    ("attempts", "INTEGER"),
    ("worker", "TEXT"),
    ("message", "TEXT"),
    ("finished_utc", "TEXT"),
)
RUN_COLUMN_NAMES = tuple(n for n, _ in RUN_COLUMNS)
JSON_COLUMNS = ("changes", "params", "capital_by_region", "capital_by_class")


class SweepStore:
    """A sweep's SQLite file; open it with :meth:`open` and close it (or use ``with``).

    Parameters
    ----------
    path : Path
        The ``.sqlite`` file; created with its tables when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # the shared store pattern (optimizer.store): WAL, synchronous=FULL, one process at a time
        self._file = StoreFile(self.path, "sweep")
        self.db = self._file.db
        cols = ", ".join(f"{n} {t}" for n, t in RUN_COLUMNS)
        self.db.execute(f"CREATE TABLE IF NOT EXISTS runs ({cols})")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS design (seq INTEGER PRIMARY KEY, point_id TEXT NOT NULL)"
        )

    # -- context manager --------------------------------------------------------------------
    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and release the store (everything is already committed)."""
        self._file.close()

    # -- meta and design --------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        """The sweep's description as stored (values decoded from JSON)."""
        q = "SELECT key, value FROM meta WHERE key != 'store_kind'"
        return {k: json.loads(v) for k, v in self.db.execute(q)}

    def is_empty(self) -> bool:
        """True when the store holds no sweep yet."""
        q = "SELECT COUNT(*) FROM meta WHERE key != 'store_kind'"
        return self.db.execute(q).fetchone()[0] == 0

    def start(self, meta: Mapping[str, Any], point_ids: list[str], resume: bool) -> None:
        """Record a new sweep, or check that a resumed one is the same sweep.

        Parameters
        ----------
        meta : the sweep's identity (input SHA-256, method, samples, seed, parameters).
        point_ids : the design in order.
        resume : when False the store must be empty; when True its sweep must equal ``meta``.

        Raises
        ------
        StoreMismatchError
            the store holds another sweep, or holds one and ``resume`` is False.
        """
        if not self.is_empty():
            if not resume:
                raise StoreMismatchError(
                    f"{self.path} already holds a sweep; pass --resume to continue it, or name a "
                    "new --store file"
                )
            old = self.meta()
            diff = [k for k in meta if k in IDENTITY_KEYS and old.get(k) != meta[k]]
            if diff:
                raise StoreMismatchError(
                    f"{self.path} holds a different sweep ({', '.join(diff)} "
                    f"{'differs' if len(diff) == 1 else 'differ'}); its runs "
                    "would not belong to this one. Name a new --store file"
                )
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in meta.items()],
            )
            self.db.executemany("INSERT INTO design VALUES (?, ?)", list(enumerate(point_ids)))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def design(self) -> list[str]:
        """The design's point ids in order."""
        return [r[0] for r in self.db.execute("SELECT point_id FROM design ORDER BY seq")]

    # -- runs -------------------------------------------------------------------------------
    def finished_ids(self, requested_gap: float | None = None) -> set[str]:
        """Point ids whose stored run answers to the quality asked for (:func:`optimizer.store.
        reusable`): a proven status and a gap within ``requested_gap``. A run stopped by the time
        limit, solved to a looser gap, or failed is not finished and is solved again."""
        q = "SELECT point_id, status, mip_gap FROM runs"
        return {pid for pid, st, gap in self.db.execute(q) if reusable(st, gap, requested_gap)}

    def record(self, run: Mapping[str, Any]) -> None:
        """Insert or replace one run and commit it at once."""
        vals = []
        for n in RUN_COLUMN_NAMES:
            v = run.get(n)
            if n in JSON_COLUMNS and v is not None:
                v = json.dumps(v, sort_keys=n.startswith("capital"))
            elif isinstance(v, bool):
                v = int(v)
            vals.append(v)
        marks = ", ".join("?" for _ in RUN_COLUMN_NAMES)
        self.db.execute(
            f"INSERT OR REPLACE INTO runs ({', '.join(RUN_COLUMN_NAMES)}) VALUES ({marks})", vals
        )

    def runs(self, point_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Every stored run (or those of ``point_ids``) as a DataFrame, JSON columns decoded."""
        df = pd.read_sql_query(
            f"SELECT {', '.join(RUN_COLUMN_NAMES)} FROM runs ORDER BY rowid", self.db
        )
        if point_ids is not None:
            keep = set(point_ids)
            df = df[df["point_id"].isin(keep)].reset_index(drop=True)
        for c in JSON_COLUMNS:
            df[c] = [json.loads(v) if isinstance(v, str) else None for v in df[c]]
        return df

    def counts(self) -> tuple[int, int]:
        """(finished, failed) runs in the store."""
        fin = self.db.execute("SELECT COUNT(*) FROM runs WHERE status != ?", (FAILED,)).fetchone()
        bad = self.db.execute("SELECT COUNT(*) FROM runs WHERE status = ?", (FAILED,)).fetchone()
        return int(fin[0]), int(bad[0])

    def objective_range(self) -> tuple[float | None, float | None]:
        """Smallest and largest objective over every run with one."""
        lo, hi = self.db.execute(
            "SELECT MIN(objective_musd), MAX(objective_musd) FROM runs "
            "WHERE objective_musd IS NOT NULL AND status != ?",
            (FAILED,),
        ).fetchone()
        return lo, hi


__all__ = ["StoreBusyError", "StoreMismatchError", "SweepStore"]

IDENTITY_KEYS = ("input_sha256", "method", "samples", "seed", "parameters", "bet_mode")
"""Meta keys that must match for ``--resume``: any other difference is only informational."""
