"""Campaigns in the policy engine: who they are for, and what they add to an event.

:class:`Campaign` joins the pure parts of :mod:`loyaltykit.domain.campaigns` (schedule,
effects, limits, budget) with an :class:`Audience` (tiers, tags, segments and a condition
in the condition language). :func:`campaign_awards` is what the engine runs after the
base rules: campaigns in priority order (lowest first, then declaration order), each
either applying or saying why not, one trace line per campaign.

Stacking: a ``stack`` campaign applies alongside every other; an ``exclusive`` one, when
it applies, stops every campaign after it. Multipliers never compound: each campaign's
multiplier works on the points the base rules earned (``basis = "total"``: after the
rules' own multipliers such as a tier bonus, and caps; ``basis = "base"``: the additive
rules only), so x2 and x3 together give the base points plus 1x plus 2x.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.basket import MoneyOff
from loyaltykit.domain.campaigns import (
    CAMPAIGN_EFFECTS,
    Budget,
    CampaignEffect,
    DrawEntries,
    MemberLimit,
    Multiply,
    RewardGrant,
    Schedule,
    SpendBonus,
)
from loyaltykit.errors import InvalidArgument
from loyaltykit.policy.pricing import CampaignDiscount
from loyaltykit.policy.rules import Check, check
from loyaltykit.values import CustomerId, codes, identifier, sequence_of

__all__ = [
    "STACKINGS",
    "Audience",
    "Award",
    "Campaign",
    "campaign_awards",
    "campaign_discounts",
    "checked_campaigns",
]

STACKINGS = ("stack", "exclusive")
BASES = ("total", "base")
Event = Purchase | CustomEvent


def _codes(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise InvalidArgument(f"audience: {value!r} is a string; pass a list such as ['gold']")
    return codes("audience", value)


@attrs.frozen(kw_only=True)
class Audience:
    """Who a campaign is for. Every part that is set must match: the member's tier is
    one of ``tiers``; they carry at least one of ``tags``; their ``segment`` attribute is
    one of ``segments``; the ``condition`` holds. An empty audience is everyone."""

    tiers: frozenset[str] = attrs.field(default=frozenset(), converter=_codes)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_codes)
    segments: frozenset[str] = attrs.field(default=frozenset(), converter=_codes)
    condition: Check | None = attrs.field(default=None, converter=check)

    def refusal(self, context: Mapping[str, Any]) -> str | None:
        """Why the member in ``context`` is not in the audience, or ``None``."""
        customer = context["customer"]
        if self.tiers and customer.get("tier") not in self.tiers:
            return f"tier {customer.get('tier') or 'none'} not in {sorted(self.tiers)}"
        if self.tags and not self.tags & set(customer.get("tags") or ()):
            return f"tags {sorted(customer.get('tags') or ())} have none of {sorted(self.tags)}"
        if self.segments and customer.get("segment") not in self.segments:
            return f"segment {customer.get('segment')} not in {sorted(self.segments)}"
        if self.condition is not None and not self.condition.evaluate(context):
            return f"condition not met: {self.condition.source}"
        return None


def _id(_instance: Any, _attribute: Any, value: Any) -> None:
    identifier("campaign id", value)
    if len(value) > 64:
        raise InvalidArgument(f"campaign id: {value!r} is longer than 64 characters")


def _one_of(options: tuple[str, ...]) -> Any:
    def validate(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in options:
            raise InvalidArgument(
                f"campaign {attribute.name}: {value!r} is not one of {list(options)}"
            )

    return validate


def _events(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise InvalidArgument(f"campaign events: {value!r} is a string; pass a list")
    events = sequence_of("campaign events", value, str)
    if not events:
        raise InvalidArgument("campaign events: a campaign reacts to at least one event type")
    for event in events:
        identifier("campaign event type", event)
    return events


def _effects(value: Iterable[CampaignEffect]) -> tuple[CampaignEffect, ...]:
    effects = sequence_of("campaign effects", value, CAMPAIGN_EFFECTS)
    if not effects:
        raise InvalidArgument("campaign effects: a campaign needs at least one effect")
    return effects


@attrs.frozen(kw_only=True)
class Campaign:
    """A campaign (回馈活动): an objective and theme for the people who plan it, a
    schedule, an audience, effects on the events it reacts to, per-member limits, a
    budget, and its place among other campaigns (``priority``, ``stacking``).

    ``events`` are the event types it reacts to (purchases by default).
    """

    id: str = attrs.field(validator=_id)
    name: str = ""
    objective: str = ""
    theme: str = ""
    schedule: Schedule
    audience: Audience = attrs.field(factory=Audience)
    events: tuple[str, ...] = attrs.field(default=("purchase",), converter=_events)
    effects: tuple[CampaignEffect, ...] = attrs.field(converter=_effects)
    member_limit: MemberLimit | None = None
    budget: Budget | None = None
    priority: int = 100
    stacking: str = attrs.field(default="stack", validator=_one_of(STACKINGS))
    basis: str = attrs.field(default="total", validator=_one_of(BASES))

    def __attrs_post_init__(self) -> None:
        where = f"campaign {self.id}"
        budget, limit = self.budget, self.member_limit
        if not self.takes_money_off:
            if budget is not None and budget.money is not None and budget.point_cost is None:
                raise InvalidArgument(
                    f"{where} budget: money {budget.money} needs point_cost, the cost of 1 point"
                )
            return
        if not all(isinstance(effect, MoneyOff) for effect in self.effects):
            raise InvalidArgument(
                f"{where} effects: a campaign that takes money off gives nothing else "
                "(give points with a campaign of its own)"
            )
        if self.events != ("purchase",):
            raise InvalidArgument(
                f"{where} events: money comes off a purchase's basket, at checkout; "
                f"{list(self.events)} is not ['purchase']"
            )
        if limit is not None and limit.points is not None:
            raise InvalidArgument(f"{where} member_limit: money off counts times, not points")
        if budget is not None and (budget.points is not None or budget.point_cost is not None):
            raise InvalidArgument(
                f"{where} budget: money off is budgeted in money alone (no points, no point_cost)"
            )

    @property
    def takes_money_off(self) -> bool:
        """True when the campaign takes money off baskets at checkout (its effects are
        :class:`~loyaltykit.domain.basket.MoneyOff`) rather than giving points."""
        return any(isinstance(effect, MoneyOff) for effect in self.effects)

    @property
    def point_types(self) -> frozenset[str]:
        """The point types the campaign's effects grant."""
        return frozenset(
            effect.point_type
            for effect in self.effects
            if not isinstance(effect, RewardGrant | DrawEntries | MoneyOff)
        )


