"""The scalars of every loaded document, each read one way: instants, money, factors,
durations, and choices from an enumeration.

Each reader takes the :class:`~loyaltykit.formats.problems.Problems` it reports to and
the path of the value, and returns ``None`` (after recording why) for a bad value, so a
loader goes on and reports every problem at once.

- An **instant** is a TOML datetime or ISO 8601 text with a UTC offset, read by
  :func:`loyaltykit.values.parse_instant`: refused without an offset, outside the range
  every backend stores, and returned in UTC.
- **Money** is text (or a whole number) in the programme's currency: exact, bounded as
  :func:`loyaltykit.values.bounded_decimal` bounds it, positive, and not less than the
  currency's smallest coin.
- A **duration** is a table of whole (or, where a unit allows it, fractional) units, none
  negative, at most :data:`MAX_YEARS` long in all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from dateutil.relativedelta import relativedelta

from loyaltykit.errors import LoyaltyError
from loyaltykit.formats.problems import Problems
from loyaltykit.values import Money, bounded_decimal, parse_instant, utc

__all__ = [
    "CALENDAR_UNITS",
    "MAX_FACTOR",
    "MAX_YEARS",
    "choice",
    "clock_skew",
    "duration",
    "duration_dict",
    "duration_parts",
    "factor",
    "instant",
    "instant_text",
    "money",
    "positive_decimal",
    "span",
]

E = TypeVar("E", bound=Enum)
MAX_YEARS = 100
"""The longest duration (an expiry, a status length, a grace period), in years."""
MAX_FACTOR = Decimal(1000)
"""The largest multiplier factor; a factor has at most 6 decimal places."""
CALENDAR_UNITS = ("years", "months", "days")
"""The units of a calendar duration (an expiry, a status length)."""
# each unit's length at its longest, to bound a duration before it is added to instants
_LONGEST = {
    "years": timedelta(days=366),
    "months": timedelta(days=31),
    "days": timedelta(days=1),
    "working_days": timedelta(days=1),
    "hours": timedelta(hours=1),
    "minutes": timedelta(minutes=1),
    "seconds": timedelta(seconds=1),
}
_SKEW_UNITS = ("hours", "minutes", "seconds")


def instant(problems: Problems, value: Any, path: str) -> datetime | None:
    """The instant at ``path`` in UTC (``None`` when absent)."""
    if value is None:
        return None
    try:
        return parse_instant(path, value)
    except LoyaltyError as error:
        problems.problems.append(str(error))
        return None


def instant_text(value: datetime | None) -> str | None:
    """How an instant is written back (ISO 8601 in UTC); :func:`instant` reads it."""
    return None if value is None else utc(value).isoformat()


def positive_decimal(
    problems: Problems,
    value: Any,
    path: str,
    *,
    what: str,
    example: str,
    max_digits: int = 15,
    max_places: int = 12,
) -> Decimal | None:
    """A positive exact number written as text (``example``) or a whole number, never a
    float, bounded as :func:`loyaltykit.values.bounded_decimal` bounds it; ``what`` is
    the noun a problem uses (``amount``, ``rate``)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.add(
            path, f"{value!r} is not {_with_article(what)} written as a string such as {example}"
        )
        return None
    try:
        found = bounded_decimal(path, str(value), max_digits=max_digits, max_places=max_places)
    except LoyaltyError as error:
        problems.problems.append(str(error))
        return None
    if found <= 0:
        problems.add(path, f"{value!r} must be a positive {what}")
        return None
    return found


