"""Complaint analytics: where the service is weak (投诉数据分析).

:func:`complaint_report` reads complaints as data and returns figures: volume by
category and by channel, SLA compliance per clock, the median time to resolve, the
reopen rate, the goodwill granted, the mean satisfaction at close and the top
categories of each month.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal

import attrs

from loyaltykit.domain.complaints import Complaint, ComplaintPolicy
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import aware

__all__ = ["ComplaintReport", "complaint_report"]

_TENTH = Decimal("0.1")


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(_TENTH, ROUND_HALF_EVEN)


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@attrs.frozen(kw_only=True)
class ComplaintReport:
    """Figures over the complaints received in ``[since, until)``, seen at ``at``.

    ``sla_compliance`` maps each clock to the percentage met of those decided (stopped,
    or breached by ``at``); ``breaches_by_category`` counts the breached clocks of each
    category; ``median_time_to_resolve`` is elapsed time from receipt to the first
    close, ``median_business_time_to_resolve`` the business time the first resolution
    clock counted (pauses excluded); ``reopen_rate`` is the percentage of closed
    complaints reopened;
    ``top_categories`` maps each month (``YYYY-MM``, local) to its categories, most
    complaints first. ``None`` means nothing to measure.
    """

    at: datetime
    since: datetime | None
    until: datetime | None
    complaints: int
    open: int
    by_category: Mapping[str, int]
    by_channel: Mapping[str, int]
    sla_compliance: Mapping[str, Decimal | None]
    breaches_by_category: Mapping[str, int]
    median_time_to_resolve: timedelta | None
    median_business_time_to_resolve: timedelta | None
    reopen_rate: Decimal | None
    goodwill_granted: int
    mean_satisfaction: Decimal | None
    top_categories: Mapping[str, tuple[tuple[str, int], ...]]


def complaint_report(
    complaints: Iterable[Complaint],
    at: datetime,
    *,
    policy: ComplaintPolicy,
    zone: tzinfo,
    since: datetime | None = None,
    until: datetime | None = None,
    top: int = 3,
) -> ComplaintReport:
    """The figures of :class:`ComplaintReport` over ``complaints``."""
    when = aware("at", at)
    start = None if since is None else aware("since", since)
    end = None if until is None else aware("until", until)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise InvalidArgument(f"top: {top!r} must be a positive int")
    chosen = [
        c
        for c in complaints
        if (start is None or c.received_at >= start) and (end is None or c.received_at < end)
    ]
    met: Counter[str] = Counter()
    decided: Counter[str] = Counter()
    breaches: Counter[str] = Counter()
    business: list[timedelta] = []
    for complaint in chosen:
        for clock in complaint.clocks:
            calendar = policy.calendar(clock.calendar)
            if clock.stopped_at is not None:
                decided[clock.name] += 1
                late = clock.breached(clock.stopped_at, calendar)
                met[clock.name] += not late
                breaches[complaint.category] += late
            elif complaint.state.is_open and clock.breached(when, calendar):
                decided[clock.name] += 1
                breaches[complaint.category] += 1
        first = next(c for c in complaint.clocks if c.name == "resolution")
        if any(s.transition == "close" for s in complaint.history) and first.stopped_at:
            business.append(first.used(first.stopped_at, policy.calendar(first.calendar)))
    resolve_times = [
        next(s.at for s in c.history if s.transition == "close") - c.received_at
        for c in chosen
        if any(s.transition == "close" for s in c.history)
    ]
    ratings = [c.satisfaction for c in chosen if c.satisfaction is not None]
    months: dict[str, Counter[str]] = {}
    for complaint in chosen:
        month = complaint.received_at.astimezone(zone).strftime("%Y-%m")
        months.setdefault(month, Counter())[complaint.category] += 1
    return ComplaintReport(
        at=when,
        since=start,
        until=end,
        complaints=len(chosen),
        open=sum(1 for c in chosen if c.state.is_open),
        by_category=dict(sorted(Counter(c.category for c in chosen).items())),
        by_channel=dict(sorted(Counter(c.channel for c in chosen).items())),
        sla_compliance={
            name: _percent(met[name], decided[name])
            for name in ("acknowledge", "first_response", "resolution")
        },
        breaches_by_category={k: v for k, v in sorted(breaches.items()) if v},
        median_time_to_resolve=_median(resolve_times),
        median_business_time_to_resolve=_median(business),
        reopen_rate=_percent(sum(1 for c in chosen if c.reopened), len(resolve_times)),
        goodwill_granted=sum(c.goodwill_points for c in chosen),
        mean_satisfaction=(Decimal(sum(ratings)) / len(ratings)).quantize(_TENTH)
        if ratings
        else None,
        top_categories={
            month: tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top])
            for month, counts in sorted(months.items())
        },
    )
