"""``loyaltykit program``: check a programme file, and test it, before it goes live."""

from __future__ import annotations

from pathlib import Path

import click

from loyaltykit.cli.console import Failure, console, emit
from loyaltykit.cli.options import json_option, load_program
from loyaltykit.errors import ProgramError

__all__ = ["program"]


@click.group()
def program() -> None:
    """Check and test programme files."""


@program.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def check(file: Path, as_json: bool) -> None:
    """Load a programme (TOML or JSON) and list every problem with its path."""
    try:
        loaded = load_program(file)
    except ProgramError as error:
        problems = list(error.problems)
        if as_json:
            emit(True, {"file": str(file), "valid": False, "problems": problems}, print)
        else:
            for problem in problems:
                click.echo(f"{file}: {problem}", err=True)
        raise Failure(f"{file}: {len(problems)} problem{'s' * (len(problems) != 1)}") from None
    summary = {
        "file": str(file),
        "valid": True,
        "name": loaded.name,
        "version": loaded.version,
        "rules": [rule.id for rule in loaded.rules],
        "tiers": [tier.code for tier in loaded.tiers.tiers] if loaded.tiers else [],
        "campaigns": [campaign.id for campaign in loaded.campaigns],
        "rewards": list(loaded.catalog.ids),
    }

    def show(data: dict[str, object]) -> None:
        out = console()
        out.print(f"[green]ok[/green] {file}: programme {loaded.name!r} version {loaded.version!r}")
        for name in ("rules", "tiers", "campaigns", "rewards"):
            items = data[name]
            assert isinstance(items, list)
            out.print(f"  {name}: {', '.join(items) if items else '-'}")

    emit(as_json, summary, show)


@program.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--examples",
    type=click.IntRange(1, 10_000),
    default=40,
    show_default=True,
    help="Cases each property tries.",
)
@json_option
def test(file: Path, examples: int, as_json: bool) -> None:
    """Run the property battery (check_program) against a programme: each property by
    name, and for a failure the shrunk history, what was expected and the trace."""
    from loyaltykit.testing.program_check import check_program  # hypothesis: only here

    try:
        loaded = load_program(file)
    except ProgramError as error:
        raise Failure(
            f"{file}: {len(error.problems)} problems; run loyaltykit program check"
        ) from None
    report = check_program(loaded, max_examples=examples)
    summary = {
        "file": str(file),
        "program": report.program,
        "ok": report.ok,
        "properties": [
            {
                "name": result.name,
                "passed": result.passed,
                "skipped": result.skipped,
                "counterexample": None
                if result.counterexample is None
                else str(result.counterexample),
            }
            for result in report.results
        ],
    }
    emit(as_json, summary, lambda _data: print(report))
    if not report.ok:
        names = ", ".join(result.name for result in report.failures)
        raise Failure(f"{file}: the battery failed: {names}")
