"""Coalition partners (联盟商家): merchants who award points they fund and supply rewards.

A :class:`Partner` is declared in the programme with its agreement: ``point_price`` is
what the partner pays the programme for each point it awards; a catalogue reward whose
``partner`` is the partner is supplied by it, and the reward's ``cost`` is what the
programme pays the partner for each unit redeemed. Both are settled in the partner's
``currency``.

Everything here is pure: :func:`settle` reads the partner's ledger movements (its awards,
their reversals and expiry) and the redemptions of its rewards, and sums what happened in
a period. A reversal, a cancellation or an expiry counts in the period in which it took
effect, not in the period of the award, so a closed period's figures never change.

>>> from datetime import datetime, timezone
>>> cinema = Partner(id="cinema", currency="CNY", point_price=Money.of("0.02", "CNY"))
>>> cinema.owed_for(1500)
Money(amount=Decimal('30.00'), currency='CNY')
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import attrs

from loyaltykit.domain.ledger import Entry, EntryKind, reversal_target
from loyaltykit.domain.redemptions import Redemption, RedemptionState
from loyaltykit.errors import InvalidAmount, InvalidArgument, InvalidIdentifier
from loyaltykit.values import (
    Money,
    Points,
    aware,
    distinct_by_id,
    identifier,
    identifiers,
    label,
    utc,
)

__all__ = [
    "MAX_PARTNER_ID",
    "PARTNER_AWARD",
    "GoalEvaluation",
    "GoalMetric",
    "GoalProgress",
    "Partner",
    "PartnerGoal",
    "PartnerSettlement",
    "award_metadata",
    "checked_partner_id",
    "settle",
]

PARTNER_AWARD = "partner_award"
"""The ``event`` of a partner's award entry (its ``partner``, ``point_price`` and
``currency`` beside it)."""


class GoalMetric(enum.Enum):
    """What a partner's goal counts over its period.

    ``points_issued``: points the partner awarded, less those taken back by reversals;
    ``points_redeemed``: points members spent on the partner's rewards, less those given
    back by cancellations; ``redemptions``: units of its rewards redeemed, less those
    cancelled; ``members_acquired``: members who got points from the partner for the
    first time."""

    POINTS_ISSUED = "points_issued"
    POINTS_REDEEMED = "points_redeemed"
    REDEMPTIONS = "redemptions"
    MEMBERS_ACQUIRED = "members_acquired"


def _metric(value: object) -> GoalMetric:
    if isinstance(value, GoalMetric):
        return value
    try:
        return GoalMetric(value)
    except (ValueError, TypeError):
        names = [metric.value for metric in GoalMetric]
        raise InvalidArgument(f"metric: {value!r} is not one of {names}") from None


def _target(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 2**53:
        raise InvalidAmount("target", value, "a positive int")


def _instant(what: str) -> Any:
    return lambda _i, _a, value: aware(what, value)


@attrs.frozen(kw_only=True)
class PartnerGoal:
    """A target for one partner over ``[start, end)``: ``target`` of ``metric``.

    >>> from datetime import datetime, timezone
    >>> goal = PartnerGoal(
    ...     id="2026-q1", metric="points_issued", target=10_000,
    ...     start=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...     end=datetime(2026, 4, 1, tzinfo=timezone.utc),
    ... )
    >>> goal.metric
    <GoalMetric.POINTS_ISSUED: 'points_issued'>
    """

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("goal id", v))
    metric: GoalMetric = attrs.field(converter=_metric)
    target: int = attrs.field(validator=_target)
    start: datetime = attrs.field(converter=utc, validator=_instant("start"))
    end: datetime = attrs.field(converter=utc, validator=_instant("end"))

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidArgument(
                f"goal {self.id}: end {self.end.isoformat()} is not after "
                f"start {self.start.isoformat()}"
            )


def _goals(value: Iterable[PartnerGoal]) -> tuple[PartnerGoal, ...]:
    return distinct_by_id("goals", value, PartnerGoal)


MAX_PARTNER_ID = 64
"""The longest partner id (its records live under ``partner:<id>``)."""


def checked_partner_id(value: object) -> str:
    """``value`` if it is a partner id: an identifier of at most :data:`MAX_PARTNER_ID`
    characters; else :class:`~loyaltykit.errors.InvalidIdentifier`."""
    found = identifier("partner_id", value)
    if len(found) > MAX_PARTNER_ID:
        raise InvalidIdentifier("partner_id", value, f"at most {MAX_PARTNER_ID} characters")
    return found


def _campaigns(value: object) -> tuple[str, ...]:
    return identifiers("campaigns", value)


def _currency(_instance: Any, _attribute: Any, value: Any) -> None:
    Money.zero(value)  # an ISO 4217 code, or InvalidCurrency


@attrs.frozen(kw_only=True)
class Partner:
    """A merchant of the coalition and its agreement with the programme.

    ``point_price`` is what the partner pays for each point it awards (``None``: it
    awards none); the programme pays it the ``cost`` of each unit of its rewards redeemed.
    Both are in ``currency``. Its awards are ``point_type`` points. ``campaigns`` are the
    programme's campaigns it funds: the points they give (on that point type) are the
    partner's too, at the price in force when they were given. ``goals`` are its targets
    (see :class:`PartnerGoal`)."""

    id: str = attrs.field(validator=lambda _i, _a, v: checked_partner_id(v))
    name: str = attrs.field(default="", validator=lambda _i, _a, v: label("partner name", v))
    currency: str = attrs.field(validator=_currency)
    point_price: Money | None = None
    point_type: str = attrs.field(
        default="points", validator=lambda _i, _a, v: identifier("point_type", v)
    )
    campaigns: tuple[str, ...] = attrs.field(default=(), converter=_campaigns)
    goals: tuple[PartnerGoal, ...] = attrs.field(default=(), converter=_goals)

    def __attrs_post_init__(self) -> None:
        price = self.point_price
        if price is not None and (
            not isinstance(price, Money) or price.amount <= 0 or price.currency != self.currency
        ):
            raise InvalidAmount(
                "point_price", price, f"a positive Money price of a point in {self.currency}"
            )
        if self.campaigns and price is None:
            raise InvalidArgument(
                f"partner {self.id}: funding campaigns {list(self.campaigns)} needs a "
                "point_price (what the partner pays for their points)"
            )

    def goal(self, goal_id: str) -> PartnerGoal | None:
        """The goal with this id, or ``None``."""
        return next((goal for goal in self.goals if goal.id == goal_id), None)

    def owed_for(self, points: Points) -> Money:
        """What the partner owes for awarding ``points`` (rounded half up to the coin)."""
        price = self.point_price or Money.zero(self.currency)
        return (price * points).quantize(ROUND_HALF_UP)


def award_metadata(partner: Partner) -> dict[str, str]:
    """What an award entry carries about the partner and the price in force."""
    assert partner.point_price is not None
    return {
        "event": PARTNER_AWARD,
        "partner": partner.id,
        "point_price": str(partner.point_price.amount),
        "currency": partner.currency,
    }


@attrs.frozen(kw_only=True)
class PartnerSettlement:
    """What one partner and the programme owe each other for ``[start, end)``.

    Points: ``points_issued`` awarded by the partner, ``points_reversed`` of its awards
    taken back (a refund), ``points_expired`` of its awards that expired (breakage: no
    money changes hands for them); ``units_redeemed`` and ``points_redeemed`` of its
    rewards, ``units_cancelled`` and ``points_restored`` by cancellations. Money:
    ``owed_by_partner`` for the points it awarded less those reversed, at the price in
    force when each was awarded; ``owed_to_partner`` the cost of its rewards redeemed
    less those cancelled; ``net`` is what the partner pays (negative: what it is paid).
    ``members_acquired`` counts members who got points from it for the first time.
    """

    partner_id: str
    start: datetime
    end: datetime
    points_issued: Points = 0
    points_reversed: Points = 0
    points_expired: Points = 0
    units_redeemed: int = 0
    units_cancelled: int = 0
    points_redeemed: Points = 0
    points_restored: Points = 0
    members_acquired: int = 0
    owed_by_partner: Money
    owed_to_partner: Money

    @property
    def net(self) -> Money:
        """``owed_by_partner - owed_to_partner``: positive when the partner pays."""
        return self.owed_by_partner - self.owed_to_partner

    def figure(self, metric: GoalMetric) -> int:
        """The period's figure of ``metric`` (what a goal counts)."""
        match metric:
            case GoalMetric.POINTS_ISSUED:
                return self.points_issued - self.points_reversed
            case GoalMetric.POINTS_REDEEMED:
                return self.points_redeemed - self.points_restored
            case GoalMetric.REDEMPTIONS:
                return self.units_redeemed - self.units_cancelled
            case GoalMetric.MEMBERS_ACQUIRED:
                return self.members_acquired


