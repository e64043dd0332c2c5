"""Plain-data forms of domain values, for idempotency records and storage.

Explicit mapping functions, kept apart from the model: JSON-compatible dicts with
ISO 8601 instants, exact fractions as ``"p/q"`` strings and enums by value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from fractions import Fraction
from typing import Any

import attrs

from loyaltykit.domain.customer import Customer, CustomerStatus, Profile
from loyaltykit.domain.events import DomainEvent
from loyaltykit.domain.ledger import Account, Entry, EntryKind, Lot, LotChange
from loyaltykit.domain.tiers import Override, TierChange, TierStatus

__all__ = [
    "account_from_record",
    "account_to_record",
    "customer_from_record",
    "customer_to_record",
    "entry_from_record",
    "entry_to_record",
    "event_from_record",
    "event_to_record",
    "instant_from_record",
    "instant_from_text",
    "lot_from_record",
    "lot_to_record",
    "profile_from_record",
    "profile_to_record",
    "tier_change_from_record",
    "tier_change_to_record",
    "tier_status_from_record",
    "tier_status_to_record",
]


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def instant_from_record(value: str | datetime) -> datetime:
    """An instant as the stored records hold it: ISO 8601 text with its offset, as this
    module writes it, or a datetime a backend's row already holds.

    The one reader of stored instants (``complaint_records`` and ``redemption_records``
    read with it too). It does not bound the instant as input is bounded: a stored one
    may be an input plus a duration (an expiry), beyond what a caller may pass.
    """
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def instant_from_text(value: str | datetime | None) -> datetime | None:
    """:func:`instant_from_record` of an optional instant (``None`` stays ``None``)."""
    return None if value is None else instant_from_record(value)


def entry_to_record(entry: Entry) -> dict[str, Any]:
    """An entry as plain data."""
    return {
        "customer_id": entry.customer_id,
        "point_type": entry.point_type,
        "seq": entry.seq,
        "kind": entry.kind.value,
        "amount": entry.amount,
        "pending_delta": entry.pending_delta,
        "deficit_delta": entry.deficit_delta,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "idempotency_key": entry.idempotency_key,
        "reason": entry.reason,
        "actor": entry.actor,
        "reverses": entry.reverses,
        "portion": None if entry.portion is None else str(entry.portion),
        "shortfall": entry.shortfall,
        "lots": [[change.lot_id, change.delta] for change in entry.lots],
        "metadata": [[key, value] for key, value in entry.metadata],
    }


def entry_from_record(record: dict[str, Any]) -> Entry:
    """The entry :func:`entry_to_record` wrote."""
    return Entry(
        customer_id=record["customer_id"],
        point_type=record["point_type"],
        seq=record["seq"],
        kind=EntryKind(record["kind"]),
        amount=record["amount"],
        pending_delta=record["pending_delta"],
        deficit_delta=record["deficit_delta"],
        occurred_at=instant_from_record(record["occurred_at"]),
        recorded_at=instant_from_record(record["recorded_at"]),
        idempotency_key=record["idempotency_key"],
        reason=record["reason"],
        actor=record["actor"],
        reverses=record["reverses"],
        portion=None if record["portion"] is None else Fraction(record["portion"]),
        shortfall=record["shortfall"],
        lots=tuple(LotChange(lot_id=lot_id, delta=delta) for lot_id, delta in record["lots"]),
        metadata=tuple((key, value) for key, value in record["metadata"]),
    )


def profile_to_record(profile: Profile) -> dict[str, Any]:
    """A profile as plain data."""
    return {
        "name": profile.name,
        "gender": profile.gender,
        "birthday": None if profile.birthday is None else profile.birthday.isoformat(),
        "email": profile.email,
        "phone": profile.phone,
        "preferred_channel": profile.preferred_channel,
        "tags": sorted(profile.tags),
        "attributes": [[key, value] for key, value in profile.attributes],
    }


def profile_from_record(record: dict[str, Any]) -> Profile:
    """The profile :func:`profile_to_record` wrote."""
    birthday = record.get("birthday")
    return Profile(
        name=record.get("name"),
        gender=record.get("gender"),
        birthday=None if birthday is None else date.fromisoformat(birthday),
        email=record.get("email"),
        phone=record.get("phone"),
        preferred_channel=record.get("preferred_channel"),
        tags=frozenset(record.get("tags", ())),
        attributes=tuple((key, value) for key, value in record.get("attributes", ())),
    )


def customer_to_record(customer: Customer) -> dict[str, Any]:
    """A customer as plain data."""
    return {
        "id": customer.id,
        "enrolled_at": customer.enrolled_at.isoformat(),
        "status": customer.status.value,
        "profile": profile_to_record(customer.profile),
        "referred_by": customer.referred_by,
        "erased_at": _text(customer.erased_at),
    }


def customer_from_record(record: dict[str, Any]) -> Customer:
    """The customer :func:`customer_to_record` wrote."""
    return Customer(
        id=record["id"],
        enrolled_at=instant_from_record(record["enrolled_at"]),
        status=CustomerStatus(record["status"]),
        profile=profile_from_record(record["profile"]),
        referred_by=record["referred_by"],
        erased_at=instant_from_text(record["erased_at"]),
    )


def tier_status_to_record(status: TierStatus) -> dict[str, Any]:
    """A tier status as plain data."""
    override = status.override
    return {
        "tier": status.tier,
        "since": status.since.isoformat(),
        "valid_until": _text(status.valid_until),
        "granted_under": status.granted_under,
        "grace_until": _text(status.grace_until),
        "override": None
        if override is None
        else {
            "tier": override.tier,
            "until": override.until.isoformat(),
            "reason": override.reason,
            "actor": override.actor,
        },
    }


def tier_status_from_record(record: Mapping[str, Any]) -> TierStatus:
    """The status :func:`tier_status_to_record` wrote."""
    override = record.get("override")
    return TierStatus(
        tier=record["tier"],
        since=instant_from_record(record["since"]),
        valid_until=instant_from_text(record.get("valid_until")),
        granted_under=record["granted_under"],
        grace_until=instant_from_text(record.get("grace_until")),
        override=None
        if override is None
        else Override(
            tier=override["tier"],
            until=instant_from_record(override["until"]),
            reason=override["reason"],
            actor=override["actor"],
        ),
    )


def tier_change_to_record(change: TierChange) -> dict[str, Any]:
    """A tier history line as plain data."""
    return {
        "at": change.at.isoformat(),
        "from": change.from_tier,
        "to": change.to_tier,
        "kind": change.kind,
        "reason": change.reason,
    }


def tier_change_from_record(record: Mapping[str, Any]) -> TierChange:
    """The history line :func:`tier_change_to_record` wrote."""
    return TierChange(
        at=instant_from_record(record["at"]),
        from_tier=record["from"],
        to_tier=record["to"],
        kind=record["kind"],
        reason=record["reason"],
    )


def event_to_record(event: DomainEvent) -> dict[str, Any]:
    """The plain-data form of a domain event."""
    return {
        "customer_id": event.customer_id,
        "sequence": event.sequence,
        "type": event.type,
        "at": event.at.isoformat(),
        "idempotency_key": event.idempotency_key,
        "payload": dict(event.payload),
    }


def event_from_record(record: Mapping[str, Any]) -> DomainEvent:
    """The domain event :func:`event_to_record` wrote."""
    return DomainEvent(
        customer_id=record["customer_id"],
        sequence=record["sequence"],
        type=record["type"],
        at=instant_from_record(record["at"]),
        idempotency_key=record["idempotency_key"],
        payload=record["payload"],
    )


def lot_to_record(lot: Lot) -> dict[str, Any]:
    """A lot as plain data (its ``id`` is derived, so it is not stored)."""
    return {
        "customer_id": lot.customer_id,
        "point_type": lot.point_type,
        "seq": lot.seq,
        "index": lot.index,
        "amount": lot.amount,
        "remaining": lot.remaining,
        "earned_at": lot.earned_at.isoformat(),
        "expires_at": _text(lot.expires_at),
        "available_from": _text(lot.available_from),
        "pending": lot.pending,
        "expired": lot.expired,
        "withdrawn": lot.withdrawn,
        "forgiven": lot.forgiven,
        "shortfall": lot.shortfall,
    }


def lot_from_record(record: Mapping[str, Any]) -> Lot:
    """The lot :func:`lot_to_record` wrote."""
    return Lot(
        customer_id=record["customer_id"],
        point_type=record["point_type"],
        seq=record["seq"],
        index=record["index"],
        amount=record["amount"],
        remaining=record["remaining"],
        earned_at=instant_from_record(record["earned_at"]),
        expires_at=instant_from_text(record["expires_at"]),
        available_from=instant_from_text(record["available_from"]),
        pending=record["pending"],
        expired=record["expired"],
        withdrawn=record["withdrawn"],
        forgiven=record["forgiven"],
        shortfall=record["shortfall"],
    )


def account_to_record(account: Account) -> dict[str, Any]:
    """An account's cached balances as plain data (the latest entry's instant in ISO 8601)."""
    record = attrs.asdict(account)
    record["last_at"] = None if account.last_at is None else account.last_at.isoformat()
    return record


def account_from_record(record: Mapping[str, Any]) -> Account:
    """The account :func:`account_to_record` wrote (one written before ``last_at`` existed
    has none: no entry to order commands against yet)."""
    fields = dict(record)
    fields["last_at"] = instant_from_text(fields.get("last_at"))
    return Account(**fields)