def checked_campaigns(
    campaigns: Iterable[Campaign],
    point_types: Iterable[str],
    tiers: Iterable[str] | None = None,
) -> None:
    """Refuse duplicate campaign ids, effects on undeclared point types and, when the
    program has a tier ladder, audiences naming tiers it does not have."""
    campaigns = tuple(campaigns)
    ids = [campaign.id for campaign in campaigns]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidArgument(f"campaigns: ids {duplicates} are used more than once")
    codes = set(point_types)
    for campaign in campaigns:
        unknown = sorted(campaign.point_types - codes)
        if unknown:
            raise InvalidArgument(
                f"campaigns[{campaign.id}]: point types {unknown} are not declared "
                f"(point types: {sorted(codes)})"
            )
        missing = sorted(campaign.audience.tiers - set(tiers or campaign.audience.tiers))
        if missing:
            raise InvalidArgument(
                f"campaigns[{campaign.id}].audience.tiers: {missing} are not tiers of the "
                f"program (tiers: {sorted(tiers or ())})"
            )


@attrs.frozen(kw_only=True)
class Award:
    """What a campaign gives one member for one event, before the budget is taken.

    ``points`` pairs point types with the points wanted; the funding step
    (:mod:`loyaltykit.policy.funding`) takes them from the budget counter
    (``budget_counter`` up to ``budget_limit``) and cuts them to what is left.
    ``times_key`` and ``points_key`` are the member's counters to increase.
    """

    campaign: str
    customer_id: CustomerId
    points: tuple[tuple[str, int], ...]
    rewards: tuple[tuple[str, int], ...] = ()
    entries: int = 0
    budget_counter: str | None = None
    budget_limit: int | None = None
    times_key: str | None = None
    points_key: str | None = None

    @property
    def wanted(self) -> int:
        """Every point the award asks for."""
        return sum(points for _, points in self.points)


