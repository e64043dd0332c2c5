"""Named periods of local time (day, week, month, year, lifetime) and their keys.

Per-member limits of rewards and campaigns count uses in the period an event falls in;
the key names that period so a counter can be kept per period.
"""

from __future__ import annotations

from datetime import datetime

from loyaltykit.errors import InvalidArgument

__all__ = ["PERIODS", "period_key"]

PERIODS = ("day", "week", "month", "year", "lifetime")


def period_key(period: str, local: datetime) -> str:
    """The name of the ``period`` that contains the local instant ``local`` (ISO weeks).

    >>> from datetime import datetime
    >>> period_key("week", datetime(2026, 12, 31))
    '2026-W53'
    >>> period_key("month", datetime(2026, 5, 8))
    '2026-05'
    """
    if period == "day":
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    if period == "year":
        return f"{local.year:04d}"
    if period == "lifetime":
        return "all"
    raise InvalidArgument(f"period: {period!r} is not one of {list(PERIODS)}")
