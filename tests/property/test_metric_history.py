"""MetricHistory answers what the plain definition answers: every day's sum kept forever,
a window's value the sum of its days. Checked on any order of days, through stored
documents of both versions, for every window a programme keeping ``keep_months`` reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit.domain.metrics import KEEP_MONTHS, MetricHistory
from loyaltykit.domain.windows import Window
from loyaltykit.errors import InvalidArgument
from loyaltykit.formats.metrics import metrics_from_document, metrics_to_document

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2012, 12, 31))
SAMPLES = st.lists(
    st.tuples(st.sampled_from(["spend", "purchases"]), DAYS, st.integers(-50, 500)), max_size=40
)
JOINED = datetime(1999, 12, 31, tzinfo=UTC)


def plain(samples: list[tuple[str, date, int]]) -> dict[str, dict[date, Decimal]]:
    """Every day's sum, per metric, nothing dropped."""
    days: dict[str, dict[date, Decimal]] = {}
    for metric, day, value in samples:
        mine = days.setdefault(metric, {})
        mine[day] = mine.get(day, Decimal(0)) + value
    return days


def plain_total(days: dict[date, Decimal], first: date, last: date) -> Decimal:
    return sum((v for d, v in days.items() if first <= d <= last), Decimal(0))


def built(samples: list[tuple[str, date, int]], keep: int, reload: bool) -> MetricHistory:
    history = MetricHistory().keeping(keep)
    for n, (metric, day, value) in enumerate(samples):
        history = history.add(metric, day, Decimal(value))
        if reload and n % 3 == 0:  # as read back from its stored document
            history = metrics_from_document(metrics_to_document(history))
    return history


@settings(max_examples=80, deadline=None)
@given(SAMPLES, st.integers(1, KEEP_MONTHS), st.booleans(), DAYS, DAYS)
def test_a_window_in_the_kept_days_sums_as_the_definition(
    samples: list[tuple[str, date, int]], keep: int, reload: bool, a: date, b: date
) -> None:
    history = built(samples, keep, reload)
    days = plain(samples)
    first, last = min(a, b), max(a, b)
    for metric in ("spend", "purchases"):
        expected = plain_total(days.get(metric, {}), first, last)
        assert history.totals.get(metric, Decimal(0)) == sum(days.get(metric, {}).values())
        if history.kept_from is not None and first < history.kept_from:
            with pytest.raises(InvalidArgument, match="keeps days since"):
                history.total(metric, first, last)
        else:
            assert history.total(metric, first, last) == expected


