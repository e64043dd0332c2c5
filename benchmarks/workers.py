"""How long the races' worker processes take to start: spawned interpreters importing
loyaltykit against forks of a fork server that imported it once (what
``loyaltykit.testing.races.race_in_processes`` does). Prints the ratio of the two,
measured in the same run.

    .venv/bin/python benchmarks/workers.py --workers 16 --rounds 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from multiprocessing.context import BaseContext
from typing import Any


def ready(results: Any) -> None:
    """A worker: import what a race's worker imports, then say so."""
    import loyaltykit.storage.sql
    import loyaltykit.testing.conformance  # noqa: F401

    results.put(1)


def started(context: BaseContext, workers: int) -> float:
    """Seconds until ``workers`` processes have imported the library and exited."""
    begun = time.perf_counter()
    results = context.Queue()
    processes = [context.Process(target=ready, args=(results,)) for _ in range(workers)]  # type: ignore[attr-defined]
    for process in processes:
        process.start()
    for _ in processes:
        results.get(timeout=300)
    for process in processes:
        process.join()
    return time.perf_counter() - begun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    from loyaltykit.testing import races

    spawn = multiprocessing.get_context("spawn")
    forked = races._context()  # the races' own context, fork server preloaded
    started(forked, 1)  # the fork server starts (and imports) once per process
    for round_ in range(arguments.rounds):
        spawned = started(spawn, arguments.workers)
        server = started(forked, arguments.workers)
        print(
            f"round {round_ + 1}, {arguments.workers} workers start, spawned {spawned:.2f} s"
            f" / forked from the server {server:.2f} s  {spawned / server:.1f}x"
        )


if __name__ == "__main__":
    main()
