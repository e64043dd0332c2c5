"""Campaigns as data: when they run, what they give, how much they may cost.

A campaign (回馈活动) has a :class:`Schedule` (a window, and optionally recurrences in
RFC 5545 ``RRULE`` form read by ``dateutil.rrule``: ``FREQ=MONTHLY;BYMONTHDAY=8`` is
"the 8th of every month is member day"), effects (:class:`Multiply`, :class:`Bonus`,
:class:`SpendBonus`, :class:`TierCredits`, :class:`RewardGrant`, :class:`DrawEntries`, or
a :class:`~loyaltykit.domain.basket.MoneyOff` taken off the basket at checkout),
per-member limits (:class:`MemberLimit`) and a :class:`Budget`. Who it is for and how it
stacks with other campaigns is the policy layer's business
(:mod:`loyaltykit.policy.campaigns`); this module is pure and knows no condition.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> shanghai = ZoneInfo("Asia/Shanghai")
>>> member_day = Schedule(
...     start=datetime(2026, 1, 1, tzinfo=shanghai), recurrence="FREQ=MONTHLY;BYMONTHDAY=8"
... )
>>> member_day.inactive(datetime(2026, 5, 8, 20, tzinfo=shanghai), shanghai) is None
True
>>> member_day.inactive(datetime(2026, 5, 9, 1, tzinfo=shanghai), shanghai)
'not an occurrence of FREQ=MONTHLY;BYMONTHDAY=8'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from loyaltykit.domain.basket import MoneyOff
from loyaltykit.domain.periods import PERIODS, period_key
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import Money, identifier

__all__ = [
    "CAMPAIGN_EFFECTS",
    "PERIODS",
    "Bonus",
    "Budget",
    "BudgetView",
    "CampaignEffect",
    "CampaignReport",
    "DrawEntries",
    "MemberLimit",
    "Multiply",
    "Participation",
    "RepeatRate",
    "RewardGrant",
    "Schedule",
    "SpendBonus",
    "TierCredits",
    "minor_units",
    "of_minor_units",
    "period_key",
]


def _aware(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidArgument(f"schedule.{attribute.name}: {value!r} is not an aware datetime")


def _positive_int(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidArgument(f"{attribute.name}: {value!r} must be a positive int")


def _optional_positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _positive_int(instance, attribute, value)


def _positive_money(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, Money) or value.amount <= 0):
        raise InvalidArgument(f"{attribute.name}: {value!r} must be a positive Money amount")


def _to_decimal(value: object) -> object:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return value
    return value


def _factor(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 1:
        raise InvalidArgument(
            f"{attribute.name}: {value!r} must be a Decimal above 1 such as Decimal('2')"
        )


def _period(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in PERIODS:
        raise InvalidArgument(f"{attribute.name}: {value!r} is not one of {list(PERIODS)}")


@lru_cache(maxsize=256)
def _occurrences(recurrence: str, start: datetime, zone: tzinfo | None = None) -> rrule:
    # cached per (rule, start, zone): the rrule object caches the occurrences it walked
    dtstart = start if zone is None else _naive_local(start, zone)
    found = rrulestr(recurrence, dtstart=dtstart, cache=True)
    if not isinstance(found, rrule):
        raise InvalidArgument(f"schedule.recurrence: {recurrence!r} must be a single RRULE")
    return found


def _recurrence(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or "DTSTART" in value.upper():
        raise InvalidArgument(
            f"schedule.recurrence: {value!r} must be an RRULE such as "
            "'FREQ=MONTHLY;BYMONTHDAY=8' (the start comes from schedule.start)"
        )
    try:
        _occurrences(value, datetime(2000, 1, 1))
    except (ValueError, TypeError) as error:
        raise InvalidArgument(f"schedule.recurrence: {value!r} is not an RRULE: {error}") from None


def _duration(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, relativedelta):
        raise InvalidArgument(f"schedule.duration: {value!r} is not a relativedelta")
    probe = datetime(2000, 1, 1)
    if probe + value <= probe:
        raise InvalidArgument(f"schedule.duration: {value!r} must be a positive duration")


def _span(duration: relativedelta) -> timedelta | None:
    """``duration`` as a fixed timedelta when it has no months or years (the usual
    case: adding a timedelta is many times cheaper than adding a relativedelta)."""
    if duration.years or duration.months or duration.weekday is not None:
        return None
    absolute = ("year", "month", "day", "hour", "minute", "second", "microsecond")
    if any(getattr(duration, name) is not None for name in absolute):
        return None
    return timedelta(
        days=duration.days,
        hours=duration.hours,
        minutes=duration.minutes,
        seconds=duration.seconds,
        microseconds=duration.microseconds,
    )


def _naive_local(at: datetime, zone: tzinfo) -> datetime:
    # rrules run on local wall time, so "the 8th" stays the 8th across DST changes
    return at.astimezone(zone).replace(tzinfo=None)


@attrs.frozen(kw_only=True)
class Schedule:
    """When a campaign runs, in the program's time zone.

    The campaign runs from ``start`` until ``end`` (exclusive; ``None`` for open-ended).
    With a ``recurrence`` (an RFC 5545 RRULE, e.g. ``FREQ=MONTHLY;BYMONTHDAY=8`` or
    ``FREQ=WEEKLY;BYDAY=SA,SU;BYMONTH=12``) it runs only during occurrences: each begins
    at an occurrence of the rule, whose time of day is the start's local time, and lasts
    ``duration`` (a day unless said otherwise).
    """

    start: datetime = attrs.field(validator=_aware)
    end: datetime | None = attrs.field(default=None, validator=_aware)
    recurrence: str | None = attrs.field(default=None, validator=_recurrence)
    duration: relativedelta = attrs.field(
        factory=lambda: relativedelta(days=1), validator=_duration
    )

    _length: timedelta | None = attrs.field(init=False, repr=False, eq=False, default=None)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_length", _span(self.duration))
        if self.end is not None and self.end <= self.start:
            raise InvalidArgument(
                f"schedule.end: {self.end.isoformat()} is not after start {self.start.isoformat()}"
            )

    def inactive(self, at: datetime, zone: tzinfo) -> str | None:
        """Why the campaign is not running at ``at`` (the trace's words), or ``None``."""
        if at < self.start:
            return f"not started (starts {self.start.astimezone(zone).isoformat()})"
        if self.end is not None and at >= self.end:
            return f"ended ({self.end.astimezone(zone).isoformat()})"
        if self.recurrence is None:
            return None
        local = _naive_local(at, zone)
        rule = _occurrences(self.recurrence, self.start, zone)
        began = rule.before(local, inc=True)
        length = self.duration if self._length is None else self._length
        if began is None or local >= began + length:
            return f"not an occurrence of {self.recurrence}"
        return None

    def occurrences(self, after: datetime, until: datetime, zone: tzinfo) -> list[datetime]:
        """The instants occurrences begin in ``[after, until)`` (the window's start alone
        when there is no recurrence), aware in ``zone``."""
        if self.recurrence is None:
            inside = after <= self.start < until
            return [self.start.astimezone(zone)] if inside else []
        rule = _occurrences(self.recurrence, self.start, zone)
        found = rule.between(_naive_local(after, zone), _naive_local(until, zone), inc=True)
        instants = [moment.replace(tzinfo=zone) for moment in found]
        return [
            moment
            for moment in instants
            if after <= moment < until and (self.end is None or moment < self.end)
        ]

    def window(self, at: datetime) -> tuple[datetime, datetime]:
        """The campaign's whole window: ``start`` to ``end`` (``at`` when open-ended)."""
        return self.start, self.end if self.end is not None else at


@attrs.frozen(kw_only=True)
class Multiply:
    """Extra points: the member's points of ``point_type`` from the base rules times
    ``factor`` minus what they already earned (x2 gives as much again)."""

    kind = "multiply"

    factor: Decimal = attrs.field(converter=_to_decimal, validator=_factor)
    point_type: str = "points"

    def extra(self, earned: int, rounding: str) -> int:
        """The extra points on ``earned`` base points."""
        total = (earned * self.factor).quantize(Decimal(1), rounding=rounding)
        return max(0, int(total) - earned)

    def describe(self) -> str:
        """How the trace names the effect."""
        return f"x{self.factor.normalize():f}"


@attrs.frozen(kw_only=True)
class TierCredits(Multiply):
    """Double (or more) tier credits: a :class:`Multiply` on the program's qualifying
    point type, so tier progress speeds up during the campaign."""

    kind = "tier_credits"

    factor: Decimal = attrs.field(default=Decimal(2), converter=_to_decimal, validator=_factor)
    point_type: str = "tier"

    def describe(self) -> str:
        return f"tier credits x{self.factor.normalize():f}"


@attrs.frozen(kw_only=True)
class Bonus:
    """A fixed number of extra points each time the campaign applies."""

    kind = "bonus"

    points: int = attrs.field(validator=_positive_int)
    point_type: str = "points"

    def describe(self) -> str:
        """How the trace names the effect."""
        return f"+{self.points}"


@attrs.frozen(kw_only=True)
class SpendBonus:
    """满减-style bonus: ``points`` when a purchase reaches ``threshold``; with ``repeat``
    once per full threshold (spend 1,000 at "200 per 300" and get 600)."""

    kind = "spend_bonus"

    threshold: Money = attrs.field(validator=_positive_money)
    points: int = attrs.field(validator=_positive_int)
    repeat: bool = False
    point_type: str = "points"

    def extra(self, spent: Money | None) -> int:
        """The bonus for a purchase of ``spent`` (nothing for other events)."""
        if spent is None or spent.currency != self.threshold.currency:
            return 0
        times = int(spent.amount // self.threshold.amount)
        return self.points * (times if self.repeat else min(times, 1))

    def describe(self) -> str:
        """How the trace names the effect."""
        each = " each" if self.repeat else ""
        return f"spend {self.threshold} -> +{self.points}{each}"


@attrs.frozen(kw_only=True)
class RewardGrant:
    """A reward from the catalogue (a discount coupon, a gift) the campaign grants, as a
    reference: the decision lists it, the catalogue issues it."""

    kind = "reward"

    reward: str = attrs.field(validator=lambda _i, _a, v: identifier("reward", v))
    quantity: int = attrs.field(default=1, validator=_positive_int)

    def describe(self) -> str:
        """How the trace names the effect."""
        return f"reward {self.reward} x{self.quantity}"


@attrs.frozen(kw_only=True)
class DrawEntries:
    """Entries into the campaign's draw (抽奖): ``per_event`` each time it applies, plus
    one per full ``per`` spent on a purchase."""

    kind = "draw_entries"

    per_event: int = 0
    per: Money | None = attrs.field(default=None, validator=_positive_money)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.per_event, bool) or not isinstance(self.per_event, int):
            raise InvalidArgument(f"per_event: {self.per_event!r} must be an int")
        if self.per_event < 0 or (self.per_event == 0 and self.per is None):
            raise InvalidArgument(
                f"draw entries: per_event {self.per_event!r} and per {self.per!r} give nothing"
            )

    def entries(self, spent: Money | None) -> int:
        """Entries earned by an event (a purchase of ``spent``, or ``None``)."""
        count = self.per_event
        if self.per is not None and spent is not None and spent.currency == self.per.currency:
            count += int(spent.amount // self.per.amount)
        return count

    def describe(self) -> str:
        """How the trace names the effect."""
        parts = [f"{self.per_event} per event"] if self.per_event else []
        parts += [f"1 per {self.per}"] if self.per is not None else []
        return "draw entries " + " + ".join(parts)


CampaignEffect = Multiply | TierCredits | Bonus | SpendBonus | RewardGrant | DrawEntries | MoneyOff
CAMPAIGN_EFFECTS: tuple[type[CampaignEffect], ...] = (
    Multiply,
    TierCredits,
    Bonus,
    SpendBonus,
    RewardGrant,
    DrawEntries,
    MoneyOff,
)
EFFECT_KINDS: dict[str, type[Any]] = {kind.kind: kind for kind in CAMPAIGN_EFFECTS}


@attrs.frozen(kw_only=True)
class MemberLimit:
    """How often and how much one member may benefit per ``period`` (day, week, month,
    year, lifetime), counted in the program's time zone."""

    times: int | None = attrs.field(default=None, validator=_optional_positive_int)
    points: int | None = attrs.field(default=None, validator=_optional_positive_int)
    period: str = attrs.field(default="lifetime", validator=_period)

    def __attrs_post_init__(self) -> None:
        if self.times is None and self.points is None:
            raise InvalidArgument("member_limit: set times, points or both")

    def keys(self, campaign: str, local: datetime) -> tuple[str, str]:
        """The per-member counter keys ``(times, points)`` for the period of ``local``."""
        period = period_key(self.period, local)
        return f"campaign:{campaign}:times:{period}", f"campaign:{campaign}:points:{period}"


def minor_units(money: Money) -> int:
    """``money`` as a whole number of its currency's minor units (cents), rounded down."""
    return int(money.amount.scaleb(money.minor_units).to_integral_value(rounding=ROUND_DOWN))


def of_minor_units(units: int, currency: str) -> Money:
    """``units`` minor units of ``currency`` as money."""
    zero = Money.zero(currency)
    return Money.of(Decimal(units).scaleb(-zero.minor_units), currency)


@attrs.frozen(kw_only=True)
class Budget:
    """What a campaign may give away in total (finance's budget, 预算).

    A campaign that gives points is budgeted in ``points``, and/or in ``money`` at
    ``point_cost`` per point: the smaller limit wins. A campaign that takes money off at
    checkout is budgeted in ``money`` alone: what it takes off, in all, never passes it.
    """

    points: int | None = attrs.field(default=None, validator=_optional_positive_int)
    money: Money | None = attrs.field(default=None, validator=_positive_money)
    point_cost: Money | None = attrs.field(default=None, validator=_positive_money)

    def __attrs_post_init__(self) -> None:
        if self.points is None and self.money is None:
            raise InvalidArgument("budget: set points, money or both")
        if self.point_cost is not None and self.money is None:
            raise InvalidArgument(f"budget: point_cost {self.point_cost} needs a money budget")
        money, cost = self.money, self.point_cost
        if money is not None and cost is not None and money.currency != cost.currency:
            raise InvalidArgument(f"budget: money {money} and point_cost {cost} differ in currency")

    @property
    def limit(self) -> int | None:
        """The budget in points: the smaller of ``points`` and ``money / point_cost``
        (``None`` for a budget of money alone, which counts no points)."""
        limits = [] if self.points is None else [self.points]
        if self.money is not None and self.point_cost is not None:
            ratio = self.money.amount / self.point_cost.amount
            limits.append(int(ratio.quantize(Decimal(1), rounding=ROUND_DOWN)))
        return min(limits) if limits else None

    @property
    def money_limit(self) -> int | None:
        """The money budget in the currency's minor units (what the money counter counts)."""
        return None if self.money is None else minor_units(self.money)

    def money_left(self, spent: int) -> Money | None:
        """What the money budget has left after ``spent`` minor units (``None``: none)."""
        limit = self.money_limit
        if limit is None or self.money is None:
            return None
        return of_minor_units(max(0, limit - spent), self.money.currency)

    def cost(self, points: int) -> Money | None:
        """The money cost of ``points`` (``None`` without a ``point_cost``)."""
        return None if self.point_cost is None else self.point_cost * points

    @staticmethod
    def counter(campaign: str) -> str:
        """The shared counter of points given away by ``campaign``."""
        return f"campaign:{campaign}:points"

    @staticmethod
    def money_counter(campaign: str) -> str:
        """The shared counter of money ``campaign`` took off baskets, in minor units."""
        return f"campaign:{campaign}:money"


@attrs.frozen(kw_only=True)
class Participation:
    """One member's part in a campaign: how many times it applied, the points it gave
    (net of refunds), draw entries, rewards granted, and the first and last time."""

    customer_id: str
    times: int
    points: int
    entries: int
    rewards: Mapping[str, int]
    first_at: datetime
    last_at: datetime

    @classmethod
    def from_record(cls, customer_id: str, document: Mapping[str, Any]) -> Participation:
        """The participation stored as ``document`` (see the campaign service)."""
        return cls(
            customer_id=customer_id,
            times=document["times"],
            points=document["points"],
            entries=document["entries"],
            rewards=dict(document["rewards"]),
            first_at=datetime.fromisoformat(document["first_at"]),
            last_at=datetime.fromisoformat(document["last_at"]),
        )


@attrs.frozen(kw_only=True)
class BudgetView:
    """A campaign's budget: the limit in points, what was given away, what is left, and
    the money cost of what was given (with a ``point_cost``; for a campaign that takes
    money off, the money it took off); ``money_left`` is what a money budget has left
    (with a ``point_cost``: after the cost of the points given)."""

    campaign: str
    limit: int | None
    spent: int
    left: int | None
    cost: Money | None = None
    money_left: Money | None = None


@attrs.frozen(kw_only=True)
class RepeatRate:
    """Repeat purchase in a window: of the ``customers`` in a group, ``buyers`` bought at
    least once and ``repeaters`` at least twice; ``rate`` is repeaters / buyers."""

    customers: int
    buyers: int
    repeaters: int

    @property
    def rate(self) -> Decimal | None:
        """``repeaters / buyers`` to 4 places, ``None`` when nobody bought."""
        if not self.buyers:
            return None
        return (Decimal(self.repeaters) / self.buyers).quantize(Decimal("0.0001"))


@attrs.frozen(kw_only=True)
class CampaignReport:
    """How a campaign did (活动效果评估), as data.

    ``cost`` is what the points given cost (with a ``point_cost``), or for a campaign
    that takes money off from a money budget, the money it took off (net of refunds).
    ``during`` is the campaign window up to the report's instant, ``before`` a window of
    the same length just before it. Repeat-purchase rates compare participants with
    everyone else, before and during. ``redemptions`` counts the catalogue redemptions
    and grants attributed to the campaign (``campaign=``), cancelled ones excepted.
    """

    campaign: str
    before: tuple[datetime, datetime]
    during: tuple[datetime, datetime]
    participants: int
    points_issued: int
    cost: Money | None
    rewards_granted: tuple[tuple[str, int], ...]
    entries: int
    redemptions: int | None
    participants_before: RepeatRate
    participants_during: RepeatRate
    others_before: RepeatRate
    others_during: RepeatRate
