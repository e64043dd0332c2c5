"""Notices as the docs show them, type-checked by ``mypy --strict tests/typing``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyaltykit import (
    DeliveryReport,
    Loyalty,
    Milestones,
    Notice,
    NoticeRules,
    NoticeSender,
    Program,
    Reminders,
)
from loyaltykit.testing import RecordingSender

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


class SmsSender:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def send(self, notice: Notice) -> None:
        self.texts.append(f"{notice.customer_id}: {notice.template}")


def test_notices_as_documented() -> None:
    rules = NoticeRules(milestones=Milestones(thresholds=[1000], notify="each"), channel="sms")
    loyalty = Loyalty(Program(notices=rules))
    loyalty.enroll("c-1", at=AT, idempotency_key="e-1")
    loyalty.opt_in("c-1", "sms", at=AT, idempotency_key="c-1")
    loyalty.earn("c-1", 1200, at=AT, idempotency_key="o-1", expires_at=AT + timedelta(days=9))
    sender: NoticeSender = SmsSender()
    report: DeliveryReport = loyalty.deliver_notices(sender, at=AT)
    run: Reminders = loyalty.remind_expiring_points(at=AT, idempotency_key="r-1")
    recorder = RecordingSender()
    loyalty.deliver_notices(recorder, at=AT)
    notices: tuple[Notice, ...] = loyalty.notices("c-1")
    assert report.delivered == 1 and run.recorded == 1
    assert recorder.templates() == ["points.expiring"] and len(notices) == 2


def test_consent_and_care_messages_as_documented() -> None:
    from loyaltykit import CareConfig, CareTrigger, Consent, ContentRules, Profile, errors

    rules = NoticeRules(content=ContentRules(advertising=["sale"]))
    care = CareConfig(triggers=(CareTrigger(kind="birthday"),))
    loyalty = Loyalty(Program(notices=rules, care=care))
    profile = Profile(birthday=AT.date())
    loyalty.enroll("c-1", at=AT, idempotency_key="e-1", profile=profile)
    consent: Consent = loyalty.opt_in("c-1", "sms", at=AT, idempotency_key="c-1")
    (action,) = loyalty.run_care(at=AT)
    try:
        loyalty.send_care_message("c-1", action.id, "sale!", at=AT, idempotency_key="m-1")
    except errors.ContentRuleBroken as broken:
        problems: tuple[str, ...] = broken.problems
        assert problems
    notice: Notice = loyalty.send_care_message(
        "c-1", action.id, "Happy birthday", at=AT, idempotency_key="m-1", store="s", associate="a"
    )
    assert consent.granted and notice.template == "care.message"


def test_the_export_as_documented() -> None:
    import json
    from typing import Any

    loyalty = Loyalty()
    loyalty.enroll("c-1", at=AT, idempotency_key="e-1")
    document: dict[str, Any] = loyalty.export_member("c-1", at=AT)
    assert json.loads(json.dumps(document))["customer_id"] == "c-1"


def test_abuse_limits_as_documented() -> None:
    from loyaltykit import AdjustmentRequest, Approvals, Flag, Receipt, Velocity, VelocityRule

    rule = VelocityRule(id="t", commands="transfer", per="hour", at_most=1, action="flag")
    program = Program(velocity=Velocity(rules=[rule]), approvals=Approvals(adjust_above=10))
    loyalty = Loyalty(program)
    loyalty.enroll("c-1", at=AT, idempotency_key="e-1")
    request: AdjustmentRequest = loyalty.request_adjustment(
        "c-1", "r-1", 50, at=AT, idempotency_key="q-1", reason="why", actor="li"
    )
    receipt: Receipt = loyalty.approve_adjustment(
        "c-1", request.id, at=AT, idempotency_key="ok-1", actor="wang"
    )
    flags: tuple[Flag, ...] = loyalty.flags("c-1")
    assert receipt.balance.available == 50 and flags == ()


def test_households_as_documented() -> None:
    from loyaltykit import Household

    loyalty = Loyalty()
    loyalty.enroll("mum", at=AT, idempotency_key="e-1")
    loyalty.earn("mum", 100, at=AT, idempotency_key="o-1")
    loyalty.create_household("mum", "wang", at=AT, idempotency_key="h-1", on_leave="keep")
    household: Household = loyalty.pool_points("mum", "wang", 60, at=AT, idempotency_key="p-1")
    household = loyalty.redeem_household_points("mum", "wang", 10, at=AT, idempotency_key="r-1")
    assert household.balance == 50 and loyalty.household("wang").redeemed == 10
