"""``loyaltykit customer show``, ``statement`` and ``explain``: one member, read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from loyaltykit.cli.console import Failure, console, emit, instant
from loyaltykit.cli.options import (
    at_option,
    database,
    json_option,
    open_loyalty,
    program,
    tenant_option,
)
from loyaltykit.outcomes import Statement
from loyaltykit.service.codecs import explanation_of
from loyaltykit.storage.base import read_unit_of_work

__all__ = ["customer", "explain", "statement"]


@click.group()
def customer() -> None:
    """Look up members."""


@customer.command("show")
@click.argument("customer_id", metavar="ID")
@database
@tenant_option
@program
@at_option
@json_option
def show_customer(
    customer_id: str,
    url: str,
    program_file: Path | None,
    at_text: str | None,
    as_json: bool,
    tenant: str | None,
) -> None:
    """A member's profile (without personal data), tier and why, balances and lots."""
    at = instant(at_text)
    loyalty = open_loyalty(url, program_file, tenant)
    try:
        member = loyalty.customer(customer_id)
        rules = loyalty.versions.at(at)  # the programme in force at --at
        balances = [
            loyalty.balance(customer_id, point_type=kind.code, at=at) for kind in rules.point_types
        ]
        tier = loyalty.tier(customer_id, at=at) if rules.tiers is not None else None
        with read_unit_of_work(loyalty.storage) as uow:
            lots = [
                lot
                for kind in rules.point_types
                for lot in uow.ledger.lots(customer_id, kind.code)
                if lot.remaining > 0
            ]
    finally:
        loyalty.close()
    why = tier.history[-1].reason if tier is not None and tier.history else ""
    data: dict[str, Any] = {
        "customer": member,
        "tier": None if tier is None else {"effective": tier.effective, "why": why},
        "balances": balances,
        "lots": lots,
    }

    def show(_: object) -> None:
        out = console()
        out.print(
            f"[bold]{member.id}[/bold]  {member.status.value}, "
            f"enrolled {member.enrolled_at:%Y-%m-%d}"
        )
        if member.profile.tags:
            out.print(f"tags: {', '.join(sorted(member.profile.tags))}")
        if tier is not None:
            out.print(f"tier: [bold]{tier.effective}[/bold]" + (f" ({why})" if why else ""))
        for balance in balances:
            out.print(
                f"{balance.point_type}: {balance.available} available, {balance.pending} pending "
                f"(earned {balance.lifetime_earned}, redeemed {balance.lifetime_redeemed}, "
                f"expired {balance.lifetime_expired})"
            )
        table = Table("lot", "type", "earned", "left", "expires", title="lots")
        for lot in lots:
            expires = f"{lot.expires_at:%Y-%m-%d}" if lot.expires_at else "never"
            table.add_row(
                f"{lot.seq}.{lot.index}",
                lot.point_type,
                f"{lot.earned_at:%Y-%m-%d}",
                str(lot.remaining),
                expires,
            )
        out.print(table)

    emit(as_json, data, show)


@click.command()
@click.argument("customer_id", metavar="ID")
@database
@tenant_option
@program
@click.option("--point-type", default="points", show_default=True)
@json_option
def statement(
    customer_id: str,
    url: str,
    program_file: Path | None,
    point_type: str,
    as_json: bool,
    tenant: str | None,
) -> None:
    """Every entry of a member's account with the running balance."""
    loyalty = open_loyalty(url, program_file, tenant)
    try:
        loyalty.customer(customer_id)
        lines = loyalty.statement(customer_id, point_type=point_type)
    finally:
        loyalty.close()

    def show(done: Statement) -> None:
        table = Table("when", "kind", "points", "available", "pending", "key", "reason")
        for line in done.lines:
            entry = line.entry
            table.add_row(
                f"{entry.occurred_at:%Y-%m-%d %H:%M}",
                entry.kind.value,
                f"{entry.amount:+d}",
                str(line.available),
                str(line.pending),
                entry.idempotency_key or "",
                entry.reason,
            )
        out = console()
        out.print(table)
        out.print(
            f"closing balance: {done.closing_available} available, {done.closing_pending} pending"
        )

    emit(as_json, lines, show)


@click.command()
@click.argument("customer_id", metavar="ID")
@click.argument("key", metavar="KEY")
@database
@tenant_option
@json_option
def explain(customer_id: str, key: str, url: str, as_json: bool, tenant: str | None) -> None:
    """What one past command did and why: the outcome stored under its idempotency key
    (the rules that fired, their inputs and results) and the entries it recorded."""
    from loyaltykit.storage.base import tenant_storage
    from loyaltykit.storage.registry import open_storage
    from loyaltykit.values import DEFAULT_TENANT, tenant_key

    programme = DEFAULT_TENANT if tenant is None else tenant_key(tenant)  # before opening
    opened = open_storage(url)
    try:
        storage = tenant_storage(opened, programme)
    except BaseException:  # a backend that keeps one programme
        opened.close()
        raise
    try:
        with read_unit_of_work(storage) as uow:
            record = uow.idempotency.get(customer_id, key)
            entries = uow.ledger.entries_by_key(customer_id, key)
    finally:
        storage.close()
    if record is None:
        raise Failure(f"no command of customer {customer_id!r} has the key {key!r}")
    data = {
        "customer_id": customer_id,
        "key": key,
        "command": record.command,
        "recorded_at": record.recorded_at,
        "explanation": explanation_of(record.outcome),
        "entries": entries,
    }

    def show(_: object) -> None:
        out = console()
        out.print(
            f"[bold]{record.command}[/bold] {key} for {customer_id} "
            f"at {record.recorded_at.isoformat()}"
        )
        explanation = str(data["explanation"])
        for line in explanation.splitlines() or ["(no trace: this command applies no rules)"]:
            out.print(f"  {line}", markup=False)
        for entry in entries:
            out.print(
                f"  entry {entry.seq}: {entry.kind.value} {entry.amount:+d} {entry.point_type}"
            )

    emit(as_json, data, show)
