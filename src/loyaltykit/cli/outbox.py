"""``loyaltykit outbox relay``: the outbox's events to NATS JetStream or RabbitMQ."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from loyaltykit.cli.console import console
from loyaltykit.cli.options import database, open_loyalty, program, tenant_option

__all__ = ["outbox"]


@click.group("outbox")
def outbox() -> None:
    """The outbox of domain events."""


@outbox.command("relay")
@database
@tenant_option
@program
@click.option(
    "--to",
    "broker",
    required=True,
    metavar="URL",
    help="nats://host:4222 (JetStream) or amqp://user:password@host:5672/ (RabbitMQ)",
)
@click.option("--stream", default=None, help="JetStream stream name [LOYALTYKIT]")
@click.option("--subject", default=None, help="JetStream subject prefix [loyaltykit.events]")
@click.option("--exchange", default=None, help="RabbitMQ exchange [loyaltykit.events]")
@click.option("--limit", default=100, show_default=True, help="events per batch")
@click.option("--poll", default=1.0, show_default=True, help="seconds between empty polls")
@click.option("--until-empty", is_flag=True, help="stop once every pending event is published")
def relay(
    url: str,
    program_file: Path | None,
    broker: str,
    stream: str | None,
    subject: str | None,
    exchange: str | None,
    limit: int,
    poll: float,
    until_empty: bool,
    tenant: str | None,
) -> None:
    """Publish the outbox's pending events to a broker, at least once, in each
    customer's order, with the event id as the broker's de-duplication id."""
    from loyaltykit.relays import relay_for

    given = {"stream": stream, "subject": subject, "exchange": exchange}
    options = {name: value for name, value in given.items() if value is not None}
    relay_to = relay_for(broker, **options)
    loyalty = open_loyalty(url, program_file, tenant, outbox=True)

    async def go() -> int:
        async with relay_to:
            return await relay_to.run(loyalty, limit=limit, poll=poll, until_empty=until_empty)

    try:
        published = asyncio.run(go())
    finally:
        loyalty.close()
    console().print(f"{published} events published")
