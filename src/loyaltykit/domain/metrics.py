"""What a member has done, measured: the numbers tier rules qualify on.

Activity metrics (spend, purchases, qualifying points, stays, referrals...) are kept as
daily sums in the programme's time zone, so any window can be measured exactly; gauges
(an asset balance the caller supplies) keep their latest value. Days older than the
longest possible window are dropped; an all-time total is kept for each metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.windows import Window

__all__ = ["MetricHistory"]

KEEP_MONTHS = 121  # the longest window is 120 months


@attrs.frozen(kw_only=True)
class MetricHistory:
    """Daily sums per metric, all-time totals and gauges. Immutable; methods return new ones."""

    days: Mapping[str, Mapping[date, Decimal]] = attrs.field(factory=dict)
    totals: Mapping[str, Decimal] = attrs.field(factory=dict)
    gauges: Mapping[str, Decimal] = attrs.field(factory=dict)

    def add(self, metric: str, day: date, value: Decimal) -> MetricHistory:
        """The history with ``value`` added to ``metric`` on ``day``."""
        days = {name: dict(values) for name, values in self.days.items()}
        mine = days.setdefault(metric, {})
        mine[day] = mine.get(day, Decimal(0)) + value
        oldest = day - relativedelta(months=KEEP_MONTHS)
        for name in days:
            days[name] = {d: v for d, v in days[name].items() if d >= oldest}
        totals = dict(self.totals)
        totals[metric] = totals.get(metric, Decimal(0)) + value
        return attrs.evolve(self, days=days, totals=totals)

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
