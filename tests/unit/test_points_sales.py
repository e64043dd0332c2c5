"""Buying points at the programme's price, refunds under its rule, and points + money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import Loyalty, Money, PointsSale, Reward, RewardCatalog
from loyaltykit.domain.rewards import Price
from loyaltykit.errors import (
    IdempotencyConflict,
    InvalidAmount,
    InvalidArgument,
    NotReversible,
    ProgramError,
)
from loyaltykit.policy.program import Program

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
SALE = PointsSale(
    rate=Money.of("0.05", "CNY"), step=100, maximum=10_000, refundable_for=relativedelta(days=14)
)
PROGRAM = Program(
    points_sale=SALE,
    catalog=RewardCatalog.of(
        Reward(id="lamp", kind="gift", price=Price(points=2000, money=Money.of("99", "CNY")))
    ),
)


@pytest.fixture(params=["memory", "sqlite"])
def loyalty(request: pytest.FixtureRequest, tmp_path: Path) -> Loyalty:
    storage = None if request.param == "memory" else f"sqlite:///{tmp_path}/sales.db"
    loyalty = Loyalty(PROGRAM, storage=storage)
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    return loyalty


def test_points_bought_at_the_programme_price_record_the_revenue(loyalty: Loyalty) -> None:
    receipt = loyalty.buy_points("c-1", 1000, at=AT, idempotency_key="buy-1")
    assert receipt.revenue == Money.of("50.00", "CNY")
    assert receipt.balance.available == 1000
    assert dict(receipt.entries[0].metadata)["revenue"] == "50.00"
    replay = loyalty.buy_points("c-1", 1000, at=AT, idempotency_key="buy-1")
    assert replay.replayed and replay.revenue == receipt.revenue
    with pytest.raises(IdempotencyConflict):
        loyalty.buy_points("c-1", 2000, at=AT, idempotency_key="buy-1")


def test_a_price_other_than_the_programme_s_or_a_bad_number_is_refused(loyalty: Loyalty) -> None:
    with pytest.raises(InvalidAmount, match=r"the programme's price, 50\.00 CNY"):
        loyalty.buy_points("c-1", 1000, price=Money.of("40", "CNY"), at=AT, idempotency_key="buy-1")
    with pytest.raises(InvalidAmount, match="a multiple of 100"):
        loyalty.buy_points("c-1", 150, at=AT, idempotency_key="buy-2")
    with pytest.raises(InvalidAmount, match="at most 10000"):
        loyalty.buy_points("c-1", 20_000, at=AT, idempotency_key="buy-3")
    assert loyalty.balance("c-1", at=AT).available == 0


def test_a_refund_within_the_window_gives_the_money_and_takes_the_points(
    loyalty: Loyalty,
) -> None:
    loyalty.buy_points("c-1", 1000, at=AT, idempotency_key="buy-1")
    later = AT + timedelta(days=3)
    refund = loyalty.refund_bought_points("c-1", "buy-1", at=later, idempotency_key="back-1")
    assert refund.revenue == Money.of("-50.00", "CNY")
    assert refund.balance.available == 0


def test_no_refund_after_the_window_or_once_points_are_spent(loyalty: Loyalty) -> None:
    loyalty.buy_points("c-1", 1000, at=AT, idempotency_key="buy-1")
    with pytest.raises(NotReversible, match="refund window ended"):
        loyalty.refund_bought_points(
            "c-1", "buy-1", at=AT + timedelta(days=15), idempotency_key="back-1"
        )
    loyalty.redeem_points("c-1", 10, at=AT, idempotency_key="spend")
    with pytest.raises(NotReversible, match="10 of the 1000 have been spent"):
        loyalty.refund_bought_points("c-1", "buy-1", at=AT, idempotency_key="back-2")


def test_a_programme_without_a_sale_sells_no_points() -> None:
    loyalty = Loyalty(Program())
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    with pytest.raises(InvalidArgument, match="sells no points"):
        loyalty.buy_points("c-1", 100, at=AT, idempotency_key="buy-1")


def test_a_reward_priced_as_points_plus_money(loyalty: Loyalty) -> None:
    loyalty.buy_points("c-1", 2000, at=AT, idempotency_key="buy-1")
    redemption = loyalty.redeem("c-1", "lamp", at=AT, idempotency_key="lamp-1")
    assert (redemption.points, redemption.money) == (2000, Money.of("99", "CNY"))
    assert loyalty.balance("c-1", at=AT).available == 0


def test_the_sale_and_coupon_money_off_load_from_a_programme_dict_and_back() -> None:
    data = {
        "points_sale": {"rate": "0.05", "step": 100, "refundable_for": {"days": 14}},
        "rewards": [
            {
                "id": "shoes-10",
                "kind": "coupon",
                "points": 100,
                "voucher": {
                    "money_off": {
                        "percent": "10",
                        "maximum": "25",
                        "minimum": "100",
                        "scope": {"categories": ["shoes"]},
                    }
                },
            }
        ],
    }
    program = Program.from_dict(data)
    assert program.points_sale == PointsSale(
        rate=Money.of("0.05", "CNY"), step=100, refundable_for=relativedelta(days=14)
    )
    assert Program.from_dict(program.to_dict()) == program
    bad = {
        "points_sale": {"rate": "0", "stepp": 1},
        "rewards": [
            {
                "id": "c",
                "kind": "coupon",
                "voucher": {"money_off": {"percent": "10", "amount": "3"}},
            }
        ],
    }
    with pytest.raises(ProgramError) as error:
        Program.from_dict(bad)
    assert sorted(error.value.problems) == sorted(
        [
            "points_sale.stepp: unknown field (known: rate, point_type, minimum, maximum, step, "
            "refundable_for, rounding)",
            "points_sale.rate: '0' must be a positive amount",
            "rewards[0].voucher.money_off: money off: give exactly one of amount and percent",
        ]
    )
