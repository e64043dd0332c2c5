"""Business-time arithmetic: adding then measuring gives the duration back, deadlines
fall in opening hours, and pausing a clock never shortens the time left."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.domain.complaints import SlaClock

ZONES = ("UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York", "Pacific/Auckland")


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.booleans()) and draw(st.booleans()):
        return BusinessCalendar.twenty_four_seven(zone)
    opens = draw(st.integers(0, 22))
    closes = draw(st.integers(opens + 1, 23))
    days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
    return BusinessCalendar(
        timezone=zone,
        weekdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        opens=time(opens, draw(st.sampled_from((0, 30)))),
        closes=time(closes, 59),
        holidays=draw(st.frozensets(days, max_size=20)),
        workdays=draw(st.frozensets(days, max_size=5)),
    )


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=12))


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants, duration=durations)
def test_adding_then_measuring_gives_the_duration_back(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    assert calendar.between(start, calendar.add(start, duration)) == duration


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants, duration=durations)
def test_a_deadline_never_falls_outside_opening_hours(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = calendar.add(start, duration)
    assert deadline >= start
    if calendar.always_open:
        assert deadline - start == duration
        return
    local_day = deadline.astimezone(calendar.zone).date()
    hours = calendar.hours_on(local_day)
    assert hours is not None
    assert hours[0] <= deadline <= hours[1]


@settings(max_examples=200, deadline=None)
@given(
    calendar=calendars(),
    start=instants,
    offsets=st.lists(
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=6)), min_size=3, max_size=3
    ),
    target=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=5)),
)
def test_pausing_never_shortens_the_time_left(
    calendar: BusinessCalendar, start: datetime, offsets: list[timedelta], target: timedelta
) -> None:
    paused_at, resumed_at, seen_at = (start + offset for offset in sorted(offsets))
    plain = SlaClock(name="resolution", target=target, calendar="c", started_at=start)
    paused = plain.pause(paused_at)
    for at in (paused_at, resumed_at, seen_at):
        assert paused.remaining(at, calendar) >= plain.remaining(at, calendar)
    resumed = paused.resume(resumed_at)
    assert resumed.remaining(seen_at, calendar) >= plain.remaining(seen_at, calendar)
    deadline, plain_deadline = resumed.deadline(calendar), plain.deadline(calendar)
    assert deadline is not None
    assert plain_deadline is not None
    assert deadline >= plain_deadline
    assert resumed.used(deadline, calendar) == target


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants, end=instants)
def test_measuring_then_adding_never_passes_the_end(
    calendar: BusinessCalendar, start: datetime, end: datetime
) -> None:
    measured = calendar.between(start, end)
    if end > start:
        assert calendar.add(start, measured) <= max(end, calendar.next_open(start))
    else:
        assert measured == timedelta(0)
