"""Velocity rules: how many earns, transfers and redemptions a member may make per hour
or per day, and what happens beyond (abuse limits).

A :class:`VelocityRule` counts one family of commands per member in fixed periods of the
programme's time zone (the hour ``2026-05-01T12``, the day ``2026-05-01``). Beyond
``at_most`` the rule's ``action`` applies: ``"refuse"`` (the command is refused with
:class:`~loyaltykit.errors.VelocityExceeded` and the member is flagged), ``"suspend"``
(refused, flagged, and the member suspended: earning goes on, redeeming and transfers
stop until someone reactivates them) or ``"flag"`` (the command goes through and the
member is flagged). Every flag records the rule, the count and the period: the reason
is traced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any

import attrs

from loyaltykit.errors import InvalidArgument, shown
from loyaltykit.values import identifier, sequence_of

__all__ = ["FAMILIES", "Breach", "Flag", "Velocity", "VelocityRule", "breaches", "period_of"]

FAMILIES: Mapping[str, frozenset[str]] = {
    "earn": frozenset({"earn", "record_purchase", "record_event", "award_partner_points"}),
    "transfer": frozenset({"transfer"}),
    "redeem": frozenset({"redeem_points", "redeem", "pay_with_points"}),
}
"""The command families a rule counts, by the commands' names (a transfer counts for its
sender)."""

_PERIODS = ("hour", "day")
_ACTIONS = ("refuse", "suspend", "flag")


def _one_of(what: str, choices: tuple[str, ...]) -> Any:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or value not in choices:
            raise InvalidArgument(f"velocity {what}: {shown(value)} is not one of {list(choices)}")

    return check


def _family(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or value not in FAMILIES:
        raise InvalidArgument(f"velocity commands: {shown(value)} is not one of {sorted(FAMILIES)}")


def _positive(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"velocity at_most: {value!r} is not a positive int")


@attrs.frozen(kw_only=True)
class VelocityRule:
    """At most ``at_most`` commands of the ``commands`` family (``"earn"``,
    ``"transfer"``, ``"redeem"``) per member ``per`` hour or day; beyond, ``action``.

    >>> VelocityRule(id="transfers-hourly", commands="transfer", per="hour", at_most=5).action
    'refuse'
    """

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("velocity rule id", v))
    commands: str = attrs.field(validator=_family)
    per: str = attrs.field(validator=_one_of("per", _PERIODS))
    at_most: int = attrs.field(validator=_positive)
    action: str = attrs.field(default="refuse", validator=_one_of("action", _ACTIONS))


def _rules(value: Iterable[VelocityRule]) -> tuple[VelocityRule, ...]:
    rules = sequence_of("velocity rules", value, VelocityRule)
    ids = [rule.id for rule in rules]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InvalidArgument(f"velocity: rule ids {twice} are used more than once")
    return rules


@attrs.frozen(kw_only=True)
class Velocity:
    """The programme's velocity rules (none by default)."""

    rules: tuple[VelocityRule, ...] = attrs.field(default=(), converter=_rules)

    def counting(self, command: str) -> tuple[VelocityRule, ...]:
        """The rules that count the command named ``command``."""
        return tuple(rule for rule in self.rules if command in FAMILIES[rule.commands])


@attrs.frozen(kw_only=True)
class Breach:
    """A rule a command goes beyond: the ``count`` it would make in ``period``."""

    rule: VelocityRule
    period: str
    count: int

    @property
    def reason(self) -> str:
        """The trace, in words."""
        rule = self.rule
        return (
            f"velocity rule {rule.id!r}: {self.count} {rule.commands} commands in the "
            f"{rule.per} {self.period}, at most {rule.at_most}"
        )


@attrs.frozen(kw_only=True)
class Flag:
    """A member flagged by a velocity rule: which rule, the count in which period, the
    command that went beyond (its name and key), when, what was done (``action``:
    ``refuse``, ``suspend`` or ``flag``), and the ``reason`` in words."""

    customer_id: str
    id: str
    rule: str
    period: str
    count: int
    at_most: int
    command: str
    idempotency_key: str
    at: datetime
    action: str
    reason: str


def period_of(per: str, at: datetime, zone: tzinfo) -> str:
    """The period ``at`` falls in, in ``zone``: ``2026-05-01T12`` or ``2026-05-01``.

    >>> from datetime import timezone
    >>> period_of("hour", datetime(2026, 5, 1, 12, 30, tzinfo=timezone.utc), timezone.utc)
    '2026-05-01T12'
    """
    local = at.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H") if per == "hour" else local.date().isoformat()


def breaches(
    velocity: Velocity,
    command: str,
    counts: Mapping[str, tuple[str, int]],
    at: datetime,
    zone: tzinfo,
) -> tuple[dict[str, tuple[str, int]], tuple[Breach, ...]]:
    """The counters after one more ``command`` at ``at``, and the rules it goes beyond,
    in declaration order. ``counts`` (and the result) map a rule id to its current
    period and count; a count of an earlier period starts again from zero.

    >>> from datetime import timezone
    >>> rules = Velocity(rules=[VelocityRule(id="t", commands="transfer", per="day", at_most=1)])
    >>> at = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    >>> counts, found = breaches(rules, "transfer", {"t": ("2026-05-01", 1)}, at, timezone.utc)
    >>> counts, [b.count for b in found]
    ({'t': ('2026-05-01', 2)}, [2])
    """
    updated: dict[str, tuple[str, int]] = {}
    found: list[Breach] = []
    for rule in velocity.counting(command):
        period = period_of(rule.per, at, zone)
        before_period, before = counts.get(rule.id, (period, 0))
        count = (before if before_period == period else 0) + 1
        updated[rule.id] = (period, count)
        if count > rule.at_most:
            found.append(Breach(rule=rule, period=period, count=count))
    return updated, tuple(found)
