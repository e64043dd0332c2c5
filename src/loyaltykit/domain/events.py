"""Domain events: what happened to a customer, for other systems to hear about.

When the outbox is on (``Loyalty(..., outbox=True)``), every command that changes
something records one :class:`DomainEvent` in the same transaction as the change, so an
event exists exactly when its change was committed (the transactional outbox pattern). A
relay reads the pending events and publishes them to the caller's broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.values import CustomerId

__all__ = ["DomainEvent"]


@attrs.frozen(kw_only=True)
class DomainEvent:
    """One change to one customer.

    ``sequence`` counts a customer's events from 1 in the order they were committed: a
    consumer that keeps the last sequence it saw per customer can drop duplicates (the
    relay delivers at least once). ``type`` is the command (``"record_purchase"``,
    ``"redeem_points"``, ``"enroll"``...) or the batch work (``"settle"`` for expiry and
    release, ``"requalify"`` for tier changes). ``payload`` is plain JSON-compatible data:
    the command's receipt, or for customer commands the id and status only, so that no
    personal data leaves through the outbox.
    """

    customer_id: CustomerId
    sequence: int
    type: str
    at: datetime
    idempotency_key: str | None
    payload: Mapping[str, Any]

    @property
    def id(self) -> str:
        """A stable id for the event: ``"<customer id>:<sequence>"``."""
        return f"{self.customer_id}:{self.sequence}"