Note = tuple[str, bool, str]


@attrs.frozen(kw_only=True)
class _Gift:
    """What a campaign's effects add up to for one event, and the trace's words."""

    points: dict[str, int]
    rewards: tuple[tuple[str, int], ...]
    entries: int
    parts: tuple[str, ...]


def _gift(
    campaign: Campaign,
    event: Event,
    earned: Mapping[str, int],
    base: Mapping[str, int],
    rounding: str,
) -> _Gift:
    spent = event.amount if isinstance(event, Purchase) else None
    points: dict[str, int] = {}
    parts: list[str] = []
    rewards: list[tuple[str, int]] = []
    entries = 0
    for effect in campaign.effects:
        if isinstance(effect, RewardGrant):
            rewards.append((effect.reward, effect.quantity))
            parts.append(effect.describe())
            continue
        if isinstance(effect, DrawEntries):
            entries += effect.entries(spent)
            parts.append(f"{effect.describe()} -> {entries}")
            continue
        if isinstance(effect, Multiply):
            basis = (earned if campaign.basis == "total" else base).get(effect.point_type, 0)
            extra = effect.extra(basis, rounding)
            parts.append(f"{effect.describe()} -> {basis + extra} (+{extra} {effect.point_type})")
        elif isinstance(effect, SpendBonus):
            extra = effect.extra(spent)
            parts.append(f"{effect.describe()} -> +{extra} {effect.point_type}")
        elif isinstance(effect, MoneyOff):  # priced at checkout (campaign_discounts)
            continue
        else:
            extra = effect.points
            parts.append(f"{effect.describe()} {effect.point_type}")
        if extra > 0:
            points[effect.point_type] = points.get(effect.point_type, 0) + extra
    return _Gift(points=points, rewards=tuple(rewards), entries=entries, parts=tuple(parts))


def campaign_awards(
    campaigns: Iterable[Campaign],
    *,
    customer_id: CustomerId,
    event: Event,
    context: Mapping[str, Any],
    counters: Mapping[str, int],
    earned: Mapping[str, int],
    base: Mapping[str, int],
    rounding: str,
) -> tuple[list[Award], list[Note]]:
    """The awards of every campaign that applies to ``event`` and one note per campaign
    (``(campaign id, applied, detail)``) saying what it gave or why it did not apply.

    ``earned`` is what the base rules earned per point type (after caps), ``base`` what
    their additive rules earned; ``counters`` are the member's stored counters.
    """
    at: datetime = context["at"]  # local, in the program's time zone
    awards: list[Award] = []
    notes: list[Note] = []
    exclusive: str | None = None
    ordered = sorted(enumerate(campaigns), key=lambda pair: (pair[1].priority, pair[0]))
    for _, campaign in ordered:
        # money off is the checkout's business (campaign_discounts), before the points
        if event.type not in campaign.events or campaign.takes_money_off:
            continue
        name = campaign.id
        why = (
            f"not stacked: {exclusive} is exclusive"
            if exclusive is not None
            else _refusal(campaign, context, counters, at)
        )
        if why is not None:
            notes.append((name, False, f"{name}: {why}"))
            continue
        gift = _gift(campaign, event, earned, base, rounding)
        wanted, parts = gift.points, list(gift.parts)
        limit = campaign.member_limit
        times_key, points_key = (None, None) if limit is None else limit.keys(name, at)
        if limit is not None and limit.points is not None:
            assert points_key is not None
            room = max(0, limit.points - counters.get(points_key, 0))
            wanted, cut = _within(wanted, room)
            if cut:
                parts.append(f"member limit {limit.points} points per {limit.period}: {room} left")
        if not wanted and not gift.rewards and not gift.entries:
            notes.append((name, False, f"{name}: gives nothing here ({'; '.join(parts)})"))
            continue
        budget = campaign.budget
        awards.append(
            Award(
                campaign=name,
                customer_id=customer_id,
                points=tuple(wanted.items()),
                rewards=gift.rewards,
                entries=gift.entries,
                budget_counter=None if budget is None else Budget.counter(name),
                budget_limit=None if budget is None else budget.limit,
                times_key=times_key,
                points_key=points_key,
            )
        )
        notes.append((name, True, f"{name}: {'; '.join(parts)}"))
        if campaign.stacking == "exclusive":
            exclusive = name
    return awards, notes


