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
import sys
import time
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]

CONNECT_TIMEOUT_S = 30
"""Seconds to wait for an existing Dask scheduler (``--scheduler``) to answer before giving up."""

WORKER_WAIT_S = 60
"""Seconds to wait for a worker to join an existing scheduler that has none: without workers the
study would wait for ever in silence."""


def _wait_for_a_worker(client: Any, scheduler: str, say: Callable[[str], None] | None) -> None:
    """Return once the scheduler has a running worker. Without one, say so (``say``, else a line
    on stderr) and wait; after :data:`WORKER_WAIT_S` close the client and raise
    :class:`~optimizer.guards.GuardError` (exit 3) saying how to start workers."""
    from optimizer.guards import EXIT_ENVIRONMENT, GuardError

    if not client.scheduler_info().get("workers"):
        note = (
            f"waiting   for a worker of the scheduler at {scheduler} (up to {WORKER_WAIT_S} s; "
            f"start one with `dask worker {scheduler}`)"
        )
        if say is not None:
            say(note)
        else:
            print(note, file=sys.stderr, flush=True)
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError as exc:
        client.close()
        raise GuardError(
            f"the Dask scheduler at {scheduler} has no worker (waited {WORKER_WAIT_S} s): start "
            f"workers with `dask worker {scheduler}` where they can read the input and import "
            "this package (`pip install -e .`, or PYTHONPATH set to this checkout), then run again",
            EXIT_ENVIRONMENT,
        ) from exc


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
    say: Callable[[str], None] | None = None,
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
    say : where a note for the analyst goes (a scheduler with no worker yet); stderr if None.
    An unreadable ``scheduler`` address, a scheduler that does not answer, or one that has no
    worker after :data:`WORKER_WAIT_S` raise :class:`~optimizer.guards.GuardError` before any task.
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
            from optimizer.guards import check_scheduler_address, scheduler_unreachable

            scheduler = check_scheduler_address(scheduler)
            try:
                client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except OSError as exc:  # TimeoutError, refused, unknown host: not a file's fault
                raise scheduler_unreachable(scheduler, exc) from exc
            _wait_for_a_worker(client, scheduler, say)
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
