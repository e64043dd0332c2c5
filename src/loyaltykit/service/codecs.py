"""How command outcomes are stored under their idempotency keys and read back, and the
names of the member documents and point type every area shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from operator import attrgetter
from typing import Any

import attrs

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.ledger import Entry, EntryKind, LotChange
from loyaltykit.domain.records import customer_from_record, customer_to_record, instant_from_text
from loyaltykit.errors import UnknownCustomer
from loyaltykit.formats.member import ACTIVITY, METRICS, TIER
from loyaltykit.outcomes import Balance, Receipt, receipt_from_record, receipt_to_record
from loyaltykit.service.kernel import OUTBOX, Codec
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, Money, identifier

__all__ = [
    "ACTIVITY",
    "METRICS",
    "OUTBOX",
    "POINTS",
    "TIER",
    "customer_codec",
    "existing",
    "explanation_of",
    "receipt_codec",
    "receipt_from_stored",
    "receipt_to_stored",
]

POINTS = "points"
"""The default point type's code."""


def receipt_codec() -> Codec[Receipt]:
    """Receipts stored under their key in their compact form; a replayed one says so.
    The outbox still gets the receipt's full record form."""
    return _RECEIPTS


def _replayed(_uow: UnitOfWork, record: Mapping[str, Any]) -> Receipt:
    return attrs.evolve(receipt_from_stored(record), replayed=True)


# --- the compact stored form of a receipt ----------------------------------------------
#
# A receipt's full record (receipt_to_record) repeats in every entry what the receipt
# says once (its customer, key and instant), and spells out every default: 821 of the
# 1,257 bytes SQLite kept per ledger entry. The stored form (version 2) keeps each value
# once and leaves out what equals the receipt's own value or the field's default; it is
# rebuilt exactly. Records stored before it (no "v") are read as they were written.

_STORED_VERSION = 2
_DEFAULT_POINT_TYPE = "points"
# the stored form's own list, not outcomes' (which names the same counts today): rows of
# version 2 hold these counts in this order, whatever a later Balance adds
_BALANCE_COUNTS = (
    "available",
    "pending",
    "lifetime_earned",
    "lifetime_redeemed",
    "lifetime_expired",
)


def receipt_to_stored(receipt: Receipt) -> dict[str, Any]:
    """The compact stored form of a receipt (see :func:`receipt_from_stored`)."""
    at = receipt.at.isoformat()
    stored: dict[str, Any] = {
        "v": _STORED_VERSION,
        "c": receipt.command,
        "k": receipt.idempotency_key,
        "u": receipt.customer_id,
        "t": at,
        "e": [_entry_to_stored(entry, receipt, at) for entry in receipt.entries],
        "b": [[*_balance_fields(balance)] for balance in receipt.balances],
    }
    if receipt.explanation:
        stored["x"] = receipt.explanation
    if receipt.revenue is not None:
        stored["r"] = [str(receipt.revenue.amount), receipt.revenue.currency]
    return stored


_balance_fields = attrgetter("customer_id", "point_type", *_BALANCE_COUNTS)


def explanation_of(stored: Mapping[str, Any]) -> str:
    """The explanation a stored receipt holds, in either stored form (empty for an outcome
    that is not a receipt's, or a receipt no rule explained)."""
    key = "x" if stored.get("v") == _STORED_VERSION else "explanation"
    return str(stored.get(key, ""))


def receipt_from_stored(stored: Mapping[str, Any]) -> Receipt:
    """The receipt :func:`receipt_to_stored` wrote, or one stored in the full record form
    of earlier versions (:func:`~loyaltykit.outcomes.receipt_from_record`)."""
    version = stored.get("v")
    if version is None:
        return receipt_from_record(stored)
    if version != _STORED_VERSION:
        raise ValueError(f"a stored receipt of version {version!r} is not one this version reads")
    at = instant_from_text(stored["t"])
    assert at is not None
    customer_id, key = stored["u"], stored["k"]
    return Receipt(
        command=stored["c"],
        idempotency_key=key,
        customer_id=customer_id,
        at=at,
        entries=tuple(
            _entry_from_stored(item, customer_id, key, stored["t"]) for item in stored["e"]
        ),
        balances=tuple(
            Balance(
                customer_id=row[0],
                point_type=row[1],
                **dict(zip(_BALANCE_COUNTS, row[2:], strict=True)),
            )
            for row in stored["b"]
        ),
        explanation=stored.get("x", ""),
        revenue=None if stored.get("r") is None else Money.of(stored["r"][0], stored["r"][1]),
    )


