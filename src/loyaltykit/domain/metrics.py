"""What a member has done, measured: the numbers tier rules qualify on.

Activity metrics (spend, purchases, qualifying points, stays, referrals...) are kept as
daily sums in the programme's time zone, bucketed by calendar month (each month holds its
total and its days), so any window is measured exactly from the totals of the months it
covers whole and the days of the (at most two) months it cuts; gauges (an asset balance
the caller supplies) keep their latest value; an all-time total is kept for each metric.

How far back the days go is the history's retention, ``keep_months``: the service sets it
to the longest window the programme reads (see :mod:`loyaltykit.policy.retention`), so a
member's history, and the work a purchase does on it, is bounded by the programme, not by
the member's age. Months that fall out of it are dropped whole; the history remembers the
first day it still holds (``kept_from``): a total over a span that starts before it (an
analysis reaching further back than the programme) is refused rather than answered in
part, and a tier window reaching before it (a new version that reads further back than
the versions before it kept) counts the days held.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

import attrs

from loyaltykit.domain.windows import Window
from loyaltykit.errors import InvalidArgument

__all__ = ["KEEP_MONTHS", "MetricHistory", "MonthBuckets", "MonthSource", "MonthSums", "month_of"]

KEEP_MONTHS = 121  # the longest window is 120 months
_ZERO = Decimal(0)


def month_of(day: date) -> int:
    """The month ``day`` falls in, as a count of months (``year * 12 + month - 1``)."""
    return day.year * 12 + day.month - 1


def _month_start(month: int) -> date:
    year, index = divmod(month, 12)
    return date(year, index + 1, 1)


@functools.lru_cache(maxsize=4096)
def _month_length(month: int) -> int:
    year, index = divmod(month, 12)
    return calendar.monthrange(year, index + 1)[1]


@attrs.frozen(kw_only=True, slots=True)
class MonthSums:
    """One metric's sums in one calendar month: the month's total and each day's sum
    (day of the month to sum). ``days`` is any mapping: a stored history hands one that
    is read only when a window cuts the month."""

    total: Decimal
    days: Mapping[int, Decimal]

    def between(self, first: int, last: int, length: int) -> Decimal:
        """The sum of the days ``first`` to ``last`` (days of the month, inclusive)."""
        if first <= 1 and last >= length:
            return self.total
        return sum((v for d, v in self.days.items() if first <= d <= last), _ZERO)

    def plus(self, day: int, value: Decimal) -> MonthSums:
        """These sums with ``value`` added on ``day``."""
        days = dict(self.days.items())
        days[day] = days.get(day, _ZERO) + value
        return MonthSums(total=self.total + value, days=days)


class MonthSource(Mapping[int, MonthSums]):
    """Months as read from somewhere (a stored document): a mapping that iterates its
    months in order and may give a month's total without building the month."""

    def total_of(self, month: int) -> Decimal:
        """The total of ``month`` (zero when it is not held)."""
        sums = self.get(month)
        return _ZERO if sums is None else sums.total


class MonthBuckets(Mapping[int, MonthSums]):
    """One metric's months, oldest first: the months as read (``base``, any mapping that
    iterates its months in order, so a stored one need not build a month nobody reads),
    the months changed since, and none before ``low`` (dropped). Immutable: a purchase
    makes a new one that shares the base, instead of copying every month."""

    __slots__ = ("_base", "_changed", "_low", "_order")

    def __init__(
        self,
        base: Mapping[int, MonthSums] | None = None,
        changed: Mapping[int, MonthSums] | None = None,
        low: int | None = None,
    ) -> None:
        self._base: Mapping[int, MonthSums] = {} if base is None else base
        self._changed: Mapping[int, MonthSums] = {} if changed is None else changed
        self._low = low
        self._order: list[int] | None = None

    @property
    def base(self) -> Mapping[int, MonthSums]:
        """The months as read."""
        return self._base

    @property
    def changed(self) -> Mapping[int, MonthSums]:
        """The months changed since they were read."""
        return self._changed

    @property
    def low(self) -> int | None:
        """The first month not dropped (``None``: none was)."""
        return self._low

    def _months(self) -> list[int]:
        if self._order is None:
            low = self._low
            kept = (m for m in self._base if low is None or m >= low)
            self._order = sorted({*kept, *self._changed})
        return self._order

    def __getitem__(self, month: int) -> MonthSums:
        changed = self._changed.get(month)
        if changed is not None:
            return changed
        if self._low is not None and month < self._low:
            raise KeyError(month)
        return self._base[month]

    def __contains__(self, month: object) -> bool:
        if month in self._changed:
            return True
        low = self._low
        return (low is None or not isinstance(month, int) or month >= low) and month in self._base

    def __iter__(self) -> Iterator[int]:
        return iter(self._months())

    def __len__(self) -> int:
        return len(self._months())

    def first(self) -> int | None:
        """The oldest month held."""
        return next(iter(self._months()), None)

    def last(self) -> int | None:
        """The newest month held."""
        months = self._months()
        return months[-1] if months else None

    def get_month(self, month: int) -> MonthSums | None:
        """The month's sums, if held."""
        found = self._changed.get(month)
        if found is not None or (self._low is not None and month < self._low):
            return found
        return self._base.get(month)

    @classmethod
    def of(cls, month: int, sums: MonthSums) -> MonthBuckets:
        """One month."""
        made = cls(None, {month: sums})
        made._order = [month]
        return made

    def total_of(self, month: int) -> Decimal:
        """The total of ``month`` (zero when it is not held)."""
        found = self._changed.get(month)
        if found is not None:
            return found.total
        if self._low is not None and month < self._low:
            return _ZERO
        base = self._base
        if isinstance(base, MonthSource):
            return base.total_of(month)
        sums = base.get(month)
        return _ZERO if sums is None else sums.total

    def with_month(self, month: int, sums: MonthSums) -> MonthBuckets:
        """These months with ``month`` set to ``sums``."""
        made = MonthBuckets(self._base, {**self._changed, month: sums}, self._low)
        order = self._months()
        if order and order[-1] == month:
            made._order = order  # the newest month again (the usual purchase): same order
        elif not order or order[-1] < month:
            made._order = [*order, month]
        return made

    def before(self, cut: int) -> list[tuple[int, MonthSums]]:
        """The months before ``cut``, oldest first."""
        return [(m, self[m]) for m in self._months() if m < cut]

    def from_month(self, cut: int) -> MonthBuckets:
        """These months without those before ``cut``."""
        low = cut if self._low is None else max(self._low, cut)
        kept = {m: sums for m, sums in self._changed.items() if m >= low}
        return MonthBuckets(self._base, kept, low)


