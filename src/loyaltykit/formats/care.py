"""Care as data: the ``[care]`` table of a program.

Read by :func:`loyaltykit.formats.programs.program_from_dict` (every problem reported with
its path, like the rest of a program) and written back by ``program_to_dict``::

    [care]
    grace_days = 7
    birthday = { points = 100, gift = "birthday-cake" }
    inactive = { days = 90 }
    churn = { drop = "0.5", recent_months = 3, baseline_months = 12 }

    [care.holiday]
    calendar = [
      { id = "spring-festival", name = "Spring Festival", dates = [2026-02-17, 2027-02-06] },
      { id = "mid-autumn", name = "Mid-Autumn Festival", dates = ["2026-09-25"] },
      { id = "new-year", name = "New Year", every_year = "01-01" },
    ]

    [care.assignment]
    default_team = "stores"
    routes = [
      { team = "call-centre", tiers = ["diamond"] },
      { team = "call-centre", tiers = ["gold"], regions = ["shanghai", "beijing"] },
    ]
    associates = { pudong = "wang-li" }

Holiday dates are TOML dates or ISO 8601 date strings; ``drop`` is a fraction written
as a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from loyaltykit.domain.care import (
    CARE_KINDS,
    CareAssignment,
    CareConfig,
    CareRoute,
    CareTrigger,
    Holiday,
)
from loyaltykit.formats.problems import Problems

__all__ = ["care_from_data", "care_to_data"]

_TRIGGER_FIELDS = (
    "points",
    "gift",
    "days",
    "tiers",
    "calendar",
    "drop",
    "recent_months",
    "baseline_months",
)


def _day(reader: Problems, value: Any, path: str) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    reader.add(path, f"{value!r} is not a date (YYYY-MM-DD)")
    return None


def _holiday(reader: Problems, value: Any, path: str) -> Holiday | None:
    table = reader.table(value, path)
    if table is None:
        return None
    reader.unknown(table, path + ".", ("id", "name", "every_year", "dates"))
    days = [
        _day(reader, item, f"{path}.dates[{index}]")
        for index, item in enumerate(reader.items(table.get("dates", []), path + ".dates"))
    ]
    return reader.build(
        path,
        partial(
            Holiday,
            id=reader.field(table, path + ".", "id", str, required=True),
            name=reader.field(table, path + ".", "name", str, required=True),
            every_year=reader.field(table, path + ".", "every_year", str),
            dates=frozenset(day for day in days if day is not None),
        ),
    )


def _drop(reader: Problems, value: Any, path: str) -> Decimal | None:
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    reader.add(path, f"{value!r} must be a fraction written as a string, e.g. '0.5'")
    return None


def _trigger(reader: Problems, kind: str, value: Any) -> CareTrigger | None:
    path = f"care.{kind}"
    table = reader.table(value, path)
    if table is None:
        return None
    reader.unknown(table, path + ".", _TRIGGER_FIELDS)
    arguments: dict[str, Any] = {"kind": kind}
    for key, kind_of in (
        ("points", int),
        ("gift", str),
        ("days", int),
        ("recent_months", int),
        ("baseline_months", int),
    ):
        found = reader.field(table, path + ".", key, kind_of)
        if found is not None:
            arguments[key] = found
    if "tiers" in table:
        arguments["tiers"] = reader.items(table["tiers"], path + ".tiers")
    if "drop" in table:
        arguments["drop"] = _drop(reader, table["drop"], path + ".drop")
    if "calendar" in table:
        holidays = [
            _holiday(reader, item, f"{path}.calendar[{index}]")
            for index, item in enumerate(reader.items(table["calendar"], path + ".calendar"))
        ]
        arguments["holidays"] = tuple(h for h in holidays if h is not None)
    return reader.build(path, partial(CareTrigger, **arguments))


def _assignment(reader: Problems, value: Any) -> CareAssignment | None:
    path = "care.assignment"
    table = reader.table(value, path)
    if table is None:
        return None
    reader.unknown(table, path + ".", ("default_team", "routes", "associates", "region_attribute"))
    routes: list[CareRoute] = []
    for index, item in enumerate(reader.items(table.get("routes", []), path + ".routes")):
        where = f"{path}.routes[{index}]"
        route = reader.table(item, where)
        if route is None:
            continue
        reader.unknown(route, where + ".", ("team", "tiers", "regions"))
        built = reader.build(
            where,
            partial(
                CareRoute,
                team=reader.field(route, where + ".", "team", str, required=True),
                tiers=reader.items(route.get("tiers", []), where + ".tiers"),
                regions=reader.items(route.get("regions", []), where + ".regions"),
            ),
        )
        if built is not None:
            routes.append(built)
    arguments: dict[str, Any] = {"routes": tuple(routes)}
    for key in ("default_team", "region_attribute"):
        found = reader.field(table, path + ".", key, str)
        if found is not None:
            arguments[key] = found
    if "associates" in table:
        associates = reader.table(table["associates"], path + ".associates")
        arguments["associates"] = dict(associates or {})
    return reader.build(path, partial(CareAssignment, **arguments))


def care_from_data(reader: Problems, value: Any) -> CareConfig | None:
    """The ``care`` table of a program's dict form; problems go to ``reader``."""
    if value is None:
        return None
    data = reader.table(value, "care")
    if data is None:
        return None
    reader.unknown(data, "care.", ("grace_days", "assignment", *CARE_KINDS))
    before = len(reader.problems)
    triggers = [
        trigger
        for kind in CARE_KINDS
        if kind in data and (trigger := _trigger(reader, kind, data[kind])) is not None
    ]
    assignment = _assignment(reader, data["assignment"]) if "assignment" in data else None
    grace = reader.field(data, "care.", "grace_days", int, 7)
    if len(reader.problems) > before:
        return None
    return reader.build(
        "care",
        lambda: CareConfig(
            triggers=tuple(triggers),
            grace_days=grace,
            assignment=assignment or CareAssignment(),
        ),
    )


