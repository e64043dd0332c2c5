"""A referral clawed back by a refund on each SQL database: the ledger, the referral
record, the referrer's metrics and cap counter changing together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.domain.referrals import LeaderboardLine
from tests.databases import storage_factory

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
PROGRAM = Program.from_dict(
    {
        "rules": [
            {"id": "base", "kind": "base_rate", "per": "10"},
            {
                "id": "refer",
                "kind": "referral",
                "amount": 50,
                "referrer_amount": 200,
                "minimum": "80",
                "referrer_cap": 1,
            },
        ]
    }
)


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def database(request: pytest.FixtureRequest) -> str:
    """An empty, migrated database of each kind, as a URL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    storage_factory(url)().close()  # migrate, then empty
    return url


def test_a_refund_claws_the_referral_back_on_sql(database: str) -> None:
    loyalty = Loyalty(PROGRAM, storage=database)
    loyalty.enroll("boss", at=T0, idempotency_key="e-boss")
    for member in ("r1", "r2"):
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}", referred_by="boss")
    buy = Purchase(amount=Money.of(100, "CNY"))
    loyalty.record_purchase("r1", buy, at=T0, idempotency_key="buy-1")
    assert loyalty.balance("boss").available == 200
    loyalty.refund("r1", "buy-1", amount=Money.of(10, "CNY"), at=T0, idempotency_key="rf-1")
    assert loyalty.balance("boss").available == 180
    loyalty.close()

    reopened = Loyalty(PROGRAM, storage=database)
    reopened.refund("r1", "buy-1", amount=Money.of(20, "CNY"), at=T0, idempotency_key="rf-2")
    assert reopened.balance("boss").available == 0
    assert reopened.referrals_of("boss") == {}
    # the cap of one rewarded referral is free again
    reopened.record_purchase("r2", buy, at=T0, idempotency_key="buy-2")
    assert reopened.balance("boss").available == 200
    board = reopened.referral_leaderboard(since=T0, until=T0 + timedelta(days=1))
    assert board == (LeaderboardLine(referrer="boss", referrals=1, points=200),)
    reopened.close()
