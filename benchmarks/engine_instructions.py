"""Instructions per event of ``PolicyEngine.evaluate(explain=False)`` and of the
hand-written function (``benchmarks/engine.py``'s two sides), counted by callgrind:
repeatable where CPU times are not (a shared, loaded machine).

Run: ``.venv/bin/python benchmarks/engine_instructions.py [--events 3000]`` (needs
``valgrind``). Each side runs in its own process under callgrind; the same script's
set-up (the workload and, for the engine, the members) is counted alone and taken off.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import engine as bench

CUSTOMERS = 100


def run(side: str, count: int) -> None:
    """One side of the workload (``setup`` and ``members`` only build what the others
    build before they start)."""
    plan = bench.events(count, CUSTOMERS)
    if side == "hand-written":
        bench.run_baseline(plan)
    elif side == "engine":
        bench.run_engine(plan, explain=False)  # builds the members, then evaluates
    elif side == "members":
        {
            c: bench.Customer(id=f"c{c}", enrolled_at=bench.T0, profile=bench.profile(c))
            for c, _, _ in plan
        }


def instructions(side: str, count: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        found = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={Path(folder) / 'out'}",
                sys.executable,
                __file__,
                "--side",
                side,
                "--events",
                str(count),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    match = re.search(r"refs:\s+([\d,]+)", found.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from valgrind:\n{found.stderr}")
    return int(match.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--side", choices=["setup", "members", "hand-written", "engine"])
    options = parser.parse_args()
    if options.side is not None:
        run(options.side, options.events)
        return
    count = options.events
    counts = {
        side: instructions(side, count) for side in ("setup", "members", "hand-written", "engine")
    }
    hand = (counts["hand-written"] - counts["setup"]) / count
    engine = (counts["engine"] - counts["members"]) / count
    print(f"{count:,} purchases over {CUSTOMERS} customers, instructions per event")
    print(f"  hand-written Python                    {hand:>10,.0f}")
    print(f"  PolicyEngine.evaluate, explain=False   {engine:>10,.0f}")
    print(f"  ratio fast path / hand-written                {engine / hand:.2f}x")


if __name__ == "__main__":
    main()
