"""Values every layer shares: points, money, identifiers, instants and portions.

Points are plain ``int`` (never floats). Money is an exact :class:`~decimal.Decimal`
with an ISO 4217 currency; mixing currencies raises and rounding is always explicit.
Instants must be timezone-aware: the library never reads the clock, callers pass ``at``.
"""

from __future__ import annotations

import decimal
import functools
import hashlib
import itertools
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, DecimalException
from fractions import Fraction
from typing import Any, TypeAlias, TypeVar

import attrs

from loyaltykit.errors import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidArgument,
    InvalidCurrency,
    InvalidIdentifier,
    InvalidTenant,
    InvalidText,
    LoyaltyError,
    NaiveDatetime,
    shown,
)

__all__ = [
    "DEFAULT_TENANT",
    "EARLIEST",
    "LATEST",
    "MAX_ACTOR_LENGTH",
    "MAX_IDENTIFIER_LENGTH",
    "MAX_LABEL_LENGTH",
    "MAX_METADATA_ITEMS",
    "MAX_METADATA_KEY_LENGTH",
    "MAX_METADATA_VALUE_LENGTH",
    "MAX_POINTS",
    "MAX_TAGS",
    "MAX_TENANT_LENGTH",
    "MAX_TEXT_LENGTH",
    "OMITTED_AT_DEFAULT",
    "CustomerId",
    "JSONScalar",
    "Metadata",
    "Money",
    "Points",
    "aware",
    "bounded_decimal",
    "codes",
    "count",
    "derived_identifier",
    "distinct_by_id",
    "frozen_metadata",
    "frozen_texts",
    "identifier",
    "identifiers",
    "instance_of",
    "instant",
    "label",
    "mapping_of",
    "parse_instant",
    "points_amount",
    "points_for",
    "points_within_bounds",
    "portion",
    "rate_points",
    "sequence_of",
    "tenant_key",
    "text",
    "utc",
]

T = TypeVar("T")

OMITTED_AT_DEFAULT = "loyaltykit.omitted_at_default"
"""attrs field metadata: the field stays out of a value's canonical form (and so of an
idempotency fingerprint) while it holds its default. Fields added to a value that
commands carry are marked so, and a request recorded before them replays unchanged."""

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

MAX_IDENTIFIER_LENGTH = 128
"""Ids and keys: every SQL backend stores them in ``VARCHAR(128)`` columns."""
MAX_ACTOR_LENGTH = 128
"""Who did it (``actor``): a ``VARCHAR(128)`` column."""
MAX_LABEL_LENGTH = 200
"""One-line texts: profile fields, tags, channels, descriptions."""
MAX_TEXT_LENGTH = 2000
"""Free text (a reason, a note, a complaint's content): at most 8 KB of UTF-8, so a
document holding several of them stays inside MariaDB's 64 KB ``TEXT``."""
MAX_TAGS = 32
MAX_METADATA_ITEMS = 20
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 200
# a JSON integer every reader keeps exact (JavaScript's Number.MAX_SAFE_INTEGER)
_MAX_JSON_INT = 2**53 - 1
# Instants are stored as naive UTC; these bounds keep the UTC form, and a few centuries of
# durations added to it, inside every backend's range (MariaDB DATETIME ends in 9999).
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

_IDENTIFIER = re.compile(f"[A-Za-z0-9][A-Za-z0-9_.:@/+-]{{0,{MAX_IDENTIFIER_LENGTH - 1}}}")
_CURRENCY = re.compile(r"[A-Z]{3}")
# Minor units of the common currencies; every other valid code uses 2 (ISO 4217's default).
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3}
# C0 and C1 controls and DEL; tab, newline and carriage return are allowed in free text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def identifier(what: str, value: object) -> str:
    """Return ``value`` if it is a valid identifier, else raise :class:`InvalidIdentifier`.

    Identifiers are 1-128 characters of letters, digits and ``_ . : @ / + -``, starting
    with a letter or digit, so they are safe in URLs, logs and every SQL backend. The
    whole text must match: ``"c-1\\n"`` is refused, not a second customer.
    """
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidIdentifier(
            what,
            value,
            f"1-{MAX_IDENTIFIER_LENGTH} characters of letters, digits and _.:@/+- (no spaces)",
        )
    return value


