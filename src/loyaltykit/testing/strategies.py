"""Hypothesis strategies for loyaltykit values, for our tests and for yours.

Each is a plain function returning a ``SearchStrategy``; bounds are keyword-only and
checked up front (``hypothesis.errors.InvalidArgument``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from loyaltykit.domain.customer import Profile
from loyaltykit.values import Money

__all__ = ["customer_ids", "instants", "money", "points", "profiles"]

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


def instants(
    *,
    min_value: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    max_value: datetime = datetime(2035, 1, 1, tzinfo=UTC),
) -> st.SearchStrategy[datetime]:
    """Timezone-aware instants (UTC and a few fixed offsets) between the bounds."""
    if min_value.tzinfo is None or max_value.tzinfo is None:
        raise InvalidArgument("instants needs timezone-aware bounds")
    if max_value < min_value:
        raise InvalidArgument(
            f"instants needs min_value <= max_value, got {min_value}, {max_value}"
        )
    from datetime import timezone

    zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))])
    naive_min = min_value.astimezone(UTC).replace(tzinfo=None)
    naive_max = max_value.astimezone(UTC).replace(tzinfo=None)
    return st.builds(
        lambda moment, zone: moment.replace(tzinfo=UTC).astimezone(zone),
        st.datetimes(min_value=naive_min, max_value=naive_max),
        zones,
    )


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
