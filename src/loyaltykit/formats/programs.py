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
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from loyaltykit.domain.basket import Scope
from loyaltykit.domain.complaints import ComplaintPolicy
from loyaltykit.domain.ledger import RefundPolicy
from loyaltykit.domain.points_sale import PointsSale
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder
from loyaltykit.domain.windows import Window
from loyaltykit.errors import InvalidArgument, ProgramError, shown
from loyaltykit.formats import campaigns as campaign_forms
from loyaltykit.formats import care as care_forms
from loyaltykit.formats import catalogues
from loyaltykit.formats.complaints import complaint_policy_from_dict, complaint_policy_to_dict
from loyaltykit.formats.member_life_programs import (
    MEMBER_LIFE_KEYS,
    member_life_from_dict,
    member_life_to_dict,
)
from loyaltykit.formats.partners import partners_from_data, partners_to_data
from loyaltykit.formats.problems import Problems, document_problems, toml_document
from loyaltykit.formats.scalars import (
    choice,
    clock_skew,
    duration,
    duration_dict,
    factor,
    money,
)
from loyaltykit.policy.program import PointType, Program, ProgramFormat, install_format
from loyaltykit.policy.promises import PROMISE_KEYS, Promises
from loyaltykit.policy.rules import RULE_KINDS, Cap, EarningRule, Multiplier, PythonCheck, check
from loyaltykit.values import Money

__all__ = [
    "FORMAT",
    "Program",
    "ProgramError",
    "program_from_dict",
    "program_from_json",
    "program_from_toml",
    "program_to_dict",
]

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


def _point_type(reader: Problems, data: Any, path: str) -> PointType | None:
    data = reader.table(data, path)
    if data is None:
        return None
    prefix = path + "."
    reader.unknown(data, prefix, ("code", "name", "redeemable", "transferable", "expire_after"))
    code = reader.field(data, prefix, "code", str, required=True)
    name = reader.field(data, prefix, "name", str, "")
    redeemable = reader.field(data, prefix, "redeemable", bool, True)
    transferable = reader.field(data, prefix, "transferable", bool, True)
    expire_after = duration(reader, data.get("expire_after"), prefix + "expire_after")
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


def _rule(reader: Problems, data: Any, path: str, currency: str) -> EarningRule | None:
    data = reader.table(data, path)
    if data is None:
        return None
    prefix = path + "."
    cls = reader.kind(data, prefix, RULE_KINDS)
    if cls is None:
        return None
    specific = tuple(field.name for field in attrs.fields(cls) if field.name not in _RULE_COMMON)
    reader.unknown(data, prefix, _RULE_COMMON + specific)
    arguments: dict[str, Any] = {}
    for key in ("id", "point_type", "event", "description"):
        value = reader.field(data, prefix, key, str, required=key == "id")
        if value is not None:
            arguments[key] = value
    condition = reader.field(data, prefix, "condition", str)
    if condition is not None:
        # parsed here, so a bad condition is reported at its own path
        arguments["condition"] = reader.build(prefix + "condition", lambda: check(condition))
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
            arguments[key] = money(reader, value, prefix + key, currency)
        elif key == "factor":
            arguments[key] = factor(reader, value, prefix + key)
        else:
            arguments[key] = value
    if "id" not in arguments or len(reader.problems) > before:
        return None
    return reader.build(path, lambda: cls(**arguments))


def _cap(reader: Problems, data: Any, path: str) -> Cap | None:
    data = reader.table(data, path)
    if data is None:
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


def _window(reader: Problems, data: Any, path: str) -> Window | None:
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


def _requirement(reader: Problems, data: Any, path: str) -> Requirement | None:
    data = reader.table(data, path)
    if data is None:
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


def _tier(reader: Problems, data: Any, path: str) -> Tier | None:
    data = reader.table(data, path)
    if data is None:
        return None
    prefix = path + "."
    reader.unknown(data, prefix, _TIER_FIELDS)
    before = len(reader.problems)
    requirements = [
        _requirement(reader, item, f"{prefix}requirements[{n}]")
        for n, item in enumerate(
            reader.items(data.get("requirements", []), prefix + "requirements")
        )
    ]
    arguments = {
        "code": reader.field(data, prefix, "code", str, required=True),
        "rank": reader.field(data, prefix, "rank", int, required=True),
        "name": reader.field(data, prefix, "name", str, ""),
        "mode": reader.field(data, prefix, "mode", str, "all"),
        "top_percent": reader.field(data, prefix, "top_percent", (str, int)),
        "rank_by": reader.field(data, prefix, "rank_by", str),
        "perks": frozenset(reader.items(data.get("perks", []), prefix + "perks")),
        "requirements": tuple(r for r in requirements if r is not None),
    }
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: Tier(**arguments))