DEFAULT_TENANT = "default"
"""The programme every store holds without being asked for another: a store written
before tenants existed keeps all its rows in it (migration 0012)."""
MAX_TENANT_LENGTH = 64
"""A tenant key: a ``VARCHAR(64)`` column leading every key of every table."""
_TENANT_CHARACTER = re.compile(r"[a-z0-9_.-]")


def tenant_key(value: object) -> str:
    """Return ``value`` if it is a valid programme (tenant) key, else raise
    :class:`~loyaltykit.errors.InvalidTenant` naming what is wrong.

    A key is 1-64 characters of lowercase letters, digits and ``- _ .``, starting with a
    letter or digit: lowercase only, so ``"Brand-A"`` can never be a second programme
    beside ``"brand-a"`` by a slip of the shift key.

    >>> tenant_key("brand-a")
    'brand-a'
    >>> tenant_key("Brand-A")
    Traceback (most recent call last):
    ...
    loyaltykit.errors.InvalidTenant: tenant: 'Brand-A' is not valid, expected ...
    """
    if not isinstance(value, str):
        raise InvalidTenant(value, "a string key such as 'brand-a'")
    if not value:
        raise InvalidTenant(value, "a non-empty key such as 'brand-a'")
    if len(value) > MAX_TENANT_LENGTH:
        raise InvalidTenant(value, f"at most {MAX_TENANT_LENGTH} characters, not {len(value)}")
    for position, character in enumerate(value):
        if not _TENANT_CHARACTER.fullmatch(character):
            raise InvalidTenant(
                value,
                f"lowercase letters, digits, '-', '_' and '.' only "
                f"({character!r} at position {position})",
            )
    if value[0] in "-_.":
        raise InvalidTenant(value, "a key starting with a letter or a digit")
    return value


def derived_identifier(*parts: str) -> str:
    """The identifier the library derives from others (``"offer:" + an action id``, a
    survey id and an occasion): the parts joined with ``:``, or, when that would pass
    :data:`MAX_IDENTIFIER_LENGTH`, its start and a digest of the whole, so two different
    sources never share one.

    >>> derived_identifier("offer", "birthday:2026")
    'offer:birthday:2026'
    >>> len(derived_identifier("offer", "x" * 128))
    128
    """
    text = ":".join(parts)
    if len(text) <= MAX_IDENTIFIER_LENGTH:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{text[: MAX_IDENTIFIER_LENGTH - 33]}:{digest}"


def identifiers(what: str, value: object, *, max_items: int = 100) -> tuple[str, ...]:
    """Return ``value`` (a list, tuple or set of identifiers) as a tuple, else raise
    :class:`InvalidIdentifier`; a single string is refused, not read letter by letter."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Collection | Iterator):
        raise InvalidIdentifier(what, value, "a list of identifiers")
    items = tuple(itertools.islice(value, max_items + 1))
    if len(items) > max_items:
        raise InvalidIdentifier(what, value, f"at most {max_items} identifiers")
    return tuple(identifier(what, item) for item in items)


def sequence_of(
    what: str, value: object, kind: type[T] | tuple[type[T], ...], *, max_items: int = 1000
) -> tuple[T, ...]:
    """Return ``value`` (a list, tuple, set, dictionary view or generator of ``kind``) as a
    tuple, else raise :class:`InvalidArgument` naming the field: ``None``, a number, a
    string, a mapping, or a member of another type is refused, not iterated into a
    ``TypeError``. At most ``max_items`` members (a generator is read no further).

    The one check of every collection a public constructor takes (its fields' converters
    call it), so that a wrong type names the field instead of leaking a ``TypeError``.

    >>> sequence_of("tiers", ["gold", "silver"], str)
    ('gold', 'silver')
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = " or ".join(k.__name__ for k in kinds)
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(
        value, Collection | Iterator
    ):
        raise InvalidArgument(f"{what}: {shown(value)} is not a list of {names}")
    items = tuple(itertools.islice(value, max_items + 1))
    if len(items) > max_items:
        raise InvalidArgument(
            f"{what}: more than {max_items} items, at most {max_items} are allowed"
        )
    for item in items:
        if not isinstance(item, kinds):
            raise InvalidArgument(f"{what}: {shown(item)} is not a {names}")
    return items


