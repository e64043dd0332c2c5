"""What ``import loyaltykit`` costs, against the interpreter's own start, in one run.

Run: ``.venv/bin/python benchmarks/import_time.py`` (``--runs 20`` for steadier medians).
Three programs, each in a fresh interpreter, ``--runs`` times:

- ``pass``: the baseline, the interpreter starting and stopping;
- ``import loyaltykit``: the package alone;
- a memory round trip: ``Loyalty()``, enroll, earn, balance (what a service pays for
  the core, without SQLAlchemy).

Figures are medians in milliseconds: wall time, its difference from the baseline of the
same run (absolute times on shared machines are not comparable), and what
``python -X importtime`` reports for the program's own imports (start-up excluded).
Not a test: tests/unit/test_public_api.py checks what is imported, not how fast.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

PROGRAMS = {
    "pass": "pass",
    "import loyaltykit": "import loyaltykit",
    "Loyalty() round trip": (
        "from datetime import datetime, UTC\n"
        "from loyaltykit import Loyalty\n"
        "at = datetime(2026, 1, 1, tzinfo=UTC)\n"
        "loyalty = Loyalty()\n"
        "loyalty.enroll('c1', at=at, idempotency_key='e1')\n"
        "loyalty.earn('c1', 10, at=at, idempotency_key='o1')\n"
        "assert loyalty.balance('c1').available == 10\n"
    ),
}
# "import time: self | cumulative | name": a name without indentation is a top-level import
TOP_LEVEL = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\S+)$", re.MULTILINE)


def wall_ms(code: str) -> float:
    """Milliseconds for a fresh interpreter to run ``code``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return (time.perf_counter() - start) * 1000


def importtime_ms(code: str) -> float:
    """Milliseconds ``-X importtime`` reports for every import ``code`` makes (the sum of
    the top-level imports' cumulative times: interpreter start excluded)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        check=True,
        capture_output=True,
        text=True,
    )
    # the interpreter's own start-up imports come first; the program's follow encodings.*
    lines = result.stderr.split("| site\n", 1)[-1]
    return sum(int(cumulative) for cumulative, _ in TOP_LEVEL.findall(lines)) / 1000


def main() -> None:
    """Print the medians of ``--runs`` runs of each program."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    walls = {name: [wall_ms(code) for _ in range(runs)] for name, code in PROGRAMS.items()}
    imports = {
        name: [importtime_ms(code) for _ in range(runs)]
        for name, code in PROGRAMS.items()
        if name != "pass"
    }
    baseline = statistics.median(walls["pass"])
    print(f"{sys.executable} {sys.version.split()[0]}, {runs} runs, medians in ms")
    print(f"{'program':<24}{'wall':>8}{'- pass':>8}{'imports':>12}")
    for name, times in walls.items():
        wall = statistics.median(times)
        reported = f"{statistics.median(imports[name]):.1f}" if name in imports else "-"
        print(f"{name:<24}{wall:>8.1f}{wall - baseline:>8.1f}{reported:>12}")


if __name__ == "__main__":
    main()
