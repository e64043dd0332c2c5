"""Money off a basket as data: the ``money_off`` table of a discount reward or a voucher,
and the ``kind = "money_off"`` effect of a campaign.

::

    money_off = { amount = "20", minimum = "200", repeat = true, scope = { brands = ["acme"] } }
    money_off = { percent = "10", maximum = "25" }

Amounts are strings (or whole numbers) in the programme's currency; ``percent`` is more
than 0 and at most 100; ``scope`` is a scope's table (see :mod:`loyaltykit.domain.basket`);
``repeat`` takes the amount off once per full ``minimum``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyaltykit.domain.basket import MoneyOff
from loyaltykit.formats.problems import Problems
from loyaltykit.formats.scalars import money
from loyaltykit.values import Money

__all__ = ["MONEY_OFF_FIELDS", "money_off_from_data", "money_off_to_data"]

MONEY_OFF_FIELDS = ("amount", "percent", "scope", "minimum", "maximum", "repeat")
"""The fields of a money-off table."""


def money_off_from_data(
    reader: Problems, value: Any, path: str, currency: str, *, also: tuple[str, ...] = ()
) -> MoneyOff | None:
    """The :class:`~loyaltykit.domain.basket.MoneyOff` of the table at ``path`` (``also``:
    other keys the table may hold, such as a campaign effect's ``kind``); problems go to
    ``reader``."""
    table = reader.table(value, path)
    if table is None:
        return None
    prefix = path + "."
    reader.unknown(table, prefix, (*MONEY_OFF_FIELDS, *also))
    before = len(reader.problems)
    arguments: dict[str, Any] = {}
    for key in ("amount", "minimum", "maximum"):
        if key in table:
            arguments[key] = money(reader, table[key], prefix + key, currency)
    repeat = reader.field(table, prefix, "repeat", bool)
    if repeat is not None:
        arguments["repeat"] = repeat
    for key in ("percent", "scope"):  # checked by MoneyOff and the Scope it becomes
        if key in table:
            arguments[key] = table[key]
    if len(reader.problems) > before:
        return None
    return reader.build(path, lambda: MoneyOff(**arguments))


def _amount(value: Money | None) -> str | None:
    return None if value is None else str(value.amount)


def money_off_to_data(off: MoneyOff) -> dict[str, Any]:
    """The table :func:`money_off_from_data` reads back equal."""
    found: Mapping[str, Any] = {
        "amount": _amount(off.amount),
        "percent": None if off.percent is None else str(off.percent),
        "scope": None if off.scope is None else off.scope.to_dict(),
        "minimum": _amount(off.minimum),
        "maximum": _amount(off.maximum),
        "repeat": off.repeat or None,
    }
    return {key: item for key, item in found.items() if item is not None}
