"""Values every layer shares: points, money, identifiers, instants and portions.

Points are plain ``int`` (never floats). Money is an exact :class:`~decimal.Decimal`
with an ISO 4217 currency; mixing currencies raises and rounding is always explicit.
Instants must be timezone-aware: the library never reads the clock, callers pass ``at``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, TypeAlias

import attrs

from loyaltykit.errors import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidCurrency,
    InvalidIdentifier,
    NaiveDatetime,
)

__all__ = [
    "MAX_POINTS",
    "CustomerId",
    "JSONScalar",
    "Metadata",
    "Money",
    "Points",
    "aware",
    "frozen_metadata",
    "identifier",
    "points_amount",
    "points_for",
    "points_within_bounds",
    "portion",
    "utc",
]

Points: TypeAlias = int
"""A number of points. Always an ``int``: points are counted, never measured."""

MAX_POINTS: Points = 2**53 - 1
"""The largest number of points an amount or a balance may hold: 9,007,199,254,740,991.

Every reader of JSON keeps integers up to this exact (it is JavaScript's
``Number.MAX_SAFE_INTEGER``: outbox payloads and receipts go to such readers), and it is
far inside the 64-bit ``BIGINT`` every SQL backend stores, so a sum of a thousand maximal
balances still fits there. Bigger amounts are refused with :class:`InvalidAmount`.
"""

CustomerId: TypeAlias = str

JSONScalar: TypeAlias = str | int | bool | None
Metadata: TypeAlias = tuple[tuple[str, JSONScalar], ...]
"""Free metadata kept as sorted ``(key, value)`` pairs so that values stay hashable."""

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@/+-]{0,127}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Minor units of the common currencies; every other valid code uses 2 (ISO 4217's default).
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3}


def identifier(what: str, value: object) -> str:
    """Return ``value`` if it is a valid identifier, else raise :class:`InvalidIdentifier`.

    Identifiers are 1-128 characters of letters, digits and ``_ . : @ / + -``, starting
    with a letter or digit, so they are safe in URLs, logs and every SQL backend.
    """
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise InvalidIdentifier(
            what, value, "1-128 characters of letters, digits and _.:@/+- (no spaces)"
        )
    return value


def aware(what: str, value: object) -> datetime:
    """Return ``value`` as the same instant in UTC, if it is a timezone-aware datetime,
    else raise a typed error.

    Every instant entering the library passes here, so everything inside compares and
    stores UTC: within one ``ZoneInfo`` Python compares wall clocks and ignores ``fold``
    (01:30 EDT equals 01:30 EST on a fall-back night), and across zones it calls an
    ambiguous wall time unequal to every instant.
    """
    if not isinstance(value, datetime):
        raise InvalidAmount(what, value, "a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(what, value)
    return value.astimezone(UTC)


def utc(value: Any) -> Any:
    """``value`` in UTC if it is an aware datetime, anything else unchanged.

    The converter of every instant field of the domain's values (``attrs.field(
    converter=utc, validator=...)``): the field's validator then refuses what is not an
    aware instant, naming the field; what passes is stored and compared in UTC.
    """
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC)
    return value


def points_amount(what: str, value: object, *, allow_zero: bool = False) -> Points:
    """Return ``value`` if it is a positive ``int`` (or zero when allowed) of at most
    :data:`MAX_POINTS`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(what, value, "an int number of points")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidAmount(what, value, "a positive number of points")
    if value > MAX_POINTS:
        raise InvalidAmount(what, value, f"at most {MAX_POINTS} points")
    return value


def points_within_bounds(what: str, value: int) -> int:
    """Return ``value`` if its magnitude is at most :data:`MAX_POINTS` (a signed amount
    or a balance), else raise :class:`InvalidAmount` naming it."""
    if not -MAX_POINTS <= value <= MAX_POINTS:
        raise InvalidAmount(what, value, f"between -{MAX_POINTS} and {MAX_POINTS} points")
    return value


