"""One problem collector and one scalar reader for every loader: the checks they share.

Each loader (programme, catalogue, campaigns, complaints) reads instants, money and
durations through ``loyaltykit.formats.scalars``, so the same bad value gets the same
problem wherever it is written, and conditions are reported at their own path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from loyaltykit.errors import InvalidArgument, ProgramError
from loyaltykit.formats.programs import Program
from loyaltykit.values import parse_instant

SCHEDULE = {"start": "2026-01-01T00:00:00+08:00"}


def _problems(data: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ProgramError) as raised:
        Program.from_dict(data)
    return raised.value.problems


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (
            {"rules": [{"id": "r", "kind": "fixed", "amount": 1, "condition": "event.amount >"}]},
            "rules[0].condition: ",
        ),
        (
            {
                "campaigns": [
                    {
                        "id": "c",
                        "schedule": SCHEDULE,
                        "audience": {"condition": "customer.tier =="},
                        "effects": [{"kind": "bonus", "points": 1}],
                    }
                ]
            },
            "campaigns[0].audience.condition: ",
        ),
        (
            {"rewards": [{"id": "g", "kind": "gift", "condition": "customer.tier =="}]},
            "rewards[0].condition: ",
        ),
    ],
)
def test_a_bad_condition_is_reported_at_its_own_path(data: dict[str, Any], path: str) -> None:
    problems = _problems(data)
    assert len(problems) == 1 and problems[0].startswith(path), problems


@pytest.mark.parametrize(
    "value",
    ["2026-01-01T00:00:00", "2026-01-01", "0999-12-31T00:00:00+00:00", "soon", 20260101],
)
def test_an_instant_is_checked_alike_in_every_loader(value: object) -> None:
    reward = {"rewards": [{"id": "g", "kind": "gift", "available_from": value}]}
    campaign = {
        "campaigns": [
            {"id": "c", "schedule": {"start": value}, "effects": [{"kind": "bonus", "points": 1}]}
        ]
    }
    (in_reward,) = _problems(reward)
    (in_campaign,) = _problems(campaign)
    assert in_reward.startswith("rewards[0].available_from: ")
    assert in_campaign.startswith("campaigns[0].schedule.start: ")
    assert in_reward.partition(": ")[2] == in_campaign.partition(": ")[2]


def test_loaded_instants_are_in_utc() -> None:
    program = Program.from_dict(
        {
            "rewards": [{"id": "g", "kind": "gift", "available_from": "2026-06-18T20:00:00+08:00"}],
            "campaigns": [
                {"id": "c", "schedule": SCHEDULE, "effects": [{"kind": "bonus", "points": 1}]}
            ],
        }
    )
    opens = program.catalog.entries[0].reward
    assert opens is not None and opens.available_from is not None
    assert opens.available_from.utcoffset() is not None
    assert opens.available_from.tzinfo is UTC
    assert program.campaigns[0].schedule.start == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert Program.from_dict(program.to_dict()) == program


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {"pending_for": {"days": -1}},
            "pending_for.days: -1 is not a whole number of zero or more",
        ),
        ({"pending_for": {"days": 0}}, "pending_for: {'days': 0} must be a positive duration"),
        ({"clock_skew": {"hours": 1.5}}, "clock_skew.hours: 1.5 is not a whole number"),
        ({"clock_skew": {"hours": 24 * 366 * 101}}, "clock_skew: {'hours': 887184} is longer"),
        (
            {
                "campaigns": [
                    {
                        "id": "c",
                        "schedule": {**SCHEDULE, "duration": {"hours": -2}},
                        "effects": [{"kind": "bonus", "points": 1}],
                    }
                ]
            },
            "campaigns[0].schedule.duration.hours: -2 is not a whole number of zero or more",
        ),
        (
            {"complaints": {"reopen_within": {"days": -3}}},
            "complaints.reopen_within.days: -3 is not a whole number of zero or more",
        ),
        ({"complaints": "none"}, "complaints: 'none' is not a table"),
        (
            {"rewards": [{"id": "g", "kind": "gift", "claim_within": {"weeks": 1}}]},
            "rewards[0].claim_within.weeks: unknown field",
        ),
    ],
)
def test_durations_are_checked_alike_in_every_loader(data: dict[str, Any], problem: str) -> None:
    problems = _problems(data)
    assert any(found.startswith(problem) for found in problems), problems


def test_text_instants_need_an_offset_and_come_back_in_utc() -> None:
    assert parse_instant("at", "2026-05-01T08:00:00+08:00") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_instant("at", "2026-05-01T08:00:00+08:00").tzinfo is UTC
    with pytest.raises(InvalidArgument, match=r"at: '2026-05-01' has no UTC offset"):
        parse_instant("at", "2026-05-01")
    with pytest.raises(InvalidArgument, match=r"at: 'May' is not an ISO 8601 instant"):
        parse_instant("at", "May")
    with pytest.raises(InvalidArgument, match=r"at: .* is not valid, expected an instant from"):
        parse_instant("at", "0500-01-01T00:00:00+00:00")
