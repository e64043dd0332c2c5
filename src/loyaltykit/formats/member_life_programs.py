"""The programme's member-life tables in their dict (TOML, JSON) form: ``[notices]``
(milestones, tier notices, channels, the care messages' content rules), ``[velocity]``,
``[approvals]`` and ``[rating_exclusions]``. Read through the loader's problem collector,
so every problem is reported at once with its path.

.. code-block:: toml

    [notices]
    channel = "push"
    tier_reached = true
    channels = { "points.expiring" = "sms" }
    milestones = { thresholds = [1000, 5000], notify = "highest" }

    [velocity]
    rules = [{ id = "transfers", commands = "transfer", per = "hour", at_most = 5 }]

    [approvals]
    adjust_above = 5000

    [rating_exclusions]
    tags = ["staff"]
    id_prefixes = ["test-"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyaltykit.domain.approvals import Approvals
from loyaltykit.domain.care_messages import ContentRules
from loyaltykit.domain.notices import Milestones, NoticeRules
from loyaltykit.formats.problems import Problems
from loyaltykit.policy.program import Program
from loyaltykit.policy.rating import RatingExclusions
from loyaltykit.policy.velocity import Velocity, VelocityRule

__all__ = ["MEMBER_LIFE_KEYS", "member_life_from_dict", "member_life_to_dict"]

MEMBER_LIFE_KEYS = ("notices", "velocity", "approvals", "rating_exclusions")
"""The top-level keys this module reads."""

_NOTICES = ("channel", "channels", "milestones", "tier_reached", "content")
_MILESTONES = ("thresholds", "notify", "point_type")
_CONTENT = ("greetings", "advertising", "signed")
_RULE = ("id", "commands", "per", "at_most", "action")


def member_life_from_dict(reader: Problems, data: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`~loyaltykit.Program` arguments the member-life tables of ``data``
    give (only those present); problems go to ``reader``."""
    arguments: dict[str, Any] = {}
    if "notices" in data:
        notices = _notices(reader, data["notices"])
        if notices is not None:
            arguments["notices"] = notices
    if "velocity" in data:
        table = reader.table(data["velocity"], "velocity")
        if table is not None:
            reader.unknown(table, "velocity.", ("rules",))
            rules = [
                _velocity_rule(reader, item, f"velocity.rules[{n}]")
                for n, item in enumerate(reader.items(table.get("rules", []), "velocity.rules"))
            ]
            found = tuple(rule for rule in rules if rule is not None)
            velocity = reader.build("velocity", lambda: Velocity(rules=found))
            if velocity is not None:
                arguments["velocity"] = velocity
    if "approvals" in data:
        table = reader.table(data["approvals"], "approvals")
        if table is not None:
            reader.unknown(table, "approvals.", ("adjust_above",))
            above = reader.field(table, "approvals.", "adjust_above", int)
            approvals = reader.build("approvals", lambda: Approvals(adjust_above=above))
            if approvals is not None:
                arguments["approvals"] = approvals
    if "rating_exclusions" in data:
        table = reader.table(data["rating_exclusions"], "rating_exclusions")
        if table is not None:
            reader.unknown(table, "rating_exclusions.", ("tags", "id_prefixes"))
            tags = reader.field(table, "rating_exclusions.", "tags", list, [])
            prefixes = reader.field(table, "rating_exclusions.", "id_prefixes", list, [])
            exclusions = reader.build(
                "rating_exclusions",
                lambda: RatingExclusions(tags=frozenset(tags), id_prefixes=tuple(prefixes)),
            )
            if exclusions is not None:
                arguments["rating_exclusions"] = exclusions
    return arguments


def _notices(reader: Problems, data: Any) -> NoticeRules | None:
    table = reader.table(data, "notices")
    if table is None:
        return None
    reader.unknown(table, "notices.", _NOTICES)
    arguments: dict[str, Any] = {}
    channel = reader.field(table, "notices.", "channel", str)
    if channel is not None:
        arguments["channel"] = channel
    channels = reader.field(table, "notices.", "channels", dict)
    if channels is not None:
        arguments["channels"] = channels
    arguments["tier_reached"] = reader.field(table, "notices.", "tier_reached", bool, False)
    if "milestones" in table:
        milestones = reader.table(table["milestones"], "notices.milestones")
        if milestones is not None:
            reader.unknown(milestones, "notices.milestones.", _MILESTONES)
            found = reader.build("notices.milestones", lambda: Milestones(**milestones))
            if found is not None:
                arguments["milestones"] = found
    if "content" in table:
        content = reader.table(table["content"], "notices.content")
        if content is not None:
            reader.unknown(content, "notices.content.", _CONTENT)
            values = dict(content)
            if "greetings" in values and isinstance(values["greetings"], list):
                values["greetings"] = frozenset(values["greetings"])
            rules = reader.build("notices.content", lambda: ContentRules(**values))
            if rules is not None:
                arguments["content"] = rules
    return reader.build("notices", lambda: NoticeRules(**arguments))


def _velocity_rule(reader: Problems, data: Any, path: str) -> VelocityRule | None:
    table = reader.table(data, path)
    if table is None:
        return None
    reader.unknown(table, f"{path}.", _RULE)
    return reader.build(path, lambda: VelocityRule(**table))


def member_life_to_dict(program: Program) -> dict[str, Any]:
    """The member-life tables of ``program`` (only those that differ from the defaults),
    as :func:`member_life_from_dict` reads them back."""
    data: dict[str, Any] = {}
    notices = program.notices
    if notices != NoticeRules():
        table: dict[str, Any] = {"channel": notices.channel, "tier_reached": notices.tier_reached}
        if notices.channels:
            table["channels"] = dict(notices.channels)
        if notices.milestones is not None:
            milestones: dict[str, Any] = {
                "thresholds": list(notices.milestones.thresholds),
                "notify": notices.milestones.notify,
            }
            if notices.milestones.point_type is not None:
                milestones["point_type"] = notices.milestones.point_type
            table["milestones"] = milestones
        if notices.content != ContentRules():
            table["content"] = {
                "greetings": sorted(notices.content.greetings),
                "advertising": list(notices.content.advertising),
                "signed": notices.content.signed,
            }
        data["notices"] = table
    if program.velocity.rules:
        data["velocity"] = {
            "rules": [
                {
                    "id": rule.id,
                    "commands": rule.commands,
                    "per": rule.per,
                    "at_most": rule.at_most,
                    "action": rule.action,
                }
                for rule in program.velocity.rules
            ]
        }
    if program.approvals.adjust_above is not None:
        data["approvals"] = {"adjust_above": program.approvals.adjust_above}
    if program.rating_exclusions != RatingExclusions():
        data["rating_exclusions"] = {
            "tags": sorted(program.rating_exclusions.tags),
            "id_prefixes": list(program.rating_exclusions.id_prefixes),
        }
    return data
