"""Earning rules and caps: what an event earns, and how much is allowed.

Rules run in priority order (lowest number first). Additive rules (base rate, per
unit, fixed points, spend threshold, first purchase, referral) add points to their
point type's running total; a :class:`Multiplier` scales the running total of its
point type as it stands; an ``exclusive`` rule that fires stops every later rule.
Totals are rounded with the program's rounding, then :class:`Cap` s clip them against
stored counters, so a cap holds across processes.

A base rate, a per-unit rule, a spend threshold, a multiplier and a cap may carry a
``scope`` (:class:`~loyaltykit.domain.basket.Scope`): they then see only the lines of the
basket in scope. A scoped base rate earns on what those lines cost, a scoped threshold
compares what they cost, a scoped multiplier scales only their share of the running
total, a scoped cap clips only the points they earned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any, ClassVar, Protocol

import attrs

from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.basket import Scope, eligible_amount, line_amount, scope_of
from loyaltykit.domain.periods import period_key
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import Money, identifier, rate_points

__all__ = [
    "BaseRate",
    "Cap",
    "Check",
    "EarningRule",
    "FirstPurchase",
    "FixedPoints",
    "Multiplier",
    "PerUnit",
    "Referral",
    "Shares",
    "SpendThreshold",
    "check",
]

Event = Purchase | CustomEvent
Shares = dict[int | None, Fraction]
"""Points by the line of the basket that earned them (its place, from 0), ``None`` for the
points no line earned (a fixed bonus, the part of a rate earned on a delivery fee)."""
_ONE = Decimal(1)
_NONE = Decimal(0)
PERIODS = ("event", "day", "week", "month", "year", "lifetime")


class Check(Protocol):
    """A compiled condition: ``evaluate(context) -> bool`` and the text it came from."""

    @property
    def source(self) -> str: ...

    def evaluate(self, context: Mapping[str, Any]) -> bool: ...


@attrs.frozen
class PythonCheck:
    """A condition written as a Python callable taking the context mapping."""

    function: Callable[[Mapping[str, Any]], bool]

    @property
    def source(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        return bool(self.function(context))


def check(value: object) -> Check | None:
    """A condition from a string of the condition language, a callable, or ``None``.

    A string may read only the roots a rule's context has (``event``, ``customer``,
    ``counters``, ``at``): a misspelt ``custmer.tags`` is refused here, not false forever.
    """
    if value is None:
        return None
    if isinstance(value, str):
        from loyaltykit.policy.conditions import ROOTS, Condition

        return Condition.parse(value, names=ROOTS)
    if hasattr(value, "evaluate") and hasattr(value, "source"):
        return value
    if callable(value):
        return PythonCheck(value)
    raise InvalidArgument(f"condition: {value!r} is neither a string nor a callable")


def _rule_id(_instance: Any, _attribute: Any, value: Any) -> None:
    identifier("rule id", value)


def _positive_int(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidArgument(f"{attribute.name}: {value!r} must be a positive int")


@attrs.frozen(kw_only=True)
class EarningRule:
    """What every rule has: an id, the event it reacts to, a condition, an order."""

    kind: ClassVar[str] = "rule"

    id: str = attrs.field(validator=_rule_id)
    point_type: str = "points"
    event: str = "purchase"
    condition: Check | None = attrs.field(default=None, converter=check)
    priority: int = 100
    exclusive: bool = False
    description: str = ""

    def points(self, event: Event, state: RuleState) -> Decimal:
        """Points this rule adds for ``event`` (before rounding)."""
        raise NotImplementedError  # pragma: no cover - every concrete rule overrides it

    def explain(self, event: Event, points: Decimal) -> str:
        """One line of the trace."""
        return f"{self.id}: {points.normalize():f}"

    def shares(self, event: Event, points: Decimal) -> Shares:
        """Which lines earned the ``points`` this rule added (a scoped multiplier or cap
        later sees their share): by default none of them in particular."""
        return {None: Fraction(points)}

    @property
    def rule_scope(self) -> Scope | None:
        """The lines the rule sees, or ``None`` for the whole event."""
        return getattr(self, "scope", None)


@attrs.frozen(kw_only=True)
class RuleState:
    """What rules may know about the customer beyond the condition context."""

    purchases_before: int
    tier: str | None
    referred_by: str | None


def _optional_positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _positive_int(instance, attribute, value)


def _cap_period(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in PERIODS or value == "event":
        raise InvalidArgument(f"{attribute.name}: {value!r} is not one of {list(PERIODS[1:])}")


def _money(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Money) or value.amount <= 0:
        raise InvalidArgument(f"{attribute.name}: {value!r} must be a positive Money amount")


@attrs.frozen(kw_only=True)
class BaseRate(EarningRule):
    """``points`` per ``per`` of money spent, e.g. 1 point per 10 CNY (rounded down)."""

    kind: ClassVar[str] = "base_rate"

    per: Money = attrs.field(validator=_money)
    rate: int = attrs.field(default=1, validator=_positive_int)
    rounding: str = ROUND_DOWN
    scope: Scope | None = attrs.field(default=None, converter=scope_of)

    def spent(self, event: Purchase) -> Money:
        """What the rate applies to: the purchase, or the part of it in scope."""
        if event.amount.currency != self.per.currency:
            raise InvalidArgument(
                f"rule {self.id}: purchase in {event.amount.currency}, rate in {self.per.currency}"
            )
        if self.scope is None:
            return event.amount
        return eligible_amount(self.scope, event, what=f"rule {self.id}")

    def points(self, event: Event, state: RuleState) -> Decimal:
        if not isinstance(event, Purchase):
            return Decimal(0)
        # the one rate arithmetic, shared with values.points_for
        return Decimal(
            rate_points(
                self.spent(event).amount,
                per=self.per.amount,
                points=self.rate,
                rounding=self.rounding,
            )
        )

    def explain(self, event: Event, points: Decimal) -> str:
        if self.scope is None:
            spent = event.amount if isinstance(event, Purchase) else "nothing"
            return f"{self.id}: {self.rate} per {self.per} on {spent} -> {points:f}"
        spent = self.spent(event) if isinstance(event, Purchase) else "nothing"
        return (
            f"{self.id}: {self.rate} per {self.per} on {spent} "
            f"({self.scope.describe()}) -> {points:f}"
        )

    def shares(self, event: Event, points: Decimal) -> Shares:
        """Each line's exact, unrounded points (``rate`` per ``per`` of what it cost), so a
        line's share never shrinks when another line joins the basket; the rest of the
        rounded points (a delivery fee's) is nobody's."""
        if not isinstance(event, Purchase):
            return {None: Fraction(points)}
        currency = event.amount.currency
        if self.scope is None:
            if any(
                (cost := line.line_amount) is None or cost.currency != currency
                for line in event.items
            ):
                return {None: Fraction(points)}  # an unscoped rate never needs line prices
            places: Sequence[int] = range(len(event.items))
        else:
            places = self.scope.positions(event.items)
        per = Fraction(self.per.amount) / self.rate
        what = f"rule {self.id}"
        exact: Shares = {
            n: Fraction(line_amount(event.items[n], currency, what=what).amount) / per
            for n in places
        }
        rest = Fraction(points) - sum(exact.values(), Fraction(0))
        if rest > 0:
            exact[None] = rest
        return exact


@attrs.frozen(kw_only=True)
class PerUnit(EarningRule):
    """``rate`` points per unit bought, optionally only units of one ``category``."""

    kind: ClassVar[str] = "per_unit"

    rate: int = attrs.field(validator=_positive_int)
    category: str | None = None
    scope: Scope | None = attrs.field(default=None, converter=scope_of)

    def counted(self, event: Purchase) -> tuple[int, ...]:
        """The places of the lines whose units count."""
        return tuple(
            n
            for n, item in enumerate(event.items)
            if (self.category is None or item.category == self.category)
            and (self.scope is None or self.scope.includes(item))
        )

    def points(self, event: Event, state: RuleState) -> Decimal:
        if not isinstance(event, Purchase):
            return Decimal(0)
        scope, category = self.scope, self.category
        units = sum(
            item.quantity
            for item in event.items
            if (category is None or item.category == category)
            and (scope is None or scope.includes(item))
        )
        return Decimal(units * self.rate)

    def explain(self, event: Event, points: Decimal) -> str:
        scope = f" of {self.category}" if self.category else ""
        if self.scope is not None:
            scope += f" ({self.scope.describe()})"
        return f"{self.id}: {self.rate} per unit{scope} -> {points:f}"

    def shares(self, event: Event, points: Decimal) -> Shares:
        if not isinstance(event, Purchase):
            return {None: Fraction(points)}
        return {n: Fraction(event.items[n].quantity * self.rate) for n in self.counted(event)}


@attrs.frozen(kw_only=True)
class FixedPoints(EarningRule):
    """A fixed number of points per event (check-in, survey completed, review...)."""

    kind: ClassVar[str] = "fixed"

    amount: int = attrs.field(validator=_positive_int)

    def points(self, event: Event, state: RuleState) -> Decimal:
        return Decimal(self.amount)

    def explain(self, event: Event, points: Decimal) -> str:
        return f"{self.id}: {self.amount} for {event.type}"


@attrs.frozen(kw_only=True)
class SpendThreshold(EarningRule):
    """``amount`` bonus points when a purchase reaches ``threshold`` (spend 500, get 200).

    With ``repeat`` the bonus is granted once per full threshold (满减-style tiers of spend).
    """

    kind: ClassVar[str] = "spend_threshold"

    threshold: Money = attrs.field(validator=_money)
    amount: int = attrs.field(validator=_positive_int)
    repeat: bool = False
    scope: Scope | None = attrs.field(default=None, converter=scope_of)

    def spent(self, event: Purchase) -> Money:
        """What is compared with the threshold: the purchase, or the part of it in scope."""
        if self.scope is None:
            return event.amount
        return eligible_amount(self.scope, event, what=f"rule {self.id}")

    def points(self, event: Event, state: RuleState) -> Decimal:
        if not isinstance(event, Purchase) or event.amount.currency != self.threshold.currency:
            return Decimal(0)
        spent = self.spent(event).amount
        if not self.repeat:  # amounts are not negative: once reached, one bonus
            return Decimal(self.amount) if spent >= self.threshold.amount else _NONE
        return Decimal(int(spent // self.threshold.amount) * self.amount)

    def explain(self, event: Event, points: Decimal) -> str:
        if self.scope is None or not isinstance(event, Purchase):
            return f"{self.id}: spend {self.threshold} -> +{points:f}"
        spent = self.spent(event)
        return (
            f"{self.id}: spend {self.threshold} on {self.scope.describe()} "
            f"({spent} spent there) -> +{points:f}"
        )

    def shares(self, event: Event, points: Decimal) -> Shares:
        if self.scope is None or not isinstance(event, Purchase):
            return {None: Fraction(points)}
        return _by_amount(event, self.scope, Fraction(points), what=f"rule {self.id}")


@attrs.frozen(kw_only=True)
class FirstPurchase(EarningRule):
    """A welcome bonus on the customer's first purchase."""

    kind: ClassVar[str] = "first_purchase"

    amount: int = attrs.field(validator=_positive_int)

    def points(self, event: Event, state: RuleState) -> Decimal:
        first = isinstance(event, Purchase) and state.purchases_before == 0
        return Decimal(self.amount if first else 0)

    def explain(self, event: Event, points: Decimal) -> str:
        return f"{self.id}: first purchase -> +{points:f}"


@attrs.frozen(kw_only=True)
class Referral(EarningRule):
    """Both sides of a referral, on the referred member's first qualifying purchase.

    The referred member earns ``amount``; the referrer earns ``referrer_amount`` (a
    separate effect on the referrer's account). ``minimum`` is the qualifying spend.
    ``referrer_cap`` rewards a referrer at most that many times per
    ``referrer_cap_period`` (day, week, month, year, lifetime); referrals beyond it
    still count on the leaderboard.
    """

    kind: ClassVar[str] = "referral"

    amount: int = attrs.field(validator=_positive_int)
    referrer_amount: int = attrs.field(validator=_positive_int)
    minimum: Money | None = None
    referrer_cap: int | None = attrs.field(default=None, validator=_optional_positive_int)
    referrer_cap_period: str = attrs.field(default="lifetime", validator=_cap_period)

    def cap_key(self, local: datetime) -> str | None:
        """The referrer's counter of rewarded referrals for the period of ``local`` (the
        event's local time), or ``None`` when the rule has no ``referrer_cap``."""
        if self.referrer_cap is None:
            return None
        return f"referral:{self.id}:{period_key(self.referrer_cap_period, local)}"

    def qualifies(self, event: Event, state: RuleState) -> bool:
        """True on the first purchase of a referred member that meets the minimum."""
        if not isinstance(event, Purchase) or state.referred_by is None:
            return False
        if state.purchases_before != 0:
            return False
        return self.minimum is None or event.amount >= self.minimum

    def points(self, event: Event, state: RuleState) -> Decimal:
        return Decimal(self.amount if self.qualifies(event, state) else 0)

    def explain(self, event: Event, points: Decimal) -> str:
        return f"{self.id}: referred member's first purchase -> +{points:f}"


def _to_decimal(value: object) -> object:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return value
    return value


def _factor(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise InvalidArgument(
            f"factor: {value!r} must be a positive Decimal such as Decimal('1.5')"
        )


@attrs.frozen(kw_only=True)
class AttributeRate(EarningRule):
    """``rate`` points per unit of a numeric event attribute (miles flown, nights stayed)."""

    kind: ClassVar[str] = "attribute_rate"

    attribute: str
    rate: Decimal = attrs.field(default=Decimal(1), converter=_to_decimal, validator=_factor)
    rounding: str = ROUND_DOWN

    def points(self, event: Event, state: RuleState) -> Decimal:
        value = dict(event.attributes).get(self.attribute)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return Decimal(0)
        return (value * self.rate).quantize(_ONE, rounding=self.rounding)

    def explain(self, event: Event, points: Decimal) -> str:
        value = dict(event.attributes).get(self.attribute)
        return f"{self.id}: {self.rate.normalize():f} per {self.attribute} x {value} -> {points:f}"


@attrs.frozen(kw_only=True)
class Multiplier(EarningRule):
    """Scales its point type's running total, e.g. x1.5 for gold members."""

    kind: ClassVar[str] = "multiplier"

    factor: Decimal = attrs.field(converter=_to_decimal, validator=_factor)
    scope: Scope | None = attrs.field(default=None, converter=scope_of)

    def points(self, event: Event, state: RuleState) -> Decimal:
        return Decimal(0)

    def explain(self, event: Event, points: Decimal) -> str:
        return f"{self.id}: x{self.factor.normalize():f} -> {points:f}"


def _period(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in PERIODS:
        raise InvalidArgument(f"cap period: {value!r} is not one of {list(PERIODS)}")


@attrs.frozen(kw_only=True)
class Cap:
    """At most ``limit`` points of ``point_type`` per ``period`` (event, day, week, month,
    year, lifetime), counted in the program's time zone against stored counters."""

    id: str = attrs.field(validator=_rule_id)
    limit: int = attrs.field(validator=_positive_int)
    period: str = attrs.field(validator=_period)
    point_type: str = "points"
    scope: Scope | None = attrs.field(default=None, converter=scope_of)

    def counter(self, at: datetime) -> str | None:
        """The counter key for the period containing ``at`` (local time); ``None`` per event."""
        period = self.period
        if period == "event":
            return None
        if period == "day":
            key = at.date().isoformat()  # YYYY-MM-DD
        elif period == "week":
            year, week, _ = at.isocalendar()
            key = f"{year}-W{week:02d}"
        elif period == "month":
            key = at.date().isoformat()[:7]  # YYYY-MM
        elif period == "year":
            key = f"{at.year:04d}"
        else:
            key = "all"
        return f"cap:{self.id}:{key}"


def _by_amount(event: Purchase, scope: Scope, points: Fraction, *, what: str) -> Shares:
    """``points`` (a scoped threshold's bonus) shared among the lines in ``scope`` by what
    each cost."""
    if points == 0:
        return {}
    currency = event.amount.currency
    positions = scope.positions(event.items)
    costs = {n: line_amount(event.items[n], currency, what=what).amount for n in positions}
    spent = sum(costs.values(), Decimal(0))
    if spent <= 0:
        return {None: points}
    shares: Shares = {n: points * Fraction(cost) / Fraction(spent) for n, cost in costs.items()}
    rest = points - sum(shares.values(), Fraction(0))
    if rest > 0:
        shares[None] = rest
    return shares


RULE_KINDS: dict[str, type[EarningRule]] = {
    rule.kind: rule
    for rule in (
        BaseRate,
        PerUnit,
        FixedPoints,
        SpendThreshold,
        FirstPurchase,
        Referral,
        Multiplier,
        AttributeRate,
    )
}