def _with_article(noun: str) -> str:
    """``noun`` with its indefinite article (``an amount``, ``a rate``)."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def money(problems: Problems, value: Any, path: str, currency: str) -> Money | None:
    """A positive amount of ``currency`` written as text (``"99.50"``) or a whole number."""
    amount = positive_decimal(problems, value, path, what="amount", example='"10" or "99.50"')
    if amount is None:
        return None
    found = problems.build(path, lambda: Money.of(amount, currency))
    if found is None:
        return None
    smallest = Decimal(1).scaleb(-found.minor_units)
    if amount < smallest:
        # a rate per a fraction of the smallest coin earns points no ledger can hold
        problems.add(path, f"{value!r} is less than the smallest amount of {currency} ({smallest})")
        return None
    return found


def factor(problems: Problems, value: Any, path: str) -> Decimal | None:
    """A positive multiplier up to :data:`MAX_FACTOR`, written as text (``"1.5"``)."""
    expected = f"must be a positive number up to {MAX_FACTOR} written as a string"
    try:
        found = (
            bounded_decimal(path, value, max_digits=4, max_places=6)
            if isinstance(value, str | int) and not isinstance(value, bool)
            else None
        )
    except LoyaltyError:
        found = None
    if found is None or found <= 0 or found > MAX_FACTOR:
        problems.add(path, f"{value!r} {expected}")
        return None
    return found


def choice(problems: Problems, value: Any, path: str, kind: type[E]) -> E | None:
    """The member of the enumeration ``kind`` whose value is ``value``."""
    try:
        return kind(value)
    except ValueError:
        problems.add(path, f"{value!r} is not one of {[member.value for member in kind]}")
        return None


def duration_parts(
    problems: Problems,
    value: Any,
    path: str,
    units: tuple[str, ...],
    *,
    fractional: tuple[str, ...] = (),
    also: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """The parts of a duration table: each of ``units`` a whole number of zero or more
    (or any number of zero or more, for the units in ``fractional``), missing ones 0.
    ``also`` names other keys the table may hold (a complaint target's ``calendar``).
    ``None`` (and problems at each bad part) when a part is wrong or the whole is longer
    than :data:`MAX_YEARS`."""
    if not isinstance(value, Mapping):
        problems.add(path, f"{value!r} is not a table of {', '.join(units)}")
        return None
    problems.unknown(value, path + ".", (*units, *also))
    parts: dict[str, Any] = {}
    wrong = False
    for unit in units:
        part: Any = value.get(unit, 0)
        numeric = isinstance(part, int | float) if unit in fractional else isinstance(part, int)
        # a NaN is not >= 0 either
        if isinstance(part, bool) or not numeric or not part >= 0:
            number = "a number" if unit in fractional else "a whole number"
            problems.add(f"{path}.{unit}", f"{part!r} is not {number} of zero or more")
            wrong = True
            continue
        parts[unit] = part
    if wrong:
        return None
    # a duration is added to instants; past a century it only overflows the calendar
    longest = sum(_LONGEST[unit].total_seconds() * part for unit, part in parts.items())
    if longest > _LONGEST["years"].total_seconds() * MAX_YEARS:
        problems.add(path, f"{dict(value)!r} is longer than {MAX_YEARS} years")
        return None
    return parts


def duration(problems: Problems, value: Any, path: str) -> relativedelta | None:
    """A positive calendar duration: ``{ years = 1 }``, ``{ months = 6, days = 15 }``
    (``None`` when absent)."""
    if value is None:
        return None
    parts = duration_parts(problems, value, path, CALENDAR_UNITS)
    if parts is None:
        return None
    if not any(parts.values()):
        problems.add(path, f"{dict(value)!r} must be a positive duration")
        return None
    return relativedelta(**parts)


def duration_dict(value: relativedelta | None) -> dict[str, int] | None:
    """The table :func:`duration` reads back equal (``None`` for no duration)."""
    if value is None:
        return None
    parts = {"years": value.years, "months": value.months, "days": value.days}
    return {unit: amount for unit, amount in parts.items() if amount}


def span(problems: Problems, value: Any, path: str) -> relativedelta | None:
    """A span of ``days`` and ``hours`` (how long a campaign's occurrence lasts)."""
    parts = duration_parts(problems, value, path, ("days", "hours"))
    return None if parts is None else relativedelta(**parts)


def clock_skew(problems: Problems, value: Any, path: str) -> timedelta | None:
    """A tolerance of ``hours``, ``minutes`` and ``seconds`` (``None`` when absent)."""
    if value is None:
        return None
    parts = duration_parts(problems, value, path, _SKEW_UNITS)
    return None if parts is None else timedelta(**parts)
