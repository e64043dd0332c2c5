"""``loyaltykit run-due``: the periodic work (release, expiry, tiers, care, SLA clocks)."""

from __future__ import annotations

from pathlib import Path

import click

from loyaltykit.cli.console import console, emit, instant
from loyaltykit.cli.options import at_option, database, json_option, open_loyalty, program
from loyaltykit.outcomes import DueReport

__all__ = ["run_due"]


@click.command("run-due")
@database
@program
@at_option
@click.option("--batch-size", default=500, show_default=True, help="accounts per transaction")
@json_option
def run_due(
    url: str, program_file: Path | None, at_text: str | None, batch_size: int, as_json: bool
) -> None:
    """Run what fell due at --at: release pending points, expire lots, re-qualify tiers,
    record care actions, check complaint SLA clocks, cancel unclaimed redemptions.
    Safe to re-run: each step only does what is still due."""
    at = instant(at_text)
    loyalty = open_loyalty(url, program_file)
    try:
        report = loyalty.run_due(at=at, batch_size=batch_size)
    finally:
        loyalty.close()

    def show(done: DueReport) -> None:
        alerts = done.complaints
        console().print(
            f"due work at {done.at.isoformat()}: {done.released.released} points released, "
            f"{done.expired.expired} expired ({done.expired.accounts} accounts), "
            f"{done.tier_changes} tier changes, {len(done.care)} care actions, "
            f"{0 if alerts is None else len(alerts.breaches)} SLA breaches, "
            f"{done.unclaimed} unclaimed redemptions cancelled"
        )

    emit(as_json, report, show)
