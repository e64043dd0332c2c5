"""Programs as data: load from a dict, TOML or JSON, and dump back to the same dict.

Loading checks everything and reports every problem at once, each with its path::

    ProgramError: 2 problems in program 'retail':
      rules[1].per: '-5' must be a positive amount
      caps[0].period: 'fortnight' is not one of ['event', 'day', ...]

A program that cannot be loaded is never half-built. Money amounts are strings in the
program's currency (``per = "10"``); durations are tables of ``years``, ``months`` and
``days``; conditions are strings of the condition language.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.basket import Scope
from loyaltykit.domain.complaints import ComplaintPolicy
from loyaltykit.domain.ledger import RefundPolicy
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder
from loyaltykit.domain.windows import Window
from loyaltykit.errors import InvalidArgument, LoyaltyError, shown
from loyaltykit.policy.complaints import complaint_policy_from_dict, complaint_policy_to_dict
from loyaltykit.policy.program import PointType, Program
from loyaltykit.policy.promises import Promises, promises_from_data, promises_to_data
from loyaltykit.policy.rules import RULE_KINDS, Cap, EarningRule, Multiplier, PythonCheck
from loyaltykit.values import Money, bounded_decimal

__all__ = [
    "ProgramError",
    "document_problems",
    "program_from_dict",
    "program_from_json",
    "program_from_toml",
    "program_to_dict",
]

T = TypeVar("T")
MAX_NESTING = 32
"""How deeply a programme document may nest tables and lists."""
MAX_INT = 2**53 - 1
"""The largest integer a programme document may hold (JavaScript's safe integers)."""
MAX_STRING = 10_000
"""The longest string a programme document may hold, in characters."""
MAX_NODES = 100_000
"""The most values (tables, lists, scalars) a programme document may hold."""
MAX_YEARS = 100
"""The longest duration (an expiry, a status length, a grace period), in years."""
MAX_FACTOR = Decimal(1000)
"""The largest multiplier factor; a factor has at most 6 decimal places."""
_MONEY_FIELDS = {"per", "threshold", "minimum"}
_RULE_COMMON = (
    "id",
    "kind",
    "point_type",
    "event",
    "condition",
    "priority",
    "exclusive",
    "description",
)


class ProgramError(InvalidArgument):
    """A program could not be loaded; ``problems`` lists every problem with its path."""

    code: ClassVar[str] = "invalid_program"

    def __init__(self, name: str, problems: list[str]) -> None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{count} in program {name!r}:\n  " + "\n  ".join(problems))
        self.problems = tuple(problems)


class _Reader:
    """Reads typed fields out of nested mappings, collecting problems with their paths."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def field(
        self,
        data: Mapping[str, Any],
        path: str,
        key: str,
        kind: type[T] | tuple[type, ...],
        default: T | None = None,
        *,
        required: bool = False,
    ) -> Any:
        if key not in data:
            if required:
                self.problems.append(f"{path}{key}: is required")
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.problems.append(f"{path}{key}: {value!r} is not {_names(kinds)}")
            return default
        if not isinstance(value, kinds):
            self.problems.append(f"{path}{key}: {value!r} is not {_names(kinds)}")
            return default
        return value

    def build(self, path: str, make: Callable[[], T]) -> T | None:
        try:
            return make()
        except LoyaltyError as error:
            self.problems.append(f"{path}: {error}")
        except (TypeError, ValueError, InvalidOperation) as error:
            self.problems.append(f"{path}: {error}")
        return None

    def unknown(self, data: Mapping[str, Any], path: str, known: tuple[str, ...]) -> None:
        for key in data:
            if key not in known:
                self.problems.append(f"{path}{key}: unknown field (known: {', '.join(known)})")


def _names(kinds: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", float: "a number"}
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds) or "valid"


def _duration(reader: _Reader, value: Any, path: str) -> relativedelta | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        reader.problems.append(f"{path}: {value!r} is not a table of years, months, days")
        return None
    reader.unknown(value, path + ".", ("years", "months", "days"))
    parts = {
        unit: reader.field(value, path + ".", unit, int, 0) for unit in ("years", "months", "days")
    }
    if any(part < 0 for part in parts.values()) or not any(parts.values()):
        reader.problems.append(f"{path}: {dict(value)!r} must be a positive duration")
        return None
    # a duration is added to instants; past a century it only overflows the calendar
    days = parts["years"] * 366 + parts["months"] * 31 + parts["days"]
    if days > MAX_YEARS * 366:
        reader.problems.append(f"{path}: {dict(value)!r} is longer than {MAX_YEARS} years")
        return None
    return relativedelta(**parts)


_SKEW_UNITS = ("hours", "minutes", "seconds")


def _clock_skew(reader: _Reader, value: Any) -> timedelta | None:
    """``clock_skew = {minutes = 5}``: a tolerance of hours, minutes and seconds."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        reader.problems.append(f"clock_skew: {value!r} is not a table of hours, minutes, seconds")
        return None
    reader.unknown(value, "clock_skew.", _SKEW_UNITS)
    parts = {unit: reader.field(value, "clock_skew.", unit, int, 0) for unit in _SKEW_UNITS}
    if any(part < 0 for part in parts.values()):
        reader.problems.append(f"clock_skew: {dict(value)!r} must not be negative")
        return None
    return timedelta(**parts)


def _money(reader: _Reader, value: Any, path: str, currency: str) -> Money | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        reader.problems.append(f'{path}: {value!r} is not an amount such as "10" or "99.50"')
        return None
    try:
        amount = bounded_decimal(path, str(value) if isinstance(value, int) else value)
    except LoyaltyError as error:
        reader.problems.append(str(error))
        return None
    if amount <= 0:
        reader.problems.append(f"{path}: {value!r} must be a positive amount")
        return None
    money = reader.build(path, lambda: Money.of(amount, currency))
    if money is None:
        return None
    smallest = Decimal(1).scaleb(-money.minor_units)
    if amount < smallest:
        # a rate per a fraction of the smallest coin earns points no ledger can hold
        reader.problems.append(
            f"{path}: {value!r} is less than the smallest amount of {currency} ({smallest})"
        )
        return None
    return money


def _point_type(reader: _Reader, data: Any, path: str) -> PointType | None:
    if not isinstance(data, Mapping):
        reader.problems.append(f"{path}: {data!r} is not a table")
        return None
    prefix = path + "."
    reader.unknown(data, prefix, ("code", "name", "redeemable", "transferable", "expire_after"))
    code = reader.field(data, prefix, "code", str, required=True)
    name = reader.field(data, prefix, "name", str, "")
    redeemable = reader.field(data, prefix, "redeemable", bool, True)
    transferable = reader.field(data, prefix, "transferable", bool, True)
    expire_after = _duration(reader, data.get("expire_after"), prefix + "expire_after")
    if code is None:
        return None
    return reader.build(
        path,
        lambda: PointType(
            code=code,
            name=name,
            redeemable=redeemable,
            transferable=transferable,
            expire_after=expire_after,
        ),
    )


def _rule(reader: _Reader, data: Any, path: str, currency: str) -> EarningRule | None:
    if not isinstance(data, Mapping):
        reader.problems.append(f"{path}: {data!r} is not a table")
        return None
    prefix = path + "."
    kind = reader.field(data, prefix, "kind", str, required=True)
    cls = RULE_KINDS.get(kind) if kind is not None else None
    if kind is not None and cls is None:
        reader.problems.append(f"{prefix}kind: {kind!r} is not one of {sorted(RULE_KINDS)}")
    if cls is None:
        return None
    specific = tuple(field.name for field in attrs.fields(cls) if field.name not in _RULE_COMMON)
    reader.unknown(data, prefix, _RULE_COMMON + specific)
    arguments: dict[str, Any] = {}
    for key in ("id", "point_type", "event", "condition", "description"):
        value = reader.field(data, prefix, key, str, required=key == "id")
        if value is not None:
            arguments[key] = value
    for key, kind_of in (("priority", int), ("exclusive", bool)):
        value = reader.field(data, prefix, key, kind_of)
        if value is not None:
            arguments[key] = value
    before = len(reader.problems)
    for key in specific:
        if key not in data:
            continue
        value = data[key]
        if key in _MONEY_FIELDS:
            arguments[key] = _money(reader, value, prefix + key, currency)
        elif key == "factor":
            arguments[key] = _factor(reader, value, prefix + key)
        else:
            arguments[key] = value
    if "id" not in arguments or len(reader.problems) > before:
        return None
    return reader.build(path, lambda: cls(**arguments))


def _factor(reader: _Reader, value: Any, path: str) -> Decimal | None:
    expected = f"must be a positive number up to {MAX_FACTOR} written as a string"
    try:
        factor = (
            bounded_decimal(path, value, max_digits=4, max_places=6)
            if isinstance(value, str | int) and not isinstance(value, bool)
            else None
        )
    except LoyaltyError:
        factor = None
    if factor is None or factor <= 0 or factor > MAX_FACTOR:
        reader.problems.append(f"{path}: {value!r} {expected}")
        return None
    return factor


def _cap(reader: _Reader, data: Any, path: str) -> Cap | None:
    if not isinstance(data, Mapping):
        reader.problems.append(f"{path}: {data!r} is not a table")
        return None
    prefix = path + "."
    reader.unknown(data, prefix, ("id", "limit", "period", "point_type", "scope"))
    before = len(reader.problems)
    arguments = {
        "id": reader.field(data, prefix, "id", str, required=True),
        "limit": reader.field(data, prefix, "limit", int, required=True),
        "period": reader.field(data, prefix, "period", str, required=True),
        "point_type": reader.field(data, prefix, "point_type", str, "points"),
    }
    if "scope" in data:  # checked by the Scope it becomes
        arguments["scope"] = data["scope"]
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: Cap(**arguments))