def _ladder(reader: Problems, data: Any, path: str) -> TierLadder | None:
    if data is None:
        return None
    data = reader.table(data, path)
    if data is None:
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
        for n, item in enumerate(reader.items(data.get("levels", []), prefix + "levels"))
    ]
    arguments: dict[str, Any] = {
        "tiers": tuple(level for level in levels if level is not None),
        "version": reader.field(data, prefix, "version", str, "1"),
        "downgrade": reader.field(data, prefix, "downgrade", str, "qualify"),
        "upgrade_applies": reader.field(data, prefix, "upgrade_applies", str, "next_event"),
        "grace": duration(reader, data.get("grace"), prefix + "grace"),
    }
    length = duration(reader, data.get("status_length"), prefix + "status_length")
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
        "status_length": duration_dict(ladder.status_length),
        "levels": [],
    }
    if ladder.grace is not None:
        data["grace"] = duration_dict(ladder.grace)
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
    "points_sale",
    "partners",
    "qualifying_points",
    "campaigns",
    "care",
    "complaints",
    "rewards",
    "promises",
    *MEMBER_LIFE_KEYS,
)


def program_from_dict(data: Mapping[str, Any]) -> Program:
    """A program from its dict form; raises :class:`ProgramError` listing every problem."""
    if not isinstance(data, Mapping):
        raise ProgramError("?", [f"program: {shown(data)} is not a table"])
    too_big = document_problems(data)
    if too_big:
        name = data.get("name")
        raise ProgramError(name if isinstance(name, str) and len(name) < 100 else "?", too_big)
    reader = Problems()
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
        refund_policy = choice(reader, policy, "refund_policy", RefundPolicy)
        if refund_policy is not None:
            arguments["refund_policy"] = refund_policy
    arguments["pending_for"] = duration(reader, data.get("pending_for"), "pending_for")
    skew = clock_skew(reader, data.get("clock_skew"), "clock_skew")
    if skew is not None:
        arguments["clock_skew"] = skew
    if "point_types" in data:
        types = [
            _point_type(reader, item, f"point_types[{n}]")
            for n, item in enumerate(reader.items(data["point_types"], "point_types"))
        ]
        arguments["point_types"] = tuple(t for t in types if t is not None)
    rules = [
        _rule(reader, item, f"rules[{n}]", currency)
        for n, item in enumerate(reader.items(data.get("rules", []), "rules"))
    ]
    caps = [
        _cap(reader, item, f"caps[{n}]")
        for n, item in enumerate(reader.items(data.get("caps", []), "caps"))
    ]
    arguments["tiers"] = _ladder(reader, data.get("tiers"), "tiers")
    qualifying = reader.field(data, "", "qualifying_points", str)
    if qualifying is not None:
        arguments["qualifying_points"] = qualifying
    arguments["rules"] = tuple(rule for rule in rules if rule is not None)
    arguments["caps"] = tuple(cap for cap in caps if cap is not None)
    arguments["campaigns"] = campaign_forms.campaigns_from_data(
        reader, data.get("campaigns", []), currency
    )
    arguments["care"] = care_forms.care_from_data(reader, data.get("care"))
    if "complaints" in data:
        complaints = complaint_policy_from_dict(reader, data["complaints"], "complaints")
        if complaints is not None:
            arguments["complaints"] = complaints
    if "rewards" in data:
        arguments["catalog"] = catalogues.catalog_from_dicts(reader, data["rewards"], currency)
    if "points_sale" in data:
        arguments["points_sale"] = _points_sale(reader, data["points_sale"], currency)
    if "partners" in data:
        arguments["partners"] = partners_from_data(reader, data["partners"], str(currency))
    if "promises" in data:
        promises = _promises(reader, data["promises"])
        if promises is not None:
            arguments["promises"] = promises
    arguments.update(member_life_from_dict(reader, data))
    reader.raise_if_any(str(name))
    program = reader.build("program", lambda: Program(**arguments))
    if program is None:
        reader.fail(str(name))
    return program