def _same_text(one: datetime, other: datetime) -> bool:
    """True if the two instants' ``isoformat()`` texts are equal, without writing them:
    the same instant at the same offset (the same object, most often)."""
    return one is other or (one == other and one.utcoffset() == other.utcoffset())


def _entry_to_stored(entry: Entry, receipt: Receipt, at: str) -> dict[str, Any]:
    item: dict[str, Any] = {"s": entry.seq, "n": entry.kind.value, "a": entry.amount}
    if entry.customer_id != receipt.customer_id:
        item["u"] = entry.customer_id
    if entry.point_type != _DEFAULT_POINT_TYPE:
        item["p"] = entry.point_type
    if entry.pending_delta:
        item["pd"] = entry.pending_delta
    if entry.deficit_delta:
        item["dd"] = entry.deficit_delta
    # an entry dated by its command holds the receipt's instant: its text is the
    # receipt's, without writing it out again
    when, then = entry.occurred_at, entry.recorded_at
    occurred = at if _same_text(when, receipt.at) else when.isoformat()
    if occurred != at:
        item["o"] = occurred
    if not _same_text(then, when) and then.isoformat() != occurred:
        item["r"] = then.isoformat()
    if entry.idempotency_key != receipt.idempotency_key:
        item["k"] = entry.idempotency_key
    if entry.reason:
        item["w"] = entry.reason
    if entry.actor is not None:
        item["by"] = entry.actor
    if entry.reverses is not None:
        item["rv"] = entry.reverses
    if entry.portion is not None:
        item["po"] = str(entry.portion)
    if entry.shortfall:
        item["sf"] = entry.shortfall
    if entry.lots:
        # a lot of the entry's own account by its "seq.index" (no colon), others in full
        own = f"{entry.customer_id}:{entry.point_type}:"
        item["l"] = [
            [
                change.lot_id.removeprefix(own) if change.lot_id.startswith(own) else change.lot_id,
                change.delta,
            ]
            for change in entry.lots
        ]
    if entry.metadata:
        item["m"] = [[name, value] for name, value in entry.metadata]
    return item


def _entry_from_stored(
    item: Mapping[str, Any], customer_id: CustomerId, key: str, at: str
) -> Entry:
    entry_customer = item.get("u", customer_id)
    point_type = item.get("p", _DEFAULT_POINT_TYPE)
    own = f"{entry_customer}:{point_type}:"
    occurred = item.get("o", at)
    portion = item.get("po")
    return Entry(
        customer_id=entry_customer,
        point_type=point_type,
        seq=item["s"],
        kind=EntryKind(item["n"]),
        amount=item["a"],
        pending_delta=item.get("pd", 0),
        deficit_delta=item.get("dd", 0),
        occurred_at=_instant(occurred),
        recorded_at=_instant(item.get("r", occurred)),
        idempotency_key=item.get("k", key),
        reason=item.get("w", ""),
        actor=item.get("by"),
        reverses=item.get("rv"),
        portion=None if portion is None else Fraction(portion),
        shortfall=item.get("sf", 0),
        lots=tuple(
            LotChange(lot_id=lot_id if ":" in lot_id else own + lot_id, delta=delta)
            for lot_id, delta in item.get("l", ())
        ),
        metadata=tuple((name, value) for name, value in item.get("m", ())),
    )


def _instant(text: str) -> Any:
    found = instant_from_text(text)
    assert found is not None
    return found


_RECEIPTS: Codec[Receipt] = Codec(receipt_to_record, _replayed, store=receipt_to_stored)


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
    found = uow.customers.get(identifier("customer_id", customer_id))
    if found is None:
        raise UnknownCustomer(customer_id)
    return found
