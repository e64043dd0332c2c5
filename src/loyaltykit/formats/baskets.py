"""Priced baskets as plain data: a checkout's stored outcome and its order record.

Money is written as ``[amount, currency]`` strings, lines keep every field of their
:class:`~loyaltykit.domain.activity.Item`; :func:`basket_from_document` reads back an
equal :class:`~loyaltykit.policy.pricing.PricedBasket`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyaltykit.domain.activity import Item
from loyaltykit.policy.pricing import AppliedDiscount, PricedBasket, PricedLine
from loyaltykit.values import Money

__all__ = ["basket_from_document", "basket_to_document"]


def _money(value: Money | None) -> list[str] | None:
    return None if value is None else [str(value.amount), value.currency]


def _read_money(value: Any) -> Money | None:
    return None if value is None else Money.of(str(value[0]), str(value[1]))


def _item(item: Item) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "category": item.category,
        "quantity": item.quantity,
        "unit_price": _money(item.unit_price),
        "brand": item.brand,
        "tags": sorted(item.tags),
        "amount": _money(item.amount),
    }


def _read_item(data: Mapping[str, Any]) -> Item:
    return Item(
        sku=str(data["sku"]),
        category=str(data["category"]),
        quantity=int(data["quantity"]),
        unit_price=_read_money(data["unit_price"]),
        brand=str(data["brand"]),
        tags=frozenset(data["tags"]),
        amount=_read_money(data["amount"]),
    )


def basket_to_document(basket: PricedBasket) -> dict[str, Any]:
    """``basket`` as JSON-compatible data."""
    return {
        "currency": basket.currency,
        "rounding": basket.rounding,
        "lines": [
            {
                "item": _item(line.item),
                "price": _money(line.price),
                "discounts": [[source, _money(amount)] for source, amount in line.discounts],
                "points_paid": _money(line.points_paid),
            }
            for line in basket.lines
        ],
        "discounts": [
            {
                "source": applied.source,
                "amount": _money(applied.amount),
                "lines": list(applied.lines),
                "refusal": applied.refusal,
                "note": applied.note,
            }
            for applied in basket.discounts
        ],
    }


def basket_from_document(data: Mapping[str, Any]) -> PricedBasket:
    """The basket :func:`basket_to_document` wrote."""
    lines = []
    for line in data["lines"]:
        price = _read_money(line["price"])
        assert price is not None
        discounts = []
        for source, amount in line["discounts"]:
            money = _read_money(amount)
            assert money is not None
            discounts.append((str(source), money))
        lines.append(
            PricedLine(
                item=_read_item(line["item"]),
                price=price,
                discounts=tuple(discounts),
                points_paid=_read_money(line["points_paid"]),
            )
        )
    applied = []
    for item in data["discounts"]:
        amount = _read_money(item["amount"])
        assert amount is not None
        applied.append(
            AppliedDiscount(
                source=str(item["source"]),
                amount=amount,
                lines=tuple(item["lines"]),
                refusal=item["refusal"],
                note=item.get("note"),
            )
        )
    return PricedBasket(
        currency=str(data["currency"]),
        lines=tuple(lines),
        discounts=tuple(applied),
        rounding=str(data["rounding"]),
    )
