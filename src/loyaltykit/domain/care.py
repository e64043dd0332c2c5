"""Care and retention (客户关怀, 客户维系): the care actions that fall due, as data.

A :class:`CareConfig` (the program's ``[care]`` table) declares the triggers: birthday
points or a gift, the membership anniversary, "we miss you" after some days without a
purchase, a churn warning when spending drops (流失预警, 消费异动), a welcome for members
who reach a top tier, and holiday and seasonal greetings on a holiday calendar
(:class:`Holiday`). :func:`due_care` says which actions are due for one member at an
instant; the service records each action once (so running again never repeats one) and
the caller sends the messages. :class:`CareAssignment` says who works each action: a
team by tier and region (diamond and city VIPs to the call centre), else the associate
closest to the member where there is one.

Actions come in the order service managers work through them (:data:`CARE_STEPS`):
birthdays first, then churn warnings, then routine follow-ups (anniversaries, welcomes,
holiday greetings), and fourth the follow-up offers (二次营销) that calls lead to; see
:attr:`CareAction.order`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import attrs

from loyaltykit.domain.customer import Customer, CustomerStatus
from loyaltykit.domain.tiers import TierChange
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import CustomerId, codes, derived_identifier, identifier, sequence_of

__all__ = [
    "CALL_OUTCOMES",
    "CARE_KINDS",
    "CARE_STEPS",
    "CareAction",
    "CareAssignment",
    "CareConfig",
    "CareRoute",
    "CareTrigger",
    "Holiday",
    "assign_care",
    "care_from_record",
    "care_to_event",
    "care_to_record",
    "due_care",
    "erased_care",
]

# the order service managers call in: birthdays, churn warnings, routine follow-ups,
# then the follow-up offers (二次营销) their calls lead to
CARE_STEPS = {
    "birthday": 0,
    "inactive": 1,
    "churn": 1,
    "anniversary": 2,
    "welcome": 2,
    "holiday": 2,
    "offer": 3,
}
# the kinds a programme declares as triggers (an offer comes from a completed call)
CARE_KINDS = {kind: step for kind, step in CARE_STEPS.items() if kind != "offer"}
# how a care call ended; ``done`` when the caller does not say
CALL_OUTCOMES = ("done", "reached", "no_answer", "declined", "unreachable")


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


def _month_day(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is None:
        return
    try:
        month, day = (int(part) for part in str(value).split("-"))
        date(2000, month, day)  # a leap year, so 02-29 is a day
    except ValueError:
        raise InvalidArgument(f"holiday every_year: {value!r} is not a MM-DD day") from None


def _days(value: Any) -> frozenset[date]:
    days = frozenset(sequence_of("holiday dates", value, date))
    for day in days:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidArgument(f"holiday dates: {day!r} is not a date")
    return days


def _name(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"holiday name: {value!r} must be a non-empty text")


@attrs.frozen(kw_only=True)
class Holiday:
    """A day of the holiday calendar that members are greeted on.

    ``every_year`` is a fixed day (``"12-25"``; ``"02-29"`` falls on 28 February in
    common years); ``dates`` are the days of a movable one, year by year (the Spring
    Festival: ``2026-02-17``, ``2027-02-06``). Seasonal greetings (the start of summer, a
    member day) are declared the same way. ``name`` is what the greeting is for.
    """

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("holiday id", v))
    name: str = attrs.field(validator=_name)
    every_year: str | None = attrs.field(default=None, validator=_month_day)
    dates: frozenset[date] = attrs.field(default=frozenset(), converter=_days)

    def __attrs_post_init__(self) -> None:
        if self.every_year is None and not self.dates:
            raise InvalidArgument(f"holiday {self.id}: set every_year (MM-DD) or dates")

    def days_in(self, year: int) -> list[date]:
        """The holiday's days in ``year``."""
        found = sorted(day for day in self.dates if day.year == year)
        if self.every_year is not None:
            month, day = (int(part) for part in self.every_year.split("-"))
            found.append(_on(year, date(2000, month, day)))
        return found


def _holidays(value: Iterable[Holiday]) -> tuple[Holiday, ...]:
    holidays = sequence_of("care holidays", value, Holiday)
    ids = [holiday.id for holiday in holidays]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InvalidArgument(f"care holidays: {twice} are declared more than once")
    return holidays


def _drop(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, Decimal) or not 0 < value < 1):
        raise InvalidArgument(
            f"care trigger churn: drop {value!r} must be a Decimal between 0 and 1"
        )


