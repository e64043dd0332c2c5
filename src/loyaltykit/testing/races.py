"""Processes started at once against one store, for the conformance suite's races."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

__all__ = ["race_in_processes"]


def race_in_processes(
    target: Callable[..., None], arguments: tuple[Any, ...], processes: int
) -> list[str]:
    """Run ``target(*arguments, barrier, number, results)`` in ``processes`` processes
    that wait at one barrier, and return what they put on ``results``, sorted.

    Spawned, not forked: each worker opens the store from its URL, as another host would.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=target, args=(*arguments, barrier, n, results))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        return sorted(results.get(timeout=180) for _ in workers)
    finally:
        for worker in workers:
            worker.join(timeout=60)