def portion(value: object) -> Fraction:
    """Return a portion in ``(0, 1]`` as an exact :class:`Fraction`.

    Accepts a ``Fraction``, a ``Decimal``, an ``int`` (only 1) or a string such as
    ``"1/3"`` or ``"0.25"``; floats are refused because they are not exact.
    """
    if isinstance(value, bool | float):
        raise InvalidAmount("portion", value, "an exact Fraction, Decimal or string in (0, 1]")
    try:
        if isinstance(value, Fraction | Decimal | int):
            result = Fraction(value)
        elif isinstance(value, str):
            result = Fraction(value.strip())
        else:
            raise TypeError
    except (TypeError, ValueError, ZeroDivisionError, InvalidOperation):
        raise InvalidAmount(
            "portion", value, "an exact Fraction, Decimal or string in (0, 1]"
        ) from None
    if not 0 < result <= 1:
        raise InvalidAmount("portion", value, "a portion greater than 0 and at most 1")
    return result


def frozen_metadata(value: Mapping[str, Any] | Metadata | None) -> Metadata:
    """Normalise free metadata to sorted ``(key, value)`` pairs of JSON scalars."""
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    pairs: list[tuple[str, JSONScalar]] = []
    for key, item in items:
        if not isinstance(key, str) or not key:
            raise InvalidIdentifier("metadata key", key, "a non-empty string")
        if item is not None and not isinstance(item, str | int | bool):
            raise InvalidAmount(f"metadata[{key!r}]", item, "a str, int, bool or None")
        pairs.append((key, item))
    pairs.sort(key=lambda pair: pair[0])
    return tuple(pairs)


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool | float):
        raise InvalidAmount("money amount", value, "a Decimal, int or numeric string (no floats)")
    try:
        result = Decimal(value) if isinstance(value, Decimal | int | str) else None
    except InvalidOperation:
        result = None
    if result is None or not result.is_finite():
        raise InvalidAmount("money amount", value, "a Decimal, int or numeric string (no floats)")
    return result


def _currency(value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise InvalidCurrency(value)
    return value


@attrs.frozen(kw_only=True, order=False)
class Money:
    """An exact amount in one currency.

    >>> Money.of("12.50", "CNY") + Money.of(3, "CNY")
    Money(amount=Decimal('15.50'), currency='CNY')

    Arithmetic is only allowed between equal currencies; multiplying two amounts of
    money is refused; rounding happens only through :meth:`quantize`.
    """

    amount: Decimal = attrs.field(converter=_decimal)
    currency: str = attrs.field(validator=lambda _i, _a, v: _currency(v))

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        """Build money from a ``Decimal``, an ``int`` or a numeric string (never a float)."""
        return cls(amount=amount, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``."""
        return cls(amount=Decimal(0), currency=currency)

    @property
    def minor_units(self) -> int:
        """Decimal places of the currency's minor unit (2 for CNY, 0 for JPY)."""
        return _MINOR_UNITS.get(self.currency, 2)

    def quantize(self, rounding: str = ROUND_DOWN, places: int | None = None) -> Money:
        """Round to the currency's minor unit (or ``places``) with a named rounding mode."""
        digits = self.minor_units if places is None else places
        exponent = Decimal(1).scaleb(-digits)
        return Money(
            amount=self.amount.quantize(exponent, rounding=rounding), currency=self.currency
        )

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        return Money(amount=self.amount + self._same(other).amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(amount=self.amount - self._same(other).amount, currency=self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, Money):
            raise TypeError("money times money has no meaning; multiply by a Decimal or int")
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            raise InvalidAmount("money factor", factor, "a Decimal or int (no floats)")
        return Money(amount=self.amount * factor, currency=self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def ratio(self, other: Money) -> Fraction:
        """Exact ratio of two amounts in the same currency (for partial refunds)."""
        divisor = self._same(other).amount
        if divisor == 0:
            raise InvalidAmount("money divisor", other, "a non-zero amount")
        return Fraction(self.amount) / Fraction(divisor)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def points_for(spent: Money, *, per: Money, points: int = 1, rounding: str = ROUND_DOWN) -> Points:
    """Points earned for ``spent`` at ``points`` per ``per`` of money, rounded explicitly.

    >>> points_for(Money.of("129.90", "CNY"), per=Money.of(10, "CNY"))
    12
    """
    if per.amount <= 0:
        raise InvalidAmount("earning rate", per, "a positive amount of money per points")
    units = (spent.amount / spent._same(per).amount) * points
    return int(units.quantize(Decimal(1), rounding=rounding))
