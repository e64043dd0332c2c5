"""The outbox: domain events recorded with each change, read and marked by a relay.

With ``Loyalty(..., outbox=True)`` every command that changes something records a
:class:`~loyaltykit.domain.events.DomainEvent` in its own transaction. A relay (a loop in
your worker, a cron job) calls :meth:`Outbox.relay` with a function that publishes one
event to your broker (Kafka, RabbitMQ, NATS...); events are delivered at least once, in
each customer's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from loyaltykit.domain.events import DomainEvent
from loyaltykit.domain.records import event_from_record
from loyaltykit.errors import InvalidArgument
from loyaltykit.service.codecs import OUTBOX
from loyaltykit.service.kernel import Kernel
from loyaltykit.values import count

__all__ = ["Outbox"]

# pending events are due at their command's instant; every instant is before this one
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


class Outbox:
    """Reading the outbox: pending events, marking them published, a relay loop."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def pending_events(self, *, limit: int = 100) -> tuple[DomainEvent, ...]:
        """Up to ``limit`` events not yet marked published, oldest first (each customer's
        in sequence order)."""
        self._outbox_on()
        count("limit", limit)
        with self.kernel.reading() as uow:
            stored = uow.records.due(OUTBOX, _END_OF_TIME, limit=limit)
        return tuple(event_from_record(record.document) for record in stored)

    def mark_published(self, events: Iterable[DomainEvent]) -> int:
        """Take these events out of the pending ones; returns how many were still
        pending (marking an event twice is harmless)."""
        self._outbox_on()
        marked = 0
        with self.kernel.unit() as uow:
            for event in events:
                record_id = f"{event.sequence:012d}"
                stored = uow.records.get(event.customer_id, OUTBOX, record_id, for_update=True)
                if stored is None or stored.due_at is None:
                    continue
                uow.records.put(event.customer_id, OUTBOX, record_id, stored.document)
                marked += 1
            uow.commit()
        return marked

    def relay(self, publish: Callable[[DomainEvent], object], *, limit: int = 100) -> int:
        """Publish up to ``limit`` pending events in order, marking each batch published
        once ``publish`` returned for it; returns how many were published.

        If ``publish`` raises, the events published before it are marked and the error
        goes to the caller; the failed event stays pending for the next run.
        """
        published: list[DomainEvent] = []
        try:
            for event in self.pending_events(limit=limit):
                publish(event)
                published.append(event)
        finally:
            if published:
                self.mark_published(published)
        return len(published)

    def _outbox_on(self) -> None:
        if not self.kernel.outbox:
            raise InvalidArgument("the outbox is off: create the facade with Loyalty(outbox=True)")