def _window(reader: _Reader, data: Any, path: str) -> Window | None:
    if data is None:
        return Window.rolling()
    if not isinstance(data, Mapping):
        reader.problems.append(
            f'{path}: {data!r} is not a table like {{ kind = "rolling", months = 12 }}'
        )
        return None
    reader.unknown(data, path + ".", ("kind", "months"))
    kind = reader.field(data, path + ".", "kind", str, required=True)
    months = reader.field(data, path + ".", "months", int, 12)
    if kind is None:
        return None
    return reader.build(path, lambda: Window(kind=kind, months=months))


def _requirement(reader: _Reader, data: Any, path: str) -> Requirement | None:
    if not isinstance(data, Mapping):
        reader.problems.append(f"{path}: {data!r} is not a table")
        return None
    prefix = path + "."
    reader.unknown(data, prefix, ("metric", "at_least", "below", "window", "per_month"))
    before = len(reader.problems)
    metric = reader.field(data, prefix, "metric", str, required=True)
    at_least = reader.field(data, prefix, "at_least", (str, int), required=True)
    below = reader.field(data, prefix, "below", (str, int))
    per_month = reader.field(data, prefix, "per_month", bool, False)
    window = _window(reader, data.get("window"), prefix + "window")
    if metric is None or at_least is None:
        return None
    # build even after a problem elsewhere, so the thresholds are checked too
    built = reader.build(
        path,
        lambda: Requirement(
            metric=metric,
            at_least=at_least,
            below=below,
            window=window or Window.rolling(),
            per_month=per_month,
        ),
    )
    return None if len(reader.problems) > before else built