_SALE = ("rate", "point_type", "minimum", "maximum", "step", "refundable_for", "rounding")


def _points_sale(reader: Problems, data: Any, currency: str) -> PointsSale | None:
    """``points_sale = { rate = "0.05", step = 100, refundable_for = { days = 14 } }``."""
    table = reader.table(data, "points_sale")
    if table is None:
        return None
    prefix = "points_sale."
    reader.unknown(table, prefix, _SALE)
    arguments: dict[str, Any] = {
        "rate": money(reader, table.get("rate"), prefix + "rate", currency),
        "refundable_for": duration(reader, table.get("refundable_for"), prefix + "refundable_for"),
    }
    for key, kind in (("point_type", str), ("minimum", int), ("maximum", int), ("step", int)):
        found = reader.field(table, prefix, key, kind)
        if found is not None:
            arguments[key] = found
    rounding = reader.field(table, prefix, "rounding", str)
    if rounding is not None:
        arguments["rounding"] = rounding
    if arguments["rate"] is None:  # its problem is already listed
        return None
    return reader.build("points_sale", lambda: PointsSale(**arguments))


def _points_sale_dict(sale: PointsSale) -> dict[str, Any]:
    found = {
        "rate": str(sale.rate.amount),
        "point_type": sale.point_type,
        "minimum": sale.minimum,
        "maximum": sale.maximum,
        "step": sale.step,
        "refundable_for": duration_dict(sale.refundable_for),
        "rounding": sale.rounding,
    }
    return {key: value for key, value in found.items() if value is not None}


def _promises(reader: Problems, data: Any) -> Promises | None:
    """The ``[promises]`` table: what the programme promises its tests will hold."""
    table = reader.table(data, "promises")
    if table is None:
        return None
    before = len(reader.problems)
    reader.unknown(table, "promises.", PROMISE_KEYS)
    if len(reader.problems) > before:
        return None
    try:
        return Promises(**table)
    except InvalidArgument as error:
        # the table's own checks name the field already ("promises.exclusive: ...")
        reader.problems.append(str(error))
    except TypeError as error:
        reader.add("promises", str(error))
    return None


def _promises_dict(promises: Promises) -> dict[str, Any]:
    return {
        "monotone": promises.monotone,
        "split_safe": promises.split_safe,
        "exclusive": [list(group) for group in promises.exclusive],
    }


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
                    "expire_after": duration_dict(point_type.expire_after),
                }.items()
                if value is not None
            }
            for point_type in program.point_types
        ],
        "rules": [_rule_dict(rule) for rule in program.rules],
        "caps": [_cap_dict(cap) for cap in program.caps],
    }
    pending = duration_dict(program.pending_for)
    if pending is not None:
        data["pending_for"] = pending
    if program.clock_skew:
        data["clock_skew"] = {"seconds": int(program.clock_skew.total_seconds())}
    if program.tiers is not None:
        data["tiers"] = _ladder_dict(program.tiers)
    if program.qualifying_points != "tier":
        data["qualifying_points"] = program.qualifying_points
    if program.campaigns:
        data["campaigns"] = campaign_forms.campaigns_to_data(program.campaigns)
    if program.care is not None:
        data["care"] = care_forms.care_to_data(program.care)
    if program.complaints != ComplaintPolicy():
        data["complaints"] = complaint_policy_to_dict(program.complaints)
    if program.catalog.entries:
        data["rewards"] = catalogues.catalog_to_dicts(program.catalog)
    if program.promises != Promises():
        data["promises"] = _promises_dict(program.promises)
    data.update(member_life_to_dict(program))
    if program.points_sale is not None:
        data["points_sale"] = _points_sale_dict(program.points_sale)
    if program.partners:
        data["partners"] = partners_to_data(program.partners)
    return data


def program_from_toml(path: str | Path) -> Program:
    """A program from a TOML file (see :func:`~loyaltykit.formats.problems.toml_document`
    for what a file that cannot be read raises)."""
    return program_from_dict(toml_document(path))


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


FORMAT = ProgramFormat(
    from_dict=program_from_dict,
    from_toml=program_from_toml,
    from_json=program_from_json,
    to_dict=program_to_dict,
)
"""The dict, TOML and JSON forms of a program, as :class:`Program`'s named constructors
use them (installed when this module is imported)."""
install_format(FORMAT)
