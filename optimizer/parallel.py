"""The one parallel executor of the studies: sweeps, the coalition game and near-optimal alternatives.

:func:`execute` runs independent tasks (plain dicts) on a Dask ``LocalCluster`` of ``workers``
processes with one thread each (one HiGHS thread per worker), or on an existing scheduler
(``tcp://HOST:PORT``), and hands each row back to ``on_row`` as it finishes, so the caller commits
it at once. A task that kills its worker is retried up to ``allowed_failures`` times; after that,
or on any other exception, ``on_failure(task, message)`` builds its row and the study goes on.

With ``share_start`` only one cold solve happens per study: the first task runs alone with
``export_start`` set and returns a start (a basis and integer assignment, in its row as ``_start``);
that start is broadcast once to every worker and passed to ``fn`` as its second argument, so each
worker's first task re-solves from it instead of from scratch (issue 20: on the shipped dataset each
worker paid its own ~40 s cold run, and two workers were slower than one on a short sweep).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]


def execute(
    tasks: list[Row],
    fn: Callable[[Row], Row],
    on_row: Callable[[Row], None],
    on_failure: Callable[[Row, str], Row],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    allowed_failures: int = 2,
    name: str = "task",
    share_start: bool = False,
    on_start: Callable[[int], None] | None = None,
) -> None:
    """Run ``fn`` on every task in parallel; ``on_row`` gets each result (or failure row) in turn.

    Parameters
    ----------
    tasks : the tasks; a task's ``point_id`` or ``key`` names its Dask key.
    fn : the worker's entry point (importable or picklable by value).
    on_row : called in the driver with each row, as it arrives.
    on_failure : the row of a task that failed for good, from the task and the error message.
    workers : local worker processes (ignored when ``scheduler`` is given).
    scheduler : address of an existing Dask scheduler.
    allowed_failures : times a task may kill its worker before it is recorded as failed.
    name : prefix of the Dask keys (what the dashboard shows).
    share_start : run the first task alone and hand its ``_start`` to the others (``fn(task,
        start)``); the ``_start`` never reaches ``on_row``.
    on_start : called once the cluster is up with its number of workers (for estimates).
    """
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    token = hashlib.sha256(f"{os.getpid()}-{time.time()}".encode()).hexdigest()[:8]
    keys = [f"{name}-{t.get('point_id') or t.get('key')}-{token}" for t in tasks]
    by_key = dict(zip(keys, tasks, strict=True))
    cluster = None
    # allowed-failures is read when the scheduler starts: it bounds the retries of a task whose
    # solve kills its worker, after which Dask raises KilledWorker and the task is recorded failed
    with dask.config.set(
        {
            "distributed.scheduler.allowed-failures": allowed_failures,
            # one task in flight per worker thread: a crash then counts against the culprit only,
            # not against innocent tasks queued on the same worker
            "distributed.scheduler.worker-saturation": 1.0,
        }
    ):
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                # one HiGHS thread per worker; BLAS threads would only compete with it
                env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
            )
            client = Client(cluster)

    if on_start is not None:
        on_start(
            workers if cluster is not None else max(len(client.scheduler_info()["workers"]), 1)
        )

    def finish(fut: Any) -> Row:
        try:
            row = fut.result()
        except Exception as exc:  # noqa: BLE001 - KilledWorker and friends: record, go on
            row = on_failure(by_key[fut.key], f"{type(exc).__name__}: {exc}")
        fut.release()
        return row

    try:
        extra: dict[str, Any] = {}
        if share_start and len(tasks) > 1:
            first = client.submit(fn, {**tasks[0], "export_start": True}, key=keys[0], pure=False)
            row = finish(first)
            start = row.pop("_start", None)
            on_row(row)
            tasks, keys = tasks[1:], keys[1:]
            if start is not None:
                extra["start"] = client.scatter(start, broadcast=True, hash=False)
        futures = client.map(fn, tasks, key=keys, pure=False, **extra)
        for fut in as_completed(futures):
            row = finish(fut)
            row.pop("_start", None)
            on_row(row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