_TIER_FIELDS = ("code", "rank", "name", "requirements", "mode", "top_percent", "rank_by", "perks")


def _tier(reader: _Reader, data: Any, path: str) -> Tier | None:
    if not isinstance(data, Mapping):
        reader.problems.append(f"{path}: {data!r} is not a table")
        return None
    prefix = path + "."
    reader.unknown(data, prefix, _TIER_FIELDS)
    before = len(reader.problems)
    requirements = [
        _requirement(reader, item, f"{prefix}requirements[{n}]")
        for n, item in enumerate(
            _list(reader, data.get("requirements", []), prefix + "requirements")
        )
    ]
    arguments = {
        "code": reader.field(data, prefix, "code", str, required=True),
        "rank": reader.field(data, prefix, "rank", int, required=True),
        "name": reader.field(data, prefix, "name", str, ""),
        "mode": reader.field(data, prefix, "mode", str, "all"),
        "top_percent": reader.field(data, prefix, "top_percent", (str, int)),
        "rank_by": reader.field(data, prefix, "rank_by", str),
        "perks": frozenset(_list(reader, data.get("perks", []), prefix + "perks")),
        "requirements": tuple(r for r in requirements if r is not None),
    }
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: Tier(**arguments))


def _ladder(reader: _Reader, data: Any, path: str) -> TierLadder | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        reader.problems.append(f"{path}: {data!r} is not a table")
        return None
    prefix = path + "."
    reader.unknown(
        data,
        prefix,
        ("version", "status_length", "grace", "downgrade", "upgrade_applies", "levels"),
    )
    before = len(reader.problems)
    levels = [
        _tier(reader, item, f"{prefix}levels[{n}]")
        for n, item in enumerate(_list(reader, data.get("levels", []), prefix + "levels"))
    ]
    arguments: dict[str, Any] = {
        "tiers": tuple(level for level in levels if level is not None),
        "version": reader.field(data, prefix, "version", str, "1"),
        "downgrade": reader.field(data, prefix, "downgrade", str, "qualify"),
        "upgrade_applies": reader.field(data, prefix, "upgrade_applies", str, "next_event"),
        "grace": _duration(reader, data.get("grace"), prefix + "grace"),
    }
    length = _duration(reader, data.get("status_length"), prefix + "status_length")
    if length is not None:
        arguments["status_length"] = length
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: TierLadder(**arguments))


