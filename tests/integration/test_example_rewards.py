"""The example programs' reward catalogues do what their comments promise."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from loyaltykit import Loyalty, Money, Profile
from loyaltykit.domain.activity import CustomEvent
from loyaltykit.domain.redemptions import VoucherStatus
from loyaltykit.errors import (
    LimitReached,
    NotEligible,
    OffsetRefused,
    OutOfStock,
    RewardUnavailable,
    UnknownCampaign,
)
from loyaltykit.formats.programs import Program

PROGRAMS = Path(__file__).resolve().parents[2] / "examples" / "programs"
SHANGHAI = ZoneInfo("Asia/Shanghai")
JUNE = datetime(2026, 6, 1, 10, tzinfo=SHANGHAI)


def _retail(*customers: str) -> Loyalty:
    loyalty = Loyalty(Program.from_toml(PROGRAMS / "retail.toml"))
    loyalty.voucher_source = random.Random(2026).choice
    for customer in customers:
        loyalty.enroll(customer, at=JUNE, idempotency_key=f"enroll-{customer}")
        loyalty.earn(customer, 10_000, at=JUNE, idempotency_key=f"fund-{customer}")
    return loyalty


def test_retail_gift_coupon_and_partner_ticket() -> None:
    loyalty = _retail("li")
    mug = loyalty.redeem("li", "jade-mug", at=JUNE, idempotency_key="mug-1")
    assert (mug.points, mug.cost) == (500, Money.of("18", "CNY"))
    with pytest.raises(LimitReached):  # one mug a month
        loyalty.redeem("li", "jade-mug", at=JUNE + timedelta(days=1), idempotency_key="mug-2")

    coupon = loyalty.redeem("li", "coupon-20", at=JUNE, idempotency_key="coupon-1")
    (code,) = coupon.vouchers
    check = loyalty.validate_voucher("li", code, at=JUNE + timedelta(days=29))
    assert check.valid and check.voucher is not None
    assert check.voucher.value == Money.of("20", "CNY")
    assert loyalty.validate_voucher("li", code, at=JUNE + timedelta(days=30)).status is (
        VoucherStatus.EXPIRED
    )
    ticket = loyalty.redeem("li", "cinema-ticket", 2, at=JUNE, idempotency_key="cinema-1")
    assert (ticket.partner, ticket.cost) == ("star-cinema", Money.of("70", "CNY"))
    # the partner's statement: what its tickets cost the programme this month
    (cinema,) = [row for row in loyalty.redemption_summary() if row.partner == "star-cinema"]
    assert (cinema.units, cinema.cost) == (2, Money.of("70", "CNY"))
    # a new month, a new mug (last: the ledger refuses commands dated before its latest)
    loyalty.redeem(
        "li", "jade-mug", at=datetime(2026, 7, 1, tzinfo=SHANGHAI), idempotency_key="mug-3"
    )


def test_retail_points_pay_up_to_half_the_bill() -> None:
    loyalty = _retail("li")
    bill = Money.of("168.00", "CNY")
    paid = loyalty.pay_with_points(
        "li", "points-as-cash", 8_400, bill=bill, at=JUNE, idempotency_key="till-1"
    )
    assert paid.offset == Money.of("84.00", "CNY")
    with pytest.raises(OffsetRefused):
        loyalty.pay_with_points(
            "li", "points-as-cash", 8_500, bill=bill, at=JUNE, idempotency_key="till-2"
        )


def test_retail_flash_redemption_opens_at_eight_and_sells_five() -> None:
    customers = [f"m{n}" for n in range(7)]
    loyalty = _retail(*customers)
    opening = datetime(2026, 6, 18, 20, tzinfo=SHANGHAI)
    with pytest.raises(RewardUnavailable, match="opens at"):
        loyalty.redeem(
            "m0", "jade-bracelet", at=opening - timedelta(seconds=1), idempotency_key="early"
        )
    won = []
    for customer in customers:
        try:
            loyalty.redeem(customer, "jade-bracelet", at=opening, idempotency_key="flash")
            won.append(customer)
        except OutOfStock:
            pass
    assert won == customers[:5]
    assert loyalty.stock_left("jade-bracelet", at=opening) == 0


def test_airline_ticket_upgrade_and_lounge() -> None:
    loyalty = Loyalty(Program.from_toml(PROGRAMS / "airline.toml"))
    jan = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
    for customer in ("zhang", "wu"):
        loyalty.enroll(customer, at=jan, idempotency_key=f"enroll-{customer}")
    for n in range(12):  # 60,000 qualifying miles: gold
        flight = CustomEvent(type="flight", attributes={"distance": 5000, "cabin": "economy"})
        loyalty.record_event("zhang", flight, at=jan + timedelta(days=n), idempotency_key=f"f{n}")
    loyalty.earn("wu", 30_000, at=jan, idempotency_key="card", point_type="miles")
    later = jan + timedelta(days=20)
    assert loyalty.tier("zhang", at=later).effective == "gold"

    ticket = loyalty.redeem("zhang", "free-ticket", at=later, idempotency_key="t1")
    assert (ticket.points, ticket.money) == (22_500, Money.of("50", "CNY"))
    assert loyalty.redeem("wu", "free-ticket", at=later, idempotency_key="t1").points == 25_000

    with pytest.raises(NotEligible, match="tier 'blue'"):
        loyalty.redeem("wu", "cabin-upgrade", at=later, idempotency_key="u1")
    assert loyalty.redeem("zhang", "cabin-upgrade", at=later, idempotency_key="u1").points == 15_000

    # gold members have lounge access as a perk; the lounge reward is for blue and silver
    with pytest.raises(NotEligible, match="condition"):
        loyalty.redeem("zhang", "lounge-visit", at=later, idempotency_key="l1")
    loyalty.redeem("wu", "lounge-visit", at=later, idempotency_key="l1")
    assert loyalty.balance("wu", point_type="miles").available == 2_000


def test_retail_birthday_care_action_is_granted_from_the_catalogue() -> None:
    loyalty = Loyalty(Program.from_toml(PROGRAMS / "retail.toml"))
    loyalty.enroll(
        "mei",
        at=JUNE,
        idempotency_key="enroll-mei",
        profile=Profile(name="Mei", birthday=date(1991, 7, 4)),
    )
    birthday = datetime(2026, 7, 4, 9, tzinfo=SHANGHAI)
    loyalty.run_due(at=birthday)
    (action,) = [a for a in loyalty.care_actions(at=birthday) if a.customer_id == "mei"]
    assert (action.kind, action.gift) == ("birthday", "birthday-cake")
    assert action.gift is not None
    cake = loyalty.grant_reward(
        "mei", action.gift, at=birthday, idempotency_key=f"care:{action.id}", reason="birthday"
    )
    assert (cake.points, cake.cost, cake.claim_by) == (
        0,
        Money.of("38", "CNY"),
        birthday + timedelta(days=30),
    )
    # not picked up in a month: the cake goes back to stock
    assert loyalty.release_unclaimed(at=birthday + timedelta(days=30)) == 1
    assert loyalty.stock_left("birthday-cake", at=birthday) == 500


def test_redemptions_attributed_to_a_campaign_show_in_its_report() -> None:
    loyalty = _retail("li", "wang")
    weekend = datetime(2026, 12, 5, 11, tzinfo=SHANGHAI)
    loyalty.redeem(
        "li", "jade-mug", at=weekend, idempotency_key="mug-1", campaign="december-weekends"
    )
    loyalty.grant_reward(
        "wang",
        "coupon-20",
        at=weekend,
        idempotency_key="gift-1",
        reason="winter weekends",
        campaign="december-weekends",
    )
    loyalty.redeem("wang", "jade-mug", at=weekend, idempotency_key="mug-2")  # not attributed
    end = datetime(2026, 12, 31, tzinfo=SHANGHAI)
    assert loyalty.campaign_report("december-weekends", at=end).redemptions == 2
    loyalty.cancel_redemption("li", "mug-1", at=weekend, idempotency_key="cancel-1")
    assert loyalty.campaign_report("december-weekends", at=end).redemptions == 1
    assert loyalty.redemption("wang", "gift-1").campaign == "december-weekends"
    with pytest.raises(UnknownCampaign):
        loyalty.redeem("li", "jade-mug", at=weekend, idempotency_key="m3", campaign="spring")
