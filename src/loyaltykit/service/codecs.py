"""How command outcomes are stored under their idempotency keys and read back, and the
names of the member documents and point type every area shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.records import customer_from_record, customer_to_record
from loyaltykit.errors import UnknownCustomer
from loyaltykit.formats.member import ACTIVITY, METRICS, TIER
from loyaltykit.outcomes import Receipt, receipt_from_record, receipt_to_record
from loyaltykit.service.kernel import OUTBOX, Codec
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId

__all__ = [
    "ACTIVITY",
    "METRICS",
    "OUTBOX",
    "POINTS",
    "TIER",
    "customer_codec",
    "existing",
    "receipt_codec",
]

POINTS = "points"
"""The default point type's code."""


def receipt_codec() -> Codec[Receipt]:
    """Receipts stored under their key; a replayed one says so."""
    return Codec(
        receipt_to_record,
        lambda _uow, record: attrs.evolve(receipt_from_record(record), replayed=True),
    )


def customer_codec(customer_id: CustomerId) -> Codec[Customer]:
    """Customers stored under their key; after an erasure, a replay returns the customer
    as they are now (the stored outcome was redacted)."""

    def decode(uow: UnitOfWork, record: Mapping[str, Any]) -> Customer:
        if record.get("redacted"):
            return existing(uow, customer_id)
        return customer_from_record(dict(record))

    return Codec(customer_to_record, decode)


def existing(uow: UnitOfWork, customer_id: CustomerId) -> Customer:
    """The stored customer; raises :class:`~loyaltykit.errors.UnknownCustomer`."""
    found = uow.customers.get(customer_id)
    if found is None:
        raise UnknownCustomer(customer_id)
    return found
