"""Care and retention (客户关怀, 客户维系): the care actions that fall due, as data.

A :class:`CareConfig` (the program's ``[care]`` table) declares the triggers: birthday
points or a gift, the membership anniversary, "we miss you" after some days without a
purchase (流失预警), and a welcome for members who reach a top tier. :func:`due_care`
says which actions are due for one member at an instant; the service records each
action once (so running again never repeats one) and the caller sends the messages.

Actions come in the order service managers work through them: birthdays first, then
churn warnings, then routine follow-ups (anniversaries, welcomes); see :attr:`CareAction.order`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import attrs

from loyaltykit.domain.customer import Customer, CustomerStatus
from loyaltykit.domain.tiers import TierChange
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import CustomerId, codes, identifier, sequence_of

__all__ = [
    "CARE_KINDS",
    "CareAction",
    "CareConfig",
    "CareTrigger",
    "care_from_record",
    "care_to_event",
    "care_to_record",
    "due_care",
    "erased_care",
]

# the order service managers call in: birthdays, churn warnings, routine follow-ups
CARE_KINDS = {"birthday": 0, "inactive": 1, "anniversary": 2, "welcome": 2}


def _natural(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"care.{attribute.name}: {value!r} must be an int of 0 or more")


def _gift(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None:
        identifier("care gift", value)


def _kind(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or value not in CARE_KINDS:
        raise InvalidArgument(f"care trigger kind: {value!r} is not one of {sorted(CARE_KINDS)}")


def _trigger_tiers(value: Iterable[str]) -> frozenset[str]:
    return codes("care trigger tiers", value)


@attrs.frozen(kw_only=True)
class CareTrigger:
    """One care trigger: ``kind`` (``birthday``, ``anniversary``, ``inactive``,
    ``welcome``), the ``points`` to credit and/or the ``gift`` (a reward id) to give.

    ``days`` is the number of days without a purchase before "we miss you"
    (``inactive`` only); ``tiers`` are the tiers whose new members are welcomed
    (``welcome`` only).
    """

    kind: str = attrs.field(validator=_kind)
    points: int = attrs.field(default=0, validator=_natural)
    gift: str | None = attrs.field(default=None, validator=_gift)
    days: int = attrs.field(default=0, validator=_natural)
    tiers: frozenset[str] = attrs.field(default=frozenset(), converter=_trigger_tiers)

    def __attrs_post_init__(self) -> None:
        if self.kind == "inactive" and self.days == 0:
            raise InvalidArgument("care trigger inactive: set days, e.g. days = 90")
        if self.kind == "welcome" and not self.tiers:
            raise InvalidArgument("care trigger welcome: set tiers, e.g. tiers = ['gold']")


def _triggers(value: Iterable[CareTrigger]) -> tuple[CareTrigger, ...]:
    triggers = sequence_of("care triggers", value, CareTrigger)
    kinds = [trigger.kind for trigger in triggers]
    twice = sorted({kind for kind in kinds if kinds.count(kind) > 1})
    if twice:
        raise InvalidArgument(f"care: triggers {twice} are declared more than once")
    return triggers


@attrs.frozen(kw_only=True)
class CareConfig:
    """The program's care triggers. ``grace_days``: a run that comes late still produces
    a dated action (birthday, anniversary, welcome) up to this many days after its day;
    older ones are let go rather than sent absurdly late."""

    triggers: tuple[CareTrigger, ...] = attrs.field(default=(), converter=_triggers)
    grace_days: int = attrs.field(default=7, validator=_natural)

    def trigger(self, kind: str) -> CareTrigger | None:
        """The trigger of ``kind``, if configured."""
        return next((t for t in self.triggers if t.kind == kind), None)


@attrs.frozen(kw_only=True)
class CareAction:
    """A care action due for a member: what to do, from when, and why.

    ``id`` is unique per member and occasion (``birthday:2026``, ``inactive:2026-01-31``)
    so the service records it once. ``due_at`` is local midnight of the day it fell due.
    ``detail`` explains it without personal data (``"2026 birthday"``, never the date:
    it is copied into the reason of the ledger entry that credits the care points,
    which erasure cannot edit).
    """

    customer_id: CustomerId
    kind: str
    id: str
    due_at: datetime
    points: int = 0
    gift: str | None = None
    detail: str = ""

    @property
    def order(self) -> tuple[int, datetime, CustomerId, str]:
        """Sort key: birthdays, then churn warnings, then routine follow-ups; then by
        due date and member."""
        return (CARE_KINDS[self.kind], self.due_at, self.customer_id, self.id)


def _on(year: int, day: date) -> date:
    # a 29 February birthday falls on 28 February in common years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def due_care(
    config: CareConfig,
    customer: Customer,
    *,
    at: datetime,
    zone: tzinfo,
    last_purchase: datetime | None = None,
    tier_history: Iterable[TierChange] = (),
) -> list[CareAction]:
    """The care actions due for ``customer`` at ``at`` (in ``zone``), in care order.

    ``last_purchase`` is when they last bought (``None``: never, so enrolment counts);
    ``tier_history`` their tier changes (a change into a ``welcome`` tier from outside
    them is a new top-tier member). Open members only (closed or erased members get no
    care). A dated action is due from
    its day until ``config.grace_days`` later; "we miss you" is due once per spell
    without purchases, however late the run.
    """
    if customer.status is CustomerStatus.CLOSED or customer.is_erased:
        return []
    today = at.astimezone(zone).date()
    grace = timedelta(days=config.grace_days)
    enrolled = customer.enrolled_at.astimezone(zone).date()
    found: list[CareAction] = []

    def dated(kind: str, occasion: str, day: date, detail: str, trigger: CareTrigger) -> None:
        if day <= today <= day + grace and day >= enrolled:
            found.append(
                CareAction(
                    customer_id=customer.id,
                    kind=kind,
                    id=f"{kind}:{occasion}",
                    due_at=_midnight(day, zone),
                    points=trigger.points,
                    gift=trigger.gift,
                    detail=detail,
                )
            )

    birthday = config.trigger("birthday")
    if birthday is not None and customer.profile.birthday is not None:
        for year in (today.year - 1, today.year):
            day = _on(year, customer.profile.birthday)
            # the day is the member's birthday: personal data, kept out of the detail
            dated("birthday", str(year), day, f"{year} birthday", birthday)
    anniversary = config.trigger("anniversary")
    if anniversary is not None:
        for year in (today.year - 1, today.year):
            years = year - enrolled.year
            if years >= 1:
                day = _on(year, enrolled)
                dated("anniversary", str(years), day, f"{years} years a member", anniversary)
    inactive = config.trigger("inactive")
    if inactive is not None:
        seen = (last_purchase or customer.enrolled_at).astimezone(zone).date()
        due = seen + timedelta(days=inactive.days)
        if due <= today:
            found.append(
                CareAction(
                    customer_id=customer.id,
                    kind="inactive",
                    id=f"inactive:{seen.isoformat()}",
                    due_at=_midnight(due, zone),
                    points=inactive.points,
                    gift=inactive.gift,
                    detail=f"no purchase since {seen.isoformat()} ({inactive.days} days)",
                )
            )
    welcome = config.trigger("welcome")
    if welcome is not None:
        for change in tier_history:
            if change.to_tier in welcome.tiers and change.from_tier not in welcome.tiers:
                day = change.at.astimezone(zone).date()
                dated(
                    "welcome",
                    f"{change.to_tier}:{day.isoformat()}",
                    day,
                    f"new {change.to_tier} member (from {change.from_tier or 'none'})",
                    welcome,
                )
    return sorted(found, key=lambda action: action.order)


def care_to_record(action: CareAction) -> dict[str, Any]:
    """A care action as plain data."""
    return {
        "customer_id": action.customer_id,
        "kind": action.kind,
        "id": action.id,
        "due_at": action.due_at.isoformat(),
        "points": action.points,
        "gift": action.gift,
        "detail": action.detail,
    }


def care_to_event(action: CareAction) -> dict[str, Any]:
    """What a care action's outbox event carries: what to do, not when it fell due (a
    birthday's day is personal data, and published events cannot be erased)."""
    return {
        "customer_id": action.customer_id,
        "kind": action.kind,
        "id": action.id,
        "points": action.points,
        "gift": action.gift,
    }


def erased_care(action: CareAction) -> CareAction:
    """The care action of an erased member: its kind, occasion and points stay (the
    ledger refers to them), the day shrinks to the first of its year and the detail goes.
    """
    due = action.due_at
    return attrs.evolve(action, due_at=datetime(due.year, 1, 1, tzinfo=due.tzinfo), detail="")


def care_from_record(record: Mapping[str, Any]) -> CareAction:
    """The care action :func:`care_to_record` wrote."""
    return CareAction(
        customer_id=record["customer_id"],
        kind=record["kind"],
        id=record["id"],
        due_at=datetime.fromisoformat(record["due_at"]),
        points=record["points"],
        gift=record["gift"],
        detail=record["detail"],
    )
