"""Business calendars: when the service is open, and time counted only while it is.

A :class:`BusinessCalendar` says which local days are working days (weekdays, minus
public holidays, plus make-up working days such as China's 调休 weekends), the opening
hours of a working day, and the IANA time zone they are read in. SLA targets are
business time: "5 working days" on a 09:00-18:00 calendar is 45 open hours.

A 24-hour channel (a hotline) uses ``always_open=True``: business time is then plain
elapsed time. The working days come from a dateutil ``rruleset`` (a daily rule on the
working weekdays, holidays as exclusions, make-up days as additions). All arithmetic is
done on UTC instants, so a DST change never adds or loses an hour of business time.

>>> from datetime import datetime, time, timedelta, timezone
>>> calendar = BusinessCalendar(timezone="Asia/Shanghai", opens=time(9), closes=time(18))
>>> friday_evening = datetime(2026, 5, 8, 17, tzinfo=ZoneInfo("Asia/Shanghai"))
>>> calendar.add(friday_evening, timedelta(hours=2)).isoformat()
'2026-05-11T10:00:00+08:00'
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.rrule import DAILY, rrule, rruleset

from loyaltykit.errors import InvalidArgument
from loyaltykit.values import aware, sequence_of

__all__ = ["WEEKDAYS", "BusinessCalendar"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ZERO = timedelta(0)


def _zone(_instance: Any, _attribute: Any, value: Any) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a long name
        raise InvalidArgument(f"calendar timezone: {value!r} is not an IANA time zone") from None


def _weekdays(value: Any) -> frozenset[int]:
    days = frozenset(sequence_of("working weekdays", value, int))
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise InvalidArgument(f"working weekdays: {sorted(days, key=str)!r} must be ints 0 (Mon)-6")
    return days


def _dates(value: Any) -> frozenset[date]:
    days = frozenset(sequence_of("calendar dates", value, date))
    for day in days:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidArgument(f"calendar dates: {day!r} is not a date")
    return days


def _time(_instance: Any, attribute: attrs.Attribute[time], value: Any) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise InvalidArgument(f"calendar {attribute.name}: {value!r} is not a local time of day")


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """Working days and hours in a time zone; see the module docs.

    ``weekdays`` are ints, 0 for Monday to 6 for Sunday. ``holidays`` are local dates
    closed although they fall on a working weekday; ``workdays`` are local dates open
    although they do not (make-up days). ``opens`` must be before ``closes``: one
    opening span per day (a 24-hour service is ``always_open``).
    """

    timezone: str = attrs.field(default="UTC", validator=_zone)
    weekdays: frozenset[int] = attrs.field(
        default=frozenset(range(5)), converter=_weekdays, repr=False
    )
    opens: time = attrs.field(default=time(9), validator=_time)
    closes: time = attrs.field(default=time(18), validator=_time)
    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_dates, repr=False)
    workdays: frozenset[date] = attrs.field(default=frozenset(), converter=_dates, repr=False)
    always_open: bool = False

    def __attrs_post_init__(self) -> None:
        if self.always_open:
            return
        if self.opens >= self.closes:
            raise InvalidArgument(
                f"calendar hours: opens {self.opens} must be before closes {self.closes}"
            )
        if not self.weekdays:
            raise InvalidArgument("calendar weekdays: at least one working weekday is needed")

    @classmethod
    def twenty_four_seven(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A calendar that never closes (a 24-hour hotline)."""
        return cls(timezone=timezone, always_open=True)

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def day_length(self) -> timedelta:
        """The business time in one working day (24 hours when always open)."""
        if self.always_open:
            return timedelta(days=1)
        anchor = date(2000, 1, 1)
        return datetime.combine(anchor, self.closes) - datetime.combine(anchor, self.opens)

    def is_working_day(self, day: date) -> bool:
        """Whether the local date ``day`` has opening hours."""
        if self.always_open or day in self.workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The opening and closing instants (UTC) of local date ``day``; ``None`` on a
        closed day. An always-open calendar's day runs from local midnight to midnight."""
        if not self.is_working_day(day):
            return None
        zone = self.zone
        if self.always_open:
            start = datetime.combine(day, time(0), tzinfo=zone)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        else:
            start = datetime.combine(day, self.opens, tzinfo=zone)
            end = datetime.combine(day, self.closes, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls in opening hours (opening included, closing excluded)."""
        when = aware("at", at).astimezone(UTC)
        if self.always_open:
            return True
        hours = self.hours_on(when.astimezone(self.zone).date())
        return hours is not None and hours[0] <= when < hours[1]

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the next opening instant (in the calendar's zone)."""
        when = aware("at", at).astimezone(UTC)
        if self.always_open:
            return when.astimezone(self.zone)
        for start, end in self._spans(when):
            if when < end:
                return max(start, when).astimezone(self.zone)
        raise AssertionError("unreachable")  # pragma: no cover - the day rule never ends

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of business time has passed since ``start``.

        The result always lies within opening hours (its closing instant included): a
        2-hour target started at 17:00 on a 09:00-18:00 calendar ends at 10:00 on the
        next working day. A zero duration gives :meth:`next_open`.
        """
        when = aware("start", start).astimezone(UTC)
        if not isinstance(duration, timedelta) or duration < _ZERO:
            raise InvalidArgument(f"duration: {duration!r} must be a timedelta of zero or more")
        if self.always_open:
            return (when + duration).astimezone(self.zone)
        if duration == _ZERO:
            return self.next_open(when)
        left = duration
        for open_at, close_at in self._spans(when):
            begin = max(open_at, when)
            if begin >= close_at:
                continue
            span = close_at - begin
            if left <= span:
                return (begin + left).astimezone(self.zone)
            left -= span
        raise AssertionError("unreachable")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The business time from ``start`` to ``end`` (zero when ``end`` is not after it)."""
        begin = aware("start", start).astimezone(UTC)
        finish = aware("end", end).astimezone(UTC)
        if finish <= begin:
            return _ZERO
        if self.always_open:
            return finish - begin
        total = _ZERO
        for open_at, close_at in self._spans(begin):
            if open_at >= finish:
                break
            overlap = min(close_at, finish) - max(open_at, begin)
            if overlap > _ZERO:
                total += overlap
        return total

    def _spans(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The opening spans (UTC) of the working days from the local day of ``since``."""
        first = since.astimezone(self.zone).date() - timedelta(days=1)  # zones ahead of UTC
        start = datetime.combine(first, time(0))
        for moment in self._days(start).xafter(start, inc=True):
            hours = self.hours_on(moment.date())
            if hours is not None:
                yield hours

    def _days(self, start: datetime) -> rruleset:
        days = rruleset()
        days.rrule(rrule(DAILY, dtstart=start, byweekday=sorted(self.weekdays)))
        for holiday in self.holidays:
            days.exdate(datetime.combine(holiday, time(0)))
        for extra in self.workdays:
            days.rdate(datetime.combine(extra, time(0)))
        return days
