"""The [complaints] table of a program: loading, dumping, and every problem reported."""

from __future__ import annotations

import tomllib
from datetime import date, time, timedelta
from fractions import Fraction

import pytest

from loyaltykit import Program
from loyaltykit.domain.complaints import ComplaintPolicy, Priority, Severity
from loyaltykit.errors import ProgramError

TOML = """
name = "hotline-demo"
timezone = "Asia/Shanghai"

[complaints]
reopen_within = { days = 7 }
taxonomy = { service = ["staff", "queue"], points = [] }

[complaints.calendars.default]
timezone = "Asia/Shanghai"
weekdays = ["mon", "tue", "wed", "thu", "fri"]
opens = "09:00"
closes = "18:00"
holidays = ["2026-10-01", "2026-10-02"]
workdays = ["2026-10-10"]

[complaints.calendars.hotline]
timezone = "Asia/Shanghai"
always_open = true

[[complaints.sla]]
id = "standard"
acknowledge = { working_days = 1 }
first_response = { working_days = 2 }
resolution = { working_days = 5 }

[[complaints.sla]]
id = "hotline-urgent"
channel = "hotline"
priority = "urgent"
acknowledge = { minutes = 30, calendar = "hotline" }
first_response = { hours = 4 }
resolution = { working_days = 2 }
warn_share = "1/4"

[complaints.qc]
categories = ["points"]
severities = ["critical"]
goodwill_from = 500

[complaints.goodwill]
points = 20000
period = "month"
per_complaint = 2000
"""


def test_a_complaints_table_loads_and_dumps_back_equal() -> None:
    program = Program.from_dict(tomllib.loads(TOML))
    policy = program.complaints
    office = policy.calendar("default")
    assert office.opens == time(9)
    assert date(2026, 10, 1) in office.holidays
    assert office.is_working_day(date(2026, 10, 10))
    assert policy.calendar("hotline").always_open
    standard, urgent = policy.sla
    assert standard.resolution.within == timedelta(hours=45)
    assert urgent.acknowledge.within == timedelta(minutes=30)
    assert urgent.acknowledge.calendar == "hotline"
    assert urgent.priority is Priority.URGENT
    assert urgent.warn_share == Fraction(1, 4)
    assert policy.sla_for("service", "hotline", Priority.URGENT) is urgent
    assert policy.qc.severities == {Severity.CRITICAL}
    assert policy.goodwill is not None
    assert policy.goodwill.per_complaint == 2000
    assert policy.reopen_within == timedelta(days=7)
    assert policy.taxonomy.categories["service"] == {"staff", "queue"}
    assert Program.from_dict(program.to_dict()) == program


def test_a_program_without_the_table_has_the_default_policy() -> None:
    program = Program.from_dict({"name": "plain"})
    assert program.complaints == ComplaintPolicy()
    assert "complaints" not in program.to_dict()


def test_every_problem_is_reported_with_its_path() -> None:
    data = tomllib.loads(TOML)
    complaints = data["complaints"]
    complaints["calendars"]["default"]["opens"] = "nine"
    complaints["calendars"]["hotline"]["timezone"] = "Moon/Base"
    complaints["sla"][1]["priority"] = "asap"
    complaints["sla"][0]["resolution"] = {"hours": -1}
    complaints["qc"]["severities"] = ["fatal"]
    complaints["goodwill"]["period"] = "fortnight"
    complaints["colour"] = "red"
    with pytest.raises(ProgramError) as error:
        Program.from_dict(data)
    problems = "\n".join(error.value.problems)
    for expected in (
        "complaints.calendars.default.opens: 'nine' is not a time",
        "complaints.calendars.hotline: calendar timezone: 'Moon/Base'",
        "complaints.sla[1].priority: 'asap' is not one of",
        "complaints.sla[0].resolution.hours: -1 is not a number of zero or more",
        "complaints.qc.severities: 'fatal' is not one of",
        "complaints.goodwill: goodwill period: 'fortnight'",
        "complaints.colour: unknown field",
    ):
        assert expected in problems


def test_an_sla_naming_an_unknown_calendar_is_refused() -> None:
    data = tomllib.loads(TOML)
    data["complaints"]["sla"][0]["acknowledge"] = {"hours": 2, "calendar": "night"}
    with pytest.raises(ProgramError, match="calendar 'night' is not declared"):
        Program.from_dict(data)
    data["complaints"]["sla"][0]["acknowledge"] = {"working_days": 1, "calendar": "night"}
    with pytest.raises(ProgramError, match=r"acknowledge.calendar: 'night' is not declared"):
        Program.from_dict(data)


def test_the_four_eyes_rule_loads_dumps_and_is_checked() -> None:
    data = tomllib.loads(TOML)
    assert Program.from_dict(data).complaints.qc.four_eyes  # asked for unless turned off
    data["complaints"]["qc"]["four_eyes"] = False
    program = Program.from_dict(data)
    assert not program.complaints.qc.four_eyes
    assert Program.from_dict(program.to_dict()) == program
    data["complaints"]["qc"]["four_eyes"] = "no"
    with pytest.raises(ProgramError, match="four_eyes"):
        Program.from_dict(data)
