"""Business calendars: working days and hours, holidays, make-up days, 24-hour service."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.errors import InvalidArgument, NaiveDatetime

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = BusinessCalendar(timezone="Asia/Shanghai", opens=time(9), closes=time(18))


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_a_target_started_on_friday_evening_runs_on_monday() -> None:
    deadline = OFFICE.add(local(2026, 5, 8, 17), timedelta(hours=2))
    assert deadline == local(2026, 5, 11, 10)
    assert deadline.tzinfo == SHANGHAI


def test_five_working_days_are_five_opening_spans() -> None:
    start = local(2026, 5, 8, 17)
    assert OFFICE.add(start, 5 * OFFICE.day_length) == local(2026, 5, 15, 17)
    assert OFFICE.day_length == timedelta(hours=9)


def test_a_target_that_fills_the_day_ends_at_closing_time() -> None:
    assert OFFICE.add(local(2026, 5, 11, 9), timedelta(hours=9)) == local(2026, 5, 11, 18)


def test_holidays_are_skipped_and_make_up_days_count() -> None:
    calendar = BusinessCalendar(
        timezone="Asia/Shanghai",
        holidays={date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5)},
        workdays={date(2026, 5, 9)},  # a Saturday worked to make up for the holiday
    )
    assert not calendar.is_working_day(date(2026, 5, 4))
    assert calendar.is_working_day(date(2026, 5, 9))
    assert calendar.add(local(2026, 4, 30, 17), timedelta(hours=2)) == local(2026, 5, 6, 10)
    assert calendar.add(local(2026, 5, 8, 17), timedelta(hours=2)) == local(2026, 5, 9, 10)
    assert calendar.hours_on(date(2026, 5, 5)) is None


def test_between_counts_only_opening_hours() -> None:
    assert OFFICE.between(local(2026, 5, 8, 17), local(2026, 5, 11, 10)) == timedelta(hours=2)
    assert OFFICE.between(local(2026, 5, 9, 10), local(2026, 5, 10, 23)) == timedelta(0)
    assert OFFICE.between(local(2026, 5, 11, 10), local(2026, 5, 11, 9)) == timedelta(0)
    assert OFFICE.between(local(2026, 5, 11, 7), local(2026, 5, 11, 20)) == timedelta(hours=9)


def test_next_open_and_is_open() -> None:
    assert OFFICE.next_open(local(2026, 5, 11, 10)) == local(2026, 5, 11, 10)
    assert OFFICE.next_open(local(2026, 5, 11, 7)) == local(2026, 5, 11, 9)
    assert OFFICE.next_open(local(2026, 5, 8, 18)) == local(2026, 5, 11, 9)
    assert OFFICE.is_open(local(2026, 5, 11, 9))
    assert not OFFICE.is_open(local(2026, 5, 11, 18))
    assert not OFFICE.is_open(local(2026, 5, 9, 12))
    assert OFFICE.add(local(2026, 5, 9, 12), timedelta(0)) == local(2026, 5, 11, 9)


def test_instants_in_other_zones_are_read_in_the_calendar_zone() -> None:
    # 01:30 UTC is 09:30 in Shanghai
    assert OFFICE.is_open(datetime(2026, 5, 11, 1, 30, tzinfo=UTC))
    assert OFFICE.add(datetime(2026, 5, 11, 1, 0, tzinfo=UTC), timedelta(hours=1)) == local(
        2026, 5, 11, 10
    )


def test_always_open_counts_elapsed_time_even_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    hotline = BusinessCalendar.twenty_four_seven("Europe/Berlin")
    start = datetime(2026, 3, 28, 12, tzinfo=berlin)
    assert hotline.add(start, timedelta(hours=24)) == datetime(2026, 3, 29, 13, tzinfo=berlin)
    assert hotline.between(start, datetime(2026, 3, 29, 12, tzinfo=berlin)) == timedelta(hours=23)
    assert hotline.is_open(start)
    assert hotline.next_open(start) == start
    assert hotline.day_length == timedelta(days=1)
    assert hotline.hours_on(date(2026, 3, 29)) is not None


def test_working_hours_keep_their_length_on_a_dst_day() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin", weekdays=range(7))
    berlin = ZoneInfo("Europe/Berlin")
    sunday = datetime(2026, 3, 29, 0, tzinfo=berlin)
    assert calendar.between(sunday, sunday + timedelta(days=1)) == timedelta(hours=9)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"opens": time(18), "closes": time(9)}, "opens"),
        ({"weekdays": ()}, "weekday"),
        ({"weekdays": (7,)}, "weekdays"),
        ({"holidays": ("2026-05-01",)}, "2026-05-01"),
        ({"opens": "09:00"}, "09:00"),
    ],
)
def test_bad_calendars_are_refused_naming_the_value(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        BusinessCalendar(**arguments)  # type: ignore[arg-type]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(NaiveDatetime):
        OFFICE.add(datetime(2026, 5, 11, 9), timedelta(hours=1))
    with pytest.raises(InvalidArgument, match="duration"):
        OFFICE.add(local(2026, 5, 11, 9), timedelta(hours=-1))
