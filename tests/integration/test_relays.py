"""Outbox relays to real brokers: a relay killed mid-publish and restarted delivers every
event, each customer's in order, and the consumer de-duplicates by the event id (on
JetStream the stream itself drops the copies, by ``Nats-Msg-Id``)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from loyaltykit import Loyalty
from loyaltykit.relays import relay_for
from tests.integration.relay_workers import options
from tests.integration.workers import T0

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = ("ann", "bob", "cy")
KILLED_AFTER = 5


def _seed(db: str) -> list[str]:
    with Loyalty(storage=db, outbox=True) as loyalty:
        for customer in CUSTOMERS:
            loyalty.enroll(customer, at=T0, idempotency_key="enroll")
        for n in range(4):
            for customer in CUSTOMERS:
                loyalty.earn(customer, n + 1, at=T0, idempotency_key=f"earn-{n}")
        return [event.id for event in loyalty.pending_events(limit=1000)]


async def _rabbit_queue(url: str, name: str) -> tuple[Any, Any]:
    """A durable queue bound to the relay's exchange (declared before the relay
    publishes: RabbitMQ drops what no queue is bound for)."""
    import aio_pika

    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(name, auto_delete=False, durable=True)
    await queue.bind(exchange, routing_key="#")
    return connection, queue


async def _rabbit_declare(url: str, name: str) -> None:
    connection, _ = await _rabbit_queue(url, name)
    await connection.close()


async def _rabbit_read(url: str, name: str) -> list[tuple[str, str]]:
    connection, queue = await _rabbit_queue(url, name)
    seen: list[tuple[str, str]] = []
    while (message := await queue.get(fail=False, timeout=5)) is not None:
        await message.ack()
        seen.append((message.message_id, json.loads(message.body)["customer_id"]))
    await queue.delete(if_unused=False, if_empty=False)
    channel = await connection.channel()
    await channel.exchange_delete(name)
    await connection.close()
    return seen


async def _nats_read(url: str, name: str) -> list[tuple[str, str]]:
    import nats

    client = await nats.connect(url)
    js = client.jetstream()
    info = await js.stream_info(name)
    seen = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(name, sequence)
        assert message.headers is not None
        seen.append((message.headers["Nats-Msg-Id"], json.loads(message.data)["customer_id"]))
    await js.delete_stream(name)
    await client.close()
    return seen


@pytest.mark.parametrize("broker", ["nats", "rabbitmq"])
def test_a_relay_killed_mid_publish_and_restarted_delivers_each_event_in_order(
    broker: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url: str = request.getfixturevalue(f"{broker}_url")
    db = f"sqlite:///{tmp_path / 'outbox.db'}"
    events = _seed(db)
    name = f"lk{uuid.uuid4().hex[:10]}"
    if broker == "rabbitmq":
        asyncio.run(_rabbit_declare(url, name))

    killed = subprocess.run(
        [sys.executable, "-m", "tests.integration.relay_workers", db, url, name, str(KILLED_AFTER)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    with Loyalty(storage=db, outbox=True) as loyalty:  # published, never marked
        assert len(loyalty.pending_events(limit=1000)) == len(events)
    flags = [f"--{key}={value}" for key, value in options(url, name).items()]
    restarted = subprocess.run(
        [
            sys.executable,
            "-m",
            "loyaltykit",
            "outbox",
            "relay",
            "--db",
            db,
            "--to",
            url,
            "--until-empty",
            *flags,
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert restarted.returncode == 0, restarted.stderr.decode()
    with Loyalty(storage=db, outbox=True) as loyalty:
        assert loyalty.pending_events(limit=1000) == ()

    if broker == "nats":
        seen = asyncio.run(_nats_read(url, name))
        assert len(seen) == len(events)  # the stream dropped the copies by Nats-Msg-Id
    else:
        seen = asyncio.run(_rabbit_read(url, name))
        assert len(seen) == len(events) + KILLED_AFTER  # the copies reach the consumer
    ids = list(dict.fromkeys(event_id for event_id, _ in seen))  # de-duplicated by id
    assert sorted(ids) == sorted(events)
    for customer in CUSTOMERS:
        sequences = [int(i.rpartition(":")[2]) for i in ids if i.startswith(f"{customer}:")]
        assert sequences == list(range(1, len(sequences) + 1)), (customer, sequences)
        # every copy too: each relay process sent the customer's events in order (the
        # killed one a prefix, the restarted one all of them again)
        arrived = [int(i.rpartition(":")[2]) for i, who in seen if who == customer]
        runs = [[arrived[0]]]
        for sequence in arrived[1:]:
            if sequence > runs[-1][-1]:
                runs[-1].append(sequence)
            else:
                runs.append([sequence])
        assert len(runs) <= 2 and runs[-1] == sequences, (customer, arrived)


def test_a_relay_is_chosen_by_the_brokers_url() -> None:
    from loyaltykit.errors import InvalidArgument
    from loyaltykit.relays.jetstream import JetStreamRelay
    from loyaltykit.relays.rabbitmq import RabbitMqRelay

    assert isinstance(relay_for("nats://127.0.0.1:4222"), JetStreamRelay)
    assert isinstance(relay_for("amqp://guest:guest@127.0.0.1/"), RabbitMqRelay)
    with pytest.raises(InvalidArgument, match="kafka"):
        relay_for("kafka://127.0.0.1:9092")
