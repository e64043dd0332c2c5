"""What a member has done, measured: the numbers tier rules qualify on.

Activity metrics (spend, purchases, qualifying points, stays, referrals...) are kept as
daily sums in the programme's time zone, so any window can be measured exactly; gauges
(an asset balance the caller supplies) keep their latest value. Days older than the
longest possible window are dropped; an all-time total is kept for each metric.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal

import attrs

from loyaltykit.domain.windows import Window

__all__ = ["MetricHistory"]

KEEP_MONTHS = 121  # the longest window is 120 months


@functools.lru_cache(maxsize=4096)
def _months_before(day: date, months: int) -> date:
    """``day - relativedelta(months=months)``: the same day of the month, or the month's
    last day when it is shorter (31 March minus one month is 28 or 29 February)."""
    count = day.year * 12 + day.month - 1 - months
    year, month = divmod(count, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _in_order(days: Mapping[str, Mapping[date, Decimal]]) -> dict[str, dict[date, Decimal]]:
    """Each metric's days in date order (so the oldest is the first key)."""
    return {name: dict(sorted(values.items())) for name, values in days.items()}


@attrs.frozen(kw_only=True)
class MetricHistory:
    """Daily sums per metric, all-time totals and gauges. Immutable; methods return new ones."""

    days: Mapping[str, Mapping[date, Decimal]] = attrs.field(factory=dict, converter=_in_order)
    totals: Mapping[str, Decimal] = attrs.field(factory=dict)
    gauges: Mapping[str, Decimal] = attrs.field(factory=dict)

    def add(self, metric: str, day: date, value: Decimal) -> MetricHistory:
        """The history with ``value`` added to ``metric`` on ``day``.

        Days more than :data:`KEEP_MONTHS` months before ``day`` are dropped. Each
        metric's days are kept in date order, so the oldest is the first: a metric is
        filtered only when its oldest day falls out, and the others are shared with this
        history (which stays as it was), not copied."""
        oldest = _months_before(day, KEEP_MONTHS)
        days = dict(self.days)
        for name, values in days.items():
            if name != metric and values and next(iter(values)) < oldest:
                days[name] = {d: v for d, v in values.items() if d >= oldest}
        mine = dict(days.get(metric, {}))
        if mine and day < next(reversed(mine.keys())) and day not in mine:
            mine[day] = value
            mine = dict(sorted(mine.items()))  # a day before the latest: keep them in order
        else:
            mine[day] = mine.get(day, Decimal(0)) + value
        if next(iter(mine)) < oldest:
            mine = {d: v for d, v in mine.items() if d >= oldest}
        days[metric] = mine
        totals = dict(self.totals)
        totals[metric] = totals.get(metric, Decimal(0)) + value
        return _made(days, totals, self.gauges)

    def set_gauge(self, metric: str, value: Decimal) -> MetricHistory:
        """The history with gauge ``metric`` set to ``value``."""
        return attrs.evolve(self, gauges={**self.gauges, metric: value})

    def total(self, metric: str, first: date, last: date) -> Decimal:
        """Sum of ``metric`` over the days ``first`` to ``last`` (inclusive)."""
        return sum(
            (v for d, v in self.days.get(metric, {}).items() if first <= d <= last), Decimal(0)
        )

    def measure(
        self,
        metric: str,
        window: Window,
        at: datetime,
        *,
        enrolled_at: datetime,
        zone: tzinfo,
        per_month: bool = False,
    ) -> Decimal:
        """The value of ``metric`` over ``window`` at ``at`` (a gauge's latest value).

        ``per_month`` averages the window's total over the months the member has been
        billed in it (ARPU, see :meth:`Window.months_billed`).
        """
        if metric in self.gauges:
            return self.gauges[metric]
        if window.kind == "all_time" and not per_month:
            return self.totals.get(metric, Decimal(0))
        first, last = window.bounds(at, enrolled_at=enrolled_at, zone=zone)
        total = self.total(metric, first, min(last, at.astimezone(zone).date()))
        if not per_month:
            return total
        return total / window.months_billed(at, enrolled_at=enrolled_at, zone=zone)


def _made(
    days: Mapping[str, Mapping[date, Decimal]],
    totals: Mapping[str, Decimal],
    gauges: Mapping[str, Decimal],
) -> MetricHistory:
    """A history from days already in order (what :meth:`MetricHistory.add` keeps), without
    sorting them again."""
    made = object.__new__(MetricHistory)
    object.__setattr__(made, "days", days)
    object.__setattr__(made, "totals", totals)
    object.__setattr__(made, "gauges", gauges)
    return made
