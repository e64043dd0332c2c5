"""The member repository: loads a :class:`~loyaltykit.domain.member.MemberState` from
its stored documents and saves back only what a command changed."""

from __future__ import annotations

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.member import MemberState
from loyaltykit.formats.member import (
    ACTIVITY,
    METRICS,
    TIER,
    activity_document,
    member_from_documents,
    metrics_document,
    tier_document,
)
from loyaltykit.storage.base import UnitOfWork

__all__ = ["load_member", "save_member"]


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
