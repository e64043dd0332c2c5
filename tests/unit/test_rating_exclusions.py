"""Accounts that take no part in tier rating (staff cards, test lines) by a programme
rule (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loyaltykit import (
    Loyalty,
    Money,
    Profile,
    Program,
    Purchase,
    RatingExclusions,
    Requirement,
    Tier,
    TierLadder,
    Window,
)
from loyaltykit.errors import InvalidArgument
from loyaltykit.policy.rules import BaseRate
from loyaltykit.storage.base import Storage

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def storage(memory_or_sqlite: Storage) -> Storage:
    return memory_or_sqlite


def _ladder(*extra: Tier) -> TierLadder:
    gold = Requirement(metric="spend", at_least="1000", window=Window.rolling(12))
    assets = Requirement(metric="assets", at_least="1000", window=Window.rolling(12))
    return TierLadder(
        tiers=(
            Tier(code="member", rank=0),
            Tier(code="gold", rank=1, requirements=(gold,)),
            Tier(code="private", rank=2, requirements=(assets,)),
            *extra,
        )
    )


EXCLUDED = RatingExclusions(tags={"staff"}, id_prefixes=["test-"])
PROGRAM = Program(
    rules=(BaseRate(id="base", per=Money.of("10", "CNY")),),
    tiers=_ladder(),
    rating_exclusions=EXCLUDED,
)


def _buy(loyalty: Loyalty, customer: str, amount: str, key: str) -> str:
    purchase = Purchase(amount=Money.of(amount, "CNY"))
    return loyalty.record_purchase(customer, purchase, at=T0, idempotency_key=key).explanation


def test_staff_and_test_accounts_are_never_rated(storage: Storage) -> None:
    loyalty = Loyalty(PROGRAM, storage=storage)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    loyalty.enroll("li", at=T0, idempotency_key="e-li", profile=Profile(tags={"staff"}))
    loyalty.enroll("test-1", at=T0, idempotency_key="e-t1")
    for customer in ("ann", "li", "test-1"):
        explanation = _buy(loyalty, customer, "2000", f"p-{customer}")
    assert loyalty.tier("ann", at=T0).effective == "gold"
    assert loyalty.tier("li", at=T0).effective == "member"
    assert loyalty.tier("test-1", at=T0).effective == "member"
    assert "no rating: id starts with 'test-'" in explanation
    assert loyalty.balance("li").available == 200  # staff still earn
    loyalty.set_metric("li", "assets", 5000, at=T0, idempotency_key="m-1")
    assert loyalty.tier("li", at=T0).effective == "member"


def test_excluded_accounts_take_no_place_in_the_top_percent(storage: Storage) -> None:
    program = Program(
        tiers=TierLadder(
            tiers=(
                Tier(code="member", rank=0),
                Tier(code="top", rank=1, top_percent="10", rank_by="spend"),
            )
        ),
        rating_exclusions=EXCLUDED,
    )
    loyalty = Loyalty(program, storage=storage)
    for n in range(10):
        customer = f"test-{n}" if n == 9 else f"c{n}"
        loyalty.enroll(customer, at=T0, idempotency_key=f"e{n}")
        _buy(loyalty, customer, str(100 * (n + 1)), f"o{n}")
    assert loyalty.rank_relative_tiers(at=T0) == 1
    assert loyalty.tier("c8", at=T0).effective == "top"
    assert loyalty.tier("test-9", at=T0).effective == "member"


def test_exclusions_are_checked_when_built() -> None:
    with pytest.raises(InvalidArgument, match="string"):
        RatingExclusions(tags="staff")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="empty"):
        RatingExclusions(id_prefixes=[""])
