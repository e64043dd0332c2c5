"""The public JSON form of every result and value the facade returns.

One converter (cattrs) maps an attrs value to plain JSON data and back, with one
documented rule per kind of field:

- points and counts are JSON integers; money is ``{"amount": "12.50", "currency": "CNY"}``
  with the amount a decimal string (never a float); other decimals are strings too;
- instants are ISO 8601 strings in UTC with their offset (``"2026-05-01T04:00:00+00:00"``),
  dates ``"2026-05-01"``, times of day ``"09:30:00"``, durations ISO 8601 (``"P1DT3600S"``);
- periods (``relativedelta``) are ``{"years": 0, "months": 1, "days": 0, ...}``;
- fractions are ``"1/3"``; enums are their value (``"earn"``);
- free metadata is a JSON object; sets are sorted arrays; tuples are arrays;
- a field that holds one of several kinds of value (the effects of a decision) is an
  object with a ``"type"`` member naming the kind (``{"type": "Earn", ...}``);
- a compiled condition is ``{"source": "...", "language": "condition" | "python"}``.

Every field is always written, so documents are complete. The form is stable: a field
is only ever added; :func:`json_schema` describes it for OpenAPI generators. The stored
record formats of the backends are separate and unaffected.

>>> from datetime import UTC, datetime
>>> from loyaltykit import Money
>>> to_json_dict(Money.of("12.50", "CNY"))
{'amount': '12.50', 'currency': 'CNY'}
>>> from_json_dict(Money, {"amount": "12.50", "currency": "CNY"})
Money(amount=Decimal('12.50'), currency='CNY')
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from fractions import Fraction
from functools import cache
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.preconf.json import make_converter
from cattrs.v import format_exception
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.rewards import Predicate
from loyaltykit.errors import InvalidArgument, LoyaltyError
from loyaltykit.policy.engine import Decision, Effect
from loyaltykit.policy.rules import Check, PythonCheck, check
from loyaltykit.policy.trace import TraceLine
from loyaltykit.values import JSONScalar, Metadata, aware, frozen_metadata

__all__ = ["dumps", "from_json_dict", "json_schema", "loads", "to_json_dict"]

T = TypeVar("T")

TYPE_TAG = "type"
"""The member that names the kind of value in a field holding one of several kinds."""

_DURATION = re.compile(r"^(-?)P(?:(\d+)D)?(?:T(\d+)(?:\.(\d{1,6}))?S)?$")
_DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_FRACTION_PATTERN = r"^-?[0-9]+(/[0-9]+)?$"
_DURATION_PATTERN = r"^-?P([0-9]+D)?(T[0-9]+(\.[0-9]{1,6})?S)?$"


def _refuse(what: str, value: object, expected: str) -> InvalidArgument:
    return InvalidArgument(f"{what}: {value!r} is not valid, expected {expected}")


# --- scalars ------------------------------------------------------------------------------


def _decimal_text(value: Decimal) -> str:
    # fixed-point, never "1E+2": the schema's pattern and every client can read it
    return format(value, "f")


def _decimal(value: object, _type: object = None) -> Decimal:
    if not isinstance(value, str):
        raise _refuse("decimal", value, "a decimal string such as '12.50'")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise _refuse("decimal", value, "a decimal string such as '12.50'") from None
    if not result.is_finite():
        raise _refuse("decimal", value, "a finite decimal string")
    return result


def _fraction(value: object, _type: object = None) -> Fraction:
    if not isinstance(value, str) or not re.match(_FRACTION_PATTERN, value):
        raise _refuse("fraction", value, "a fraction string such as '1/3'")
    return Fraction(value)


def _instant_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _instant(value: object, _type: object = None) -> datetime:
    if not isinstance(value, str):
        raise _refuse("instant", value, "an ISO 8601 string with an offset")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _refuse("instant", value, "an ISO 8601 string with an offset") from None
    return aware("instant", parsed)


def _date(value: object, _type: object = None) -> date:
    if not isinstance(value, str):
        raise _refuse("date", value, "an ISO 8601 date such as '2026-05-01'")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _refuse("date", value, "an ISO 8601 date such as '2026-05-01'") from None


def _time(value: object, _type: object = None) -> time:
    if not isinstance(value, str):
        raise _refuse("time of day", value, "an ISO 8601 time such as '09:30:00'")
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise _refuse("time of day", value, "an ISO 8601 time such as '09:30:00'") from None


def _duration_text(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    text = f"{sign}P{value.days}DT{value.seconds}"
    if value.microseconds:
        text += f".{value.microseconds:06d}"
    return text + "S"


def _duration(value: object, _type: object = None) -> timedelta:
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise _refuse("duration", value, "an ISO 8601 duration such as 'P1DT3600S'")
    sign, days, seconds, fraction = match.groups()
    result = timedelta(
        days=int(days or 0),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(6, "0")),
    )
    return -result if sign else result


_PERIOD_FIELDS = ("years", "months", "days", "hours", "minutes", "seconds", "microseconds")


def _period_data(value: relativedelta) -> dict[str, int]:
    absolute = [name for name in ("year", "month", "day", "weekday") if getattr(value, name)]
    if absolute or value.hour is not None or value.minute is not None:
        # programmes only hold relative periods ("30 days"); refuse to drop a part silently
        raise _refuse("period", value, "a relative period (years, months, days...)")
    return {name: int(getattr(value, name)) for name in _PERIOD_FIELDS}


def _period(value: object, _type: object = None) -> relativedelta:
    if (
        not isinstance(value, Mapping)
        or not set(value) <= set(_PERIOD_FIELDS)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value.values())
    ):
        raise _refuse("period", value, f"an object of integers named {list(_PERIOD_FIELDS)}")
    return relativedelta(**value)


def _scalar(value: object, _type: object = None) -> JSONScalar:
    if value is not None and not isinstance(value, str | int | bool):
        raise _refuse("metadata value", value, "a string, integer, boolean or null")
    return value


def _metadata(value: object, _type: object = None) -> Metadata:
    if not isinstance(value, Mapping):
        raise _refuse("metadata", value, "a JSON object of scalars")
    return frozen_metadata(value)


def _condition_data(value: Check | Predicate) -> dict[str, str]:
    language = "python" if isinstance(value, PythonCheck) else "condition"
    return {"source": value.source, "language": language}


def _condition(value: object, _type: object = None) -> Check:
    if (
        not isinstance(value, Mapping)
        or value.get("language") not in ("condition", "python")
        or not isinstance(value.get("source"), str)
    ):
        raise _refuse("condition", value, '{"source": text, "language": "condition"}')
    if value["language"] == "python":
        # a Python callable is written by its name only: there is nothing to run
        raise InvalidArgument(
            f"condition {value['source']!r} was a Python callable; it cannot be read back "
            "from JSON (write conditions in the condition language to round-trip them)"
        )
    compiled = check(value["source"])
    assert compiled is not None
    return compiled


# --- kinds of fields --------------------------------------------------------------------


def _is_attrs_union(kind: Any) -> bool:
    members = typing.get_args(kind) if _is_union(kind) else ()
    return len(members) > 1 and all(attrs.has(member) for member in members)


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


def _is_frozenset(kind: Any) -> bool:
    return kind is frozenset or typing.get_origin(kind) is frozenset


def _is_tuple(kind: Any) -> bool:
    return typing.get_origin(kind) is tuple


def _array(converter: cattrs.Converter, kind: Any) -> Callable[[Any], list[Any]]:
    members = typing.get_args(kind)
    if len(members) == 2 and members[1] is Ellipsis:
        member = members[0]
        return lambda value: [converter.unstructure(item, member) for item in value]
    return lambda value: [
        converter.unstructure(item, member) for item, member in zip(value, members, strict=True)
    ]


def _sorted_array(converter: cattrs.Converter, kind: Any) -> Callable[[Any], list[Any]]:
    (member,) = typing.get_args(kind) or (Any,)

    def unstructure(value: frozenset[Any]) -> list[Any]:
        # sorted by their JSON text, so the same set is always the same document
        items = [converter.unstructure(item, member) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))

    return unstructure


def _tagged(converter: cattrs.Converter, kind: Any) -> Callable[[Any], dict[str, Any]]:
    def unstructure(value: Any) -> dict[str, Any]:
        data = converter.unstructure(value, type(value))
        return {TYPE_TAG: type(value).__name__, **data}

    return unstructure


def _untagged(converter: cattrs.Converter, kind: Any) -> Callable[[Any, Any], Any]:
    members = {member.__name__: member for member in typing.get_args(kind)}

    def structure(value: Any, _type: Any) -> Any:
        if not isinstance(value, Mapping) or value.get(TYPE_TAG) not in members:
            raise _refuse(
                TYPE_TAG, value, f"an object whose {TYPE_TAG!r} is one of {list(members)}"
            )
        data = {key: item for key, item in value.items() if key != TYPE_TAG}
        return converter.structure(data, members[value[TYPE_TAG]])

    return structure


def _converter() -> cattrs.Converter:
    # the JSON preset writes tuples and sets as lists; the hooks below refine the rest
    converter: cattrs.Converter = make_converter(forbid_extra_keys=True)
    for kind, write, read in (
        (Decimal, _decimal_text, _decimal),
        (Fraction, str, _fraction),
        (datetime, _instant_text, _instant),
        (date, date.isoformat, _date),
        (time, time.isoformat, _time),
        (timedelta, _duration_text, _duration),
        (relativedelta, _period_data, _period),
    ):
        converter.register_unstructure_hook(kind, write)
        converter.register_structure_hook(kind, read)
    converter.register_unstructure_hook_factory(_is_tuple, lambda kind: _array(converter, kind))
    converter.register_unstructure_hook_factory(
        _is_frozenset, lambda kind: _sorted_array(converter, kind)
    )
    converter.register_unstructure_hook_factory(
        _is_attrs_union, lambda kind: _tagged(converter, kind)
    )
    converter.register_structure_hook_factory(
        _is_attrs_union, lambda kind: _untagged(converter, kind)
    )
    # registered last, so they win over the tuple hook: Metadata and JSONScalar are
    # aliases, matched by equality
    converter.register_unstructure_hook_func(lambda t: t == Metadata, dict)
    converter.register_structure_hook_func(lambda t: t == Metadata, _metadata)
    converter.register_unstructure_hook_func(lambda t: t == JSONScalar, lambda v: v)
    converter.register_structure_hook_func(lambda t: t == JSONScalar, _scalar)
    for protocol in (Check, Predicate):
        converter.register_unstructure_hook(protocol, _condition_data)
        converter.register_structure_hook(protocol, _condition)
    # a decision keeps its trace unwritten until read (loyaltykit.policy.trace): its form
    # is its effects and the trace's lines, as its fields were
    converter.register_unstructure_hook(
        Decision,
        lambda value: {
            name: converter.unstructure(getattr(value, name), kind)
            for name, kind in _FORMS[Decision].items()
        },
    )
    converter.register_structure_hook(Decision, lambda data, _: _decision(converter, data))
    return converter


# the classes whose JSON form is not their attrs fields: the form's fields and their types
_FORMS: dict[type, dict[str, Any]] = {
    Decision: {"effects": tuple[Effect, ...], "trace": tuple[TraceLine, ...]},
}


def _decision(converter: cattrs.Converter, data: Any) -> Decision:
    form = _FORMS[Decision]
    if not isinstance(data, Mapping) or set(data) != set(form):
        raise _refuse("Decision", data, f"an object of {list(form)}")
    return Decision(
        effects=converter.structure(data["effects"], form["effects"]),
        trace=converter.structure(data["trace"], form["trace"]),
    )


_CONVERTER = _converter()


# --- the public functions -----------------------------------------------------------------


def to_json_dict(obj: Any) -> dict[str, Any]:
    """The JSON form of a result or value (an attrs instance) as plain data.

    The dict holds only ``str``, ``int``, ``bool``, ``None``, lists and dicts, so
    ``json.dumps`` (or any web framework) writes it as it is.
    """
    if not attrs.has(type(obj)):
        raise InvalidArgument(
            f"to_json_dict: {obj!r} is not a loyaltykit result or value (an attrs instance)"
        )
    data = _CONVERTER.unstructure(obj, type(obj))
    assert isinstance(data, dict)
    return data


def from_json_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """The ``cls`` value whose JSON form is ``data``; the inverse of :func:`to_json_dict`.

    The value's own validation runs, so a document that does not describe a valid value
    raises :class:`~loyaltykit.errors.InvalidArgument` naming what is wrong.
    """
    try:
        return _CONVERTER.structure(data, cls)
    except cattrs.BaseValidationError as error:
        detail = "; ".join(cattrs.transform_error(error, format_exception=_problem))
        raise InvalidArgument(f"{cls.__name__} JSON form: {detail}") from error
    except (LoyaltyError, cattrs.errors.StructureHandlerNotFoundError) as error:
        raise InvalidArgument(f"{cls.__name__} JSON form: {error}") from error


def _problem(error: BaseException, kind: type[Any] | None) -> str:
    # our own errors already name the value and what was expected
    if isinstance(error, LoyaltyError):
        return str(error)
    return format_exception(error, kind)


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """The JSON text of a result or value (keys in field order)."""
    return json.dumps(to_json_dict(obj), indent=indent, ensure_ascii=False)


def loads(cls: type[T], text: str | bytes) -> T:
    """The ``cls`` value whose JSON text is ``text``; the inverse of :func:`dumps`."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidArgument(f"{cls.__name__} JSON form: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise _refuse(f"{cls.__name__} JSON form", data, "a JSON object")
    return from_json_dict(cls, data)


