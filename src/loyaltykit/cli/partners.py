"""``loyaltykit settlement``: a coalition partner's settlement for a period, read-only."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from loyaltykit.cli.console import console, emit, instant
from loyaltykit.cli.options import database, json_option, open_loyalty, program
from loyaltykit.domain.partners import PartnerSettlement

__all__ = ["settlement"]


def _table(done: PartnerSettlement) -> None:
    title = f"partner {done.partner_id}: {done.start:%Y-%m-%d %H:%M} to {done.end:%Y-%m-%d %H:%M}"
    table = Table("figure", "value", title=title)
    for name, value in (
        ("points issued", f"{done.points_issued:,}"),
        ("points reversed", f"{done.points_reversed:,}"),
        ("points expired", f"{done.points_expired:,}"),
        ("members acquired", f"{done.members_acquired:,}"),
        ("rewards redeemed", f"{done.units_redeemed:,} ({done.points_redeemed:,} points)"),
        ("rewards cancelled", f"{done.units_cancelled:,} ({done.points_restored:,} points)"),
        ("owed by the partner", str(done.owed_by_partner)),
        ("owed to the partner", str(done.owed_to_partner)),
        ("net (the partner pays)", str(done.net)),
    ):
        table.add_row(name, value)
    console().print(table)


@click.command()
@click.argument("partner_id", metavar="PARTNER")
@database
@program
@click.option("--start", "start_text", required=True, metavar="INSTANT", help="ISO 8601")
@click.option("--end", "end_text", required=True, metavar="INSTANT", help="ISO 8601, excluded")
@json_option
def settlement(
    partner_id: str,
    url: str,
    program_file: Path | None,
    start_text: str,
    end_text: str,
    as_json: bool,
) -> None:
    """What PARTNER and the programme owe each other for [--start, --end): points issued,
    reversed and expired, its rewards redeemed and cancelled, money each way and net."""
    start = instant(start_text, option="--start")
    end = instant(end_text, option="--end")
    loyalty = open_loyalty(url, program_file)
    try:
        done = loyalty.partner_settlement(partner_id, start=start, end=end)
    finally:
        loyalty.close()
    emit(as_json, done, _table)
