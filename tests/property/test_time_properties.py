"""Instants compare as instants, whatever zone and fold they are written in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loyaltykit import Loyalty
from loyaltykit.errors import InsufficientPoints
from loyaltykit.testing.invariants import ledger_violations
from loyaltykit.testing.strategies import instants
from loyaltykit.values import aware

START = datetime(2025, 6, 1, tzinfo=UTC)
END = datetime(2028, 6, 1, tzinfo=UTC)


@given(first=instants(), second=instants())
def test_aware_keeps_the_order_of_instants(first: datetime, second: datetime) -> None:
    assert (aware("a", first) < aware("b", second)) == (first.timestamp() < second.timestamp())
    assert (aware("a", first) == aware("b", second)) == (first.timestamp() == second.timestamp())
    assert aware("a", first).tzinfo is UTC


@given(
    at=instants(min_value=START, max_value=END),
    minutes=st.integers(1, 180),
    zone_of_expiry=instants(min_value=START, max_value=END),
)
def test_a_lot_lives_exactly_until_its_expiry_instant(
    at: datetime, minutes: int, zone_of_expiry: datetime
) -> None:
    """The expiry, written in any zone (often the other side of a fall-back), is an
    instant: the lot is spendable until just before it and gone from it on."""
    expires = (at.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(zone_of_expiry.tzinfo)
    loyalty = Loyalty()
    loyalty.enroll("c", at=at, idempotency_key="e")
    loyalty.earn("c", 10, at=at, idempotency_key="o", expires_at=expires)
    just_before = expires.astimezone(UTC) - timedelta(microseconds=1)
    assert loyalty.balance("c", at=just_before).available == 10
    assert loyalty.balance("c", at=expires).available == 0
    loyalty.redeem_points("c", 4, at=just_before.astimezone(at.tzinfo), idempotency_key="r1")
    try:
        loyalty.redeem_points("c", 1, at=expires, idempotency_key="r2")
    except InsufficientPoints:
        pass
    else:  # pragma: no cover - the property fails
        raise AssertionError("a lot was spent at its expiry instant")
    assert ledger_violations(loyalty.storage, "c", "points") == []
