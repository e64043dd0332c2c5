"""Care actions carry no personal data where erasure cannot reach: the ledger reason,
the outbox event; an erased member's care records keep no birthday."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from loyaltykit import Customer, Profile
from loyaltykit.domain.care import (
    CareConfig,
    CareTrigger,
    care_to_event,
    due_care,
    erased_care,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = CareConfig(triggers=(CareTrigger(kind="birthday", points=100, gift="cake"),))
MEMBER = Customer(
    id="m-1",
    enrolled_at=datetime(2025, 3, 10, 9, tzinfo=SHANGHAI),
    profile=Profile(birthday=date(1987, 11, 23)),
)


def test_a_birthday_action_names_its_year_never_the_day() -> None:
    (action,) = due_care(
        CONFIG, MEMBER, at=datetime(2026, 11, 24, 9, tzinfo=SHANGHAI), zone=SHANGHAI
    )
    assert action.id == "birthday:2026" and action.detail == "2026 birthday"
    assert "11-23" not in action.detail
    event = care_to_event(action)
    assert event == {
        "customer_id": "m-1",
        "kind": "birthday",
        "id": "birthday:2026",
        "points": 100,
        "gift": "cake",
    }


def test_an_erased_members_care_action_keeps_only_its_year() -> None:
    (action,) = due_care(
        CONFIG, MEMBER, at=datetime(2026, 11, 24, 9, tzinfo=SHANGHAI), zone=SHANGHAI
    )
    erased = erased_care(action)
    assert erased.due_at == datetime(2026, 1, 1, tzinfo=SHANGHAI)
    assert (erased.id, erased.points, erased.gift, erased.detail) == (
        "birthday:2026",
        100,
        "cake",
        "",
    )
