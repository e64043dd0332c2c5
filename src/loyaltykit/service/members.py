"""The member repository: loads a :class:`~loyaltykit.domain.member.MemberState` from
its stored documents and saves back only what a command changed.

The documents are read and written through their codecs
(:func:`~loyaltykit.storage.base.state_value`): a backend that keeps decoded values (the
memory backend, :class:`~loyaltykit.storage.base.KeptValues`) hands back the member's
counters, tier and metric history as the last command left them, instead of decoding
them from their documents on every command; the others store the same documents."""

from __future__ import annotations

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.member import MemberState
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.records import tier_change_from_record
from loyaltykit.domain.tiers import TierChange, TierStatus
from loyaltykit.formats.member import (
    ACTIVITY,
    METRICS,
    TIER,
    Activity,
    TierRecord,
    activity_from_document,
    activity_of,
    activity_to_document,
    member_from_parts,
    tier_from_document,
    tier_of,
    tier_to_document,
)
from loyaltykit.formats.metrics import metrics_from_document, metrics_to_document
from loyaltykit.storage.base import StateCodec, UnitOfWork, put_state_value, state_value

__all__ = [
    "ACTIVITY_CODEC",
    "METRICS_CODEC",
    "TIER_CODEC",
    "load_member",
    "member_metrics",
    "member_tier",
    "save_member",
    "tier_history",
]

ACTIVITY_CODEC: StateCodec[Activity] = StateCodec(activity_from_document, activity_to_document)
TIER_CODEC: StateCodec[TierRecord | None] = StateCodec(tier_from_document, tier_to_document)
METRICS_CODEC: StateCodec[MetricHistory] = StateCodec(metrics_from_document, metrics_to_document)


def load_member(uow: UnitOfWork, customer: Customer) -> MemberState:
    """The member's state, as stored (under the member's lock when the caller holds it)."""
    states, member_id = uow.state, customer.id
    return member_from_parts(
        customer,
        state_value(states, member_id, ACTIVITY, ACTIVITY_CODEC),
        state_value(states, member_id, TIER, TIER_CODEC),
        state_value(states, member_id, METRICS, METRICS_CODEC),
    )


def save_member(uow: UnitOfWork, before: MemberState, after: MemberState) -> None:
    """Write the documents whose part of the state changed from ``before`` to ``after``."""
    states, member_id = uow.state, after.id
    if (
        after.counters != before.counters
        or after.purchases != before.purchases
        or after.last_purchase_at != before.last_purchase_at
    ):
        put_state_value(states, member_id, ACTIVITY, ACTIVITY_CODEC, activity_of(after))
    if after.metrics is not before.metrics:
        put_state_value(states, member_id, METRICS, METRICS_CODEC, after.metrics)
    if after.tier_changes != before.tier_changes or after.tier is not before.tier:
        assert after.tier is not None
        stored = state_value(states, member_id, TIER, TIER_CODEC)
        put_state_value(
            states, member_id, TIER, TIER_CODEC, tier_of(after, stored), due_at=after.tier.due()
        )


def member_metrics(uow: UnitOfWork, customer_id: str) -> MetricHistory:
    """Only the member's metric history (for reports that read many members)."""
    return state_value(uow.state, customer_id, METRICS, METRICS_CODEC)


def member_tier(uow: UnitOfWork, customer_id: str) -> TierStatus | None:
    """Only the member's stored tier status, if any."""
    found = state_value(uow.state, customer_id, TIER, TIER_CODEC)
    return None if found is None else found.status


def tier_history(uow: UnitOfWork, customer_id: str) -> tuple[TierChange, ...]:
    """Every tier change the member had, oldest first."""
    found = state_value(uow.state, customer_id, TIER, TIER_CODEC)
    return () if found is None else tuple(tier_change_from_record(r) for r in found.history)
