"""Value classes, RFM scores, churn warnings and points liability over real commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.analytics.churn import ChurnPolicy
from loyaltykit.analytics.segments import RfmScore, SegmentPolicy, ValueClass
from loyaltykit.errors import InvalidAmount, InvalidArgument, NaiveDatetime
from loyaltykit.policy.rules import BaseRate

T0 = datetime(2026, 1, 5, 10, tzinfo=UTC)


def _buy(loyalty: Loyalty, customer: str, amount: int, at: datetime) -> None:
    key = f"{customer}-{at.isoformat()}-{amount}"
    loyalty.record_purchase(
        customer, Purchase(amount=Money.of(amount, "CNY")), at=at, idempotency_key=key
    )


@pytest.fixture
def shop() -> Loyalty:
    loyalty = Loyalty(Program(rules=(BaseRate(id="base", per=Money.of(10, "CNY")),)))
    for customer in ("ann", "bob", "cai", "dan", "eve"):
        loyalty.enroll(customer, at=T0, idempotency_key=f"enroll-{customer}")
    # ann: a big, steady spender; bob: steady, small; cai: spent a lot, then stopped
    # three months ago; dan: one purchase long ago; eve: never bought anything
    for month in range(12):
        at = T0 + timedelta(days=30 * month)
        _buy(loyalty, "ann", 900, at)
        _buy(loyalty, "bob", 100, at)
        if month < 9:
            _buy(loyalty, "cai", 400, at)
    _buy(loyalty, "dan", 50, T0)
    return loyalty


AT = T0 + timedelta(days=30 * 11 + 1)


def test_every_member_gets_one_value_class(shop: Loyalty) -> None:
    segmentation = shop.segments(at=AT, policy=SegmentPolicy(churn_after_days=200))
    assert segmentation.classes == {
        "ann": ValueClass.HIGH_VALUE,
        "bob": ValueClass.REGULAR,
        "cai": ValueClass.AT_RISK,
        "dan": ValueClass.CHURNED,
        "eve": ValueClass.POTENTIAL,
    }
    assert segmentation.members(ValueClass.POTENTIAL) == ["eve"]
    assert sum(segmentation.counts().values()) == 5
    assert "eve" not in segmentation.scores  # no purchase, no RFM score


def test_rfm_scores_rank_the_purchasers(shop: Loyalty) -> None:
    scores = shop.segments(at=AT).scores
    # four purchasers: ann and bob bought last month, cai three months ago, dan long ago
    assert scores["ann"] == RfmScore(recency=5, frequency=5, monetary=5)
    assert scores["bob"] == RfmScore(recency=5, frequency=5, monetary=2)
    assert scores["cai"] == RfmScore(recency=2, frequency=2, monetary=3)
    assert scores["dan"].code == "111"


def test_churn_warnings_name_the_drop_and_its_size(shop: Loyalty) -> None:
    # dan's one purchase of 50 is a drop too, unless the baseline must be worth watching
    assert [w.customer_id for w in shop.churn_warnings(at=AT)] == ["cai", "dan"]
    warnings = shop.churn_warnings(at=AT, policy=ChurnPolicy(min_baseline=Decimal(100)))
    (warning,) = warnings
    assert warning.recent == 0
    assert warning.baseline == Decimal(400 * 9) * 3 / 12
    assert warning.drop == 1
    assert "cai: spend fell 100%" in warning.explain()
    # a baseline too small to matter gives no warning
    assert shop.churn_warnings(at=AT, policy=ChurnPolicy(min_baseline=Decimal(10_000))) == ()


def test_a_member_whose_spending_held_up_is_not_warned() -> None:
    loyalty = Loyalty()
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    for week in range(60):
        _buy(loyalty, "ann", 100, T0 + timedelta(weeks=week))
    assert loyalty.churn_warnings(at=T0 + timedelta(weeks=60)) == ()


def test_points_liability_adds_up_the_accounts_and_their_expiry(shop: Loyalty) -> None:
    shop.earn("eve", 300, at=T0, idempotency_key="gift", expires_at=T0 + timedelta(days=40))
    shop.earn("eve", 200, at=T0, idempotency_key="gift-2")
    shop.redeem_points("eve", 100, at=T0, idempotency_key="spend")  # soonest expiry first
    report = shop.points_liability(
        at=AT - timedelta(days=300), value_per_point=Money.of("0.01", "CNY")
    )
    balances = [shop.balance(c) for c in ("ann", "bob", "cai", "dan", "eve")]
    assert report.available == sum(b.available for b in balances)
    assert report.outstanding == report.available + report.pending
    assert report.expiring == {"2026-02": 200}
    assert report.never_expiring == report.outstanding - 200
    assert report.value == Money.of("0.01", "CNY") * report.outstanding
    assert report.accounts == 5
    assert report.available == 90 * 12 + 10 * 12 + 40 * 9 + 5 + 400  # as stored


def test_reports_refuse_bad_input() -> None:
    loyalty = Loyalty()
    with pytest.raises(NaiveDatetime):
        loyalty.segments(at=datetime(2026, 1, 1))
    with pytest.raises(InvalidAmount):
        loyalty.points_liability(at=T0, page=0)
    with pytest.raises(InvalidArgument, match="high_value_share"):
        SegmentPolicy(high_value_share=Decimal(2))
    with pytest.raises(InvalidArgument, match="drop"):
        ChurnPolicy(drop=Decimal(1))
    assert loyalty.points_liability(at=T0).outstanding == 0
    assert loyalty.segments(at=T0).classes == {}
