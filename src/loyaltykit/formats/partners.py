"""The dict (TOML, JSON) form of a programme's coalition partners.

.. code-block:: toml

    [[partners]]
    id = "cinema"
    name = "Starlight Cinema"
    currency = "CNY"          # the programme's currency when left out
    point_price = "0.02"      # what the partner pays per point it awards
    point_type = "points"
    campaigns = ["cinema-night"]  # campaigns it funds: their points are the partner's

    [[partners.goals]]
    id = "2026-q1"
    metric = "points_issued"  # points_redeemed, redemptions, members_acquired
    target = 100000
    start = "2026-01-01T00:00:00+08:00"
    end = "2026-04-01T00:00:00+08:00"
"""

from __future__ import annotations

from typing import Any

from loyaltykit.domain.partners import GoalMetric, Partner, PartnerGoal
from loyaltykit.formats.problems import Problems
from loyaltykit.formats.scalars import choice, instant, instant_text, money

__all__ = ["partners_from_data", "partners_to_data"]

_PARTNER = ("id", "name", "currency", "point_price", "point_type", "campaigns", "goals")
_GOAL = ("id", "metric", "target", "start", "end")


def partners_from_data(reader: Problems, data: Any, currency: str) -> tuple[Partner, ...]:
    """The partners of a ``partners`` list (problems go to ``reader``)."""
    found = (
        _partner(reader, item, f"partners[{n}]", currency)
        for n, item in enumerate(reader.items(data, "partners"))
    )
    return tuple(partner for partner in found if partner is not None)


def _partner(reader: Problems, data: Any, path: str, default_currency: str) -> Partner | None:
    table = reader.table(data, path)
    if table is None:
        return None
    prefix = path + "."
    reader.unknown(table, prefix, _PARTNER)
    before = len(reader.problems)
    currency = reader.field(table, prefix, "currency", str, default_currency)
    arguments: dict[str, Any] = {
        "id": reader.field(table, prefix, "id", str, required=True),
        "currency": currency,
    }
    for key in ("name", "point_type"):
        value = reader.field(table, prefix, key, str)
        if value is not None:
            arguments[key] = value
    if "campaigns" in table:
        campaigns = reader.items(table["campaigns"], prefix + "campaigns")
        for n, campaign in enumerate(campaigns):
            if not isinstance(campaign, str):
                reader.add(f"{prefix}campaigns[{n}]", f"{campaign!r} is not a campaign id")
        arguments["campaigns"] = tuple(campaigns)
    if "point_price" in table:
        arguments["point_price"] = money(
            reader, table["point_price"], prefix + "point_price", str(currency)
        )
    goals = [
        _goal(reader, item, f"{prefix}goals[{n}]")
        for n, item in enumerate(reader.items(table.get("goals", []), prefix + "goals"))
    ]
    arguments["goals"] = tuple(goal for goal in goals if goal is not None)
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: Partner(**arguments))


def _goal(reader: Problems, data: Any, path: str) -> PartnerGoal | None:
    table = reader.table(data, path)
    if table is None:
        return None
    prefix = path + "."
    reader.unknown(table, prefix, _GOAL)
    before = len(reader.problems)
    metric = reader.field(table, prefix, "metric", str, required=True)
    arguments: dict[str, Any] = {
        "id": reader.field(table, prefix, "id", str, required=True),
        "metric": None if metric is None else choice(reader, metric, prefix + "metric", GoalMetric),
        "target": reader.field(table, prefix, "target", int, required=True),
        "start": instant(reader, table.get("start"), prefix + "start"),
        "end": instant(reader, table.get("end"), prefix + "end"),
    }
    for key in ("start", "end"):
        if key not in table:
            reader.add(prefix + key, "is required")
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: PartnerGoal(**arguments))


def partners_to_data(partners: tuple[Partner, ...]) -> list[dict[str, Any]]:
    """The list :func:`partners_from_data` reads back equal."""
    found = []
    for partner in partners:
        data: dict[str, Any] = {
            "id": partner.id,
            "currency": partner.currency,
            "point_type": partner.point_type,
        }
        if partner.name:
            data["name"] = partner.name
        if partner.point_price is not None:
            data["point_price"] = str(partner.point_price.amount)
        if partner.campaigns:
            data["campaigns"] = list(partner.campaigns)
        if partner.goals:
            data["goals"] = [
                {
                    "id": goal.id,
                    "metric": goal.metric.value,
                    "target": goal.target,
                    "start": instant_text(goal.start),
                    "end": instant_text(goal.end),
                }
                for goal in partner.goals
            ]
        found.append(data)
    return found