def campaign_discounts(
    campaigns: Iterable[Campaign],
    *,
    currency: str,
    context: Mapping[str, Any],
    counters: Mapping[str, int],
    spent: Mapping[str, int],
) -> tuple[CampaignDiscount, ...]:
    """What each campaign that takes money off offers a basket in ``currency`` at
    checkout, in priority order (lowest first, then declaration order): its money off, or
    why it does not apply (schedule, audience, member limit, another currency).

    ``counters`` are the member's stored counters, ``spent`` what each money budget has
    spent (``Budget.money_counter``, in minor units); stacking is decided as the basket
    is priced (:func:`~loyaltykit.policy.pricing.price_basket`), on what really came off.
    """
    at: datetime = context["at"]  # local, in the program's time zone
    offers: list[CampaignDiscount] = []
    ordered = sorted(enumerate(campaigns), key=lambda pair: (pair[1].priority, pair[0]))
    for _, campaign in ordered:
        if not campaign.takes_money_off:
            continue
        offs = tuple(effect for effect in campaign.effects if isinstance(effect, MoneyOff))
        budget, limit = campaign.budget, campaign.member_limit
        why = _refusal(campaign, context, counters, at)
        moneys = {
            money.currency
            for off in offs
            for money in (off.amount, off.minimum, off.maximum)
            if money is not None
        }
        if budget is not None and budget.money is not None:
            moneys.add(budget.money.currency)
        if why is None and moneys - {currency}:
            why = f"the basket is in {currency}, the campaign in {', '.join(sorted(moneys))}"
        counter = Budget.money_counter(campaign.id)
        budgeted = budget is not None and budget.money is not None
        left = None
        if budget is not None and budgeted and why is None:
            try:  # a budget that was not read is a bug, never a budget left untouched
                left = budget.money_left(spent[counter])
            except KeyError:
                raise LookupError(f"the budget counter {counter!r} was not read") from None
        offers.append(
            CampaignDiscount(
                campaign=campaign.id,
                money_off=offs,
                exclusive=campaign.stacking == "exclusive",
                budget_left=left,
                budget_counter=counter if budgeted else None,
                budget_limit=None if budget is None else budget.money_limit,
                times_key=None if limit is None else limit.keys(campaign.id, at)[0],
                refusal=why,
            )
        )
    return tuple(offers)


def _refusal(
    campaign: Campaign, context: Mapping[str, Any], counters: Mapping[str, int], at: datetime
) -> str | None:
    """Why ``campaign`` does not apply (schedule, audience, member limit), or ``None``."""
    assert at.tzinfo is not None
    why = campaign.schedule.inactive(at, at.tzinfo)
    if why is not None:
        return f"not active: schedule {why}"
    why = campaign.audience.refusal(context)
    if why is not None:
        return f"audience: {why}"
    limit = campaign.member_limit
    if limit is not None and limit.times is not None:
        times_key, _ = limit.keys(campaign.id, at)
        if counters.get(times_key, 0) >= limit.times:
            return f"member limit: {limit.times} per {limit.period} used"
    return None


def _within(wanted: dict[str, int], room: int) -> tuple[dict[str, int], bool]:
    """``wanted`` cut, in order, so that it adds up to at most ``room``."""
    kept: dict[str, int] = {}
    cut = False
    for point_type, points in wanted.items():
        take = min(points, room)
        cut = cut or take < points
        room -= take
        if take:
            kept[point_type] = take
    return kept, cut
