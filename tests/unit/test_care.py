"""Care triggers: what falls due, in what order, recorded once, points credited once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from loyaltykit import Customer, Loyalty, Money, Profile, Program, Purchase
from loyaltykit.domain.care import CareConfig, CareTrigger, due_care
from loyaltykit.domain.tiers import TierChange
from loyaltykit.errors import InvalidArgument, NotFound

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENROLLED = datetime(2025, 3, 10, 9, tzinfo=SHANGHAI)
CONFIG = CareConfig(
    triggers=(
        CareTrigger(kind="birthday", points=100, gift="cake"),
        CareTrigger(kind="anniversary", points=20),
        CareTrigger(kind="inactive", days=90),
        CareTrigger(kind="welcome", tiers={"gold"}, gift="welcome-pack"),
    ),
    grace_days=7,
)


def member(birthday: date | None = date(1990, 6, 1), **fields: object) -> Customer:
    return Customer(
        id="m-1",
        enrolled_at=ENROLLED,
        profile=Profile(birthday=birthday),
        **fields,  # type: ignore[arg-type]
    )


def kinds(at: datetime, customer: Customer | None = None, **facts: object) -> list[str]:
    found = due_care(CONFIG, customer or member(), at=at, zone=SHANGHAI, **facts)  # type: ignore[arg-type]
    return [action.id for action in found]


def test_a_birthday_is_due_from_its_day_for_the_grace_days() -> None:
    recent = {"last_purchase": datetime(2026, 5, 20, tzinfo=SHANGHAI)}
    assert kinds(datetime(2026, 5, 31, 23, tzinfo=SHANGHAI), **recent) == []
    assert kinds(datetime(2026, 6, 1, 0, 5, tzinfo=SHANGHAI), **recent) == ["birthday:2026"]
    assert kinds(datetime(2026, 6, 8, 12, tzinfo=SHANGHAI), **recent) == ["birthday:2026"]
    assert kinds(datetime(2026, 6, 9, 12, tzinfo=SHANGHAI), **recent) == []


def test_a_leap_day_birthday_falls_on_the_28th_in_common_years() -> None:
    leap = member(birthday=date(2000, 2, 29))
    at = datetime(2026, 2, 28, 10, tzinfo=SHANGHAI)
    assert "birthday:2026" in kinds(at, leap, last_purchase=at)


def test_we_miss_you_is_due_once_per_spell_without_purchases() -> None:
    last = datetime(2026, 1, 31, 15, tzinfo=SHANGHAI)
    assert kinds(datetime(2026, 4, 30, tzinfo=SHANGHAI), last_purchase=last) == []
    late = kinds(datetime(2026, 9, 1, tzinfo=SHANGHAI), last_purchase=last)
    assert late == ["inactive:2026-01-31"]  # a late run still warns, once per spell
    never = kinds(datetime(2025, 6, 20, 10, tzinfo=SHANGHAI))
    assert never == ["inactive:2025-03-10"]  # never bought: days count from enrolment


def test_anniversary_and_welcome_and_the_order_managers_use() -> None:
    at = datetime(2026, 3, 10, 10, tzinfo=SHANGHAI)
    history = [
        TierChange(
            at=at - timedelta(days=1), from_tier="silver", to_tier="gold", kind="upgrade", reason=""
        ),
    ]
    found = due_care(
        CONFIG,
        member(birthday=date(1990, 3, 8)),
        at=at,
        zone=SHANGHAI,
        last_purchase=datetime(2025, 11, 1, tzinfo=SHANGHAI),
        tier_history=history,
    )
    assert [action.id for action in found] == [
        "birthday:2026",
        "inactive:2025-11-01",
        "welcome:gold:2026-03-09",  # routine follow-ups by their day
        "anniversary:1",
    ]
    assert found[0].points == 100 and found[0].gift == "cake"
    assert found[2].detail == "new gold member (from silver)"


def test_closed_or_erased_members_get_no_care() -> None:
    at = datetime(2026, 6, 1, 12, tzinfo=SHANGHAI)
    assert kinds(at, member().closed()) == []
    assert kinds(at, member().erased(at)) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CareTrigger(kind="holiday"), "holiday"),
        (lambda: CareTrigger(kind="inactive"), "set days"),
        (lambda: CareTrigger(kind="welcome"), "set tiers"),
        (lambda: CareTrigger(kind="birthday", points=-5), "-5"),
        (
            lambda: CareConfig(
                triggers=(CareTrigger(kind="birthday"), CareTrigger(kind="birthday"))
            ),
            "more than once",
        ),
    ],
)
def test_bad_care_configuration_is_refused(make: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        make()  # type: ignore[operator]


# --- through the facade ------------------------------------------------------------


def loyalty() -> Loyalty:
    program = Program.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "care": {"birthday": {"points": 100, "gift": "cake"}, "inactive": {"days": 30}},
        }
    )
    service = Loyalty(program)
    for name, birthday in (("ann", date(1990, 6, 1)), ("bob", date(1985, 6, 3)), ("cat", None)):
        service.enroll(
            name, at=ENROLLED, idempotency_key=f"e-{name}", profile=Profile(birthday=birthday)
        )
    return service


def test_run_due_records_each_action_once_and_credits_birthday_points_once() -> None:
    service = loyalty()
    service.record_purchase(
        "cat",
        Purchase(amount=Money.of(10, "CNY")),
        at=datetime(2026, 5, 20, tzinfo=SHANGHAI),
        idempotency_key="cat-buys",
    )
    at = datetime(2026, 6, 3, 9, tzinfo=SHANGHAI)
    report = service.run_due(at)
    assert [(a.customer_id, a.id) for a in report.care] == [
        ("ann", "birthday:2026"),
        ("bob", "birthday:2026"),
        ("ann", "inactive:2025-03-10"),
        ("bob", "inactive:2025-03-10"),
    ]
    assert service.balance("ann").available == 100
    assert service.run_due(at).care == ()
    assert service.run_due(at + timedelta(days=2)).care == ()
    assert service.balance("ann").available == 100
    later = service.run_due(datetime(2026, 6, 25, tzinfo=SHANGHAI)).care
    assert [(a.customer_id, a.id) for a in later] == [("cat", "inactive:2026-05-20")]


def test_the_worklist_shows_open_actions_in_order_until_completed() -> None:
    service = loyalty()
    at = datetime(2026, 6, 3, 9, tzinfo=SHANGHAI)
    service.run_due(at)
    worklist = service.care_actions(at)
    assert [a.kind for a in worklist] == [
        "birthday",
        "birthday",
        "inactive",
        "inactive",
        "inactive",
    ]
    done = service.complete_care("ann", "birthday:2026", at=at, idempotency_key="call-ann")
    assert done.id == "birthday:2026"
    first = service.care_actions(at)[0]
    assert (first.customer_id, first.kind) == ("bob", "birthday")
    again = service.complete_care("ann", "birthday:2026", at=at, idempotency_key="call-ann")
    assert again == done
    with pytest.raises(NotFound, match="no care action 'birthday:1999'"):
        service.complete_care("ann", "birthday:1999", at=at, idempotency_key="nope")


def test_a_program_without_care_produces_none() -> None:
    service = Loyalty()
    service.enroll("a", at=ENROLLED, idempotency_key="e")
    assert service.run_due(datetime(2027, 1, 1, tzinfo=SHANGHAI)).care == ()


def tiered(**extra: object) -> Program:
    return Program.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "tiers": {
                "levels": [
                    {"code": "member", "rank": 0},
                    {
                        "code": "gold",
                        "rank": 1,
                        "requirements": [{"metric": "spend", "at_least": "1000"}],
                    },
                ]
            },
            **extra,
        }
    )


def test_a_member_reaching_a_top_tier_is_welcomed_once() -> None:
    program = tiered(care={"welcome": {"tiers": ["gold"], "gift": "welcome-pack", "points": 30}})
    service = Loyalty(program)
    service.enroll("vip", at=ENROLLED, idempotency_key="e")
    at = datetime(2026, 4, 2, 15, tzinfo=SHANGHAI)
    service.record_purchase(
        "vip", Purchase(amount=Money.of(1200, "CNY")), at=at, idempotency_key="big"
    )
    assert service.tier("vip", at=at).effective == "gold"
    care = service.run_due(at + timedelta(days=1)).care
    assert [(a.id, a.gift, a.points) for a in care] == [
        ("welcome:gold:2026-04-02", "welcome-pack", 30)
    ]
    assert care[0].detail == "new gold member (from member)"
    assert service.balance("vip").available == 120 + 30
    assert service.run_due(at + timedelta(days=2)).care == ()


def test_campaign_audiences_name_tiers_of_the_ladder() -> None:
    campaign = {
        "id": "gold-week",
        "schedule": {"start": "2026-01-01T00:00:00+08:00"},
        "audience": {"tiers": ["platinum"]},
        "effects": [{"kind": "bonus", "points": 5}],
    }
    with pytest.raises(InvalidArgument, match=r"\['platinum'\] are not tiers of the program"):
        tiered(campaigns=[campaign])
    campaign["audience"] = {"tiers": ["gold"]}
    program = tiered(campaigns=[campaign])
    service = Loyalty(program)
    service.enroll("m", at=ENROLLED, idempotency_key="e")
    at = datetime(2026, 4, 2, tzinfo=SHANGHAI)
    first = service.record_purchase(
        "m", Purchase(amount=Money.of(1000, "CNY")), at=at, idempotency_key="p1"
    )
    assert "- gold-week: audience: tier member not in ['gold']" in first.explanation
    second = service.record_purchase(
        "m", Purchase(amount=Money.of(10, "CNY")), at=at, idempotency_key="p2"
    )
    assert "+ gold-week: +5 points" in second.explanation  # upgraded by the first purchase


def test_care_actions_are_domain_events_when_the_outbox_is_on() -> None:
    service = Loyalty(loyalty().versions, outbox=True)
    service.enroll(
        "ann", at=ENROLLED, idempotency_key="e", profile=Profile(birthday=date(1990, 6, 1))
    )
    service.run_due(datetime(2026, 6, 2, tzinfo=SHANGHAI))
    events = [event for event in service.pending_events() if event.type == "care"]
    assert [(e.customer_id, [a["id"] for a in e.payload["actions"]]) for e in events] == [
        ("ann", ["birthday:2026", "inactive:2025-03-10"])
    ]