def _ladder_dict(ladder: TierLadder) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": ladder.version,
        "downgrade": ladder.downgrade,
        "upgrade_applies": ladder.upgrade_applies,
        "status_length": _duration_dict(ladder.status_length),
        "levels": [],
    }
    if ladder.grace is not None:
        data["grace"] = _duration_dict(ladder.grace)
    for tier in ladder.tiers:
        level: dict[str, Any] = {"code": tier.code, "rank": tier.rank, "mode": tier.mode}
        if tier.name:
            level["name"] = tier.name
        if tier.top_percent is not None:
            level["top_percent"] = str(tier.top_percent)
            level["rank_by"] = tier.rank_by
        if tier.perks:
            level["perks"] = sorted(tier.perks)
        level["requirements"] = [
            {
                key: value
                for key, value in {
                    "metric": r.metric,
                    "at_least": str(r.at_least),
                    "below": None if r.below is None else str(r.below),
                    "window": {"kind": r.window.kind, "months": r.window.months},
                    "per_month": r.per_month,
                }.items()
                if value is not None
            }
            for r in tier.requirements
        ]
        data["levels"].append(level)
    return data


_TOP = (
    "name",
    "version",
    "timezone",
    "currency",
    "rounding",
    "refund_policy",
    "clock_skew",
    "pending_for",
    "point_types",
    "rules",
    "caps",
    "tiers",
    "qualifying_points",
    "campaigns",
    "care",
    "complaints",
    "rewards",
    "promises",
)


def document_problems(data: Any) -> list[str]:
    """What makes ``data`` too big to read safely, each with its path: nesting deeper than
    :data:`MAX_NESTING`, an integer beyond :data:`MAX_INT`, a string longer than
    :data:`MAX_STRING`, more than :data:`MAX_NODES` values. Walked without recursion, so
    a document nested 100,000 deep is refused, not a ``RecursionError``."""
    problems: list[str] = []
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    seen = 0
    while stack and len(problems) < 10:
        path, value, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            problems.append(f"program: more than {MAX_NODES} values")
            break
        where = path or "program"
        if isinstance(value, Mapping | list | tuple):
            if depth >= MAX_NESTING:
                problems.append(f"{where}: nested more than {MAX_NESTING} levels deep")
                continue
            if isinstance(value, Mapping):
                for key, item in value.items():
                    if not isinstance(key, str) or len(key) > 100:
                        problems.append(f"{where}: a key is not a short string")
                        continue
                    stack.append((f"{path}.{key}" if path else key, item, depth + 1))
            else:
                for index, item in enumerate(value):
                    stack.append((f"{path}[{index}]", item, depth + 1))
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -MAX_INT <= value <= MAX_INT:
                problems.append(f"{where}: an integer beyond ±{MAX_INT}")
        elif isinstance(value, str) and len(value) > MAX_STRING:
            problems.append(f"{where}: a string of {len(value)} characters (at most {MAX_STRING})")
    return problems


