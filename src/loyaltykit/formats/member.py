"""The stored form of the member aggregate: three documents per member.

``activity`` (counters, purchase count, last purchase), ``tier`` (status and history)
and ``metrics`` (the metric history), each a customer-state document. Their names and
shapes are those earlier versions stored; this module is the only code that reads or
writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.member import MemberState
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.records import (
    instant_from_text,
    tier_change_to_record,
    tier_status_from_record,
    tier_status_to_record,
)
from loyaltykit.domain.tiers import TierStatus
from loyaltykit.formats.metrics import metrics_from_document, metrics_to_document

__all__ = [
    "ACTIVITY",
    "METRICS",
    "TIER",
    "Activity",
    "TierRecord",
    "activity_document",
    "activity_from_document",
    "activity_of",
    "activity_to_document",
    "member_from_documents",
    "member_from_parts",
    "metrics_document",
    "tier_document",
    "tier_from_document",
    "tier_of",
    "tier_to_document",
]

ACTIVITY = "activity"
TIER = "tier"
METRICS = "metrics"


class Activity(NamedTuple):
    """What the ``activity`` document holds (its counters are never changed in place)."""

    counters: Mapping[str, int]
    purchases: int
    last_purchase_at: datetime | None


class TierRecord(NamedTuple):
    """What the ``tier`` document holds: the status and the history lines as stored."""

    status: TierStatus
    history: tuple[Mapping[str, Any], ...]


def activity_from_document(document: Mapping[str, Any] | None) -> Activity:
    """The ``activity`` document read (empty when there is none)."""
    document = document or {}
    return Activity(
        dict(document.get("counters", {})),
        int(document.get("purchases", 0)),
        instant_from_text(document.get("last_purchase_at")),
    )


def activity_to_document(activity: Activity) -> dict[str, Any]:
    """The ``activity`` document of ``activity``."""
    document: dict[str, Any] = {
        "counters": dict(activity.counters),
        "purchases": activity.purchases,
    }
    if activity.last_purchase_at is not None:
        document["last_purchase_at"] = activity.last_purchase_at.isoformat()
    return document


def tier_from_document(document: Mapping[str, Any] | None) -> TierRecord | None:
    """The ``tier`` document read (``None`` when there is none)."""
    if document is None:
        return None
    history = tuple(document.get("history", ()))
    return TierRecord(tier_status_from_record(document["status"]), history)


def tier_to_document(record: TierRecord | None) -> dict[str, Any]:
    """The ``tier`` document of ``record``."""
    assert record is not None  # never written empty
    return {
        "status": tier_status_to_record(record.status),
        "history": [dict(line) for line in record.history],
    }


def member_from_documents(
    customer: Customer,
    activity: Mapping[str, Any] | None,
    tier: Mapping[str, Any] | None,
    metrics: Mapping[str, Any] | None,
) -> MemberState:
    """The member as its three stored documents describe it (missing ones are empty)."""
    return member_from_parts(
        customer,
        activity_from_document(activity),
        tier_from_document(tier),
        metrics_from_document(metrics),
    )


def member_from_parts(
    customer: Customer, activity: Activity, tier: TierRecord | None, metrics: MetricHistory
) -> MemberState:
    """The member as its three documents, read, describe it."""
    return MemberState(
        customer=customer,
        counters=activity.counters,
        purchases=activity.purchases,
        last_purchase_at=activity.last_purchase_at,
        tier=None if tier is None else tier.status,
        metrics=metrics,
    )


def activity_of(member: MemberState) -> Activity:
    """What the member's ``activity`` document holds."""
    return Activity(member.counters, member.purchases, member.last_purchase_at)


def tier_of(member: MemberState, stored: TierRecord | None) -> TierRecord:
    """What the member's ``tier`` document holds: its status, and the stored history
    with the new changes."""
    assert member.tier is not None
    history = () if stored is None else stored.history
    added = tuple(tier_change_to_record(change) for change in member.tier_changes)
    return TierRecord(member.tier, (*history, *added))


def activity_document(member: MemberState) -> dict[str, Any]:
    """The ``activity`` document of a member."""
    return activity_to_document(activity_of(member))


def tier_document(member: MemberState, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``tier`` document: the status, and the stored history with the new changes."""
    return tier_to_document(tier_of(member, tier_from_document(stored)))


def metrics_document(member: MemberState) -> dict[str, Any]:
    """The ``metrics`` document of a member."""
    return metrics_to_document(member.metrics)