# --- JSON Schema --------------------------------------------------------------------------

_SCALAR_SCHEMAS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    types.NoneType: {"type": "null"},
    Decimal: {"type": "string", "pattern": _DECIMAL_PATTERN},
    Fraction: {"type": "string", "pattern": _FRACTION_PATTERN},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    time: {"type": "string", "format": "time"},
    timedelta: {"type": "string", "format": "duration", "pattern": _DURATION_PATTERN},
}
_SCALAR_SCHEMAS[relativedelta] = {
    "type": "object",
    "properties": {name: {"type": "integer"} for name in _PERIOD_FIELDS},
    "required": list(_PERIOD_FIELDS),
    "additionalProperties": False,
}
_CONDITION_SCHEMA = {
    "type": "object",
    "properties": {
        "source": {"type": "string"},
        "language": {"enum": ["condition", "python"]},
    },
    "required": ["source", "language"],
    "additionalProperties": False,
}


@cache
def json_schema(cls: type[Any]) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12, usable as an OpenAPI 3.1 schema) of ``cls``'s form.

    Classes are named definitions under ``$defs``, referred to by ``#/$defs/<Name>``;
    the schema is generated from the attrs class itself, so it follows the code.
    Treat the returned dict as read-only (it is cached).
    """
    if not attrs.has(cls):
        raise InvalidArgument(f"json_schema: {cls!r} is not a loyaltykit result or value")
    definitions: dict[str, dict[str, Any]] = {}
    root = _SchemaWriter(definitions).schema(cls)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": definitions}


@attrs.define
class _SchemaWriter:
    definitions: dict[str, dict[str, Any]]
    classes: dict[str, type[Any]] = attrs.field(factory=dict)

    def schema(self, kind: Any) -> dict[str, Any]:
        if kind in _SCALAR_SCHEMAS:
            return dict(_SCALAR_SCHEMAS[kind])
        if kind == Metadata:
            return {"type": "object", "additionalProperties": self.schema(JSONScalar)}
        if kind is Any:
            return {}
        if kind in (Check, Predicate):
            return dict(_CONDITION_SCHEMA)
        if isinstance(kind, type) and issubclass(kind, Enum):
            return {"enum": [member.value for member in kind]}
        if attrs.has(kind):
            return self.reference(kind)
        origin, members = typing.get_origin(kind), typing.get_args(kind)
        if _is_union(kind):
            if _is_attrs_union(kind):
                return {
                    "oneOf": [self.reference(member, tagged=True) for member in members],
                    "discriminator": {"propertyName": TYPE_TAG},
                }
            return {"anyOf": [self.schema(member) for member in members]}
        if origin is tuple and len(members) == 2 and members[1] is Ellipsis:
            return {"type": "array", "items": self.schema(members[0])}
        if origin is tuple:
            return {
                "type": "array",
                "prefixItems": [self.schema(member) for member in members],
                "minItems": len(members),
                "maxItems": len(members),
            }
        if origin in (list, frozenset, set):
            return {"type": "array", "items": self.schema(members[0])}
        if origin in (dict, Mapping) or kind in (dict, Mapping):
            value = members[1] if members else Any
            return {"type": "object", "additionalProperties": self.schema(value)}
        raise InvalidArgument(f"json_schema: no JSON form for the type {kind!r}")

    def reference(self, cls: type[Any], *, tagged: bool = False) -> dict[str, Any]:
        name = f"{cls.__name__}.tagged" if tagged else cls.__name__
        known = self.classes.get(name)
        if known is not None and known is not cls:
            raise InvalidArgument(f"json_schema: two classes are named {cls.__name__}")
        if known is None:
            self.classes[name] = cls
            self.definitions[name] = {}  # placeholder: a class may refer to itself
            self.definitions[name] = self.object(cls, tagged=tagged)
        return {"$ref": f"#/$defs/{name}"}

    def object(self, cls: type[Any], *, tagged: bool) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        properties: dict[str, Any] = {}
        if tagged:
            properties[TYPE_TAG] = {"const": cls.__name__}
        fields = _FORMS.get(cls) or {
            field.name: hints[field.name] for field in attrs.fields(cls) if field.init
        }
        for name, kind in fields.items():
            properties[name] = self.schema(kind)
        description = (cls.__doc__ or "").strip().split("\n\n")[0]
        return {
            "title": cls.__name__,
            "description": " ".join(description.split()),
            "type": "object",
            "properties": properties,
            # every field is always written; reading accepts the defaulted ones missing
            "required": list(properties),
            "additionalProperties": False,
        }
