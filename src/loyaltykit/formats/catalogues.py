"""The reward catalogue as program data: ``[[rewards]]`` tables in TOML, JSON or a dict.

Each table is one version of a reward, in force from ``from`` (from the start when
absent); a later table with the same ``id`` and a ``from`` reprices, restocks or
otherwise replaces it, and ``withdrawn = true`` withdraws it::

    [[rewards]]
    id = "mug"
    kind = "gift"
    points = 500
    stock = 100
    member_limits = [{ count = 1, period = "month" }]

    [[rewards]]
    id = "mug"
    from = 2026-09-01T00:00:00+08:00
    withdrawn = true

Every version is complete (nothing is inherited from the one before), so a version
reads alone. Money amounts are strings in the program's currency; instants are TOML
datetimes with an offset or ISO 8601 strings; conditions use the condition language.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from loyaltykit.domain.basket import MoneyOff
from loyaltykit.domain.rewards import (
    CashOffset,
    CatalogEntry,
    Eligibility,
    Price,
    RedemptionLimit,
    Reward,
    RewardCatalog,
    RewardKind,
    VoucherTerms,
)
from loyaltykit.errors import InvalidArgument
from loyaltykit.formats.money_off import money_off_from_data, money_off_to_data
from loyaltykit.formats.problems import Problems
from loyaltykit.formats.scalars import duration, duration_dict, instant, instant_text, money
from loyaltykit.policy.rules import PythonCheck, check
from loyaltykit.values import Money

__all__ = ["catalog_from_dicts", "catalog_to_dicts"]

_FIELDS = (
    "id",
    "kind",
    "name",
    "description",
    "points",
    "money",
    "tier_prices",
    "point_type",
    "stock",
    "member_limits",
    "global_limits",
    "available_from",
    "available_until",
    "tiers",
    "tags",
    "condition",
    "partner",
    "cost",
    "voucher",
    "offset",
    "claim_within",
    "money_off",
    "from",
    "withdrawn",
)
_VOUCHER = ("alphabet", "length", "uses", "valid_for", "valid_until", "value", "money_off")
_OFFSET = ("rate", "max_share", "minimum", "step")


def _price(reader: Problems, data: Mapping[str, Any], path: str, currency: str) -> Price | None:
    points = reader.field(data, path, "points", int, 0)
    amount = None
    if "money" in data:
        amount = money(reader, data["money"], path + "money", currency)
    return reader.build(path.rstrip("."), lambda: Price(points=points, money=amount))


def _tier_prices(reader: Problems, value: Any, path: str, currency: str) -> dict[str, Price]:
    if not isinstance(value, Mapping):
        reader.problems.append(f"{path}: {value!r} is not a table of tier = points")
        return {}
    prices: dict[str, Price] = {}
    for tier, item in value.items():
        where = f"{path}.{tier}"
        if isinstance(item, Mapping):
            reader.unknown(item, where + ".", ("points", "money"))
            price = _price(reader, item, where + ".", currency)
        else:
            price = _price(reader, {"points": item}, where + ".", currency)
        if price is not None:
            prices[tier] = price
    return prices


def _limits(reader: Problems, value: Any, path: str) -> tuple[RedemptionLimit, ...]:
    limits = []
    for n, item in enumerate(reader.items(value, path)):
        where = f"{path}[{n}]"
        item = reader.table(item, where)
        if item is None:
            continue
        reader.unknown(item, where + ".", ("count", "period"))
        count = reader.field(item, where + ".", "count", int, required=True)
        period = reader.field(item, where + ".", "period", str, required=True)
        if count is not None and period is not None:
            limit = reader.build(where, partial(RedemptionLimit, count=count, period=period))
            if limit is not None:
                limits.append(limit)
    return tuple(limits)


def _voucher(reader: Problems, value: Any, path: str, currency: str) -> VoucherTerms | None:
    if value is None:
        return None
    value = reader.table(value, path)
    if value is None:
        return None
    prefix = path + "."
    reader.unknown(value, prefix, _VOUCHER)
    arguments: dict[str, Any] = {}
    for key, kind in (("alphabet", str), ("length", int), ("uses", int)):
        found = reader.field(value, prefix, key, kind)
        if found is not None:
            arguments[key] = found
    arguments["valid_for"] = duration(reader, value.get("valid_for"), prefix + "valid_for")
    arguments["valid_until"] = instant(reader, value.get("valid_until"), prefix + "valid_until")
    if "value" in value:
        arguments["value"] = money(reader, value["value"], prefix + "value", currency)
    if "money_off" in value:
        arguments["money_off"] = _money_off(
            reader, value["money_off"], prefix + "money_off", currency
        )
    return reader.build(path, lambda: VoucherTerms(**arguments))


def _money_off(reader: Problems, value: Any, path: str, currency: str) -> MoneyOff | None:
    return money_off_from_data(reader, value, path, currency)


def _money_off_dict(off: MoneyOff | None) -> dict[str, Any] | None:
    return None if off is None else money_off_to_data(off)


def _offset(reader: Problems, value: Any, path: str, currency: str) -> CashOffset | None:
    if value is None:
        return None
    value = reader.table(value, path)
    if value is None:
        return None
    prefix = path + "."
    reader.unknown(value, prefix, _OFFSET)
    rate = money(reader, value.get("rate"), prefix + "rate", currency)
    arguments: dict[str, Any] = {"rate": rate}
    share = reader.field(value, prefix, "max_share", str)
    if share is not None:
        arguments["max_share"] = share
    for key in ("minimum", "step"):
        found = reader.field(value, prefix, key, int)
        if found is not None:
            arguments[key] = found
    if rate is None:
        return None
    return reader.build(path, lambda: CashOffset(**arguments))


def _strings(reader: Problems, value: Any, path: str) -> frozenset[str]:
    items = reader.items(value, path)
    for item in items:
        if not isinstance(item, str):
            reader.problems.append(f"{path}: {item!r} is not a string")
    return frozenset(item for item in items if isinstance(item, str))


def _entry(reader: Problems, data: Any, path: str, currency: str) -> CatalogEntry | None:
    data = reader.table(data, path)
    if data is None:
        return None
    prefix = path + "."
    reader.unknown(data, prefix, _FIELDS)
    before = len(reader.problems)
    reward_id = reader.field(data, prefix, "id", str, required=True)
    valid_from = instant(reader, data.get("from"), prefix + "from")
    if reader.field(data, prefix, "withdrawn", bool, False):
        extra = sorted(set(data) - {"id", "from", "withdrawn"})
        if extra:
            reader.problems.append(f"{prefix}withdrawn: a withdrawal has no other fields {extra}")
        if valid_from is None:
            reader.problems.append(f"{prefix}from: a withdrawal needs the instant it starts")
        if reward_id is None or len(reader.problems) > before:
            return None
        return reader.build(path, lambda: CatalogEntry(reward_id=reward_id, valid_from=valid_from))
    kind = reader.field(data, prefix, "kind", str, required=True)
    if kind is not None and kind not in {k.value for k in RewardKind}:
        reader.problems.append(
            f"{prefix}kind: {kind!r} is not one of {[k.value for k in RewardKind]}"
        )
    arguments: dict[str, Any] = {
        "id": reward_id,
        "kind": kind,
        "price": _price(reader, data, prefix, currency),
        "member_limits": _limits(reader, data.get("member_limits", []), prefix + "member_limits"),
        "global_limits": _limits(reader, data.get("global_limits", []), prefix + "global_limits"),
        "available_from": instant(reader, data.get("available_from"), prefix + "available_from"),
        "available_until": instant(reader, data.get("available_until"), prefix + "available_until"),
        "voucher": _voucher(reader, data.get("voucher"), prefix + "voucher", currency),
        "offset": _offset(reader, data.get("offset"), prefix + "offset", currency),
        "claim_within": duration(reader, data.get("claim_within"), prefix + "claim_within"),
    }
    if "money_off" in data:
        arguments["money_off"] = _money_off(
            reader, data["money_off"], prefix + "money_off", currency
        )
    for key in ("name", "description", "point_type", "partner"):
        found = reader.field(data, prefix, key, str)
        if found is not None:
            arguments[key] = found
    stock = reader.field(data, prefix, "stock", int)
    if stock is not None:
        arguments["stock"] = stock
    if "tier_prices" in data:
        arguments["tier_prices"] = _tier_prices(
            reader, data["tier_prices"], prefix + "tier_prices", currency
        )
    if "cost" in data:
        arguments["cost"] = money(reader, data["cost"], prefix + "cost", currency)
    condition_text = reader.field(data, prefix, "condition", str)
    condition = None
    if condition_text is not None:
        condition = reader.build(prefix + "condition", lambda: check(condition_text))
    eligibility = reader.build(
        prefix + "eligibility",
        lambda: Eligibility(
            tiers=_strings(reader, data.get("tiers", []), prefix + "tiers"),
            tags=_strings(reader, data.get("tags", []), prefix + "tags"),
            condition=condition,
        ),
    )
    if reward_id is None or kind is None or len(reader.problems) > before:
        return None
    arguments["eligibility"] = eligibility
    reward = reader.build(path, lambda: Reward(**arguments))
    if reward is None:
        return None
    return reader.build(
        path, lambda: CatalogEntry(reward_id=reward.id, valid_from=valid_from, reward=reward)
    )


def catalog_from_dicts(reader: Problems, value: Any, currency: str) -> RewardCatalog:
    """The catalogue from a list of ``[[rewards]]`` tables; problems go to ``reader``."""
    entries = [
        _entry(reader, item, f"rewards[{n}]", currency)
        for n, item in enumerate(reader.items(value, "rewards"))
    ]
    found = [entry for entry in entries if entry is not None]
    catalog = reader.build("rewards", lambda: RewardCatalog(tuple(found)))
    return catalog if catalog is not None else RewardCatalog()


def _amount(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)


def _price_dict(price: Price) -> dict[str, Any]:
    data: dict[str, Any] = {"points": price.points}
    if price.money is not None:
        data["money"] = str(price.money.amount)
    return data


def _limit_dicts(limits: tuple[RedemptionLimit, ...]) -> list[dict[str, Any]]:
    return [{"count": limit.count, "period": limit.period} for limit in limits]


def _reward_dict(reward: Reward) -> dict[str, Any]:
    condition = reward.eligibility.condition
    if isinstance(condition, PythonCheck):
        raise InvalidArgument(
            f"rewards[{reward.id}].condition: a Python callable has no dict form; "
            "write it in the condition language to dump the program"
        )
    voucher = reward.voucher
    offset = reward.offset
    data: dict[str, Any] = {
        "id": reward.id,
        "kind": reward.kind.value,
        "name": reward.name or None,
        "description": reward.description or None,
        **_price_dict(reward.price),
        "tier_prices": {tier: _price_dict(price) for tier, price in reward.tier_prices} or None,
        "point_type": reward.point_type,
        "stock": reward.stock,
        "member_limits": _limit_dicts(reward.member_limits) or None,
        "global_limits": _limit_dicts(reward.global_limits) or None,
        "available_from": instant_text(reward.available_from),
        "available_until": instant_text(reward.available_until),
        "tiers": sorted(reward.eligibility.tiers) or None,
        "tags": sorted(reward.eligibility.tags) or None,
        "condition": None if condition is None else condition.source,
        "partner": reward.partner,
        "cost": _amount(reward.cost),
        "voucher": None
        if voucher is None
        else {
            key: value
            for key, value in {
                "alphabet": voucher.alphabet,
                "length": voucher.length,
                "uses": voucher.uses,
                "valid_for": duration_dict(voucher.valid_for),
                "valid_until": instant_text(voucher.valid_until),
                "value": _amount(voucher.value),
                "money_off": _money_off_dict(voucher.money_off),
            }.items()
            if value is not None
        },
        "offset": None
        if offset is None
        else {
            "rate": str(offset.rate.amount),
            "max_share": str(offset.max_share),
            "minimum": offset.minimum,
            "step": offset.step,
        },
        "claim_within": duration_dict(reward.claim_within),
        "money_off": _money_off_dict(reward.money_off),
    }
    return {key: value for key, value in data.items() if value is not None}


def catalog_to_dicts(catalog: RewardCatalog) -> list[dict[str, Any]]:
    """The ``[[rewards]]`` tables of ``catalog``; :func:`catalog_from_dicts` reads them back."""
    tables = []
    for entry in catalog.entries:
        if entry.reward is None:
            table: dict[str, Any] = {"id": entry.reward_id, "withdrawn": True}
        else:
            table = _reward_dict(entry.reward)
        if entry.valid_from is not None:
            table["from"] = instant_text(entry.valid_from)
        tables.append(table)
    return tables
