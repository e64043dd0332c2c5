"""Throughput of the SQL backend on PostgreSQL with 1, 2, 4 and 8 client processes, where
it stops growing and why, and the outbox relay's events per second to each broker.

Run: ``.venv/bin/python benchmarks/scale.py [--customers 100000] [--commands 300]
[--postgres URL] [--nats URL] [--rabbitmq URL]``. PostgreSQL comes from ``--postgres`` or
LOYALTYKIT_TEST_POSTGRES_URL (a schema of its own, dropped afterwards); the brokers from
``--nats`` / ``--rabbitmq`` or LOYALTYKIT_TEST_NATS_URL / LOYALTYKIT_TEST_RABBITMQ_URL.

Each client process runs ``--commands`` earns (one command, one transaction each) on
customers drawn at random from ``--customers`` (seeded by one ``INSERT ... SELECT``: the
command path is what is measured). While the clients run, the parent samples the active
sessions' wait events in ``pg_stat_activity`` every 10 ms: ``Lock`` waits mean row
locks (commands queueing on one customer), ``IO:WALSync`` / ``LWLock:WALWrite`` mean the
commit's flush of the write-ahead log. The largest run is repeated with
``synchronous_commit=off`` (commits no longer wait for the flush): the ratio of the two
says how much of the ceiling is fsync.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing
import os
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench_databases import postgres_schema
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from loyaltykit import Loyalty

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seed(url: str, customers: int) -> None:
    """``customers`` members: one enrolled through the facade, the rest copies of its row
    (ids ``c0`` ... ``c<n-1>``), in one statement."""
    with Loyalty(storage=url) as loyalty:
        loyalty.enroll("c0", at=T0, idempotency_key="enroll")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO lk_customers (tenant, id, enrolled_at, status, profile, "
                "referred_by, erased_at) SELECT tenant, 'c' || n, enrolled_at, status, "
                "profile, NULL, NULL "
                "FROM lk_customers, generate_series(1, :last) AS n WHERE id = 'c0'"
            ),
            {"last": customers - 1},
        )
        connection.execute(text("ANALYZE"))
    engine.dispose()


def client(
    url: str, day: int, number: int, commands: int, customers: int, barrier: Any, out: Any
) -> None:
    """One client process: ``commands`` earns on random customers, after the barrier,
    all at one instant of run ``day`` (an account refuses commands dated before its
    latest entry, and clients share customers)."""
    draw = random.Random(day * 1000 + number)
    loyalty = Loyalty(storage=url)
    picks = [f"c{draw.randrange(customers)}" for _ in range(commands)]
    at = T0 + timedelta(days=day)
    loyalty.earn(picks[0], 1, at=at, idempotency_key=f"warm-{day}-{number}")  # connect
    barrier.wait()
    start = time.perf_counter()
    for n, customer in enumerate(picks):
        loyalty.earn(customer, 10, at=at, idempotency_key=f"k-{day}-{number}-{n}")
    out.put(time.perf_counter() - start)
    loyalty.close()


def sample_waits(url: str, stop: threading.Event, seen: collections.Counter[str]) -> None:
    """Count the clients' wait events (``CPU`` when an active session waits on nothing)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    query = text(
        "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity "
        "WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    with engine.connect() as connection:
        while not stop.is_set():
            for (event,) in connection.execute(query):
                seen[event] += 1
            time.sleep(0.01)
    engine.dispose()


def run(
    url: str, day: int, processes: int, commands: int, customers: int
) -> tuple[float, dict[str, int]]:
    """Commands per second over ``processes`` clients, and the wait events sampled."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    out = context.Queue()
    workers = [
        context.Process(target=client, args=(url, day, n, commands, customers, barrier, out))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    seen: collections.Counter[str] = collections.Counter()
    stop = threading.Event()
    sampler = threading.Thread(target=sample_waits, args=(url, stop, seen))
    barrier.wait()
    start = time.perf_counter()
    sampler.start()
    for _ in workers:
        out.get(timeout=600)
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    for worker in workers:
        worker.join()
    return processes * commands / wall, dict(seen.most_common(5))


def relay_rate(url: str, broker: str, events: int) -> float:
    """Events per second the relay publishes to ``broker`` (acked one by one)."""
    import uuid

    from loyaltykit.relays import relay_for

    name = f"lkbench{uuid.uuid4().hex[:8]}"
    with Loyalty(storage=url, outbox=True) as loyalty:
        for n in range(events):
            at = T0 + timedelta(days=1000)  # after every client run's instant
            loyalty.earn(f"c{n % 100}", 1, at=at, idempotency_key=f"relay-{name}-{n}")
        options = (
            {"stream": name, "subject": f"{name}.events"}
            if broker.startswith("nats")
            else {"exchange": name}
        )
        relay = relay_for(broker, **options)

        async def go() -> tuple[int, float]:
            async with relay:
                start = time.perf_counter()
                done = await relay.run(loyalty, limit=500, until_empty=True)
                return done, time.perf_counter() - start

        done, seconds = asyncio.run(go())
    asyncio.run(_cleanup(broker, name))
    return done / seconds


async def _cleanup(broker: str, name: str) -> None:
    if broker.startswith("nats"):
        import nats

        client = await nats.connect(broker)
        await client.jetstream().delete_stream(name)
        await client.close()
    else:
        import aio_pika

        connection = await aio_pika.connect(broker)
        channel = await connection.channel()
        await channel.exchange_delete(name)
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--commands", type=int, default=300, help="earns per client process")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--relay-events", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYKIT_TEST_POSTGRES_URL"))
    parser.add_argument("--nats", default=os.environ.get("LOYALTYKIT_TEST_NATS_URL"))
    parser.add_argument("--rabbitmq", default=os.environ.get("LOYALTYKIT_TEST_RABBITMQ_URL"))
    options = parser.parse_args()
    if not options.postgres:
        print("no PostgreSQL given (--postgres URL or LOYALTYKIT_TEST_POSTGRES_URL): skipped")
        return
    url, drop = postgres_schema(options.postgres)
    try:
        seed(url, options.customers)
        print(f"customers: {options.customers}, earns per client: {options.commands}")
        base = None
        for day, processes in enumerate(options.processes, start=1):
            rate, waits = run(url, day, processes, options.commands, options.customers)
            base = base or rate
            print(
                f"clients {processes}: {rate:8.0f} commands/s  x{rate / base:4.2f}  waits {waits}"
            )
        most = options.processes[-1]
        unsynced = make_url(url)
        unsynced = unsynced.update_query_dict(
            {"options": unsynced.query["options"] + " -csynchronous_commit=off"}
        )
        rate_off, waits_off = run(
            unsynced.render_as_string(hide_password=False),
            len(options.processes) + 1,
            most,
            options.commands,
            options.customers,
        )
        print(
            f"clients {most}, synchronous_commit=off: {rate_off:8.0f} commands/s  "
            f"(ratio to synchronous: x{rate_off / rate:4.2f})  waits {waits_off}"
        )
        for label, broker in (("nats", options.nats), ("rabbitmq", options.rabbitmq)):
            if broker:
                eps = relay_rate(url, broker, options.relay_events)
                print(f"relay to {label}: {eps:8.0f} events/s ({options.relay_events} events)")
    finally:
        drop()


if __name__ == "__main__":
    main()