@settings(max_examples=80, deadline=None)
@given(SAMPLES, st.integers(2, KEEP_MONTHS), st.booleans(), st.integers(0, 40))
def test_every_window_the_programme_reads_is_measured_as_the_definition(
    samples: list[tuple[str, date, int]], keep: int, reload: bool, later: int
) -> None:
    """A programme keeping ``keep`` months reads rolling windows of up to ``keep - 1``
    months, calendar and anniversary years when it keeps 13 or more, all time always; at
    any instant from the latest sample on, each is the plain sum of its days."""
    history = built(samples, keep, reload)
    days = plain(samples)
    latest = max((day for _, day, _ in samples), default=date(2005, 6, 1))
    today = latest + timedelta(days=later)
    at = datetime.combine(today, time(12), tzinfo=UTC)
    windows = [Window.rolling(months) for months in {1, keep // 2 or 1, keep - 1}]
    windows.append(Window.all_time())
    if keep >= 13:
        windows += [Window.calendar_year(), Window.anniversary_year()]
    for metric in ("spend", "purchases"):
        mine = days.get(metric, {})
        for window in windows:
            first, last = window.bounds(at, enrolled_at=JOINED, zone=UTC)
            expected = plain_total(mine, first, min(last, today))
            for per_month in (False, True):
                got = history.measure(
                    metric, window, at, enrolled_at=JOINED, zone=UTC, per_month=per_month
                )
                if window.kind == "all_time" and not per_month:
                    assert got == sum(mine.values())
                elif per_month:
                    billed = window.months_billed(at, enrolled_at=JOINED, zone=UTC)
                    assert got == expected / billed
                else:
                    assert got == expected


@settings(max_examples=60, deadline=None)
@given(SAMPLES, st.integers(1, KEEP_MONTHS), st.booleans(), st.integers(0, 400))
def test_the_last_purchase_day_is_the_definitions(
    samples: list[tuple[str, date, int]], keep: int, reload: bool, later: int
) -> None:
    history = built(samples, keep, reload)
    latest = max((day for _, day, _ in samples), default=date(2005, 6, 1))
    today = latest + timedelta(days=later)
    positive = [d for d, v in plain(samples).get("purchases", {}).items() if v > 0 and d <= today]
    assert history.last_day("purchases", today) == max(positive, default=None)


@settings(max_examples=60, deadline=None)
@given(SAMPLES, st.integers(1, KEEP_MONTHS))
def test_days_are_kept_as_far_back_as_the_retention_and_no_further(
    samples: list[tuple[str, date, int]], keep: int
) -> None:
    """Bounded by the programme: no kept month starts before the month of the day
    ``keep`` months before the latest sample, and every day since that day is kept."""
    history = built(samples, keep, reload=False)
    if not samples:
        return
    latest = max(day for _, day, _ in samples)
    cut = latest - relativedelta(months=keep)
    for metric in history.months:
        kept = list(history.days(metric))
        assert all(day >= cut.replace(day=1) for day, _ in kept)
        assert [d for d, _ in kept] == sorted(d for d, _ in kept)
    assert history.kept_from is None or history.kept_from <= cut


@settings(max_examples=60, deadline=None)
@given(SAMPLES)
def test_a_version_1_document_reads_as_the_history_it_held(
    samples: list[tuple[str, date, int]],
) -> None:
    """Version 1 kept every day of the last 121 months in one mapping per metric: read
    back, it measures what the days say, and refuses what it no longer holds."""
    days = plain(samples)
    latest = max((day for _, day, _ in samples), default=date(2005, 6, 1))
    oldest = latest - relativedelta(months=KEEP_MONTHS)
    kept = {m: {d: v for d, v in values.items() if d >= oldest} for m, values in days.items()}
    document = {
        "days": {m: {d.isoformat(): str(v) for d, v in sorted(k.items())} for m, k in kept.items()},
        "totals": {m: str(sum(values.values())) for m, values in days.items()},
        "gauges": {"balance": "12.5"},
    }
    history = metrics_from_document(document)
    assert history.gauges == {"balance": Decimal("12.5")}
    assert history.keep_months == KEEP_MONTHS
    for metric, values in kept.items():
        assert dict(history.days(metric)) == values
        assert history.total(metric, oldest, latest) == sum(values.values())
    if any(sum(kept[m].values()) != sum(days[m].values()) for m in days):
        assert history.kept_from == oldest
        with pytest.raises(InvalidArgument):
            history.total("spend", oldest - timedelta(days=1), latest)
    again = metrics_from_document(metrics_to_document(history))
    assert again == history


def test_a_tier_window_longer_than_the_months_kept_counts_the_days_held() -> None:
    """A programme version that reads 24 months, added when the history kept 13: the tier
    rule measures the days held (the purchase goes on), an analysis of the same span is
    refused by name."""
    history = MetricHistory().keeping(13)
    start = date(2024, 1, 1)
    for n in range(0, 900, 30):
        history = history.add("spend", start + timedelta(days=n), Decimal(100))
    at = datetime(2026, 5, 20, 12, tzinfo=UTC)  # the day of the last sample
    assert history.kept_from == date(2025, 4, 1)
    held = sum((v for d, v in history.days("spend") if d >= date(2025, 4, 1)), Decimal(0))
    measured = history.measure("spend", Window.rolling(24), at, enrolled_at=JOINED, zone=UTC)
    assert measured == held == Decimal(1400)
    with pytest.raises(InvalidArgument, match="keeps days since 2025-04-01"):
        history.total("spend", date(2024, 5, 21), date(2026, 5, 20))
