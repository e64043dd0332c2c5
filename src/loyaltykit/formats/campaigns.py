"""Campaigns and care as data: the ``[[campaigns]]`` and ``[care]`` tables of a program.

Read by :func:`loyaltykit.formats.programs.program_from_dict` (every problem reported with
its path, like the rest of a program) and written back by ``program_to_dict``::

    [[campaigns]]
    id = "member-day"
    priority = 10
    schedule = { start = "2026-01-01T00:00:00+08:00", recurrence = "FREQ=MONTHLY;BYMONTHDAY=8" }
    effects = [{ kind = "multiply", factor = "2" }]
    member_limit = { times = 3, period = "day" }
    budget = { points = 100000 }

    [[campaigns]]                       # 满减: 20 off each full 200, at checkout
    id = "spend-200"
    schedule = { start = "2026-01-01T00:00:00+08:00" }
    effects = [{ kind = "money_off", amount = "20", minimum = "200", repeat = true }]
    budget = { money = "50000" }

The ``[care]`` table is read by :mod:`loyaltykit.formats.care` (re-exported here).

Instants are TOML datetimes or ISO 8601 strings with an offset; money amounts are
strings in the program's currency; durations are tables of ``days`` and ``hours``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.basket import MoneyOff
from loyaltykit.domain.campaigns import (
    EFFECT_KINDS,
    Budget,
    MemberLimit,
    Schedule,
)
from loyaltykit.errors import InvalidArgument
from loyaltykit.formats.care import care_from_data, care_to_data
from loyaltykit.formats.money_off import money_off_from_data, money_off_to_data
from loyaltykit.formats.problems import Problems
from loyaltykit.formats.scalars import factor, instant, instant_text, money, span
from loyaltykit.policy.campaigns import Audience, Campaign
from loyaltykit.policy.rules import PythonCheck, check
from loyaltykit.values import Money

__all__ = ["campaigns_from_data", "campaigns_to_data", "care_from_data", "care_to_data"]

_CAMPAIGN = (
    "id",
    "name",
    "objective",
    "theme",
    "schedule",
    "audience",
    "events",
    "effects",
    "member_limit",
    "budget",
    "priority",
    "stacking",
    "basis",
)
_MONEY = ("threshold", "per", "money", "point_cost")


def _schedule(reader: Problems, value: Any, path: str) -> Schedule | None:
    data = reader.table(value, path)
    if data is None:
        return None
    prefix = path + "."
    reader.unknown(data, prefix, ("start", "end", "recurrence", "duration"))
    before = len(reader.problems)
    start = instant(reader, data.get("start"), prefix + "start")
    if "start" not in data:
        reader.problems.append(f"{prefix}start: is required")
    arguments: dict[str, Any] = {
        "start": start,
        "end": instant(reader, data.get("end"), prefix + "end"),
        "recurrence": reader.field(data, prefix, "recurrence", str),
    }
    if "duration" in data:
        arguments["duration"] = span(reader, data["duration"], prefix + "duration")
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: Schedule(**arguments))


def _effect(reader: Problems, value: Any, path: str, currency: str) -> Any:
    data = reader.table(value, path)
    if data is None:
        return None
    prefix = path + "."
    cls = reader.kind(data, prefix, EFFECT_KINDS)
    if cls is None:
        return None
    if cls is MoneyOff:
        return money_off_from_data(reader, data, path, currency, also=("kind",))
    names = tuple(field.name for field in attrs.fields(cls))
    reader.unknown(data, prefix, ("kind", *names))
    before = len(reader.problems)
    arguments: dict[str, Any] = {}
    for name in names:
        if name not in data:
            continue
        if name in _MONEY:
            arguments[name] = money(reader, data[name], prefix + name, currency)
        elif name == "factor":
            arguments[name] = factor(reader, data[name], prefix + name)
        else:
            arguments[name] = data[name]
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: cls(**arguments))


def _optional(reader: Problems, data: Mapping[str, Any], key: str, path: str, make: Any) -> Any:
    if key not in data:
        return None
    table = reader.table(data[key], path + key)
    if table is None:
        return None
    return make(table, path + key)


def _member_limit(reader: Problems, data: Mapping[str, Any], path: str) -> Any:
    reader.unknown(data, path + ".", ("times", "points", "period"))
    arguments = {
        "times": reader.field(data, path + ".", "times", int),
        "points": reader.field(data, path + ".", "points", int),
        "period": reader.field(data, path + ".", "period", str, "lifetime"),
    }
    return reader.build(path, lambda: MemberLimit(**arguments))


def _budget(reader: Problems, data: Mapping[str, Any], path: str, currency: str) -> Any:
    reader.unknown(data, path + ".", ("points", "money", "point_cost"))
    before = len(reader.problems)
    arguments: dict[str, Any] = {"points": reader.field(data, path + ".", "points", int)}
    for key in ("money", "point_cost"):
        if key in data:
            arguments[key] = money(reader, data[key], f"{path}.{key}", currency)
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: Budget(**arguments))


def _audience(reader: Problems, data: Mapping[str, Any], path: str) -> Any:
    prefix = path + "."
    reader.unknown(data, prefix, ("tiers", "tags", "segments", "condition"))
    arguments: dict[str, Any] = {
        key: reader.items(data.get(key, []), prefix + key) for key in ("tiers", "tags", "segments")
    }
    condition = reader.field(data, prefix, "condition", str)
    if condition is not None:
        # parsed here, so a bad condition is reported at its own path
        arguments["condition"] = reader.build(prefix + "condition", lambda: check(condition))
    return reader.build(path, lambda: Audience(**arguments))


def _campaign(reader: Problems, value: Any, path: str, currency: str) -> Campaign | None:
    data = reader.table(value, path)
    if data is None:
        return None
    prefix = path + "."
    reader.unknown(data, prefix, _CAMPAIGN)
    before = len(reader.problems)
    arguments: dict[str, Any] = {}
    for key in ("id", "name", "objective", "theme", "stacking", "basis"):
        found = reader.field(data, prefix, key, str, required=key == "id")
        if found is not None:
            arguments[key] = found
    priority = reader.field(data, prefix, "priority", int)
    if priority is not None:
        arguments["priority"] = priority
    if "events" in data:
        arguments["events"] = tuple(reader.items(data["events"], prefix + "events"))
    if "schedule" not in data:
        reader.problems.append(f"{prefix}schedule: is required")
    else:
        arguments["schedule"] = _schedule(reader, data["schedule"], prefix + "schedule")
    effects = [
        _effect(reader, item, f"{prefix}effects[{n}]", currency)
        for n, item in enumerate(reader.items(data.get("effects", []), prefix + "effects"))
    ]
    arguments["effects"] = tuple(effects)
    audience = _optional(reader, data, "audience", prefix, lambda t, p: _audience(reader, t, p))
    if audience is not None:
        arguments["audience"] = audience
    arguments["member_limit"] = _optional(
        reader, data, "member_limit", prefix, lambda t, p: _member_limit(reader, t, p)
    )
    arguments["budget"] = _optional(
        reader, data, "budget", prefix, lambda t, p: _budget(reader, t, p, currency)
    )
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: Campaign(**arguments))


def campaigns_from_data(reader: Problems, value: Any, currency: str) -> tuple[Campaign, ...]:
    """The ``campaigns`` list of a program's dict form; problems go to ``reader``."""
    campaigns = [
        _campaign(reader, item, f"campaigns[{n}]", currency)
        for n, item in enumerate(reader.items(value, "campaigns"))
    ]
    return tuple(campaign for campaign in campaigns if campaign is not None)


