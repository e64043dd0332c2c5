"""Instants are normalised to UTC at the boundary; point amounts have one maximum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from loyaltykit import Customer, Loyalty
from loyaltykit.domain.tiers import Override
from loyaltykit.errors import InvalidAmount, NaiveDatetime
from loyaltykit.values import MAX_POINTS, aware, points_amount

NEW_YORK = ZoneInfo("America/New_York")
# 2026-11-01 01:30 happens twice in New York: first in EDT (05:30 UTC), then in EST
FIRST = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)
SECOND = FIRST.replace(fold=1)


def test_aware_returns_the_same_instant_in_utc() -> None:
    assert aware("at", FIRST) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert aware("at", SECOND) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert aware("at", FIRST).tzinfo is UTC
    # the reason: within one ZoneInfo Python compares wall clocks and ignores fold
    assert FIRST == SECOND
    assert aware("at", FIRST) < aware("at", SECOND)


def test_an_earn_expiring_an_hour_later_across_the_fall_back_is_accepted() -> None:
    loyalty = Loyalty()
    loyalty.enroll("ann", at=FIRST - timedelta(hours=1), idempotency_key="e-ann")
    loyalty.earn("ann", 10, at=FIRST, idempotency_key="o1", expires_at=SECOND)
    assert loyalty.balance("ann", at=datetime(2026, 11, 1, 6, 29, tzinfo=UTC)).available == 10
    assert loyalty.balance("ann", at=datetime(2026, 11, 1, 6, 30, tzinfo=UTC)).available == 0


def test_the_largest_amount_is_accepted_and_one_more_refused() -> None:
    assert MAX_POINTS == 2**53 - 1
    assert points_amount("points", MAX_POINTS) == MAX_POINTS
    with pytest.raises(InvalidAmount, match=str(MAX_POINTS + 1)):
        points_amount("points", MAX_POINTS + 1)


def test_domain_values_keep_their_instants_in_utc() -> None:
    customer = Customer(id="ann", enrolled_at=SECOND)
    assert customer.enrolled_at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert customer.enrolled_at.tzinfo is UTC
    assert customer.erased(FIRST).erased_at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    override = Override(tier="gold", until=SECOND, reason="status match", actor="cs")
    assert override.until.tzinfo is UTC and override.until > aware("at", FIRST)
    with pytest.raises(NaiveDatetime, match="enrolled_at"):
        Customer(id="ann", enrolled_at=datetime(2026, 1, 1))
