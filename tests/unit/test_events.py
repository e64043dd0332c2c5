"""Purchases and custom events through the facade: the engine's decision, applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import Loyalty, Money, PointType
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.errors import IdempotencyConflict, InvalidAmount, OverReversal, UnknownEntry
from loyaltykit.policy.program import Program, ProgramVersion, ProgramVersions
from loyaltykit.policy.rules import BaseRate, Cap, FirstPurchase, FixedPoints, Referral

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


PROGRAM = Program(
    pending_for=relativedelta(days=7),
    point_types=(
        PointType(code="points", expire_after=relativedelta(months=12)),
        PointType(code="tier", redeemable=False),
    ),
    rules=(
        BaseRate(id="base", per=cny("10")),
        BaseRate(id="tier-credit", per=cny("1"), point_type="tier"),
        FirstPurchase(id="welcome", amount=50),
        Referral(id="referral", amount=20, referrer_amount=100),
        FixedPoints(id="survey", event="survey_completed", amount=30),
    ),
    caps=(Cap(id="daily", limit=300, period="day"),),
)


def loyalty() -> Loyalty:
    facade = Loyalty(PROGRAM)
    facade.enroll("ann", at=T0, idempotency_key="enroll-ann")
    facade.enroll("ben", at=T0, idempotency_key="enroll-ben", referred_by="ann")
    return facade


def test_a_purchase_earns_by_the_rules_with_pending_and_expiry() -> None:
    facade = loyalty()
    receipt = facade.record_purchase(
        "ann", Purchase(amount=cny("1299.00")), at=T0, idempotency_key="order-1"
    )
    assert facade.balance("ann").pending == 129 + 50
    assert facade.balance("ann", point_type="tier").pending == 1299
    lot_entry = receipt.entries[0]
    assert dict(lot_entry.metadata)["rules"] == "base,welcome"
    assert "+ base: 1 per 10 CNY on 1299.00 CNY -> 129" in receipt.explanation
    facade.release_pending(T0 + timedelta(days=7))
    assert facade.balance("ann").available == 179
    assert (
        facade.expire_due(T0 + relativedelta(months=12, days=7)).expired == 179
    )  # tier credits keep


def test_replaying_a_purchase_earns_once_and_other_arguments_conflict() -> None:
    facade = loyalty()
    first = facade.record_purchase(
        "ann", Purchase(amount=cny("100")), at=T0, idempotency_key="order-1"
    )
    again = facade.record_purchase(
        "ann", Purchase(amount=cny("100")), at=T0, idempotency_key="order-1"
    )
    assert again == first and again.replayed
    assert facade.balance("ann").pending == 10 + 50
    with pytest.raises(IdempotencyConflict):
        facade.record_purchase("ann", Purchase(amount=cny("101")), at=T0, idempotency_key="order-1")


def test_caps_hold_across_commands_through_stored_counters() -> None:
    facade = loyalty()
    for n in range(4):
        facade.record_purchase(
            "ann", Purchase(amount=cny("1000")), at=T0 + timedelta(hours=n), idempotency_key=f"o{n}"
        )
    assert facade.balance("ann").pending == 300, "the daily cap of 300 held over four purchases"
    facade.record_purchase(
        "ann", Purchase(amount=cny("1000")), at=T0 + timedelta(days=1), idempotency_key="next-day"
    )
    assert facade.balance("ann").pending == 400


def test_referral_rewards_the_referrer_on_the_first_purchase_only() -> None:
    facade = loyalty()
    receipt = facade.record_purchase(
        "ben", Purchase(amount=cny("200")), at=T0, idempotency_key="b1"
    )
    assert [(b.customer_id, b.point_type, b.pending) for b in receipt.balances] == [
        ("ben", "points", 20 + 50 + 20),
        ("ben", "tier", 200),
        ("ann", "points", 100),
    ]
    facade.record_purchase("ben", Purchase(amount=cny("200")), at=T0, idempotency_key="b2")
    assert facade.balance("ann").pending == 100


def test_refund_by_money_claws_back_in_proportion() -> None:
    facade = loyalty()
    facade.record_purchase("ann", Purchase(amount=cny("1000")), at=T0, idempotency_key="order-1")
    facade.refund(
        "ann", "order-1", at=T0 + timedelta(days=1), idempotency_key="r1", amount=cny("250")
    )
    assert facade.balance("ann").pending == (100 + 50) - 37  # floor(150 / 4)
    assert facade.balance("ann", point_type="tier").pending == 750
    facade.refund("ann", "order-1", at=T0 + timedelta(days=2), idempotency_key="r2")
    assert facade.balance("ann").pending == 0
    with pytest.raises(OverReversal):
        facade.refund(
            "ann", "order-1", at=T0 + timedelta(days=2), idempotency_key="r3", amount=cny("1")
        )
    with pytest.raises(InvalidAmount):
        facade.refund("ann", "order-1", at=T0, idempotency_key="r4", amount=cny("1000.01"))
    with pytest.raises(UnknownEntry):
        facade.refund("ann", "order-404", at=T0, idempotency_key="r5", amount=cny("1"))


def test_custom_events_and_quotes() -> None:
    facade = loyalty()
    survey = facade.record_event(
        "ann", CustomEvent(type="survey_completed"), at=T0, idempotency_key="s1"
    )
    assert survey.balance.available == 30
    quote = facade.quote("ann", Purchase(amount=cny("500")), at=T0)
    assert quote.points() == 50 + 50 and quote.points("tier") == 500
    assert facade.balance("ann").pending == 0, "a quote stores nothing"


def test_events_are_evaluated_under_the_version_in_force() -> None:
    double = Program(rules=(BaseRate(id="base", per=cny("10"), rate=2),))
    versions = ProgramVersions(
        (
            ProgramVersion(
                valid_from=datetime(2020, 1, 1, tzinfo=UTC),
                program=Program(rules=(BaseRate(id="base", per=cny("10")),)),
            ),
            ProgramVersion(valid_from=T0 + timedelta(days=30), program=double),
        )
    )
    facade = Loyalty(versions)
    facade.enroll("ann", at=T0, idempotency_key="e")
    facade.record_purchase("ann", Purchase(amount=cny("100")), at=T0, idempotency_key="before")
    facade.record_purchase(
        "ann", Purchase(amount=cny("100")), at=T0 + timedelta(days=31), idempotency_key="after"
    )
    assert facade.balance("ann").available == 10 + 20
    assert facade.versions.latest is double


def test_run_due_releases_then_expires_and_can_run_again() -> None:
    facade = loyalty()
    facade.record_purchase("ann", Purchase(amount=cny("500")), at=T0, idempotency_key="o1")
    report = facade.run_due(T0 + timedelta(days=7))
    assert (report.released.released, report.expired.expired) == (50 + 50 + 500, 0)
    later = facade.run_due(T0 + relativedelta(months=12, days=1))
    assert later.expired.expired == 100 and later.released.released == 0
    assert facade.run_due(T0 + relativedelta(months=13)).expired.entries == 0
