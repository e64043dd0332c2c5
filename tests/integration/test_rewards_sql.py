"""The whole redemption lifecycle on every SQL backend: records, counters and lookups."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import (
    Loyalty,
    Money,
    Program,
    RedemptionLimit,
    RedemptionState,
    Reward,
    RewardCatalog,
    VoucherStatus,
    VoucherTerms,
)
from loyaltykit.errors import LimitReached, OutOfStock, VoucherNotValid
from loyaltykit.testing.invariants import ledger_violations
from tests.databases import storage_factory

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
CATALOG = RewardCatalog.of(
    Reward(
        id="mug",
        kind="gift",
        price=100,
        stock=2,
        cost=Money.of("12", "CNY"),
        member_limits=(RedemptionLimit(count=1, period="day"),),
    ),
    Reward(
        id="coupon",
        kind="coupon",
        price=50,
        voucher=VoucherTerms(valid_for=relativedelta(days=7), uses=2),
    ),
)


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def url(request: pytest.FixtureRequest) -> str:
    found: str = request.getfixturevalue(f"{request.param}_url")
    storage_factory(found)().close()  # migrate, then empty
    return found


def test_the_redemption_lifecycle_on_sql(url: str) -> None:
    with Loyalty(Program(catalog=CATALOG), storage=url) as loyalty:
        loyalty.voucher_source = random.Random(5).choice
        for name in ("ann", "ben"):
            loyalty.enroll(name, at=T0, idempotency_key="enroll")
            loyalty.earn(name, 1_000, at=T0, idempotency_key="fund")
        loyalty.redeem("ann", "mug", at=T0, idempotency_key="r1")
        with pytest.raises(LimitReached):
            loyalty.redeem("ann", "mug", at=T0, idempotency_key="r2")
        loyalty.redeem("ben", "mug", at=T0, idempotency_key="r1")
        with pytest.raises(OutOfStock):
            loyalty.redeem("ann", "mug", at=T0 + timedelta(days=1), idempotency_key="r3")
        loyalty.cancel_redemption("ben", "r1", at=T0, idempotency_key="c1")
        loyalty.redeem("ann", "mug", at=T0 + timedelta(days=1), idempotency_key="r3")
        loyalty.fulfil_redemption("ann", "r1", at=T0, idempotency_key="f1", how="delivered")

        (code,) = loyalty.redeem("ben", "coupon", at=T0, idempotency_key="k1").vouchers
        assert loyalty.validate_voucher("ann", code, at=T0).status is VoucherStatus.NOT_YOURS
        loyalty.use_voucher("ben", code, at=T0, idempotency_key="u1")
        loyalty.use_voucher("ben", code, at=T0, idempotency_key="u1")  # a replay
        assert loyalty.validate_voucher("ben", code, at=T0).voucher.uses_left == 1  # type: ignore[union-attr]
        loyalty.use_voucher("ben", code, at=T0, idempotency_key="u2")
        with pytest.raises(VoucherNotValid, match="used"):
            loyalty.use_voucher("ben", code, at=T0, idempotency_key="u3")

    with Loyalty(Program(catalog=CATALOG), storage=url) as again:
        states = [r.state for r in again.redemptions("ann")]
        assert states == [RedemptionState.FULFILLED, RedemptionState.RESERVED]
        assert again.redemption("ben", "k1").state is RedemptionState.FULFILLED
        assert again.stock_left("mug", at=T0) == 0
        assert (again.balance("ann").available, again.balance("ben").available) == (800, 950)
        offers = {o.reward.id: o.refusal for o in again.offers("ben", at=T0)}
        assert offers == {"coupon": None, "mug": "out of stock"}
        mug = {row.reward_id: row for row in again.redemption_summary()}["mug"]
        assert (mug.units, mug.cancelled, mug.outstanding) == (2, 1, Money.of("12", "CNY"))
        for name in ("ann", "ben"):
            assert ledger_violations(again.storage, name, "points") == []


def test_unclaimed_gifts_are_released_on_sql(url: str) -> None:
    pickup = Reward(id="pickup", kind="gift", price=10, stock=1, claim_within=relativedelta(days=3))
    with Loyalty(Program(catalog=RewardCatalog.of(pickup)), storage=url) as loyalty:
        for name in ("ann", "ben"):
            loyalty.enroll(name, at=T0, idempotency_key="enroll")
            loyalty.earn(name, 100, at=T0, idempotency_key="fund")
        loyalty.redeem("ann", "pickup", at=T0, idempotency_key="r1")
        with pytest.raises(OutOfStock):
            loyalty.redeem("ben", "pickup", at=T0, idempotency_key="r1")
        assert loyalty.release_unclaimed(at=T0 + timedelta(days=2)) == 0
        assert loyalty.release_unclaimed(at=T0 + timedelta(days=3)) == 1
        assert loyalty.balance("ann").available == 100
        loyalty.redeem("ben", "pickup", at=T0 + timedelta(days=3), idempotency_key="r2")
        assert loyalty.release_unclaimed(at=T0 + timedelta(days=5)) == 0
