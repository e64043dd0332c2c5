"""Every example program loads, and a few events earn what its comments promise."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from loyaltykit import Loyalty, Money
from loyaltykit.domain.activity import CustomEvent, Item, Purchase
from loyaltykit.formats.programs import Program

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

    # a December Saturday: the winter weekend campaign doubles points and tier credits
    saturday = datetime(2026, 12, 5, 15, tzinfo=SHANGHAI)
    weekend = loyalty.quote("wang", Purchase(amount=Money.of("300", "CNY")), at=saturday)
    assert (weekend.points(), weekend.points("tier")) == (60, 600)
    assert "+ december-weekends: x2 -> 60 (+30 points)" in weekend.explain()
    assert loyalty.campaign_budget("december-weekends").limit == 5_000_000


def _loyalty(name: str, *customers: str) -> Loyalty:
    loyalty = Loyalty(Program.from_toml(PROGRAMS / f"{name}.toml"))
    for customer in customers:
        loyalty.enroll(customer, at=JAN, idempotency_key=f"enroll-{customer}")
    return loyalty


JAN = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)


def test_airline_miles_qualifying_miles_and_status() -> None:
    loyalty = _loyalty("airline", "zhang")
    flights = [(2000, "economy")] * 10 + [(3000, "business")] * 5
    for n, (distance, cabin) in enumerate(flights):
        flight = CustomEvent(type="flight", attributes={"distance": distance, "cabin": cabin})
        at = JAN + timedelta(days=3 * n)
        loyalty.record_event("zhang", flight, at=at, idempotency_key=f"flight-{n}")
    # 35,000 qualifying miles in the calendar year: silver
    assert loyalty.balance("zhang", point_type="qualifying_miles").available == 35_000
    assert loyalty.tier("zhang", at=JAN + timedelta(days=60)).effective == "silver"
    assert loyalty.balance("zhang", point_type="miles").available == 20_000 + 5 * 4_500
    forecast = loyalty.forecast("zhang", at=JAN + timedelta(days=60))
    assert forecast.next_tier == "gold"
    assert dict(forecast.to_reach) in ({"qualifying_points": 15_000}, {"flight": 25})


def test_hotel_stays_make_platinum_and_black_gold_doubles_points() -> None:
    loyalty = _loyalty("hotel", "chen")
    for n in range(3):
        stay = CustomEvent(type="stay", attributes={"nights": 9})
        loyalty.record_event("chen", stay, at=JAN + timedelta(days=10 * n), idempotency_key=f"s{n}")
    assert loyalty.tier("chen", at=JAN + timedelta(days=30)).effective == "platinum"
    assert loyalty.balance("chen").available == 2_700
    loyalty.grant_tier(
        "chen",
        "black-gold",
        until=JAN + timedelta(days=90),
        at=JAN + timedelta(days=31),
        idempotency_key="match",
        reason="status match",
        actor="crm",
    )
    stay = CustomEvent(type="stay", attributes={"nights": 2})
    receipt = loyalty.record_event("chen", stay, at=JAN + timedelta(days=40), idempotency_key="s9")
    assert receipt.balance.available == 2_700 + 400


def test_bank_assets_and_card_use() -> None:
    loyalty = _loyalty("bank", "lin")
    loyalty.set_metric("lin", "assets", "2600000", at=JAN, idempotency_key="aum-1")
    assert loyalty.tier("lin", at=JAN).effective == "gold"
    for n in range(24):
        loyalty.record_purchase(
            "lin",
            Purchase(amount=Money.of("200", "CNY")),
            at=JAN + timedelta(days=n),
            idempotency_key=f"card-{n}",
        )
    loyalty.set_metric(
        "lin", "assets", "6500000", at=JAN + timedelta(days=30), idempotency_key="aum-2"
    )
    assert loyalty.tier("lin", at=JAN + timedelta(days=30)).effective == "diamond"


def test_telecom_arpu_tiers() -> None:
    loyalty = _loyalty("telecom", "zhou")
    for month in range(3):
        bill = Purchase(amount=Money.of("168.00", "CNY"))
        at = JAN + timedelta(days=30 * month)
        loyalty.record_purchase("zhou", bill, at=at, idempotency_key=f"bill-{month}")
    # ARPU 168 over three months: gold (150 <= ARPU < 300)
    assert loyalty.tier("zhou", at=JAN + timedelta(days=60)).effective == "gold"
    explanation = loyalty.quote(
        "zhou", Purchase(amount=Money.of("100", "CNY")), at=JAN + timedelta(days=61)
    ).explain()
    assert "+ gold-plus-20: x1.2 -> 120" in explanation