def program_from_dict(data: Mapping[str, Any]) -> Program:
    """A program from its dict form; raises :class:`ProgramError` listing every problem."""
    if not isinstance(data, Mapping):
        raise ProgramError("?", [f"program: {shown(data)} is not a table"])
    too_big = document_problems(data)
    if too_big:
        name = data.get("name")
        raise ProgramError(name if isinstance(name, str) and len(name) < 100 else "?", too_big)
    reader = _Reader()
    reader.unknown(data, "", _TOP)
    name = reader.field(data, "", "name", str, "default")
    currency = reader.field(data, "", "currency", str, "CNY")
    arguments: dict[str, Any] = {"name": name, "currency": currency}
    for key in ("version", "timezone", "rounding"):
        value = reader.field(data, "", key, str)
        if value is not None:
            arguments[key] = value
    policy = reader.field(data, "", "refund_policy", str)
    if policy is not None:
        try:
            arguments["refund_policy"] = RefundPolicy(policy)
        except ValueError:
            options = [p.value for p in RefundPolicy]
            reader.problems.append(f"refund_policy: {policy!r} is not one of {options}")
    arguments["pending_for"] = _duration(reader, data.get("pending_for"), "pending_for")
    skew = _clock_skew(reader, data.get("clock_skew"))
    if skew is not None:
        arguments["clock_skew"] = skew
    if "point_types" in data:
        types = [
            _point_type(reader, item, f"point_types[{n}]")
            for n, item in enumerate(_list(reader, data["point_types"], "point_types"))
        ]
        arguments["point_types"] = tuple(t for t in types if t is not None)
    rules = [
        _rule(reader, item, f"rules[{n}]", currency)
        for n, item in enumerate(_list(reader, data.get("rules", []), "rules"))
    ]
    caps = [
        _cap(reader, item, f"caps[{n}]")
        for n, item in enumerate(_list(reader, data.get("caps", []), "caps"))
    ]
    arguments["tiers"] = _ladder(reader, data.get("tiers"), "tiers")
    qualifying = reader.field(data, "", "qualifying_points", str)
    if qualifying is not None:
        arguments["qualifying_points"] = qualifying
    arguments["rules"] = tuple(rule for rule in rules if rule is not None)
    arguments["caps"] = tuple(cap for cap in caps if cap is not None)
    from loyaltykit.policy import campaign_loading as forms  # it reads with this module

    arguments["campaigns"] = forms.campaigns_from_data(reader, data.get("campaigns", []), currency)
    arguments["care"] = forms.care_from_data(reader, data.get("care"))
    if "complaints" in data:
        complaints = complaint_policy_from_dict(data["complaints"], reader.problems)
        if complaints is not None:
            arguments["complaints"] = complaints
    if "rewards" in data:
        from loyaltykit.policy.catalog_loading import catalog_from_dicts

        arguments["catalog"] = catalog_from_dicts(reader, data["rewards"], currency)
    if "promises" in data:
        promises = promises_from_data(data["promises"], reader.problems)
        if promises is not None:
            arguments["promises"] = promises
    if reader.problems:
        raise ProgramError(str(name), reader.problems)
    program = reader.build("program", lambda: Program(**arguments))
    if program is None:
        raise ProgramError(str(name), reader.problems)
    return program


