"""``loyaltykit report``: the programme report in the terminal, as JSON, or as HTML."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from loyaltykit.cli.console import console, emit, instant
from loyaltykit.cli.options import (
    at_option,
    database,
    json_option,
    open_loyalty,
    program,
    tenant_option,
)
from loyaltykit.reports import ProgrammeReport, programme_report, render_html
from loyaltykit.values import Money

__all__ = ["report", "summary"]


def summary(done: ProgrammeReport) -> None:
    """The report's key figures as a table, for people."""
    table = Table("figure", "value", title=f"programme report at {done.at:%Y-%m-%d %H:%M %Z}")
    money = done.cost_per_point.currency
    rows = [
        ("members", f"{done.members:,}"),
        ("points outstanding", f"{done.outstanding:,}"),
        ("gross liability", f"{done.gross_liability.amount:,.2f} {money}"),
        ("expected breakage", f"{done.breakage_rate * 100:.1f}% ({done.expected_breakage:,})"),
        ("net liability", f"{done.net_liability.amount:,.2f} {money}"),
        ("tiers", ", ".join(f"{tier} {count:,}" for tier, count in done.tiers.items()) or "-"),
        ("value classes", ", ".join(f"{k} {v:,}" for k, v in done.value_classes.items())),
        ("churn warnings", f"{len(done.churn_warnings):,}"),
        ("complaints", f"{done.complaints.complaints} ({done.complaints.open} open)"),
    ]
    for clock, share in done.complaints.sla_compliance.items():
        rows.append((f"SLA {clock}", "-" if share is None else f"{share:.1f}% met"))
    for kind, points in done.entry_totals.items():
        if points:
            rows.append((f"entries: {kind}", f"{points:+,}"))
    rows.append(("reconciles", "yes" if done.reconciles else "NO"))
    for row in rows:
        table.add_row(*row)
    console().print(table)


@click.command()
@database
@tenant_option
@program
@at_option
@click.option(
    "--cost-per-point", default="0.01", show_default=True, help="money value of one point"
)
@click.option("--currency", default=None, help="default: the programme's currency")
@click.option("--survey", "surveys", multiple=True, help="a survey to break down by tier")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def report(
    url: str,
    program_file: Path | None,
    at_text: str | None,
    cost_per_point: str,
    currency: str | None,
    surveys: tuple[str, ...],
    html_file: Path | None,
    as_json: bool,
    tenant: str | None,
) -> None:
    """Liability (by expiry month and tier, with expected breakage), tiers, campaigns,
    value classes, churn warnings, complaint SLA compliance and survey scores.
    --html FILE writes the report as one self-contained page with charts."""
    at = instant(at_text)
    loyalty = open_loyalty(url, program_file, tenant)
    try:
        cost = Money.of(cost_per_point, currency or loyalty.versions.at(at).currency)
        done = programme_report(loyalty, at, cost_per_point=cost, surveys=surveys)
    finally:
        loyalty.close()
    if html_file is not None:
        html_file.write_text(render_html(done), encoding="utf-8")
    emit(as_json, done, summary)
    if html_file is not None and not as_json:
        console().print(f"HTML report written to {html_file.resolve()}")
