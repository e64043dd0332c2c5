"""The relay loop every broker shares: pending events out in order, marked once acked."""

from __future__ import annotations

import abc
import asyncio
import json
import logging
from types import TracebackType
from typing import Protocol, Self

from loyaltykit.domain.events import DomainEvent
from loyaltykit.domain.records import event_to_record
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import count

__all__ = ["BrokerRelay", "EventSource", "event_body", "relay_for"]

log = logging.getLogger("loyaltykit.relays")


class EventSource(Protocol):
    """What a relay reads: a :class:`~loyaltykit.Loyalty` facade with ``outbox=True``."""

    def pending_events(self, *, limit: int = 100) -> tuple[DomainEvent, ...]: ...

    def mark_published(self, events: list[DomainEvent]) -> int: ...


def event_body(event: DomainEvent) -> bytes:
    """The message body: the event's plain-data form as JSON (UTF-8)."""
    return json.dumps(event_to_record(event), ensure_ascii=False, sort_keys=True).encode()


class BrokerRelay(abc.ABC):
    """A connection to one broker that publishes outbox events; use it in ``async
    with``, then :meth:`relay` (one batch) or :meth:`run` (until stopped)."""

    @abc.abstractmethod
    async def connect(self) -> None:
        """Connect, and declare what the relay publishes to."""

    @abc.abstractmethod
    async def publish(self, event: DomainEvent) -> None:
        """Publish one event and return once the broker has acknowledged it."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connection."""

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def relay(self, source: EventSource, *, limit: int = 100) -> int:
        """Publish up to ``limit`` pending events in order; the ones the broker acked are
        marked published, even when a later one fails (that error goes to the caller,
        and the failed event and those after it stay pending). Returns how many."""
        count("limit", limit)
        events = await asyncio.to_thread(source.pending_events, limit=limit)
        published: list[DomainEvent] = []
        try:
            for event in events:
                await self.publish(event)
                published.append(event)
        finally:
            if published:
                await asyncio.to_thread(source.mark_published, published)
        return len(published)

    async def run(
        self,
        source: EventSource,
        *,
        limit: int = 100,
        poll: float = 1.0,
        until_empty: bool = False,
    ) -> int:
        """Relay batch after batch, sleeping ``poll`` seconds when the outbox is empty;
        ``until_empty``: return once it is. Returns how many events were published."""
        total = 0
        while True:
            done = await self.relay(source, limit=limit)
            total += done
            if done:
                log.info("relayed %d events", done)
                continue
            if until_empty:
                return total
            await asyncio.sleep(poll)


def relay_for(url: str, **options: str) -> BrokerRelay:
    """The relay a broker URL names: ``nats://...`` (JetStream) or ``amqp://...`` /
    ``amqps://...`` (RabbitMQ). ``options`` go to the relay (``stream``, ``subject``,
    ``exchange``)."""
    scheme = url.partition("://")[0].lower()
    if scheme in ("nats", "tls"):
        from loyaltykit.relays.jetstream import JetStreamRelay

        return JetStreamRelay(url, **options)
    if scheme in ("amqp", "amqps"):
        from loyaltykit.relays.rabbitmq import RabbitMqRelay

        return RabbitMqRelay(url, **options)
    raise InvalidArgument(f"no relay for {scheme!r} URLs: use nats://... or amqp://...")
