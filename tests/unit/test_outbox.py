"""The outbox: one event per committed change, none for refusals or replays, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import DomainEvent, Loyalty, Money, Profile, Program, Purchase
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder
from loyaltykit.errors import InsufficientPoints, InvalidAmount, InvalidArgument
from loyaltykit.policy.rules import BaseRate

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _types(events: list[DomainEvent]) -> list[tuple[str, int, str]]:
    return [(e.customer_id, e.sequence, e.type) for e in events]


def test_the_outbox_is_off_unless_asked_for() -> None:
    loyalty = Loyalty()
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    with pytest.raises(InvalidArgument, match="outbox is off"):
        loyalty.pending_events()
    with loyalty.storage.unit_of_work() as uow:
        assert uow.records.scan("outbox", limit=10) == []


def test_each_committed_command_records_one_event_in_order() -> None:
    loyalty = Loyalty(outbox=True)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    loyalty.enroll("bob", at=T0, idempotency_key="e-bob")
    loyalty.earn("ann", 100, at=T0 + timedelta(hours=1), idempotency_key="o1")
    loyalty.earn("ann", 100, at=T0 + timedelta(hours=1), idempotency_key="o1")  # a replay
    with pytest.raises(InsufficientPoints):
        loyalty.redeem_points("ann", 500, at=T0 + timedelta(hours=1), idempotency_key="r0")
    loyalty.redeem_points("ann", 30, at=T0 + timedelta(hours=2), idempotency_key="r1")
    events = loyalty.pending_events()
    assert _types(events) == [
        ("ann", 1, "enroll"),
        ("bob", 1, "enroll"),
        ("ann", 2, "earn"),
        ("ann", 3, "redeem_points"),
    ]
    enrolled, _, earned, redeemed = events
    # customer commands carry no personal data; ledger commands carry their receipt
    assert enrolled.payload == {"customer_id": "ann", "status": "active"}
    assert enrolled.id == "ann:1"
    assert earned.idempotency_key == "o1" and earned.at == T0 + timedelta(hours=1)
    assert earned.payload["balances"][0]["available"] == 100
    assert redeemed.payload["entries"][0]["amount"] == -30


def test_a_later_event_never_overtakes_an_earlier_one_of_the_same_customer() -> None:
    loyalty = Loyalty(outbox=True)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    loyalty.earn("ann", 5, at=T0 + timedelta(days=2), idempotency_key="late")
    loyalty.enroll("bob", at=T0 + timedelta(days=1), idempotency_key="e-bob")
    # another account of ann's: the ledger refuses a backdated command on the same one
    loyalty.earn("ann", 5, at=T0, idempotency_key="sent-with-an-earlier-at", point_type="tier")
    assert _types(loyalty.pending_events()) == [
        ("ann", 1, "enroll"),
        ("bob", 1, "enroll"),
        ("ann", 2, "earn"),
        ("ann", 3, "earn"),
    ]


def test_the_relay_publishes_at_least_once_and_marks_what_it_published() -> None:
    loyalty = Loyalty(outbox=True)
    for name in ("ann", "bob", "cai"):
        loyalty.enroll(name, at=T0, idempotency_key=f"e-{name}")
    seen: list[str] = []

    def flaky(event: DomainEvent) -> None:
        if event.customer_id == "cai" and len(seen) < 3:
            seen.append("failed")
            raise ConnectionError("broker down")
        seen.append(event.id)

    with pytest.raises(ConnectionError):
        loyalty.relay(flaky)
    assert seen == ["ann:1", "bob:1", "failed"]
    assert _types(loyalty.pending_events()) == [("cai", 1, "enroll")]
    assert loyalty.relay(flaky) == 1
    assert loyalty.pending_events() == ()
    assert loyalty.relay(flaky) == 0
    assert loyalty.mark_published([]) == 0
    with pytest.raises(InvalidAmount):
        loyalty.pending_events(limit=0)


def test_a_failed_command_in_a_batch_leaves_no_event() -> None:
    loyalty = Loyalty(outbox=True)
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    with loyalty.batch():
        loyalty.earn("ann", 10, at=T0, idempotency_key="o1")
        with pytest.raises(InsufficientPoints):
            loyalty.redeem_points("ann", 99, at=T0, idempotency_key="r1")
    assert [e.type for e in loyalty.pending_events()] == ["enroll", "earn"]


def test_batch_work_records_settlements_and_tier_changes(tmp_path: object) -> None:
    program = Program(
        rules=(BaseRate(id="base", per=Money.of(10, "CNY")),),
        tiers=TierLadder(
            tiers=(
                Tier(code="base", rank=0),
                Tier(
                    code="gold",
                    rank=1,
                    requirements=(Requirement(metric="spend", at_least="1000"),),
                ),
            ),
            status_length=relativedelta(months=12),
        ),
    )
    # SQLite: the set-based expiry is skipped, so every expiry is an event too
    loyalty = Loyalty(program, storage=f"sqlite:///{tmp_path}/outbox.db", outbox=True)
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    loyalty.earn("ann", 40, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=30))
    loyalty.record_purchase(
        "ann", Purchase(amount=Money.of(1200, "CNY")), at=T0, idempotency_key="p1"
    )
    loyalty.relay(lambda event: None)
    report = loyalty.run_due(at=T0 + relativedelta(months=13))
    assert report.expired.expired == 40 and report.tier_changes == 1
    events = loyalty.pending_events()
    assert [(e.type, e.idempotency_key) for e in events] == [
        ("settle", None),
        ("requalify", None),
    ]
    settle, requalify = events
    assert settle.payload["entries"][0]["kind"] == "expire"
    assert settle.payload["entries"][0]["amount"] == -40
    assert requalify.payload["changes"][0]["to"] == "base"
    loyalty.close()


def test_no_personal_data_leaves_through_the_outbox() -> None:
    loyalty = Loyalty(outbox=True)
    loyalty.enroll(
        "ann",
        at=T0,
        idempotency_key="e",
        profile=Profile(name="Li Wei", email="li@example.com"),
    )
    loyalty.file_complaint(
        "K-1",
        customer_id="ann",
        channel="hotline",
        content="The cashier at store 12 was rude; call me on 138 0000 0000",
        category="service",
        at=T0,
        idempotency_key="k1",
        actor="agent-7",
    )
    events = loyalty.pending_events()
    assert [e.type for e in events] == ["enroll", "file_complaint"]
    text = repr([dict(e.payload) for e in events])
    for secret in ("Li Wei", "li@example.com", "rude", "138 0000"):
        assert secret not in text
    assert events[1].payload["id"] == "K-1" and events[1].payload["state"] == "received"
