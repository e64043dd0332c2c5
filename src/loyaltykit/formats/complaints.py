"""The ``[complaints]`` table of a program: taxonomy, calendars, SLA, QC rule, goodwill.

Read by :func:`loyaltykit.formats.programs.program_from_dict`; every problem is reported
with its path, all at once. A duration is a table of ``days``, ``hours``, ``minutes``
or ``working_days`` (whole opening days of its calendar), plus the ``calendar`` its
business time is counted on::

    [complaints.calendars.hotline]
    timezone = "Asia/Shanghai"
    always_open = true

    [[complaints.sla]]
    id = "hotline"
    channel = "hotline"
    acknowledge = { hours = 2, calendar = "hotline" }
    first_response = { working_days = 1 }
    resolution = { working_days = 5 }
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from fractions import Fraction
from functools import partial
from typing import Any

from loyaltykit.domain.calendar import WEEKDAYS, BusinessCalendar
from loyaltykit.domain.complaints import (
    ComplaintPolicy,
    ComplaintTaxonomy,
    GoodwillBudget,
    Priority,
    QcRule,
    Severity,
    SlaPolicy,
    Target,
)
from loyaltykit.formats.problems import Problems
from loyaltykit.formats.scalars import choice, duration_parts

__all__ = ["complaint_policy_from_dict", "complaint_policy_to_dict"]

_TOP = ("taxonomy", "calendars", "sla", "qc", "reopen_within", "goodwill")
_CALENDAR = ("timezone", "weekdays", "opens", "closes", "holidays", "workdays", "always_open")
_SLA = ("id", "category", "channel", "priority", "acknowledge", "first_response", "resolution")
_TARGET_UNITS = ("days", "hours", "minutes", "working_days")


def _table(problems: Problems, value: Any, where: str) -> Mapping[str, Any]:
    found = problems.table(value, where)
    return {} if found is None else found


def _calendar(problems: Problems, data: Any, where: str) -> BusinessCalendar | None:
    table = _table(problems, data, where)
    problems.unknown(table, f"{where}.", _CALENDAR)
    arguments: dict[str, Any] = {}
    for key in ("timezone", "always_open"):
        if key in table:
            arguments[key] = table[key]
    for key in ("opens", "closes"):
        if key in table:
            value = table[key]
            parsed = (
                problems.build(f"{where}.{key}", partial(time.fromisoformat, value))
                if isinstance(value, str)
                else None
            )
            if parsed is None:
                problems.add(f"{where}.{key}", f"{value!r} is not a time like '09:00'")
            arguments[key] = parsed
    if "weekdays" in table:
        names = table["weekdays"]
        if not isinstance(names, list) or any(n not in WEEKDAYS for n in names):
            problems.add(f"{where}.weekdays", f"{names!r} is not a list of {list(WEEKDAYS)}")
        else:
            arguments["weekdays"] = [WEEKDAYS.index(n) for n in names]
    for key in ("holidays", "workdays"):
        days = table.get(key, [])
        if not isinstance(days, list):
            problems.add(f"{where}.{key}", f"{days!r} is not a list of dates")
            continue
        parsed_days: list[date] = []
        for day in days:
            if isinstance(day, date):
                parsed_days.append(day)
                continue
            try:
                parsed_days.append(date.fromisoformat(day))
            except (TypeError, ValueError):
                problems.add(f"{where}.{key}", f"{day!r} is not a date like '2026-10-01'")
        arguments[key] = parsed_days
    if any(value is None for value in arguments.values()):
        return None
    return problems.build(where, lambda: BusinessCalendar(**arguments))


def _target(
    problems: Problems, data: Any, where: str, calendars: Mapping[str, BusinessCalendar]
) -> Target | None:
    parts = duration_parts(
        problems,
        data,
        where,
        _TARGET_UNITS,
        fractional=("days", "hours", "working_days"),
        also=("calendar",),
    )
    if parts is None:
        return None
    name = data.get("calendar", "default")
    total = (
        timedelta(days=parts["days"])
        + timedelta(hours=parts["hours"])
        + timedelta(minutes=parts["minutes"])
    )
    working = parts["working_days"]
    if working:
        calendar = calendars.get(name) or (BusinessCalendar() if name == "default" else None)
        if calendar is None:
            problems.add(f"{where}.calendar", f"{name!r} is not declared")
            return None
        total += calendar.day_length * working
    return problems.build(where, lambda: Target(within=total, calendar=name))


def _sla(
    problems: Problems, data: Any, where: str, calendars: Mapping[str, BusinessCalendar]
) -> SlaPolicy | None:
    table = _table(problems, data, where)
    problems.unknown(table, f"{where}.", (*_SLA, "warn_share"))
    arguments: dict[str, Any] = {
        "id": table.get("id"),
        "category": table.get("category"),
        "channel": table.get("channel"),
    }
    if "priority" in table:
        arguments["priority"] = choice(problems, table["priority"], f"{where}.priority", Priority)
    for clock in ("acknowledge", "first_response", "resolution"):
        if clock not in table:
            problems.add(f"{where}.{clock}", "is required")
            return None
        arguments[clock] = _target(problems, table[clock], f"{where}.{clock}", calendars)
    if "warn_share" in table:
        arguments["warn_share"] = problems.build(
            f"{where}.warn_share", lambda: Fraction(str(table["warn_share"]))
        )
    if any(arguments.get(k) is None for k in ("acknowledge", "first_response", "resolution")):
        return None
    return problems.build(where, lambda: SlaPolicy(**arguments))


def complaint_policy_from_dict(
    problems: Problems, data: Any, path: str = "complaints"
) -> ComplaintPolicy | None:
    """The complaint policy of a program's ``complaints`` table at ``path``; every
    problem goes to ``problems`` (with its path), and ``None`` is returned when any
    was found."""
    before = len(problems.problems)
    table = _table(problems, data, path)
    problems.unknown(table, f"{path}.", _TOP)
    arguments: dict[str, Any] = {}
    taxonomy = _table(problems, table.get("taxonomy", {}), f"{path}.taxonomy")
    arguments["taxonomy"] = problems.build(
        f"{path}.taxonomy", lambda: ComplaintTaxonomy(categories=dict(taxonomy))
    )
    calendars: dict[str, BusinessCalendar] = {}
    for name, item in _table(problems, table.get("calendars", {}), f"{path}.calendars").items():
        calendar = _calendar(problems, item, f"{path}.calendars.{name}")
        if calendar is not None:
            calendars[name] = calendar
    arguments["calendars"] = calendars
    if "sla" in table:
        items = table["sla"] if isinstance(table["sla"], list) else []
        if not isinstance(table["sla"], list):
            problems.add(f"{path}.sla", f"{table['sla']!r} is not a list of tables")
        arguments["sla"] = [
            _sla(problems, item, f"{path}.sla[{n}]", calendars) for n, item in enumerate(items)
        ]
    if "qc" in table:
        qc = _table(problems, table["qc"], f"{path}.qc")
        problems.unknown(
            qc, f"{path}.qc.", ("categories", "severities", "goodwill_from", "four_eyes")
        )
        chosen = [
            choice(problems, s, f"{path}.qc.severities", Severity) for s in qc.get("severities", [])
        ]
        severities = [severity for severity in chosen if severity is not None]
        arguments["qc"] = problems.build(
            f"{path}.qc",
            lambda: QcRule(
                categories=qc.get("categories", []),
                severities=severities,
                goodwill_from=qc.get("goodwill_from"),
                four_eyes=qc.get("four_eyes", True),
            ),
        )
    if "reopen_within" in table:
        parts = duration_parts(problems, table["reopen_within"], f"{path}.reopen_within", ("days",))
        if parts is not None:
            arguments["reopen_within"] = timedelta(days=parts["days"])
    if "goodwill" in table:
        goodwill = _table(problems, table["goodwill"], f"{path}.goodwill")
        problems.unknown(
            goodwill, f"{path}.goodwill.", ("points", "period", "per_complaint", "point_type")
        )
        arguments["goodwill"] = problems.build(
            f"{path}.goodwill", lambda: GoodwillBudget(**goodwill)
        )
    if len(problems.problems) > before:
        return None
    return problems.build(path, lambda: ComplaintPolicy(**arguments))


def _duration_dict(target: Target) -> dict[str, Any]:
    minutes, rest = divmod(target.within, timedelta(minutes=1))
    data: dict[str, Any] = {"calendar": target.calendar}
    if rest:
        data["hours"] = target.within / timedelta(hours=1)
    elif minutes % 60:
        data["minutes"] = minutes
    else:
        data["hours"] = minutes // 60
    return data


def _calendar_dict(calendar: BusinessCalendar) -> dict[str, Any]:
    if calendar.always_open:
        return {"timezone": calendar.timezone, "always_open": True}
    return {
        "timezone": calendar.timezone,
        "weekdays": [WEEKDAYS[d] for d in sorted(calendar.weekdays)],
        "opens": calendar.opens.isoformat(timespec="minutes"),
        "closes": calendar.closes.isoformat(timespec="minutes"),
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
        "workdays": sorted(d.isoformat() for d in calendar.workdays),
    }


def complaint_policy_to_dict(policy: ComplaintPolicy) -> dict[str, Any]:
    """The ``complaints`` table that :func:`complaint_policy_from_dict` reads back equal."""
    data: dict[str, Any] = {
        "taxonomy": {
            category: sorted(subs) for category, subs in policy.taxonomy.categories.items()
        },
        "calendars": {name: _calendar_dict(cal) for name, cal in policy.calendars.items()},
        "sla": [],
        "qc": {
            "categories": sorted(policy.qc.categories),
            "severities": sorted(s.value for s in policy.qc.severities),
            "four_eyes": policy.qc.four_eyes,
        },
        "reopen_within": {"days": policy.reopen_within.days},
    }
    if policy.qc.goodwill_from is not None:
        data["qc"]["goodwill_from"] = policy.qc.goodwill_from
    for sla in policy.sla:
        item: dict[str, Any] = {"id": sla.id}
        for key in ("category", "channel"):
            if getattr(sla, key) is not None:
                item[key] = getattr(sla, key)
        if sla.priority is not None:
            item["priority"] = sla.priority.value
        for clock in ("acknowledge", "first_response", "resolution"):
            item[clock] = _duration_dict(sla.target(clock))
        item["warn_share"] = str(sla.warn_share)
        data["sla"].append(item)
    budget = policy.goodwill
    if budget is not None:
        data["goodwill"] = {
            key: value
            for key, value in {
                "points": budget.points,
                "period": budget.period,
                "per_complaint": budget.per_complaint,
                "point_type": budget.point_type,
            }.items()
            if value is not None
        }
    return data
