"""MetricHistory.add keeps what the plain definition keeps: every day's sum, days more than
KEEP_MONTHS months before the latest added dropped (checked against that definition, written
with dateutil, on any order of days)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit.domain.metrics import KEEP_MONTHS, MetricHistory

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))
SAMPLES = st.lists(
    st.tuples(st.sampled_from(["spend", "purchases"]), DAYS, st.integers(1, 500)), max_size=30
)


def reference(samples: list[tuple[str, date, int]]) -> dict[str, dict[date, Decimal]]:
    days: dict[str, dict[date, Decimal]] = {}
    for metric, day, value in samples:
        mine = days.setdefault(metric, {})
        mine[day] = mine.get(day, Decimal(0)) + value
        oldest = day - relativedelta(months=KEEP_MONTHS)
        days = {name: {d: v for d, v in kept.items() if d >= oldest} for name, kept in days.items()}
    return days


@settings(max_examples=60, deadline=None)
@given(SAMPLES, st.booleans())
def test_add_keeps_what_the_definition_keeps(
    samples: list[tuple[str, date, int]], reload: bool
) -> None:
    history = MetricHistory()
    for n, (metric, day, value) in enumerate(samples):
        history = history.add(metric, day, Decimal(value))
        if reload and n % 3 == 0:  # as loaded from a stored document, days in any order
            history = MetricHistory(
                days={m: dict(reversed(list(d.items()))) for m, d in history.days.items()},
                totals=history.totals,
            )
    assert history.days == reference(samples)
    for metric in {metric for metric, _, _ in samples}:
        total = sum(value for m, _, value in samples if m == metric)
        assert history.totals[metric] == total
        kept = history.days[metric]
        assert list(kept) == sorted(kept)