def _holiday_data(holiday: Holiday) -> dict[str, Any]:
    data: dict[str, Any] = {"id": holiday.id, "name": holiday.name}
    if holiday.every_year is not None:
        data["every_year"] = holiday.every_year
    if holiday.dates:
        data["dates"] = [day.isoformat() for day in sorted(holiday.dates)]
    return data


def _trigger_data(trigger: CareTrigger) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if trigger.points:
        table["points"] = trigger.points
    if trigger.gift is not None:
        table["gift"] = trigger.gift
    if trigger.days:
        table["days"] = trigger.days
    if trigger.tiers:
        table["tiers"] = sorted(trigger.tiers)
    if trigger.holidays:
        table["calendar"] = [_holiday_data(holiday) for holiday in trigger.holidays]
    if trigger.drop is not None:
        table["drop"] = str(trigger.drop)
        table["recent_months"] = trigger.recent_months
        table["baseline_months"] = trigger.baseline_months
    return table


def _assignment_data(assignment: CareAssignment) -> dict[str, Any]:
    routes: list[Mapping[str, Any]] = [
        {"team": route.team, "tiers": sorted(route.tiers), "regions": sorted(route.regions)}
        for route in assignment.routes
    ]
    return {
        "default_team": assignment.default_team,
        "routes": routes,
        "associates": dict(assignment.associates),
        "region_attribute": assignment.region_attribute,
    }


def care_to_data(care: CareConfig) -> dict[str, Any]:
    """The dict form of a program's care triggers and assignment."""
    data: dict[str, Any] = {"grace_days": care.grace_days}
    for trigger in care.triggers:
        data[trigger.kind] = _trigger_data(trigger)
    if care.assignment != CareAssignment():
        data["assignment"] = _assignment_data(care.assignment)
    return data
