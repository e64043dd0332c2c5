"""Every example program loads, and a few events earn what its comments promise."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from loyaltykit import Loyalty, Money
from loyaltykit.domain.activity import CustomEvent, Item, Purchase
from loyaltykit.policy.program import Program

PROGRAMS = Path(__file__).resolve().parents[2] / "examples" / "programs"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_example_program_loads_and_round_trips(path: Path) -> None:
    program = Program.from_toml(path)
    assert Program.from_dict(program.to_dict()) == program


def test_retail_programme() -> None:
    loyalty = Loyalty(Program.from_toml(PROGRAMS / "retail.toml"))
    may_3 = datetime(2026, 5, 3, 12, tzinfo=SHANGHAI)
    loyalty.enroll("li", at=may_3, idempotency_key="enroll-li")
    loyalty.enroll("wang", at=may_3, idempotency_key="enroll-wang", referred_by="li")
    basket = Purchase(
        amount=Money.of("1080.00", "CNY"),
        items=(
            Item(sku="latte", category="coffee", quantity=2),
            Item(sku="coat", category="clothes"),
        ),
    )
    receipt = loyalty.record_purchase("wang", basket, at=may_3, idempotency_key="order-1")
    # 108 base + 100 (2 x 500) + 100 welcome + 50 referral; 2 stamps; 1080 tier credits
    assert loyalty.balance("wang").pending == 108 + 100 + 100 + 50
    assert loyalty.balance("wang", point_type="stamps").pending == 2
    assert loyalty.balance("wang", point_type="tier").pending == 1080
    assert loyalty.balance("li").pending == 200
    assert "+ spend-500: spend 500 CNY -> +100" in receipt.explanation

    member_day = datetime(2026, 5, 8, 12, tzinfo=SHANGHAI)
    doubled = loyalty.quote("wang", Purchase(amount=Money.of("100", "CNY")), at=member_day)
    assert doubled.points() == 20
    review = CustomEvent(
        type="review_written", attributes={"text": "Lovely coat, warm and well made."}
    )
    assert (
        loyalty.record_event("wang", review, at=may_3, idempotency_key="review-1").balance.available
        == 20
    )
