"""``loyaltykit run-due``: the periodic work (release, expiry, tiers, care, SLA clocks)."""

from __future__ import annotations

from pathlib import Path

import click

from loyaltykit.cli.console import console, emit, instant
from loyaltykit.cli.options import (
    at_option,
    database,
    json_option,
    open_loyalty,
    program,
    tenant_option,
)
from loyaltykit.domain.shards import Shard
from loyaltykit.errors import InvalidArgument
from loyaltykit.outcomes import DueReport

__all__ = ["run_due"]


@click.command("run-due")
@database
@tenant_option
@program
@at_option
@click.option("--batch-size", default=500, show_default=True, help="accounts per transaction")
@click.option(
    "--shard",
    "shard_text",
    default=None,
    metavar="K/N",
    help="this worker's shard of the customers (0/4 ... 3/4: N workers cover each once)",
)
@json_option
def run_due(
    url: str,
    program_file: Path | None,
    at_text: str | None,
    batch_size: int,
    shard_text: str | None,
    as_json: bool,
    tenant: str | None,
) -> None:
    """Run what fell due at --at: release pending points, expire lots, re-qualify tiers,
    record care actions, check complaint SLA clocks, cancel unclaimed redemptions.
    Safe to re-run: each step only does what is still due. With --shard K/N, release,
    expiry and tiers take shard K's customers only (care, SLA clocks and unclaimed
    redemptions run in shard 0)."""
    at = instant(at_text)
    try:
        shard = None if shard_text is None else Shard.parse(shard_text)
    except InvalidArgument as error:
        raise click.BadParameter(str(error), param_hint="--shard") from None
    loyalty = open_loyalty(url, program_file, tenant)
    try:
        report = loyalty.run_due(at=at, batch_size=batch_size, shard=shard)
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