@attrs.frozen(kw_only=True)
class GoalProgress:
    """How far a partner is towards ``goal`` at ``at``: ``achieved`` counts the goal's
    metric from its start until ``at`` (or its end, once over)."""

    partner_id: str
    goal: PartnerGoal
    at: datetime
    achieved: int

    @property
    def remaining(self) -> int:
        """What is still missing to reach the target (0 once reached)."""
        return max(0, self.goal.target - self.achieved)

    @property
    def share(self) -> Decimal:
        """``achieved / target``, to four places (``Decimal('0.4250')``: 42.5%)."""
        ratio = Decimal(self.achieved) / Decimal(self.goal.target)
        return ratio.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    @property
    def reached(self) -> bool:
        """Whether the target is reached already."""
        return self.achieved >= self.goal.target

    @property
    def over(self) -> bool:
        """Whether the goal's period has ended at ``at``."""
        return self.at >= self.goal.end


@attrs.frozen(kw_only=True)
class GoalEvaluation:
    """The verdict on a goal once its period is over: ``met`` or missed, with the
    ``achieved`` figure and the whole ``settlement`` of the period."""

    partner_id: str
    goal: PartnerGoal
    achieved: int
    settlement: PartnerSettlement

    @property
    def met(self) -> bool:
        """Whether the target was reached."""
        return self.achieved >= self.goal.target

    @property
    def verdict(self) -> str:
        """``"met"`` or ``"missed"``."""
        return "met" if self.met else "missed"

    @property
    def difference(self) -> int:
        """``achieved - target``: what the partner did beyond (or short of) the target."""
        return self.achieved - self.goal.target


