"""The outbox relay to RabbitMQ (``pip install 'loyaltykit[rabbitmq]'``, aio-pika).

Events are published, persistent, to a durable topic exchange with the routing key
``<type>``, ``message_id`` set to the event's id and the customer id in the header
``loyaltykit-customer``, on a channel with publisher confirms: the relay waits for the
broker's confirm of each event before the next, so one customer's events reach a queue
in their order, and marks them published only once confirmed. RabbitMQ does not drop
duplicates by itself: a consumer keeps the ids (or each customer's last sequence) it
has seen, since a relay restarted after a crash publishes again what it had not marked.
"""

from __future__ import annotations

from typing import Any

from loyaltykit.domain.events import DomainEvent
from loyaltykit.errors import StorageUnavailable
from loyaltykit.relays.loop import BrokerRelay, event_body

__all__ = ["RabbitMqRelay"]


class RabbitMqRelay(BrokerRelay):
    """Publishes outbox events to a RabbitMQ topic exchange (``loyaltykit.events``)."""

    def __init__(self, url: str, *, exchange: str = "loyaltykit.events") -> None:
        self.url = url
        self.exchange_name = exchange
        self._connection: Any = None
        self._exchange: Any = None

    async def connect(self) -> None:
        try:
            import aio_pika
        except ModuleNotFoundError:  # pragma: no cover - exercised without the extra
            raise StorageUnavailable(
                "the RabbitMQ relay needs aio-pika: pip install 'loyaltykit[rabbitmq]'"
            ) from None
        self._connection = await aio_pika.connect(self.url)
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def publish(self, event: DomainEvent) -> None:
        import aio_pika

        message = aio_pika.Message(
            event_body(event),
            message_id=event.id,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={"loyaltykit-customer": event.customer_id},
            type=event.type,
        )
        # with publisher confirms, publish returns once the broker has confirmed
        await self._exchange.publish(message, routing_key=event.type)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
