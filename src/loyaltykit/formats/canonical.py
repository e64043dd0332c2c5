"""The canonical form of a value: one JSON text for everything equal.

Idempotency fingerprints hash it, so two calls that sent the same arguments, spelled
differently (``Decimal("1.50")`` and ``Decimal("1.5")``, an instant at ``+08:00`` and
the same instant in UTC, a dict in another key order), fingerprint the same, and any
difference in any field fingerprints differently.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Set
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.values import Money

__all__ = ["canonical", "canonical_json"]


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data, equal for equal values."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)  # exact, and NaN-safe
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, Money):
        return {"money": _decimal(value.amount), "currency": value.currency}
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, timedelta | relativedelta):
        return repr(value)
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))
        return {
            "type": type(value).__name__,
            **{field.name: canonical(getattr(value, field.name)) for field in fields},
        }
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, Set):
        return sorted((canonical(item) for item in value), key=canonical_json)
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return repr(value)


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (sorted keys, no spaces)."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    if value == 0:
        return "0"
    return str(value.normalize())  # never expanded: exponents may be huge
