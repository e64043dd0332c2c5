"""The outbox relay to NATS JetStream (``pip install 'loyaltykit[nats]'``).

Each event is published to ``<subject>.<type>`` with the header ``Nats-Msg-Id`` set to
the event's id, so JetStream drops a copy published again within the stream's duplicate
window (two minutes by default: a relay restarted after a crash republishes the events
it had not marked, and the stream keeps one of each). The relay waits for the stream's
ack of each event before publishing the next, so one customer's events are stored in
their order. The stream is created if missing (``subjects = [<subject>.>]``).
"""

from __future__ import annotations

from typing import Any

from loyaltykit.domain.events import DomainEvent
from loyaltykit.errors import StorageUnavailable
from loyaltykit.relays.loop import BrokerRelay, event_body

__all__ = ["JetStreamRelay"]


class JetStreamRelay(BrokerRelay):
    """Publishes outbox events to a JetStream stream.

    ``subject`` is the subjects' prefix (``loyaltykit.events``); ``stream`` the stream
    name (``LOYALTYKIT``).
    """

    def __init__(
        self, url: str, *, stream: str = "LOYALTYKIT", subject: str = "loyaltykit.events"
    ) -> None:
        self.url = url
        self.stream = stream
        self.subject = subject
        self._client: Any = None
        self._js: Any = None

    async def connect(self) -> None:
        try:
            import nats
            from nats.js.errors import NotFoundError
        except ModuleNotFoundError:  # pragma: no cover - exercised without the extra
            raise StorageUnavailable(
                "the NATS relay needs nats-py: pip install 'loyaltykit[nats]'"
            ) from None
        self._client = await nats.connect(self.url, allow_reconnect=False)
        self._js = self._client.jetstream()
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(name=self.stream, subjects=[f"{self.subject}.>"])

    async def publish(self, event: DomainEvent) -> None:
        headers = {"Nats-Msg-Id": event.id, "Loyaltykit-Customer": event.customer_id}
        await self._js.publish(
            f"{self.subject}.{event.type}", event_body(event), stream=self.stream, headers=headers
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