PriceAt = Callable[[datetime], Money]
"""The price of a partner's point in force at an instant (for its campaigns' points)."""


def _lot_entry(lot_id: str) -> str:
    return lot_id.rsplit(".", 1)[0]


class _Tally:
    """The running sums of :func:`settle`."""

    def __init__(self, partner: Partner, start: datetime, end: datetime, price_at: PriceAt) -> None:
        self.partner, self.start, self.end = partner, start, end
        self.price_at = price_at
        self.funded = {f"campaign:{campaign}" for campaign in partner.campaigns}
        self.counts: dict[str, int] = {}
        self.by_partner = Money.zero(partner.currency)
        self.to_partner = Money.zero(partner.currency)

    def within(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def add(self, name: str, amount: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def price(self, entry: Entry) -> Money | None:
        """What the partner pays per point of ``entry``, if the entry is the partner's:
        an award (at the price it recorded) or the points of a campaign it funds."""
        if entry.kind is not EntryKind.EARN:
            return None
        metadata = dict(entry.metadata)
        if metadata.get("event") == PARTNER_AWARD:
            if metadata.get("partner") != self.partner.id:
                return None
            return Money.of(str(metadata["point_price"]), str(metadata["currency"]))
        if metadata.get("rules") in self.funded:
            return self.price_at(entry.occurred_at)
        return None

    def ledger(self, entries: Sequence[Entry]) -> None:
        """One member's entries of the partner's point type."""
        prices = {entry.id: self.price(entry) for entry in entries}
        awards = {entry.id: entry for entry in entries if prices[entry.id] is not None}
        if not awards:
            return
        if self.within(min(entry.occurred_at for entry in awards.values())):
            self.add("members_acquired", 1)
        undone: dict[str, Fraction] = {}
        for entry in sorted(entries, key=lambda e: e.seq):
            award = awards.get(entry.id)
            if award is not None:
                if self.within(entry.occurred_at):
                    points = entry.amount + entry.pending_delta
                    self.add("points_issued", points)
                    self.by_partner += self._price_of(entry.id, prices) * points
            elif entry.kind is EntryKind.REVERSE and entry.reverses in awards:
                original = awards[entry.reverses]
                before = undone.get(original.id, Fraction(0))
                part = entry.portion if entry.portion is not None else 1 - before
                undone[original.id] = before + part
                if self.within(entry.occurred_at):
                    total = original.amount + original.pending_delta
                    points = reversal_target(total, before, part)
                    self.add("points_reversed", points)
                    self.by_partner -= self._price_of(original.id, prices) * points
            elif entry.kind is EntryKind.EXPIRE and self.within(entry.occurred_at):
                for change in entry.lots:
                    if _lot_entry(change.lot_id) in awards:
                        self.add("points_expired", -change.delta)

    @staticmethod
    def _price_of(entry_id: str, prices: dict[str, Money | None]) -> Money:
        price = prices[entry_id]
        assert price is not None
        return price

    def redemption(self, redemption: Redemption) -> None:
        """One redemption of the partner's rewards."""
        cost = redemption.cost
        if self.within(redemption.created_at):
            self.add("units_redeemed", redemption.quantity)
            self.add("points_redeemed", redemption.points)
            if cost is not None:
                self.to_partner += cost
        closed = redemption.closed_at
        if (
            redemption.state is RedemptionState.CANCELLED
            and closed is not None
            and self.within(closed)
        ):
            self.add("units_cancelled", redemption.quantity)
            self.add("points_restored", redemption.points)
            if cost is not None:
                self.to_partner -= cost

    def settlement(self) -> PartnerSettlement:
        return PartnerSettlement(
            partner_id=self.partner.id,
            start=self.start,
            end=self.end,
            owed_by_partner=self.by_partner.quantize(ROUND_HALF_UP),
            owed_to_partner=self.to_partner.quantize(ROUND_HALF_UP),
            **self.counts,
        )


def settle(
    partner: Partner,
    start: datetime,
    end: datetime,
    ledgers: Iterable[Sequence[Entry]],
    redemptions: Iterable[Redemption],
    *,
    price_at: PriceAt | None = None,
) -> PartnerSettlement:
    """The settlement of ``partner`` for ``[start, end)``.

    ``ledgers`` holds, per member who ever got points from the partner, their entries of
    the partner's point type; ``redemptions`` the redemptions of the partner's rewards.
    An award carries its price; the points of a campaign the partner funds cost
    ``price_at`` their instant (default: the partner's ``point_price``). Money is summed
    exactly and rounded half up to the coin once, at the end."""
    start, end = aware("start", start), aware("end", end)
    if end <= start:
        raise InvalidArgument(f"end: {end.isoformat()} is not after start {start.isoformat()}")
    fixed = partner.point_price or Money.zero(partner.currency)
    tally = _Tally(partner, start, end, price_at or (lambda _at: fixed))
    for entries in ledgers:
        tally.ledger(entries)
    for redemption in redemptions:
        if redemption.partner == partner.id:
            tally.redemption(redemption)
    return tally.settlement()
