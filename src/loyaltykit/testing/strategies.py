"""Hypothesis strategies for loyaltykit values, for our tests and for yours.

Each is a plain function returning a ``SearchStrategy``; bounds are keyword-only and
checked up front (``hypothesis.errors.InvalidArgument``). They compose: a history is
built from purchases, custom events and refunds, a purchase from items, and
:func:`for_program` derives all of them from one programme, so that a test exercises
what that programme reads (its currency, categories, event types and the attributes
its conditions look at)::

    from hypothesis import given
    from loyaltykit.testing import strategies as lks

    @given(lks.for_program(program).histories())
    def test_my_programme(history): ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from loyaltykit.domain.activity import CustomEvent, Item, Purchase
from loyaltykit.domain.basket import name_set
from loyaltykit.domain.campaigns import Bonus, Budget, MemberLimit, Multiply, Schedule
from loyaltykit.domain.customer import Customer, Profile
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder
from loyaltykit.domain.windows import Window
from loyaltykit.errors import InvalidArgument as LoyaltyInvalidArgument
from loyaltykit.policy.campaigns import Campaign
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import (
    BaseRate,
    Cap,
    EarningRule,
    FirstPurchase,
    FixedPoints,
    Multiplier,
    PerUnit,
    Referral,
    SpendThreshold,
)
from loyaltykit.testing.history import History, Refund, Step
from loyaltykit.testing.readings import Reading, Readings, readings
from loyaltykit.values import Money, aware

__all__ = [
    "ProgramStrategies",
    "campaigns",
    "channels",
    "custom_events",
    "customer_ids",
    "customers",
    "earning_rules",
    "for_program",
    "histories",
    "instants",
    "items",
    "money",
    "points",
    "profiles",
    "programs",
    "purchases",
    "refunds",
    "tier_ladders",
    "windows",
]

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_"

# --- activity: items, purchases, custom events, refunds, histories --------------------

CHANNELS = ("store", "online", "app", "wechat")
CATEGORIES = ("food", "coffee", "clothes", "electronics")
TAGS = ("family", "likes-fashion", "health-minded", "vip")
# realistic gaps between steps: the same minute, hours, days, a week, a month, a season,
# a year and more (a refund after the points expired)
GAPS = tuple(
    timedelta(**unit)
    for unit in (
        {"minutes": 0},
        {"hours": 1},
        {"hours": 6},
        {"days": 1},
        {"days": 3},
        {"days": 7},
        {"days": 31},
        {"days": 95},
        {"days": 380},
    )
)
RETURN_WINDOW = timedelta(days=30)

# what a person types into a name or a tag: no control characters, no lone surrogates
# (loyaltykit.values.text refuses them before they reach a backend)
_PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"))


def customer_ids() -> st.SearchStrategy[str]:
    """Valid customer ids such as ``"c-7x"``."""
    return st.text(_ID_ALPHABET, min_size=1, max_size=12).map(lambda tail: f"c{tail}")


def points(*, min_value: int = 1, max_value: int = 100_000) -> st.SearchStrategy[int]:
    """Positive numbers of points."""
    if min_value < 1 or max_value < min_value:
        raise InvalidArgument(
            f"points needs 1 <= min_value <= max_value, got {min_value}, {max_value}"
        )
    return st.integers(min_value=min_value, max_value=max_value)


# a zone with a fall-back night: its repeated hour is where wall-clock comparison goes wrong
_FALL_BACK_ZONE = ZoneInfo("America/New_York")


def _fall_back_hours(start: datetime, end: datetime) -> list[datetime]:
    """The UTC start of each New York repeated hour (01:00-02:00 local, twice: 05:00-07:00
    UTC on the first Sunday of November) that lies between ``start`` and ``end``."""
    found = []
    for year in range(start.year, end.year + 1):
        first = date(year, 11, 1)
        sunday = first + timedelta(days=(6 - first.weekday()) % 7)
        hour = datetime(sunday.year, sunday.month, sunday.day, 5, tzinfo=UTC)
        if start <= hour and hour + timedelta(hours=2) <= end:
            found.append(hour)
    return found


def instants(
    *,
    min_value: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    max_value: datetime = datetime(2035, 1, 1, tzinfo=UTC),
) -> st.SearchStrategy[datetime]:
    """Timezone-aware instants between the bounds, in UTC, fixed offsets and
    ``America/New_York``, often inside a fall-back night's repeated hour, where the same
    wall time happens twice (``fold=0`` in EDT, then ``fold=1`` in EST)."""
    if min_value.tzinfo is None or max_value.tzinfo is None:
        raise InvalidArgument("instants needs timezone-aware bounds")
    if max_value < min_value:
        raise InvalidArgument(
            f"instants needs min_value <= max_value, got {min_value}, {max_value}"
        )
    zones = st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)), _FALL_BACK_ZONE]
    )
    low, high = min_value.astimezone(UTC), max_value.astimezone(UTC)
    anywhere = st.datetimes(
        min_value=low.replace(tzinfo=None), max_value=high.replace(tzinfo=None)
    ).map(lambda moment: moment.replace(tzinfo=UTC))
    moments = anywhere
    folds = _fall_back_hours(low, high)
    if folds:
        in_fold = st.builds(
            lambda hour, minutes: hour + timedelta(minutes=minutes),
            st.sampled_from(folds),
            st.integers(0, 119),
        )
        moments = st.one_of(anywhere, in_fold)
    # astimezone picks the fold of the instant: the second 01:30 in New York gets fold=1
    return st.builds(lambda moment, zone: moment.astimezone(zone), moments, zones)


def money(
    *, currency: str = "CNY", min_value: str = "0", max_value: str = "100000"
) -> st.SearchStrategy[Money]:
    """Amounts of money with two decimal places."""
    low, high = Decimal(min_value), Decimal(max_value)
    if high < low:
        raise InvalidArgument(f"money needs min_value <= max_value, got {min_value}, {max_value}")
    return st.decimals(min_value=low, max_value=high, places=2).map(
        lambda amount: Money.of(amount, currency)
    )


def profiles(
    *,
    tags: Sequence[str] = TAGS,
    attributes: Mapping[str, st.SearchStrategy[Any]] | None = None,
) -> st.SearchStrategy[Profile]:
    """Customer profiles with some of their fields filled in: a name, a birthday, the
    ``tags`` given, and each of the free ``attributes`` (drawn from its strategy) or not."""
    text = st.text(_PRINTABLE, min_size=1, max_size=20)
    words = _check_choices("profiles tags", tags)
    return st.builds(
        Profile,
        name=st.none() | text,
        birthday=st.none() | st.dates(min_value=date(1930, 1, 1), max_value=date(2015, 12, 31)),
        # fixed addresses: st.emails() is slow to draw, and no rule reads the address
        email=st.none() | st.sampled_from(["li@example.com", "wang.fang@example.cn"]),
        preferred_channel=st.none() | st.sampled_from(["sms", "email", "app", "wechat"]),
        tags=st.frozensets(st.sampled_from(words), max_size=3),
        attributes=_attributes(attributes or {}),
    )


def earning_rules(*, currency: str = "CNY") -> st.SearchStrategy[EarningRule]:
    """Earning rules of every kind with condition-free, dumpable settings."""
    ids = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8).map(lambda s: f"r{s}")
    amounts = st.integers(1, 500)
    prices = st.integers(1, 1000).map(lambda n: Money.of(n, currency))
    common = {"id": ids, "priority": st.integers(0, 200)}
    return st.one_of(
        st.builds(BaseRate, per=prices, rate=st.integers(1, 5), **common),
        st.builds(
            PerUnit,
            rate=amounts,
            category=st.none() | st.sampled_from(["food", "coffee"]),
            **common,
        ),
        st.builds(FixedPoints, amount=amounts, **common),
        st.builds(SpendThreshold, threshold=prices, amount=amounts, repeat=st.booleans(), **common),
        st.builds(FirstPurchase, amount=amounts, **common),
        st.builds(Multiplier, factor=st.sampled_from(["1.5", "2", "1.25", "3"]), **common),
    )


def windows() -> st.SearchStrategy[Window]:
    """Qualification windows of every kind."""
    return st.one_of(
        st.integers(1, 36).map(Window.rolling),
        st.sampled_from([Window.calendar_year(), Window.anniversary_year(), Window.all_time()]),
    )


def tier_ladders(*, max_tiers: int = 4) -> st.SearchStrategy[TierLadder]:
    """Valid tier ladders: a base tier and up to ``max_tiers - 1`` tiers above it."""
    if max_tiers < 1:
        raise InvalidArgument(f"tier_ladders needs max_tiers >= 1, got {max_tiers}")
    requirement = st.builds(
        Requirement,
        metric=st.sampled_from(["spend", "purchases", "qualifying_points", "stay"]),
        at_least=st.integers(0, 100_000),
        window=windows(),
        per_month=st.booleans(),
    )
    upper = st.lists(
        st.tuples(st.lists(requirement, min_size=1, max_size=3), st.sampled_from(["all", "any"])),
        max_size=max_tiers - 1,
    )
    return st.builds(
        lambda levels, grace, mode, applies: TierLadder(
            tiers=(
                Tier(code="base", rank=0),
                *(
                    Tier(
                        code=f"t{n + 1}",
                        rank=n + 1,
                        requirements=_lifted(reqs, n),
                        mode=combine,
                    )
                    for n, (reqs, combine) in enumerate(levels)
                ),
            ),
            grace=grace,
            downgrade=mode,
            upgrade_applies=applies,
        ),
        upper,
        st.none() | st.integers(1, 6).map(lambda months: relativedelta(months=months)),
        st.sampled_from(["qualify", "one_step"]),
        st.sampled_from(["next_event", "this_event"]),
    )


def _lifted(requirements: Sequence[Requirement], level: int) -> tuple[Requirement, ...]:
    # each tier asks more than every tier below it on any requirement they share: a
    # higher tier that is easier everywhere is no valid ladder (loading refuses it)
    return tuple(
        attrs.evolve(requirement, at_least=requirement.at_least + level * 100_001)
        for requirement in requirements
    )


def campaigns(
    *, start: datetime = datetime(2026, 1, 1, tzinfo=UTC), max_days: int = 120
) -> st.SearchStrategy[Campaign]:
    """Valid campaigns: a window from ``start``, sometimes weekends only, a multiplier or a
    bonus, sometimes a member limit and a points budget."""
    aware("start", start)
    _check_bounds("campaigns max_days", 1, max_days, at_least=1)
    schedules = st.builds(
        lambda offset, days, weekends: Schedule(
            start=start + timedelta(days=offset),
            end=start + timedelta(days=offset + days),
            recurrence="FREQ=WEEKLY;BYDAY=SA,SU" if weekends else None,
        ),
        st.integers(0, max_days),
        st.integers(1, max_days),
        st.booleans(),
    )
    effects = st.one_of(
        st.sampled_from(["1.5", "2", "3"]).map(lambda factor: Multiply(factor=Decimal(factor))),
        st.integers(1, 500).map(lambda points: Bonus(points=points)),
    )
    return st.builds(
        Campaign,
        id=st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8).map(lambda s: f"c-{s}"),
        schedule=schedules,
        effects=st.lists(effects, min_size=1, max_size=2),
        member_limit=st.none()
        | st.builds(
            MemberLimit,
            points=st.integers(1, 2000),
            period=st.sampled_from(["day", "week", "month", "lifetime"]),
        ),
        budget=st.none() | st.builds(Budget, points=st.integers(100, 100_000)),
        stacking=st.sampled_from(["stack", "exclusive"]),
    )


def programs(
    *, currency: str = "CNY", max_rules: int = 6, max_campaigns: int = 2
) -> st.SearchStrategy[Program]:
    """Valid programs (unique rule ids, declared point types, tier ladders, caps and
    campaigns), dumpable to dicts."""
    if max_rules < 0:
        raise InvalidArgument(f"programs needs max_rules >= 0, got {max_rules}")
    if max_campaigns < 0:
        raise InvalidArgument(f"programs needs max_campaigns >= 0, got {max_campaigns}")
    rules = st.lists(earning_rules(currency=currency), max_size=max_rules, unique_by=lambda r: r.id)
    caps = st.lists(
        st.builds(
            Cap,
            id=st.sampled_from(["daily", "weekly", "monthly", "yearly", "per-event", "lifetime"]),
            limit=st.integers(1, 10_000),
            period=st.sampled_from(["event", "day", "week", "month", "year", "lifetime"]),
        ),
        max_size=3,
        unique_by=lambda cap: cap.id,
    )
    return st.builds(
        Program,
        name=st.sampled_from(["retail", "airline", "hotel"]),
        currency=st.just(currency),
        timezone=st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Paris"]),
        rounding=st.sampled_from(["ROUND_DOWN", "ROUND_HALF_UP"]),
        rules=rules,
        caps=caps,
        tiers=st.none() | tier_ladders(),
        campaigns=st.lists(campaigns(), max_size=max_campaigns, unique_by=lambda c: c.id),
    )


def _check_bounds(name: str, low: int, high: int, *, at_least: int) -> None:
    if low < at_least or high < low:
        raise InvalidArgument(
            f"{name} needs {at_least} <= min <= max, got min={low!r}, max={high!r}"
        )


def _check_choices(name: str, values: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise InvalidArgument(f"{name}: {values!r} is a string; pass a list of them")
    if not values:
        raise InvalidArgument(f"{name} needs at least one value")
    return tuple(values)


def channels(*, values: Sequence[str] = CHANNELS) -> st.SearchStrategy[str]:
    """Sales channels (``""`` for "not said" included)."""
    return st.sampled_from(("", *_check_choices("channels", values)))


def items(
    *,
    currency: str = "CNY",
    categories: Sequence[str] = CATEGORIES,
    skus: Sequence[str] = (),
    brands: Sequence[str] = (),
    tags: Sequence[str] = (),
    max_quantity: int = 5,
    max_unit_price: str = "500",
    near: Sequence[Decimal] = (),
) -> st.SearchStrategy[Item]:
    """Basket lines: a SKU, a category, a quantity and a unit price with two places,
    often just below, at or above one of the amounts ``near`` (a rule's threshold); a
    brand among ``brands`` (or none) and some of ``tags`` (or none), so that scopes on
    brands and tags find lines in and out of them."""
    _check_bounds("items max_quantity", 1, max_quantity, at_least=1)
    kinds = _check_choices("items categories", categories)
    # no draw at all without names, so a programme that reads none gets the baskets it did
    brand_names = st.sampled_from(("", *_names("items brands", brands))) if brands else st.just("")
    tag_sets = (
        st.frozensets(st.sampled_from(_names("items tags", tags)), max_size=2)
        if tags
        else st.just(frozenset[str]())
    )
    prices = money(currency=currency, min_value="0.01", max_value=max_unit_price)
    edges = sorted(
        {
            edge
            for amount in near
            for edge in (amount - Decimal("0.01"), amount, amount / 2, amount + Decimal("0.01"))
            if Decimal("0.01") <= edge <= Decimal(max_unit_price)
        }
    )
    if edges:
        prices = prices | st.sampled_from(
            [Money.of(e.quantize(Decimal("0.01")), currency) for e in edges]
        )
    named = st.sampled_from(tuple(skus)) if skus else st.nothing()
    return st.builds(
        lambda category, sku, quantity, price, brand, labels: Item(
            sku=sku or f"{category}-{quantity}",
            category=category,
            quantity=quantity,
            unit_price=price,
            brand=brand,
            tags=labels,
        ),
        st.sampled_from(kinds),
        st.just("") | named,
        st.integers(1, max_quantity),
        prices,
        brand_names,
        tag_sets,
    )


def _names(what: str, values: Sequence[str]) -> tuple[str, ...]:
    """``values`` (brands, tags) as the scopes read names (:func:`name_set`), sorted; a bad
    one is hypothesis's ``InvalidArgument``, like every bound of these strategies."""
    try:
        return tuple(sorted(name_set(what, values)))
    except LoyaltyInvalidArgument as error:
        raise InvalidArgument(str(error)) from None


def purchases(
    *,
    currency: str = "CNY",
    categories: Sequence[str] = CATEGORIES,
    skus: Sequence[str] = (),
    brands: Sequence[str] = (),
    tags: Sequence[str] = (),
    channel_names: Sequence[str] = CHANNELS,
    min_items: int = 1,
    max_items: int = 4,
    max_unit_price: str = "500",
    near: Sequence[Decimal] = (),
    attributes: Mapping[str, st.SearchStrategy[Any]] | None = None,
) -> st.SearchStrategy[Purchase]:
    """Purchases whose amount is the sum of their items' totals, with a channel and the
    free ``attributes`` given (each drawn from its strategy, or left out); with ``near``
    (and ``min_items=1``), one purchase in four is a basket of one line whose amount is at
    an edge of one of them (see :func:`items`)."""
    _check_bounds("purchases items", min_items, max_items, at_least=1)
    lines = st.lists(
        items(
            currency=currency,
            categories=categories,
            skus=skus,
            brands=brands,
            tags=tags,
            max_unit_price=max_unit_price,
        ),
        min_size=min_items,
        max_size=max_items,
    )
    if near and min_items == 1:
        # a basket of one line priced at an edge of a threshold is a purchase at that edge
        edge = items(
            currency=currency,
            categories=categories,
            skus=skus,
            brands=brands,
            tags=tags,
            max_unit_price=max_unit_price,
            near=near,
            max_quantity=1,
        )
        at_edge = st.lists(edge, min_size=1, max_size=1)
        basket = lines
        # one purchase in four: the rest keep the baskets of several lines that fill caps
        lines = st.integers(0, 3).flatmap(lambda n: at_edge if n == 0 else basket)
    extra = _attributes(attributes or {})
    return st.builds(
        lambda basket, channel, attrs_: Purchase(
            amount=_total(basket, currency),
            items=tuple(basket),
            channel=channel,
            attributes=attrs_,
        ),
        lines,
        channels(values=channel_names),
        extra,
    )


def _total(basket: Sequence[Item], currency: str) -> Money:
    total = Money.zero(currency)
    for line in basket:
        assert line.total is not None  # the strategies always price their items
        total = total + line.total
    return total


def _attributes(
    strategies: Mapping[str, st.SearchStrategy[Any]], *, required: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    if required:
        return st.fixed_dictionaries(dict(strategies))
    return st.fixed_dictionaries({}, optional=dict(strategies))


def custom_events(
    *,
    types: Sequence[str] = ("survey_completed", "review_written", "check_in"),
    attributes: Mapping[str, Mapping[str, st.SearchStrategy[Any]]] | None = None,
) -> st.SearchStrategy[CustomEvent]:
    """Custom events of the given types, each with the attributes ``attributes[type]``
    names (all of them: the programme expects them on its events)."""
    names = _check_choices("custom_events types", types)
    by_type = attributes or {}
    return st.one_of(
        *(
            st.builds(
                lambda found, kind=kind: CustomEvent(type=kind, attributes=found),
                _attributes(by_type.get(kind, {}), required=True),
            )
            for kind in names
        )
    )


def refunds(purchase: Purchase) -> st.SearchStrategy[Money | None]:
    """A refund of ``purchase``: ``None`` for the whole, or a partial amount above zero
    and below the whole (in cents)."""
    if not isinstance(purchase, Purchase):
        raise InvalidArgument(f"refunds needs a Purchase, got {purchase!r}")
    cents = int(purchase.amount.amount * 100)
    whole: st.SearchStrategy[Money | None] = st.none()
    if cents < 2:
        return whole
    currency = purchase.amount.currency
    part = st.integers(1, cents - 1).map(lambda n: Money.of(Decimal(n) / 100, currency))
    return whole | part


def customers(
    *,
    profile: st.SearchStrategy[Profile] | None = None,
    enrolled: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[Customer]:
    """Members with a profile and an enrolment instant."""
    return st.builds(
        Customer,
        id=customer_ids(),
        enrolled_at=enrolled if enrolled is not None else instants(),
        profile=profile if profile is not None else profiles(),
    )


def histories(
    *,
    purchase: st.SearchStrategy[Purchase] | None = None,
    event: st.SearchStrategy[CustomEvent] | None = None,
    profile: st.SearchStrategy[Profile] | None = None,
    start: datetime = datetime(2026, 1, 5, 9, tzinfo=UTC),
    end: datetime = datetime(2027, 6, 30, tzinfo=UTC),
    min_steps: int = 0,
    max_steps: int = 8,
    refunds_allowed: bool = True,
    member_days: Sequence[int] = (),
    moments: Sequence[datetime] = (),
    referred: st.SearchStrategy[bool] | None = None,
) -> st.SearchStrategy[History]:
    """Ordered histories of one member: purchases, custom events (when ``event`` is
    given) and refunds of earlier purchases, whole or partial, inside the 30-day return
    window or outside it. Gaps between steps are realistic (minutes to a year); a step
    may land on one of the ``member_days`` of the month or at one of the ``moments``
    (a campaign's start, say)."""
    _check_bounds("histories steps", min_steps, max_steps, at_least=0)
    aware("start", start)
    aware("end", end)
    if end <= start:
        raise InvalidArgument(f"histories needs start < end, got {start}, {end}")
    for day in member_days:
        if not 1 <= day <= 28:
            raise InvalidArgument(f"histories member_days: {day!r} is not a day 1..28")
    return _histories(
        purchase if purchase is not None else purchases(),
        event,
        profile if profile is not None else profiles(),
        start,
        end,
        min_steps,
        max_steps,
        refunds_allowed,
        tuple(member_days),
        tuple(m for m in moments if start <= m < end),
        referred if referred is not None else st.booleans(),
    )


@st.composite
def _histories(
    draw: st.DrawFn,
    purchase: st.SearchStrategy[Purchase],
    event: st.SearchStrategy[CustomEvent] | None,
    profile: st.SearchStrategy[Profile],
    start: datetime,
    end: datetime,
    min_steps: int,
    max_steps: int,
    refunds_allowed: bool,
    member_days: tuple[int, ...],
    moments: tuple[datetime, ...],
    referred: st.SearchStrategy[bool],
) -> History:
    enrolled = start + draw(st.sampled_from(GAPS[:6]))
    history = History(enrolled_at=enrolled, profile=draw(profile), referred=draw(referred))
    at = enrolled
    left: dict[int, Money] = {}  # purchase step -> money not yet refunded
    bought: dict[int, datetime] = {}
    kinds = ["purchase", *(["event"] if event is not None else [])]
    for number in range(1, draw(st.integers(min_steps, max_steps)) + 1):
        choices = kinds + (["refund"] if refunds_allowed and left else [])
        kind = draw(st.sampled_from(choices))
        if kind == "refund":
            target = draw(st.sampled_from(sorted(left)))
            # inside the return window, or after it (points may have expired since)
            inside = draw(st.booleans())
            at = max(
                at,
                bought[target]
                + (
                    timedelta(days=draw(st.integers(0, 29)))
                    if inside
                    else RETURN_WINDOW + draw(st.sampled_from(GAPS))
                ),
            )
        else:
            at = at + draw(st.sampled_from(GAPS))
            hop = draw(
                st.sampled_from(
                    ("none", *(["day"] if member_days else []), *(["moment"] if moments else []))
                )
            )
            if hop == "day":
                at = _next_day_of_month(at, draw(st.sampled_from(member_days)))
            elif hop == "moment":
                at = max(at, draw(st.sampled_from(moments)))
        if at >= end:
            break
        if kind == "purchase":
            action: Purchase | CustomEvent | Refund = draw(purchase)
            assert isinstance(action, Purchase)
            if action.amount.amount > 0:
                left[number] = action.amount
                bought[number] = at
        elif kind == "event":
            assert event is not None
            action = draw(event)
        else:
            whole = left[target]
            amount = draw(refunds(Purchase(amount=whole)))
            action = Refund(purchase=target, amount=amount)
            if amount is None or amount == whole:
                del left[target]
            else:
                left[target] = whole - amount
        history = history.then(Step(at=at, action=action))
    return history


def _next_day_of_month(at: datetime, day: int) -> datetime:
    moved = at.replace(day=day)
    return moved if moved >= at else moved + relativedelta(months=1)


# --- strategies derived from a programme ------------------------------------------------


def _reading(reading: Reading) -> st.SearchStrategy[Any]:
    literals = reading.literals
    if reading.kind == "count":
        return st.integers(1, 5_000)
    if reading.kind == "number":
        numbers = [v for v in literals if isinstance(v, int | float) and not isinstance(v, bool)]
        near = sorted({n + d for n in numbers for d in (-1, 0, 1)})
        around = st.sampled_from(near) if near else st.nothing()
        return around | st.integers(0, 1_000)
    if reading.kind == "flag":
        return st.booleans()
    if reading.kind == "tags":
        words = [v for v in literals if isinstance(v, str)]
        if not words and literals:
            return st.sampled_from(literals)
        pool = st.sampled_from(words) if words else st.text(_PRINTABLE, min_size=1, max_size=6)
        return st.frozensets(pool, max_size=3)
    if reading.kind == "time":
        return instants()
    words = [v for v in literals if isinstance(v, str)]
    text = st.text("abcdefghijklmnopqrstuvwxyz ", max_size=60)
    return (st.sampled_from(words) | text) if words else text


@attrs.frozen
class ProgramStrategies:
    """Strategies shaped by one programme: see :func:`for_program`."""

    program: Program
    read: Readings

    def purchases(self, *, min_items: int = 1, max_items: int = 4) -> st.SearchStrategy[Purchase]:
        """Purchases in the programme's currency, of the categories, SKUs, brands, line
        tags and channels it names, carrying the purchase attributes its conditions read."""
        read = self.read
        spend = max([Decimal(500), *read.amounts]) * 2
        return purchases(
            currency=read.currency,
            categories=(*read.categories, "other"),
            skus=read.skus,
            brands=read.brands,
            tags=read.line_tags,
            channel_names=read.channels or CHANNELS,
            min_items=min_items,
            max_items=max_items,
            max_unit_price=str(spend),
            near=read.amounts,
            attributes={
                name: _reading(reading)
                for name, reading in read.event_attributes.get("purchase", {}).items()
            },
        )

    def custom_events(self) -> st.SearchStrategy[CustomEvent] | None:
        """The custom events the programme rewards, each with the attributes its rules
        and conditions read; ``None`` when it rewards none."""
        if not self.read.event_types:
            return None
        return custom_events(
            types=self.read.event_types,
            attributes={
                kind: {
                    name: _reading(reading)
                    for name, reading in self.read.event_attributes.get(kind, {}).items()
                }
                for kind in self.read.event_types
            },
        )

    def profiles(self) -> st.SearchStrategy[Profile]:
        """Profiles with the tags the programme looks for and, sometimes, the customer
        attributes its conditions read (new members often lack them)."""
        return profiles(
            tags=self.read.tags + TAGS,
            attributes={
                name: _reading(reading) for name, reading in self.read.customer_attributes.items()
            },
        )

    def histories(self, *, min_steps: int = 0, max_steps: int = 6) -> st.SearchStrategy[History]:
        """Histories of one member of this programme (see :func:`histories`)."""
        return histories(
            purchase=self.purchases(),
            event=self.custom_events(),
            profile=self.profiles(),
            min_steps=min_steps,
            max_steps=max_steps,
            member_days=[d for d in self.read.days_of_month if d <= 28],
            moments=self.read.moments,
            referred=st.booleans()
            if any(isinstance(rule, Referral) for rule in self.program.rules)
            else st.just(False),
        )


def for_program(program: Program) -> ProgramStrategies:
    """Strategies derived from ``program``: its currency, categories, channels, event
    types, tags and the attributes its conditions read, its member days and campaign
    starts. ``for_program(p).histories()`` is what :func:`~loyaltykit.testing.check_program`
    draws from."""
    if not isinstance(program, Program):
        raise InvalidArgument(f"for_program needs a Program, got {program!r}")
    return ProgramStrategies(program=program, read=readings(program))
