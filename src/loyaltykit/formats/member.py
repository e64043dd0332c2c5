"""The stored form of the member aggregate: three documents per member.

``activity`` (counters, purchase count, last purchase), ``tier`` (status and history)
and ``metrics`` (the metric history), each a customer-state document. Their names and
shapes are those earlier versions stored; this module is the only code that reads or
writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.member import MemberState
from loyaltykit.domain.records import (
    instant_from_text,
    tier_change_to_record,
    tier_status_from_record,
    tier_status_to_record,
)
from loyaltykit.formats.metrics import metrics_from_document, metrics_to_document

__all__ = [
    "ACTIVITY",
    "METRICS",
    "TIER",
    "activity_document",
    "member_from_documents",
    "metrics_document",
    "tier_document",
]

ACTIVITY = "activity"
TIER = "tier"
METRICS = "metrics"


def member_from_documents(
    customer: Customer,
    activity: Mapping[str, Any] | None,
    tier: Mapping[str, Any] | None,
    metrics: Mapping[str, Any] | None,
) -> MemberState:
    """The member as its three stored documents describe it (missing ones are empty)."""
    activity = activity or {}
    return MemberState(
        customer=customer,
        counters=dict(activity.get("counters", {})),
        purchases=int(activity.get("purchases", 0)),
        last_purchase_at=instant_from_text(activity.get("last_purchase_at")),
        tier=None if tier is None else tier_status_from_record(tier["status"]),
        metrics=metrics_from_document(metrics),
    )


def activity_document(member: MemberState) -> dict[str, Any]:
    """The ``activity`` document of a member."""
    document: dict[str, Any] = {"counters": dict(member.counters), "purchases": member.purchases}
    if member.last_purchase_at is not None:
        document["last_purchase_at"] = member.last_purchase_at.isoformat()
    return document


def tier_document(member: MemberState, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``tier`` document: the status, and the stored history with the new changes."""
    assert member.tier is not None
    history = list((stored or {}).get("history", []))
    history.extend(tier_change_to_record(change) for change in member.tier_changes)
    return {"status": tier_status_to_record(member.tier), "history": history}


def metrics_document(member: MemberState) -> dict[str, Any]:
    """The ``metrics`` document of a member."""
    return metrics_to_document(member.metrics)