def _buckets(months: Mapping[str, Mapping[int, MonthSums]]) -> dict[str, MonthBuckets]:
    """Each metric's months as :class:`MonthBuckets` (so the oldest is the first)."""
    return {
        name: found
        if isinstance(found, MonthBuckets)
        else MonthBuckets(dict(sorted(found.items())))
        for name, found in months.items()
    }


@attrs.frozen(kw_only=True)
class MetricHistory:
    """Month buckets of daily sums per metric, all-time totals and gauges. Immutable;
    methods return new ones.

    >>> history = MetricHistory().add("spend", date(2026, 3, 9), Decimal("88.00"))
    >>> history.total("spend", date(2026, 3, 1), date(2026, 3, 31))
    Decimal('88.00')
    """

    months: Mapping[str, MonthBuckets] = attrs.field(factory=dict, converter=_buckets)
    totals: Mapping[str, Decimal] = attrs.field(factory=dict)
    gauges: Mapping[str, Decimal] = attrs.field(factory=dict)
    keep_months: int = attrs.field(default=KEEP_MONTHS)
    """How many months before the day of the latest sample its days are kept."""
    kept_from: date | None = None
    """The first day whose sums are all held, once months were dropped (``None``: none were)."""
    last_dropped: Mapping[str, date] = attrs.field(factory=dict)
    """Per metric, the latest day with a positive sum among the dropped months."""
    _newest: int | None = attrs.field(init=False, default=None, eq=False, repr=False)
    _cut: int | None = attrs.field(init=False, default=None, eq=False, repr=False)

    @keep_months.validator
    def _check_keep(self, _attribute: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= KEEP_MONTHS:
            raise InvalidArgument(f"keep_months: {value!r} must be an int from 1 to {KEEP_MONTHS}")

    def days(self, metric: str) -> Iterator[tuple[date, Decimal]]:
        """Every kept day of ``metric`` with its sum, oldest first."""
        for month, sums in self.months.get(metric, {}).items():
            start = _month_start(month)
            for day, value in sorted(sums.days.items()):
                yield start.replace(day=day), value

    def keeping(self, months: int) -> MetricHistory:
        """The history that keeps ``months`` months of days from its next sample on."""
        if months == self.keep_months:
            return self
        return attrs.evolve(self, keep_months=months)

    def add(self, metric: str, day: date, value: Decimal) -> MetricHistory:
        """The history with ``value`` added to ``metric`` on ``day``.

        Months wholly before the day :attr:`keep_months` months before ``day`` (or before
        the newest month held, when ``day`` is earlier) are dropped. Each metric's months
        are kept in order, so the oldest is the first: a metric is pruned only when its
        oldest month falls out, and the other metrics' buckets are shared with this
        history (which stays as it was), not copied."""
        month = month_of(day)
        months = dict(self.months)
        # counted from the newest month held, so a sample dated back does not widen the days
        newest = self._newest
        if newest is None:  # a history as built or read: its newest month, once
            newest = max((b.last() or month for b in months.values()), default=month)
        newest = max(newest, month)
        cut = newest - self.keep_months
        mine = months.get(metric)
        sums = None if mine is None else mine.get_month(month)
        added = (
            MonthSums(total=value, days={day.day: value})
            if sums is None
            else sums.plus(day.day, value)
        )
        months[metric] = (
            MonthBuckets.of(month, added) if mine is None else mine.with_month(month, added)
        )
        totals = dict(self.totals)
        totals[metric] = totals.get(metric, _ZERO) + value
        kept_from, last_dropped = self.kept_from, self.last_dropped
        if self._cut is None or cut > self._cut or month < cut:
            # the cut only moves forward: every month before the last one is gone already
            for name, buckets in months.items():
                oldest = buckets.first()
                if oldest is not None and oldest < cut:
                    last_dropped = _latest_positive(name, buckets.before(cut), last_dropped)
                    months[name] = buckets.from_month(cut)
                    start = _month_start(cut)
                    kept_from = start if kept_from is None else max(kept_from, start)
        made = object.__new__(MetricHistory)
        setting = object.__setattr__  # months already buckets: no converting again
        setting(made, "months", months)
        setting(made, "totals", totals)
        setting(made, "gauges", self.gauges)
        setting(made, "keep_months", self.keep_months)
        setting(made, "kept_from", kept_from)
        setting(made, "last_dropped", last_dropped)
        setting(made, "_newest", newest)
        setting(made, "_cut", cut)
        return made

    def set_gauge(self, metric: str, value: Decimal) -> MetricHistory:
        """The history with gauge ``metric`` set to ``value``."""
        return attrs.evolve(self, gauges={**self.gauges, metric: value})

    def total(self, metric: str, first: date, last: date) -> Decimal:
        """Sum of ``metric`` over the days ``first`` to ``last`` (inclusive).

        Refused with :class:`~loyaltykit.errors.InvalidArgument` when ``first`` is before
        the days the history still holds (:attr:`kept_from`)."""
        if self.kept_from is not None and first < self.kept_from and first <= last:
            raise InvalidArgument(
                f"metric window from {first.isoformat()}: the history of {metric!r} keeps "
                f"days since {self.kept_from.isoformat()} only ({self.keep_months} months, "
                "the longest window the programme reads)"
            )
        buckets = self.months.get(metric)
        if not buckets or first > last:
            return _ZERO
        low, high = month_of(first), month_of(last)
        oldest, newest = buckets.first(), buckets.last()
        assert oldest is not None
        assert newest is not None
        total = _ZERO
        for month in range(max(low, oldest), min(high, newest) + 1):
            start = first.day if month == low else 1
            end = last.day if month == high else 31
            if start == 1 and end >= _month_length(month):
                total += buckets.total_of(month)  # a whole month: its total, not its days
                continue
            sums = buckets.get_month(month)
            if sums is not None:
                total += sums.between(start, end, _month_length(month))
        return total

    def _after(self, metric: str, day: date) -> Decimal:
        """The sum of ``metric`` over the days after ``day``."""
        month = month_of(day)
        total = _ZERO
        for found, sums in self.months.get(metric, {}).items():
            if found > month:
                total += sums.total
            elif found == month:
                total += sums.between(day.day + 1, 31, _month_length(found))
        return total

    def last_day(self, metric: str, on_or_before: date) -> date | None:
        """The latest day up to ``on_or_before`` on which ``metric`` summed above zero."""
        buckets = self.months.get(metric) or MonthBuckets()
        latest = month_of(on_or_before)
        for month in reversed(list(buckets)):
            if month > latest:
                continue
            limit = on_or_before.day if month == latest else 31
            found = [d for d, v in buckets[month].days.items() if v > 0 and d <= limit]
            if found:
                return _month_start(month).replace(day=max(found))
        dropped = self.last_dropped.get(metric)
        if dropped is not None and dropped > on_or_before:
            raise InvalidArgument(
                f"last {metric!r} on or before {on_or_before.isoformat()}: the history keeps "
                f"days since {self.kept_from} only"
            )
        return dropped

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

        The history keeps every window its programme reads; a window that reaches before
        the days it holds (a new programme version that reads further back than the
        versions before it kept) counts the days held, from :attr:`kept_from`: a tier
        rule is measured on what is known rather than refusing the member's purchase.
        """
        if metric in self.gauges:
            return self.gauges[metric]
        if window.kind == "all_time" and not per_month:
            return self.totals.get(metric, _ZERO)
        first, last = window.bounds(at, enrolled_at=enrolled_at, zone=zone)
        today = at.astimezone(zone).date()
        end = min(last, today)
        if window.kind == "all_time" and self.kept_from is not None and first < self.kept_from:
            # since enrolment, older than the kept days: the all-time total less the days
            # after today (no sample is dated before its member enrolled)
            total = self.totals.get(metric, _ZERO) - self._after(metric, today)
        else:
            held = first if self.kept_from is None else max(first, self.kept_from)
            total = self.total(metric, held, end)
        if not per_month:
            return total
        return total / window.months_billed(at, enrolled_at=enrolled_at, zone=zone)


def _latest_positive(
    metric: str, dropped: list[tuple[int, MonthSums]], known: Mapping[str, date]
) -> Mapping[str, date]:
    """``known`` with ``metric``'s latest positive day among the ``dropped`` months."""
    for month, sums in reversed(dropped):
        found = [d for d, v in sums.days.items() if v > 0]
        if found:
            day = _month_start(month).replace(day=max(found))
            before = known.get(metric)
            return known if before is not None and before >= day else {**known, metric: day}
    return known
