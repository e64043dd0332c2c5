"""Qualification windows: the span of time a tier metric is measured over.

* ``rolling``: the last N months up to the instant (a moving window);
* ``calendar_year``: 1 January to 31 December in the programme's time zone;
* ``anniversary_year``: from the member's enrolment date to the next anniversary;
* ``all_time``: since enrolment.

Month arithmetic is dateutil's: one month after 31 January is 28 (or 29) February.
"""

from __future__ import annotations

import calendar
import functools
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.errors import InvalidArgument

__all__ = ["Window", "months_before"]

KINDS = ("rolling", "calendar_year", "anniversary_year", "all_time")


@functools.lru_cache(maxsize=4096)
def months_before(day: date, months: int) -> date:
    """``day - relativedelta(months=months)`` without building one (a window's bounds are
    taken on every purchase): the same day of the month, or the month's last day when it
    is shorter (31 March minus one month is 28 or 29 February)."""
    count = day.year * 12 + day.month - 1 - months
    year, month = divmod(count, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _kind(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in KINDS:
        raise InvalidArgument(f"window kind: {value!r} is not one of {list(KINDS)}")


@attrs.frozen(kw_only=True)
class Window:
    """A qualification window. Build with the named constructors."""

    kind: str = attrs.field(validator=_kind)
    months: int = attrs.field(default=12)

    @months.validator
    def _check_months(self, _attribute: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
            raise InvalidArgument(f"window months: {value!r} must be an int from 1 to 120")

    @classmethod
    def rolling(cls, months: int = 12) -> Window:
        """The last ``months`` months."""
        return cls(kind="rolling", months=months)

    @classmethod
    def calendar_year(cls) -> Window:
        """The calendar year, in the programme's time zone."""
        return cls(kind="calendar_year")

    @classmethod
    def anniversary_year(cls) -> Window:
        """The membership year that started on the last enrolment anniversary."""
        return cls(kind="anniversary_year")

    @classmethod
    def all_time(cls) -> Window:
        """Everything since enrolment."""
        return cls(kind="all_time")

    def bounds(self, at: datetime, *, enrolled_at: datetime, zone: tzinfo) -> tuple[date, date]:
        """The first and last local day of the window containing ``at`` (both inclusive)."""
        today = at.astimezone(zone).date()
        joined = enrolled_at.astimezone(zone).date()
        if self.kind == "rolling":
            start = months_before(today, self.months) + timedelta(days=1)
            return max(start, joined), today
        if self.kind == "calendar_year":
            return max(date(today.year, 1, 1), joined), date(today.year, 12, 31)
        if self.kind == "anniversary_year":
            years = relativedelta(today, joined).years
            # both ends count from the enrolment day, so a member who joined on 29 February
            # has back-to-back windows that always contain today
            start = joined + relativedelta(years=years)
            return start, joined + relativedelta(years=years + 1) - relativedelta(days=1)
        return joined, today

    def months_billed(self, at: datetime, *, enrolled_at: datetime, zone: tzinfo) -> int:
        """The divisor of a per-month average (ARPU): the calendar months from the one
        the window opened in, or the member joined in if later, to the month of ``at``,
        both counted whole; at least 1, at most the window's own months.

        A member billed 200 each month since joining has an ARPU of 200 from the first
        bill on, in any window: the months before they joined and the months of the
        window still to come are not counted. Calendar months, not spans from the
        joining day, so a bill that comes a day early never counts twice in a month.
        """
        first, last = self.bounds(at, enrolled_at=enrolled_at, zone=zone)
        end = min(last, at.astimezone(zone).date())
        months = (end.year - first.year) * 12 + end.month - first.month + 1
        most = {"rolling": self.months, "all_time": months}.get(self.kind, 12)
        return max(1, min(months, most))

    def closes(self, at: datetime, *, enrolled_at: datetime, zone: tzinfo) -> date | None:
        """The last day of a fixed window (calendar or anniversary year), else ``None``."""
        if self.kind in ("calendar_year", "anniversary_year"):
            return self.bounds(at, enrolled_at=enrolled_at, zone=zone)[1]
        return None

    def label(self) -> str:
        """Words for explanations: ``"rolling 12 months"``."""
        if self.kind == "rolling":
            return f"rolling {self.months} months"
        return self.kind.replace("_", " ")