def distinct_by_id(what: str, value: object, kind: type[T]) -> tuple[T, ...]:
    """:func:`sequence_of`, refusing with :class:`InvalidArgument` two members with the
    same ``id`` (partners, goals...).

    >>> distinct_by_id("tiers", ["gold"], str)
    ('gold',)
    """
    items = sequence_of(what, value, kind)
    ids = [getattr(item, "id", item) for item in items]
    twice = sorted({str(i) for i in ids if ids.count(i) > 1})
    if twice:
        raise InvalidArgument(f"{what}: ids {twice} are used more than once")
    return items


def mapping_of(
    what: str,
    value: object,
    kind: type[T] | tuple[type[T], ...],
    *,
    max_items: int = 1000,
) -> dict[str, T]:
    """Return ``value`` (a mapping of one-line texts to ``kind``) as a ``dict``, else raise
    :class:`InvalidArgument` naming the field and the key or value that is wrong.

    >>> mapping_of("calendars", {"default": 1}, int)
    {'default': 1}
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = " or ".join(k.__name__ for k in kinds)
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{what}: {shown(value)} is not a mapping of str to {names}")
    if len(value) > max_items:
        raise InvalidArgument(f"{what}: {len(value)} items, at most {max_items} are allowed")
    found: dict[str, T] = {}
    for key, item in value.items():
        label(f"{what} key", key)
        if not isinstance(item, kinds):
            raise InvalidArgument(f"{what}[{shown(key)}]: {shown(item)} is not a {names}")
        found[key] = item
    return found


def text(what: str, value: object, *, max_len: int, multiline: bool = True) -> str:
    """Return ``value`` if it is a string every backend stores unchanged, else raise
    :class:`InvalidText` naming the field.

    At most ``max_len`` characters; no NUL or other control characters (tab, newline and
    carriage return are allowed when ``multiline``); no lone surrogates, which cannot be
    encoded as UTF-8. The empty string is allowed.

    >>> text("reason", "goodwill for order 42", max_len=MAX_TEXT_LENGTH)
    'goodwill for order 42'
    """
    if type(value) is str and len(value) <= max_len and value.isprintable():
        return value  # printable: no control character and no surrogate, so nothing to find
    if not isinstance(value, str):
        raise InvalidText(what, value, "a string")
    if len(value) > max_len:
        raise InvalidText(what, value, f"at most {max_len} characters")
    control = (_CONTROL if multiline else _LINE_CONTROL).search(value)
    if control is not None:
        raise InvalidText(
            what, value, f"no control characters ({control.group()!r} at {control.start()})"
        )
    surrogate = _SURROGATE.search(value)
    if surrogate is not None:
        raise InvalidText(what, value, f"valid Unicode (a lone surrogate at {surrogate.start()})")
    return value


def count(what: str, value: object, *, minimum: int = 1, maximum: int = 100_000) -> int:
    """Return ``value`` if it is an ``int`` from ``minimum`` to ``maximum`` (a batch size,
    a page, a limit, a number of winners), else raise :class:`InvalidAmount`."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidAmount(what, value, f"an int from {minimum} to {maximum}")
    return value


def instance_of(what: str, value: object, kind: type[T] | tuple[type[T], ...]) -> T:
    """Return ``value`` if it is a ``kind`` (or one of several), else raise
    :class:`InvalidArgument` naming the field and the types expected (a policy object, a
    programme, an event)."""
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        names = " or ".join(k.__name__ for k in kinds)
        raise InvalidArgument(f"{what}: {shown(value)} is not a {names}")
    return value


def label(what: str, value: object, *, max_len: int = MAX_LABEL_LENGTH) -> str:
    """A one-line :func:`text` (no newline) of at most ``max_len`` characters."""
    return text(what, value, max_len=max_len, multiline=False)