def _amount_text(value: Money | None) -> str | None:
    return None if value is None else str(value.amount)


def _effect_data(effect: Any) -> dict[str, Any]:
    if isinstance(effect, MoneyOff):
        return {"kind": effect.kind, **money_off_to_data(effect)}
    data: dict[str, Any] = {"kind": effect.kind}
    for field in attrs.fields(type(effect)):
        value = getattr(effect, field.name)
        if value is None or (value == field.default and field.name != "point_type"):
            continue
        if isinstance(value, Money):
            value = str(value.amount)
        elif isinstance(value, Decimal):
            value = str(value.normalize())
        data[field.name] = value
    return data


def _campaign_data(campaign: Campaign) -> dict[str, Any]:
    schedule = campaign.schedule
    data: dict[str, Any] = {"id": campaign.id}
    for key in ("name", "objective", "theme"):
        if getattr(campaign, key):
            data[key] = getattr(campaign, key)
    data["priority"] = campaign.priority
    data["stacking"] = campaign.stacking
    data["basis"] = campaign.basis
    data["events"] = list(campaign.events)
    when: dict[str, Any] = {"start": instant_text(schedule.start)}
    if schedule.end is not None:
        when["end"] = instant_text(schedule.end)
    if schedule.recurrence is not None:
        when["recurrence"] = schedule.recurrence
    if schedule.duration != relativedelta(days=1):
        span = schedule.duration.normalized()
        when["duration"] = {k: v for k, v in (("days", span.days), ("hours", span.hours)) if v}
    data["schedule"] = when
    audience = campaign.audience
    if isinstance(audience.condition, PythonCheck):
        raise InvalidArgument(
            f"campaigns[{campaign.id}].audience.condition: a Python callable has no dict "
            "form; write it in the condition language to dump the program"
        )
    shown = {key: sorted(getattr(audience, key)) for key in ("tiers", "tags", "segments")}
    who: dict[str, Any] = {key: value for key, value in shown.items() if value}
    if audience.condition is not None:
        who["condition"] = audience.condition.source
    if who:
        data["audience"] = who
    data["effects"] = [_effect_data(effect) for effect in campaign.effects]
    limit = campaign.member_limit
    if limit is not None:
        data["member_limit"] = {
            key: value
            for key, value in (("times", limit.times), ("points", limit.points))
            if value is not None
        } | {"period": limit.period}
    budget = campaign.budget
    if budget is not None:
        data["budget"] = {
            key: value
            for key, value in (
                ("points", budget.points),
                ("money", _amount_text(budget.money)),
                ("point_cost", _amount_text(budget.point_cost)),
            )
            if value is not None
        }
    return data


def campaigns_to_data(campaigns: tuple[Campaign, ...]) -> list[dict[str, Any]]:
    """The dict form of a program's campaigns (what :func:`campaigns_from_data` reads)."""
    return [_campaign_data(campaign) for campaign in campaigns]
