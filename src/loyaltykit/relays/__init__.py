"""Outbox relays to real brokers: NATS JetStream and RabbitMQ (optional extras).

A relay reads the outbox's pending events in order, publishes each to the broker and
waits for the broker's acknowledgement, then marks them published: delivery is at least
once (a relay killed between the broker's ack and the mark publishes those events
again), each event carries its id (``"<customer id>:<sequence>"``) as the broker's
de-duplication id (JetStream's ``Nats-Msg-Id``, RabbitMQ's ``message_id``), and one
customer's events go out in their sequence order. ``pip install 'loyaltykit[nats]'`` or
``'loyaltykit[rabbitmq]'``; ``loyaltykit outbox relay --to URL`` runs one. See
``docs/concepts/scaling.md``.
"""

from __future__ import annotations

from loyaltykit.relays.loop import BrokerRelay, event_body, relay_for

__all__ = ["BrokerRelay", "event_body", "relay_for"]