def instant(what: str, value: object) -> datetime:
    """Return ``value`` if it is an aware datetime whose UTC form lies between
    :data:`EARLIEST` and :data:`LATEST`, else raise a typed error.

    Year 1 at +08:00 is before year 1 in UTC and year 9999 at -08:00 after 9999: such
    values pass :func:`aware` and then fail in one backend and not in another.
    """
    if value.__class__ is datetime and value.tzinfo is UTC and EARLIEST <= value < LATEST:
        return value  # the instants the library passes on are in UTC already
    if not isinstance(value, datetime):
        raise InvalidAmount(what, value, "a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(what, value)
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InvalidAmount(
            what, value, f"an instant from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} UTC"
        )
    return value


MONEY_ROUNDINGS = (
    "ROUND_CEILING",
    "ROUND_DOWN",
    "ROUND_FLOOR",
    "ROUND_HALF_DOWN",
    "ROUND_HALF_EVEN",
    "ROUND_HALF_UP",
    "ROUND_UP",
)
"""The :mod:`decimal` rounding modes money may be quantized with, by name."""


def bounded_decimal(
    what: str, value: object, *, max_digits: int = 15, max_places: int = 12
) -> Decimal:
    """Return ``value`` as an exact :class:`Decimal` below ``10**max_digits`` with at most
    ``max_places`` decimal places, else raise :class:`InvalidAmount`.

    Accepts a ``Decimal``, an ``int`` or a numeric string (never a float or a bool). The
    bounds are checked on the exponent before any arithmetic, so ``"1e-999999999"`` is
    refused at once instead of making a later ``quantize`` or ``Fraction`` run for minutes.
    """
    expected = (
        f"a Decimal, int or numeric string below 1e{max_digits} "
        f"with at most {max_places} decimal places (no floats)"
    )
    if isinstance(value, bool | float):
        raise InvalidAmount(what, value, expected)
    try:
        if isinstance(value, str):
            # the text's length bounds the parse; digits past the bound cannot be valid
            if len(value) > max_digits + max_places + 8:
                raise InvalidAmount(what, value, expected)
            number = Decimal(value.strip())
        elif isinstance(value, int):
            if value.bit_length() > 4 * max_digits:
                raise InvalidAmount(what, value, expected)
            number = Decimal(value)
        elif isinstance(value, Decimal):
            number = value
        else:
            raise InvalidAmount(what, value, expected)
    except (DecimalException, ValueError):
        raise InvalidAmount(what, value, expected) from None
    if not number.is_finite():
        raise InvalidAmount(what, value, expected)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, so not 'n', 'N' or 'F'
    if exponent < -max_places or (number and number.adjusted() >= max_digits):
        raise InvalidAmount(what, value, expected)
    return number


def aware(what: str, value: object) -> datetime:
    """Return ``value`` as the same instant in UTC, if it is a timezone-aware datetime,
    else raise a typed error.

    Every instant entering the library passes here, so everything inside compares and
    stores UTC: within one ``ZoneInfo`` Python compares wall clocks and ignores ``fold``
    (01:30 EDT equals 01:30 EST on a fall-back night), and across zones it calls an
    ambiguous wall time unequal to every instant.
    """
    # within the range every backend stores, checked before the conversion can overflow
    checked = instant(what, value)
    return checked if checked.tzinfo is UTC else checked.astimezone(UTC)


_INSTANT_EXAMPLE = "e.g. 2026-05-01T00:00:00+08:00"


def parse_instant(what: str, value: object) -> datetime:
    """``value`` (an aware datetime, or ISO 8601 text with a UTC offset) as the same
    instant in UTC, within :data:`EARLIEST` and :data:`LATEST`; else a typed error
    naming ``what``.

    How every document a user writes (a programme's dates, an import feed's ``at``)
    gives an instant; a time without an offset is refused, never guessed.
    """
    found = value
    if isinstance(value, str):
        try:
            found = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidArgument(
                f"{what}: {shown(value)} is not an ISO 8601 instant, {_INSTANT_EXAMPLE}"
            ) from None
    if not isinstance(found, datetime):
        raise InvalidArgument(
            f"{what}: {shown(value)} is not an instant with a UTC offset, {_INSTANT_EXAMPLE}"
        )
    if found.utcoffset() is None:
        raise InvalidArgument(f"{what}: {shown(value)} has no UTC offset, {_INSTANT_EXAMPLE}")
    return aware(what, found)


def utc(value: Any) -> Any:
    """``value`` in UTC if it is an aware datetime, anything else unchanged.

    The converter of every instant field of the domain's values (``attrs.field(
    converter=utc, validator=...)``): the field's validator then refuses what is not an
    aware instant, naming the field; what passes is stored and compared in UTC.
    """
    if isinstance(value, datetime) and value.utcoffset() is not None:
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            return value  # out of range: the field's validator refuses it, naming the field
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
    ``"1/3"`` or ``"0.25"``; floats are refused because they are not exact. Numerators and
    denominators are bounded (below 10**38, a decimal at most 38 places), so a
    hostile ``"1e-10000000"`` is refused at once.
    """
    expected = "an exact Fraction, Decimal or string in (0, 1] of at most 38 digits"
    if isinstance(value, bool | float):
        raise InvalidAmount("portion", value, expected)
    result: Fraction | None = None
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, int):
        result = Fraction(value) if value.bit_length() <= 64 else None
    elif isinstance(value, Decimal) or (isinstance(value, str) and "/" not in value):
        number = _portion_decimal(value)
        result = None if number is None else Fraction(number)
    elif isinstance(value, str) and len(value) <= 80:
        numerator, _, denominator = value.strip().partition("/")
        try:
            result = Fraction(int(numerator), int(denominator))
        except (ValueError, ZeroDivisionError):
            result = None
    if result is None or max(abs(result.numerator), result.denominator) >= _PORTION_BOUND:
        raise InvalidAmount("portion", value, expected)
    if not 0 < result <= 1:
        raise InvalidAmount("portion", value, "a portion greater than 0 and at most 1")
    return result


_PORTION_BOUND = 10**38


def _portion_decimal(value: Decimal | str) -> Decimal | None:
    try:
        return bounded_decimal("portion", value, max_digits=1, max_places=38)
    except InvalidAmount:
        return None


def frozen_metadata(value: Mapping[str, Any] | Metadata | None) -> Metadata:
    """Normalise free metadata to sorted ``(key, value)`` pairs of JSON scalars.

    At most :data:`MAX_METADATA_ITEMS` pairs; keys are one-line texts of at most
    :data:`MAX_METADATA_KEY_LENGTH` characters, string values at most
    :data:`MAX_METADATA_VALUE_LENGTH`, integers within JavaScript's safe range.
    """
    if value is None:
        return ()
    if type(value) is tuple:
        # the pairs every entry of a command carries again: checked once, then remembered
        try:
            return _frozen_pairs(value)
        except TypeError:  # unhashable: not pairs of scalars, refused below
            pass
    elif type(value) is dict and len(value) <= MAX_METADATA_ITEMS:
        # a command's metadata with its event's or rules' pairs added, built again for
        # every command: the same pairs, sorted, are checked once and remembered too
        try:
            pairs = tuple(sorted(value.items()))
            return _frozen_pairs(pairs)
        except (TypeError, LoyaltyError):  # refused below, naming the mapping as sent
            pass
    return _frozen(value)


@functools.lru_cache(maxsize=4096)
def _frozen_pairs(value: Metadata) -> Metadata:
    return _frozen(value)


def _frozen(value: Mapping[str, Any] | Metadata) -> Metadata:
    if isinstance(value, Mapping):
        items: list[Any] = list(value.items())
    elif isinstance(value, tuple | list):
        items = list(value)
    else:
        raise InvalidAmount("metadata", value, "a mapping of str to str, int, bool or None")
    if len(items) > MAX_METADATA_ITEMS:
        raise InvalidAmount("metadata", value, f"at most {MAX_METADATA_ITEMS} keys")
    pairs: list[tuple[str, JSONScalar]] = []
    for pair in items:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidAmount("metadata", pair, "(key, value) pairs")
        key, item = pair
        if not isinstance(key, str) or not key:
            raise InvalidIdentifier("metadata key", key, "a non-empty string")
        label("metadata key", key, max_len=MAX_METADATA_KEY_LENGTH)
        if item is not None and not isinstance(item, str | int | bool):
            raise InvalidAmount(f"metadata[{key!r}]", item, "a str, int, bool or None")
        if isinstance(item, str):
            label(f"metadata[{key!r}]", item, max_len=MAX_METADATA_VALUE_LENGTH)
        elif isinstance(item, int) and not -_MAX_JSON_INT <= item <= _MAX_JSON_INT:
            raise InvalidAmount(f"metadata[{key!r}]", item, f"an int within ±{_MAX_JSON_INT}")
        pairs.append((key, item))
    pairs.sort(key=lambda pair: pair[0])
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise InvalidAmount("metadata", value, "each key once")
    return tuple(pairs)


def frozen_texts(value: Iterable[str]) -> frozenset[str]:
    """A set of codes (tags, tiers, perks, categories) as a ``frozenset`` of one-line
    texts, else :class:`InvalidArgument` (a string is refused, not read letter by letter).

    Typed, unlike ``converter=frozenset``, so mypy sees ``Iterable[str]`` as the
    parameter of the attrs ``__init__`` that uses it.
    """
    return codes("codes", value)


def codes(what: str, value: object, *, max_items: int = 1000) -> frozenset[str]:
    """Return ``value`` (a collection of one-line texts: tiers, tags, categories) as a
    ``frozenset``, else raise :class:`InvalidArgument` naming the field.

    >>> sorted(codes("tiers", ["gold", "silver"]))
    ['gold', 'silver']
    """
    return frozenset(
        label(what, code) for code in sequence_of(what, value, str, max_items=max_items)
    )


def _decimal(value: object) -> Decimal:
    return bounded_decimal("money amount", value)


def _currency(value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
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
        if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 12:
            raise InvalidAmount("places", places, "an int from 0 to 12")
        try:
            amount = self.amount.quantize(Decimal(1).scaleb(-digits), rounding=rounding)
        except (DecimalException, TypeError):
            raise InvalidAmount("rounding", rounding, "a decimal rounding mode") from None
        return Money(amount=amount, currency=self.currency)

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
        try:
            amount = self.amount * bounded_decimal("money factor", factor, max_digits=15)
        except DecimalException:
            raise InvalidAmount("money factor", factor, "a finite Decimal or int") from None
        return Money(amount=amount, currency=self.currency)

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
    >>> points_for(Money.of(100, "CNY"), per=Money.of(3, "CNY"), points=3)
    100

    A negative spend is refused with :class:`InvalidAmount` (a refund is not a purchase).
    """
    spent = instance_of("spent", spent, Money)
    per = spent._same(instance_of("per", per, Money))
    points = points_amount("points", points)
    return rate_points(spent.amount, per=per.amount, points=points, rounding=rounding)


# every rounding mode the decimal module names (ROUND_DOWN, ROUND_HALF_EVEN...)
_ROUNDINGS = frozenset(value for name, value in vars(decimal).items() if name.startswith("ROUND_"))
_DOWN = frozenset({decimal.ROUND_DOWN, decimal.ROUND_FLOOR})


def rate_points(spent: Decimal, *, per: Decimal, points: int, rounding: str) -> Points:
    """The one rate arithmetic: ``spent * points / per`` computed exactly, then rounded to
    an ``int`` with the named ``decimal`` rounding mode.

    Every earning rate (:func:`points_for`, the ``base_rate`` rule) goes through here, so
    they cannot disagree. The product comes before the quotient and the quotient is an
    exact :class:`Fraction`: ``100 * 3 / 3`` is 100, never ``99.99...`` rounded down.

    >>> rate_points(Decimal(100), per=Decimal(3), points=3, rounding=ROUND_DOWN)
    100
    """
    if rounding not in _ROUNDINGS:
        raise InvalidAmount("rounding", rounding, f"one of {sorted(_ROUNDINGS)}")
    if spent < 0:
        raise InvalidAmount("spent", spent, "an amount of zero or more")
    if per <= 0:
        raise InvalidAmount("per", per, "a positive amount of money per points")
    # exactly spent * points / per, as integers (the fraction need not be reduced: only
    # the quotient and how the remainder compares with half the divisor matter)
    spent_top, spent_bottom = spent.as_integer_ratio()
    per_top, per_bottom = per.as_integer_ratio()
    denominator = spent_bottom * per_top
    whole, rest = divmod(spent_top * points * per_bottom, denominator)
    # the remainder only matters as below, at or above one half: stand it in by a
    # quarter, a half or three quarters, which Decimal then rounds in the asked mode
    if rest == 0 or (rounding in _DOWN and points >= 0):  # whole is the floor already
        return whole
    twice = 2 * rest
    if twice < denominator:
        tail = Decimal("0.25")
    elif twice == denominator:
        tail = Decimal("0.5")
    else:
        tail = Decimal("0.75")
    return int((Decimal(whole) + tail).quantize(Decimal(1), rounding=rounding))
