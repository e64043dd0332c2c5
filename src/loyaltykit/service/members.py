"""The member repository: loads a :class:`~loyaltykit.domain.member.MemberState` from
its stored documents and saves back only what a command changed."""

from __future__ import annotations

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.member import MemberState
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.records import (
    tier_change_from_record,
    tier_status_from_record,
)
from loyaltykit.domain.tiers import TierChange, TierStatus
from loyaltykit.formats.member import (
    ACTIVITY,
    METRICS,
    TIER,
    activity_document,
    member_from_documents,
    metrics_document,
    tier_document,
)
from loyaltykit.formats.metrics import metrics_from_document
from loyaltykit.storage.base import UnitOfWork

__all__ = ["load_member", "member_metrics", "member_tier", "save_member", "tier_history"]


def load_member(uow: UnitOfWork, customer: Customer) -> MemberState:
    """The member's state, as stored (under the member's lock when the caller holds it)."""
    return member_from_documents(
        customer,
        uow.state.get(customer.id, ACTIVITY),
        uow.state.get(customer.id, TIER),
        uow.state.get(customer.id, METRICS),
    )


def save_member(uow: UnitOfWork, before: MemberState, after: MemberState) -> None:
    """Write the documents whose part of the state changed from ``before`` to ``after``."""
    member_id = after.id
    if (
        after.counters != before.counters
        or after.purchases != before.purchases
        or after.last_purchase_at != before.last_purchase_at
    ):
        uow.state.put(member_id, ACTIVITY, activity_document(after))
    if after.metrics is not before.metrics:
        uow.state.put(member_id, METRICS, metrics_document(after))
    if after.tier_changes != before.tier_changes or after.tier is not before.tier:
        assert after.tier is not None
        stored = uow.state.get(member_id, TIER)
        uow.state.put(member_id, TIER, tier_document(after, stored), due_at=after.tier.due())


def member_metrics(uow: UnitOfWork, customer_id: str) -> MetricHistory:
    """Only the member's metric history (for reports that read many members)."""
    return metrics_from_document(uow.state.get(customer_id, METRICS))


def member_tier(uow: UnitOfWork, customer_id: str) -> TierStatus | None:
    """Only the member's stored tier status, if any."""
    document = uow.state.get(customer_id, TIER)
    return None if document is None else tier_status_from_record(document["status"])


def tier_history(uow: UnitOfWork, customer_id: str) -> tuple[TierChange, ...]:
    """Every tier change the member had, oldest first."""
    document = uow.state.get(customer_id, TIER) or {}
    return tuple(tier_change_from_record(r) for r in document.get("history", ()))
