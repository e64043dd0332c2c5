"""benchmarks/run.py reads every benchmark's figures into one table."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

from run import SMALL, rows_of


def test_every_benchmark_has_a_small_size() -> None:
    scripts = Path(__file__).parents[2] / "benchmarks"
    found = {p.stem for p in scripts.glob("*.py")} - {"run", "bench_databases"}
    assert found == set(SMALL)


def test_rows_are_read_from_each_kind_of_output() -> None:
    output = """20,000 commands over 2,000 customers (Python 3.11.7): 1 entries written
measure                          figure
-------                          ------
facade, memory backend      1,086 commands/s
ratio facade / baseline time          46.7x
lots     1,000:       414 earns/s
  3-clause condition                            1,234 ns
backend         redeem    points
memory             508       825
"""
    assert rows_of(output) == [
        # a benchmark's summary line says what it ran: kept, as a row
        ("20,000 commands over 2,000 customers (Python 3.11.7)", "1 entries written"),
        ("facade, memory backend", "1,086 commands/s"),
        ("ratio facade / baseline time", "46.7x"),
        ("lots 1,000", "414 earns/s"),
        ("3-clause condition", "1,234 ns"),
        ("memory redeem", "508"),
        ("memory points", "825"),
    ]


def test_every_figure_of_the_registry_names_a_benchmark_and_a_goal() -> None:
    from run import FIGURES, figure_table

    assert {figure.benchmark for figure in FIGURES} <= set(SMALL)
    assert len({figure.name for figure in FIGURES}) == len(FIGURES)
    rows = {"engine": [("ratio engine / hand-written time", "2.5x")]}
    table = {name: (measured, verdict) for name, measured, _, verdict in figure_table(rows)}
    assert table["PolicyEngine.evaluate vs hand-written function"] == ("2.5x", "met")
    assert table["facade on memory vs hand-written dict/list ledger"] == ("not measured", "")


def test_a_figure_past_its_goal_is_missed() -> None:
    from run import verdict

    assert verdict("1,886 B", "<= 400") == "MISSED"
    assert verdict("0.98x", "<= 1.0x") == "met"
    assert verdict("12.0 s", ">= 20") == "MISSED"
    assert verdict("fast", "<= 3x") == ""
