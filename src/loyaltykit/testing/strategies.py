"""Hypothesis strategies for loyaltykit values, for our tests and for yours.

Each is a plain function returning a ``SearchStrategy``; bounds are keyword-only and
checked up front (``hypothesis.errors.InvalidArgument``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from loyaltykit.domain.customer import Profile
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder
from loyaltykit.domain.windows import Window
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import (
    BaseRate,
    Cap,
    EarningRule,
    FirstPurchase,
    FixedPoints,
    Multiplier,
    PerUnit,
    SpendThreshold,
)
from loyaltykit.values import Money

__all__ = [
    "customer_ids",
    "earning_rules",
    "instants",
    "money",
    "points",
    "profiles",
    "programs",
    "tier_ladders",
    "windows",
]

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_"


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


def profiles() -> st.SearchStrategy[Profile]:
    """Customer profiles with some of their fields filled in."""
    text = st.text(min_size=1, max_size=20)
    return st.builds(
        Profile,
        name=st.none() | text,
        birthday=st.none() | st.dates(min_value=date(1930, 1, 1), max_value=date(2015, 12, 31)),
        email=st.none() | st.emails(),
        preferred_channel=st.none() | st.sampled_from(["sms", "email", "app", "wechat"]),
        tags=st.frozensets(st.sampled_from(["family", "likes-fashion", "health-minded", "vip"])),
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
        lambda levels, grace, mode: TierLadder(
            tiers=(
                Tier(code="base", rank=0),
                *(
                    Tier(code=f"t{n + 1}", rank=n + 1, requirements=tuple(reqs), mode=combine)
                    for n, (reqs, combine) in enumerate(levels)
                ),
            ),
            grace=grace,
            downgrade=mode,
        ),
        upper,
        st.none() | st.integers(1, 6).map(lambda months: relativedelta(months=months)),
        st.sampled_from(["qualify", "one_step"]),
    )


def programs(*, currency: str = "CNY", max_rules: int = 6) -> st.SearchStrategy[Program]:
    """Valid programs (unique rule ids, declared point types), dumpable to dicts."""
    if max_rules < 0:
        raise InvalidArgument(f"programs needs max_rules >= 0, got {max_rules}")
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
    )
