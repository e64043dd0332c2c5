"""The canonical form of a value: one text for everything equal.

Idempotency fingerprints hash it, so two calls that sent the same arguments, spelled
differently (``Decimal("1.50")`` and ``Decimal("1.5")``, an instant at ``+08:00`` and
the same instant in UTC, a dict in another key order), fingerprint the same, and any
difference in any field fingerprints differently.

The form is nested tuples of ``str``, ``int``, ``bool`` and ``None`` (ordered and
hashable), written out with ``repr``: exact, and fast enough to run on every command.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Set
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.values import OMITTED_AT_DEFAULT, Money

__all__ = ["canonical", "canonical_text"]

_PLAIN = frozenset({str, int, bool, type(None)})


def canonical(value: Any) -> Any:
    """``value`` as nested tuples of plain scalars, equal for equal values."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple or kind is list:
        return tuple([canonical(item) for item in value])
    converter = _CONVERTERS.get(kind)
    if converter is not None:
        return converter(value)
    return _slow(value)


def canonical_text(value: Any) -> str:
    """The canonical text of ``value``."""
    return repr(canonical(value))


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    if value == 0:
        return "0"
    return str(value.normalize())  # never expanded: exponents may be huge


def _instant(value: datetime) -> str:
    if value.tzinfo is None:
        return value.isoformat()
    return value.astimezone(UTC).isoformat()


def _money(value: Money) -> tuple[str, str, str]:
    return ("money", _decimal(value.amount), value.currency)


def _mapping(value: Mapping[Any, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((str(key), canonical(item)) for key, item in value.items()))


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    Decimal: _decimal,
    datetime: _instant,
    date: date.isoformat,
    Money: _money,
    Fraction: lambda value: f"{value.numerator}/{value.denominator}",
    float: repr,
    dict: _mapping,
    frozenset: lambda value: tuple(sorted((canonical(item) for item in value), key=repr)),
    set: lambda value: tuple(sorted((canonical(item) for item in value), key=repr)),
    timedelta: repr,
    relativedelta: repr,
}


# the converters above, tried by isinstance for subclasses (attrs classes join
# _CONVERTERS as they are met, by their exact type)
_BASE_CONVERTERS = tuple(_CONVERTERS.items())
_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}
_ALWAYS = object()


def _attrs_fields(kind: type) -> tuple[tuple[str, Any], ...]:
    """Each field's name, and the default it is left out at (``_ALWAYS``: never left out)."""
    found = _FIELDS.get(kind)
    if found is None:
        found = _FIELDS[kind] = tuple(
            (field.name, _default(field) if field.metadata.get(OMITTED_AT_DEFAULT) else _ALWAYS)
            for field in attrs.fields(kind)
        )
    return found


def _default(field: attrs.Attribute[Any]) -> Any:
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default


def _attrs_converter(kind: type) -> Callable[[Any], Any]:
    """The canonical form of an attrs class's values: its name, then each field's name and
    canonical value, but those left out at their default."""
    fields = _attrs_fields(kind)
    name = kind.__name__

    def convert(value: Any) -> Any:
        return (
            name,
            *[
                (field, canonical(item))
                for field, default in fields
                if (item := getattr(value, field)) is not default
                and (default is _ALWAYS or item != default)
            ],
        )

    return convert


def _slow(value: Any) -> Any:
    """Subclasses and the rarer types, by ``isinstance``."""
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    kind = type(value)
    if attrs.has(kind):
        # found by its type from now on (a command's purchase and its items, every time)
        converter = _CONVERTERS[kind] = _attrs_converter(kind)
        return converter(value)
    for base, converter in _BASE_CONVERTERS:
        if isinstance(value, base):
            return converter(value)
    if isinstance(value, Mapping):
        return _mapping(value)
    if isinstance(value, Set):
        return tuple(sorted((canonical(item) for item in value), key=repr))
    if isinstance(value, list | tuple):
        return tuple(canonical(item) for item in value)
    return repr(value)
