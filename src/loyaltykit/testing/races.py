"""Processes started at once against one store, for the conformance suite's races."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.context import BaseContext
from typing import Any

__all__ = ["race_in_processes"]

# imported once by the fork server, so that a worker costs a fork instead of an interpreter
# start and an import of the library (about 1 s of CPU each); missing drivers are skipped
_PRELOADED = (
    "loyaltykit",
    "loyaltykit.storage.sql",
    "loyaltykit.testing.conformance",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.mysql",
    "psycopg",
    "pymysql",
)


def race_in_processes(
    target: Callable[..., None],
    arguments: tuple[Any, ...],
    processes: int,
    *,
    timeout: float = 180,
) -> list[str]:
    """Run ``target(*arguments, barrier, number, results)`` in ``processes`` processes
    that wait at one barrier, and return what they put on ``results``, sorted.

    Each worker is a new process that shares nothing with the caller: it is forked from
    multiprocessing's fork server, a clean interpreter that has only imported the library
    (``spawn`` where the platform has no fork server), and opens the store from its URL,
    as another host would. A worker that exits with an error fails the race.
    """
    context = _context()
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=target, args=(*arguments, barrier, n, results))  # type: ignore[attr-defined]
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = sorted(results.get(timeout=timeout) for _ in workers)
    finally:
        for worker in workers:
            worker.join(timeout=60)
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed:
        raise AssertionError(f"{len(failed)} of {processes} workers failed (exit codes {failed})")
    return outcomes


def _context() -> BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(_PRELOADED))
    return context
