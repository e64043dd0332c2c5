"""Consent per channel, honoured by every notice; care messages keep the content rules
(issue 17)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from loyaltykit import (
    CareConfig,
    CareTrigger,
    ConsentState,
    ContentRules,
    Loyalty,
    Milestones,
    NoticeRules,
    NoticeStatus,
    Profile,
    Program,
)
from loyaltykit.errors import ContentRuleBroken, InvalidArgument, NotFound
from loyaltykit.storage.base import Storage
from loyaltykit.testing import RecordingSender

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
PROGRAM = Program(
    notices=NoticeRules(milestones=Milestones(thresholds=[100]), channels={"care.message": "sms"}),
    care=CareConfig(triggers=(CareTrigger(kind="birthday"), CareTrigger(kind="inactive", days=1))),
)


@pytest.fixture
def storage(memory_or_sqlite: Storage) -> Storage:
    return memory_or_sqlite


def _member(storage: Storage, *ids: str) -> Loyalty:
    loyalty = Loyalty(PROGRAM, storage=storage, outbox=True)
    for member in ids:
        profile = Profile(name="Wang Fang", birthday=date(1990, 6, 1))
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}", profile=profile)
    return loyalty


def _milestone(loyalty: Loyalty, member: str, n: int, at: datetime) -> None:
    loyalty.earn(member, 150, at=at, idempotency_key=f"up-{n}")
    loyalty.redeem_points(member, 150, at=at, idempotency_key=f"down-{n}")


def test_a_notice_goes_out_only_on_a_channel_the_member_opted_in_to(storage: Storage) -> None:
    loyalty = _member(storage, "ann")
    sender = RecordingSender()
    _milestone(loyalty, "ann", 1, T0)  # no consent yet
    loyalty.opt_in("ann", "push", at=T0, idempotency_key="c-1", source="sign-up form")
    _milestone(loyalty, "ann", 2, T0)
    loyalty.unsubscribe("ann", "push", at=T0, idempotency_key="c-2", source="msg-0000000002")
    _milestone(loyalty, "ann", 3, T0)
    # consent is read when the notice goes out, not when it was recorded
    report = loyalty.deliver_notices(sender, at=T0)
    assert (report.delivered, report.withheld) == (0, 3)
    loyalty.opt_in("ann", "push", at=T0, idempotency_key="c-3")
    _milestone(loyalty, "ann", 4, T0)
    assert loyalty.deliver_notices(sender, at=T0).delivered == 1
    reasons = [n.reason for n in loyalty.notices("ann", status=NoticeStatus.WITHHELD)]
    assert reasons == [f"unsubscribed from push at {T0.isoformat()} (msg-0000000002)"] * 3
    loyalty.opt_out("ann", "push", at=T0, idempotency_key="c-4")
    _milestone(loyalty, "ann", 5, T0)
    loyalty.deliver_notices(sender, at=T0)
    assert loyalty.notices("ann")[-1].reason == f"opted out of push at {T0.isoformat()}"
    (push,) = loyalty.consents("ann")
    assert (push.channel, push.state) == ("push", ConsentState.OPT_OUT)


def test_without_any_consent_and_after_closing_nothing_is_delivered(storage: Storage) -> None:
    loyalty = _member(storage, "ann", "bob")
    loyalty.opt_in("bob", "push", at=T0, idempotency_key="c-1")
    _milestone(loyalty, "ann", 1, T0)
    _milestone(loyalty, "bob", 1, T0)
    loyalty.close_account("bob", at=T0, idempotency_key="close")
    assert loyalty.deliver_notices(RecordingSender(), at=T0).withheld == 2
    assert [n.reason for n in loyalty.notices("ann")] == ["no consent for push"]
    assert [n.reason for n in loyalty.notices("bob")] == ["membership closed"]


def test_consent_changes_are_commands(storage: Storage) -> None:
    loyalty = _member(storage, "ann")
    first = loyalty.opt_in("ann", "sms", at=T0, idempotency_key="c-1")
    again = loyalty.opt_in("ann", "sms", at=T0 + timedelta(hours=1), idempotency_key="c-1")
    assert again == first
    with pytest.raises(InvalidArgument):
        loyalty.opt_in("ann", "two words", at=T0, idempotency_key="c-2")
    loyalty.opt_in("ann", "mail", at=T0, idempotency_key="c-3")
    assert [c.channel for c in loyalty.consents("ann")] == ["mail", "sms"]


def _birthday(loyalty: Loyalty) -> str:
    (action,) = [a for a in loyalty.run_care(at=T0) if a.kind == "birthday"]
    return action.id


def test_a_greeting_carries_no_advertising_and_is_signed(storage: Storage) -> None:
    loyalty = _member(storage, "ann")
    action = _birthday(loyalty)
    with pytest.raises(ContentRuleBroken) as broken:
        loyalty.send_care_message(
            "ann", action, "Happy birthday! New arrivals: 20% off", at=T0, idempotency_key="m-1"
        )
    assert broken.value.problems == (
        'a greeting carries no advertising (found "% off")',
        "a greeting is signed with the store and the associate's name",
    )
    with pytest.raises(ContentRuleBroken, match="offers"):
        loyalty.send_care_message(
            "ann", action, "Happy birthday!", at=T0, idempotency_key="m-1",
            store="Jing'an", associate="Li Na", offers=["coupon-10"],
        )  # fmt: skip
    assert loyalty.notices("ann") == ()  # nothing recorded by a refused message
    notice = loyalty.send_care_message(
        "ann", action, "Happy birthday, Wang Fang!", at=T0, idempotency_key="m-1",
        store="Jing'an", associate="Li Na",
    )  # fmt: skip
    assert (notice.template, notice.channel) == ("care.message", "sms")
    assert notice.data["text"] == "Happy birthday, Wang Fang!\n— Li Na, Jing'an"
    with pytest.raises(NotFound):
        loyalty.send_care_message("ann", "birthday:1999", "Hi", at=T0, idempotency_key="m-2")


def test_a_follow_up_that_is_no_greeting_may_carry_an_offer(storage: Storage) -> None:
    loyalty = _member(storage, "ann")
    (action,) = [a for a in loyalty.run_care(at=T0 + timedelta(days=3)) if a.kind == "inactive"]
    notice = loyalty.send_care_message(
        "ann", action.id, "We miss you: 10% off this week", at=T0 + timedelta(days=3),
        idempotency_key="m-1", offers=["coupon-10"], channel="mail",
    )  # fmt: skip
    assert notice.channel == "mail" and notice.data["offers"] == ["coupon-10"]
    strict = ContentRules(greetings=frozenset({"birthday", "inactive"}), advertising=["off"])
    assert strict.problems("inactive", "10% OFF", "s", "a", ()) == (
        'a greeting carries no advertising (found "off")',
    )


def test_erasure_takes_a_care_messages_text_out(storage: Storage) -> None:
    loyalty = _member(storage, "ann")
    action = _birthday(loyalty)
    loyalty.send_care_message(
        "ann", action, "Happy birthday, Wang Fang!", at=T0, idempotency_key="m-1",
        store="Jing'an", associate="Li Na",
    )  # fmt: skip
    event = next(e for e in loyalty.pending_events(limit=50) if e.type == "send_care_message")
    assert "Wang Fang" not in repr(event.payload)
    loyalty.erase("ann", at=T0, idempotency_key="erase")
    (notice,) = loyalty.notices("ann")
    assert notice.data["text"] == "" and notice.data["kind"] == "birthday"