@attrs.frozen(kw_only=True)
class CareTrigger:
    """One care trigger: ``kind`` (``birthday``, ``anniversary``, ``inactive``,
    ``churn``, ``welcome``, ``holiday``), the ``points`` to credit and/or the ``gift`` (a
    reward id) to give.

    ``days`` is the number of days without a purchase before "we miss you"
    (``inactive`` only); ``tiers`` are the tiers whose new members are welcomed
    (``welcome`` only); ``holidays`` the holiday calendar (``holiday`` only). A
    ``churn`` trigger turns a spending drop into a care task by itself: spend over the
    last ``recent_months`` below ``1 - drop`` times the usual spend over the
    ``baseline_months`` before (see :mod:`loyaltykit.analytics.churn`).
    """

    kind: str = attrs.field(validator=_kind)
    points: int = attrs.field(default=0, validator=_natural)
    gift: str | None = attrs.field(default=None, validator=_gift)
    days: int = attrs.field(default=0, validator=_natural)
    tiers: frozenset[str] = attrs.field(default=frozenset(), converter=_trigger_tiers)
    holidays: tuple[Holiday, ...] = attrs.field(default=(), converter=_holidays)
    drop: Decimal | None = attrs.field(default=None, validator=_drop)
    recent_months: int = attrs.field(default=3, validator=_natural)
    baseline_months: int = attrs.field(default=12, validator=_natural)

    def __attrs_post_init__(self) -> None:
        if self.kind == "inactive" and self.days == 0:
            raise InvalidArgument("care trigger inactive: set days, e.g. days = 90")
        if self.kind == "welcome" and not self.tiers:
            raise InvalidArgument("care trigger welcome: set tiers, e.g. tiers = ['gold']")
        if self.kind == "holiday" and not self.holidays:
            raise InvalidArgument("care trigger holiday: set holidays, the holiday calendar")
        if self.kind == "churn" and self.drop is None:
            raise InvalidArgument("care trigger churn: set drop, e.g. drop = '0.5'")
        if not 1 <= self.recent_months <= 60 or not 1 <= self.baseline_months <= 60:
            raise InvalidArgument("care trigger churn: months must be from 1 to 60")


def _route_tiers(value: Iterable[str]) -> frozenset[str]:
    return codes("care route tiers", value)


def _route_regions(value: Iterable[str]) -> frozenset[str]:
    return codes("care route regions", value)


def _route_team(_instance: Any, _attribute: Any, value: Any) -> None:
    identifier("care team", value)


@attrs.frozen(kw_only=True)
class CareRoute:
    """Care of members in ``tiers`` (any tier when empty) living in ``regions`` (any
    region when empty) goes to ``team``."""

    team: str = attrs.field(validator=_route_team)
    tiers: frozenset[str] = attrs.field(default=frozenset(), converter=_route_tiers)
    regions: frozenset[str] = attrs.field(default=frozenset(), converter=_route_regions)

    def takes(self, tier: str | None, region: str | None) -> bool:
        """Whether a member of ``tier`` in ``region`` is this route's."""
        return (not self.tiers or tier in self.tiers) and (
            not self.regions or region in self.regions
        )


def _routes(value: Iterable[CareRoute]) -> tuple[CareRoute, ...]:
    routes = sequence_of("care routes", value, CareRoute)
    for route in routes:
        if not isinstance(route, CareRoute):
            raise InvalidArgument(f"care routes: {route!r} is not a CareRoute")
    return routes


def _associates(
    value: Mapping[str, str] | tuple[tuple[str, str], ...],
) -> tuple[tuple[str, str], ...]:
    if isinstance(value, tuple):  # attrs.evolve passes the stored pairs back
        value = dict(value)
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"care associates: {value!r} must map a region to an associate")
    for region, associate in value.items():
        identifier("care associates region", region)
        identifier("care associate", associate)
    return tuple(sorted(value.items()))


@attrs.frozen(kw_only=True)
class CareAssignment:
    """Who works a member's care actions (see :func:`assign_care`).

    ``routes`` are tried in order (diamond members, then the city VIPs, to the call
    centre); a member no route takes goes to ``default_team``, and there to the
    associate closest to them: their own (the profile attribute ``associate``), else
    the associate of their region (``associates``, region -> associate). The region is
    the profile attribute ``region_attribute``.
    """

    routes: tuple[CareRoute, ...] = attrs.field(default=(), converter=_routes)
    default_team: str = attrs.field(default="stores", validator=_route_team)
    associates: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_associates)
    region_attribute: str = attrs.field(
        default="region", validator=lambda _i, _a, v: identifier("care region_attribute", v)
    )