def _list(reader: _Reader, value: Any, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        reader.problems.append(f"{path}: {value!r} is not a list")
        return []
    return list(value)


def _duration_dict(value: relativedelta | None) -> dict[str, int] | None:
    if value is None:
        return None
    parts = {"years": value.years, "months": value.months, "days": value.days}
    return {unit: amount for unit, amount in parts.items() if amount}


def _rule_dict(rule: EarningRule) -> dict[str, Any]:
    if isinstance(rule.condition, PythonCheck):
        raise InvalidArgument(
            f"rules[{rule.id}].condition: a Python callable has no dict form; "
            "write it in the condition language to dump the program"
        )
    result: dict[str, Any] = {"id": rule.id, "kind": rule.kind}
    for field in attrs.fields(type(rule)):
        name = field.name
        if name in ("id",):
            continue
        value = getattr(rule, name)
        if name == "condition":
            if value is not None:
                result[name] = value.source
            continue
        if value == field.default and name not in ("point_type",):
            continue
        if isinstance(value, Money):
            value = str(value.amount)
        elif isinstance(value, Scope):
            value = value.to_dict()
        elif isinstance(value, Decimal):
            value = str(value.normalize()) if isinstance(rule, Multiplier) else str(value)
        result[name] = value
    return result


def _cap_dict(cap: Cap) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": cap.id,
        "limit": cap.limit,
        "period": cap.period,
        "point_type": cap.point_type,
    }
    if cap.scope is not None:
        data["scope"] = cap.scope.to_dict()
    return data


def program_to_dict(program: Program) -> dict[str, Any]:
    """The dict form of ``program``; :func:`program_from_dict` reads it back equal."""
    data: dict[str, Any] = {
        "name": program.name,
        "version": program.version,
        "timezone": program.timezone,
        "currency": program.currency,
        "rounding": program.rounding,
        "refund_policy": program.refund_policy.value,
        "point_types": [
            {
                key: value
                for key, value in {
                    "code": point_type.code,
                    "name": point_type.name,
                    "redeemable": point_type.redeemable,
                    "transferable": point_type.transferable,
                    "expire_after": _duration_dict(point_type.expire_after),
                }.items()
                if value is not None
            }
            for point_type in program.point_types
        ],
        "rules": [_rule_dict(rule) for rule in program.rules],
        "caps": [_cap_dict(cap) for cap in program.caps],
    }
    pending = _duration_dict(program.pending_for)
    if pending is not None:
        data["pending_for"] = pending
    if program.clock_skew:
        data["clock_skew"] = {"seconds": int(program.clock_skew.total_seconds())}
    if program.tiers is not None:
        data["tiers"] = _ladder_dict(program.tiers)
    if program.qualifying_points != "tier":
        data["qualifying_points"] = program.qualifying_points
    from loyaltykit.policy import campaign_loading as forms

    if program.campaigns:
        data["campaigns"] = forms.campaigns_to_data(program.campaigns)
    if program.care is not None:
        data["care"] = forms.care_to_data(program.care)
    if program.complaints != ComplaintPolicy():
        data["complaints"] = complaint_policy_to_dict(program.complaints)
    if program.catalog.entries:
        from loyaltykit.policy.catalog_loading import catalog_to_dicts

        data["rewards"] = catalog_to_dicts(program.catalog)
    if program.promises != Promises():
        data["promises"] = promises_to_data(program.promises)
    return data


def program_from_toml(path: str | Path) -> Program:
    """A program from a TOML file."""
    with open(path, "rb") as file:
        try:
            data = tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            raise ProgramError(str(path), [f"{path}: {error}"]) from None
        except (RecursionError, ValueError):  # nesting, or an int past Python's digit limit
            raise ProgramError(str(path), [f"{path}: too deeply nested or too large"]) from None
    return program_from_dict(data)


def program_from_json(text: str) -> Program:
    """A program from a JSON document."""
    if not isinstance(text, str | bytes | bytearray):
        raise ProgramError("?", [f"json: {shown(text)} is not a JSON text"])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProgramError("?", [f"json: {error}"]) from None
    except (RecursionError, ValueError):  # nesting, or an int past Python's digit limit
        raise ProgramError("?", ["json: too deeply nested or too large"]) from None
    return program_from_dict(data)