def assign_care(
    assignment: CareAssignment, customer: Customer, tier: str | None
) -> tuple[str, str | None]:
    """The team and, where there is one, the associate who works ``customer``'s care.

    >>> from datetime import timezone
    >>> from loyaltykit.domain.customer import Profile
    >>> rules = CareAssignment(
    ...     routes=(CareRoute(team="call-centre", tiers={"diamond"}),),
    ...     associates={"pudong": "wang-li"},
    ... )
    >>> member = Customer(id="m-1", enrolled_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...                   profile=Profile(attributes={"region": "pudong"}))
    >>> assign_care(rules, member, "diamond"), assign_care(rules, member, "gold")
    (('call-centre', None), ('stores', 'wang-li'))
    """
    region = customer.profile.attribute(assignment.region_attribute)
    region = None if region is None else str(region)
    for route in assignment.routes:
        if route.takes(tier, region):
            return route.team, None
    own = customer.profile.attribute("associate")
    if own is not None:
        return assignment.default_team, str(own)
    return assignment.default_team, dict(assignment.associates).get(region or "")


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
    assignment: CareAssignment = attrs.field(factory=lambda: CareAssignment())

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

    ``team`` and ``assignee`` say who works it (:func:`assign_care`); once the call is
    made, ``done_at``, its ``outcome`` (one of :data:`CALL_OUTCOMES`) and the caller's
    ``note`` are read back from it. ``follows`` is, for a follow-up offer, the action
    whose call led to it. ``checked`` and ``check_note`` are quality control's verdict
    on the call, when it was sampled (:mod:`loyaltykit.domain.care_quality`).
    """

    customer_id: CustomerId
    kind: str
    id: str
    due_at: datetime
    points: int = 0
    gift: str | None = None
    detail: str = ""
    team: str | None = None
    assignee: str | None = None
    done_at: datetime | None = None
    outcome: str | None = None
    note: str = ""
    follows: str | None = None
    checked: bool | None = None
    check_note: str = ""

    @property
    def order(self) -> tuple[int, datetime, CustomerId, str]:
        """Sort key: birthdays, then churn warnings, then routine follow-ups, then
        follow-up offers; then by due date and member."""
        return (CARE_STEPS[self.kind], self.due_at, self.customer_id, self.id)


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
    spending_drop: Decimal | None = None,
) -> list[CareAction]:
    """The care actions due for ``customer`` at ``at`` (in ``zone``), in care order.

    ``last_purchase`` is when they last bought (``None``: never, so enrolment counts);
    ``tier_history`` their tier changes (a change into a ``welcome`` tier from outside
    them is a new top-tier member); ``spending_drop`` the fraction their spending fell
    by, when the churn warning found a drop. Open members only (closed or erased members
    get no care). A dated action (birthday, anniversary, welcome, holiday) is due from
    its day until ``config.grace_days`` later; "we miss you" is due once per spell
    without purchases, however late the run; a churn warning once per calendar month
    while the drop lasts.
    """
    if customer.status is CustomerStatus.CLOSED or customer.is_erased:
        return []
    today = at.astimezone(zone).date()
    grace = timedelta(days=config.grace_days)
    enrolled = customer.enrolled_at.astimezone(zone).date()
    found: list[CareAction] = []

    def add(kind: str, occasion: str, day: date, detail: str, trigger: CareTrigger) -> None:
        found.append(
            CareAction(
                customer_id=customer.id,
                kind=kind,
                id=derived_identifier(kind, occasion),
                due_at=_midnight(day, zone),
                points=trigger.points,
                gift=trigger.gift,
                detail=detail,
            )
        )

    def dated(kind: str, occasion: str, day: date, detail: str, trigger: CareTrigger) -> None:
        if day <= today <= day + grace and day >= enrolled:
            add(kind, occasion, day, detail, trigger)

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
            detail = f"no purchase since {seen.isoformat()} ({inactive.days} days)"
            add("inactive", seen.isoformat(), due, detail, inactive)
    churn = config.trigger("churn")
    if churn is not None and spending_drop is not None:
        month = f"{today.year:04d}-{today.month:02d}"
        add("churn", month, today, f"spending fell {spending_drop:.0%} ({month})", churn)
    holiday = config.trigger("holiday")
    if holiday is not None:
        for greeting in holiday.holidays:
            for year in (today.year - 1, today.year):
                for day in greeting.days_in(year):
                    occasion = f"{greeting.id}:{year}"
                    dated("holiday", occasion, day, f"{greeting.name} {year}", holiday)
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
        "team": action.team,
        "assignee": action.assignee,
        "done_at": None if action.done_at is None else action.done_at.isoformat(),
        "outcome": action.outcome,
        "note": action.note,
        "follows": action.follows,
        "checked": action.checked,
        "check_note": action.check_note,
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
    ledger refers to them), the day shrinks to the first of its year, and the detail, the
    caller's note and quality control's note go."""
    due = action.due_at
    return attrs.evolve(
        action,
        due_at=datetime(due.year, 1, 1, tzinfo=due.tzinfo),
        detail="",
        note="",
        check_note="",
    )


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
        # records written before assignment and outcomes were kept have none
        team=record.get("team"),
        assignee=record.get("assignee"),
        done_at=None
        if record.get("done_at") is None
        else datetime.fromisoformat(record["done_at"]),
        outcome=record.get("outcome"),
        note=record.get("note", ""),
        follows=record.get("follows"),
        checked=record.get("checked"),
        check_note=record.get("check_note", ""),
    )
