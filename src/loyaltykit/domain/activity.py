"""What customers do that the programme reacts to: purchases and custom events.

These are the engine's inputs. A :class:`Purchase` carries the money spent and its
items; a :class:`CustomEvent` is anything else a programme rewards (a survey
completed, a review written, a check-in, a referral).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import attrs

from loyaltykit.domain.basket import name_set
from loyaltykit.domain.variables import variables
from loyaltykit.errors import InvalidAmount, InvalidArgument
from loyaltykit.values import (
    OMITTED_AT_DEFAULT,
    Metadata,
    Money,
    frozen_metadata,
    identifier,
    sequence_of,
)

__all__ = ["CustomEvent", "Item", "Purchase"]


def _quantity(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidAmount("item quantity", value, "a positive int")


def _text(what: str) -> Any:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if not isinstance(value, str):
            raise InvalidArgument(f"item {what}: {value!r} is not a string")

    return check


def _tags(value: object) -> frozenset[str]:
    return name_set("item tags", value)


def _line_amount(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, Money) or value.amount < 0:
        raise InvalidAmount("item amount", value, "Money of zero or more")


# fields added after purchases were first fingerprinted: left out of the canonical form
# while at their default, so a request recorded before them replays as the same request
_LATER = {OMITTED_AT_DEFAULT: True}


@attrs.frozen(kw_only=True)
class Item:
    """A line of a purchase: what was bought, how many, and what it cost.

    ``amount`` is what the line cost in all (after any price reduction at the till);
    without it the line costs ``unit_price * quantity``. ``brand`` and ``tags`` are there
    for rules scoped to lines (:class:`~loyaltykit.domain.basket.Scope`).
    """

    sku: str
    category: str = ""
    quantity: int = attrs.field(default=1, validator=_quantity)
    unit_price: Money | None = None
    brand: str = attrs.field(default="", validator=_text("brand"), metadata=_LATER)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags, metadata=_LATER)
    amount: Money | None = attrs.field(default=None, validator=_line_amount, metadata=_LATER)

    @property
    def total(self) -> Money | None:
        """``unit_price * quantity``, when the price is known."""
        return None if self.unit_price is None else self.unit_price * self.quantity

    @property
    def line_amount(self) -> Money | None:
        """What the line cost: ``amount``, else ``unit_price * quantity`` (``None`` when
        neither is known)."""
        return self.amount if self.amount is not None else self.total


def _items(value: Any) -> tuple[Item, ...]:
    return sequence_of("items", value, Item)


def _amount(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, Money):
        raise InvalidAmount("purchase amount", value, "Money, e.g. Money.of('129.90', 'CNY')")
    if value.amount < 0:
        raise InvalidAmount("purchase amount", value, "an amount of zero or more")


@attrs.frozen(kw_only=True)
class Purchase:
    """A purchase: the money spent, what was bought, and where."""

    amount: Money = attrs.field(validator=_amount)
    items: tuple[Item, ...] = attrs.field(default=(), converter=_items)
    channel: str = ""
    attributes: Metadata = attrs.field(default=(), converter=frozen_metadata)

    type = "purchase"

    @property
    def quantity(self) -> int:
        """Units bought, over every item."""
        return sum(item.quantity for item in self.items)

    @property
    def categories(self) -> frozenset[str]:
        """Categories of the items bought."""
        return frozenset(item.category for item in self.items if item.category)

    def context(self, fields: Collection[str] | None = None) -> dict[str, Any]:
        """The event as condition variables (``event.amount``, ``event.categories``...):
        all of them, or only ``fields``."""
        return variables(self, _PURCHASE_FIELDS, self.attributes, fields)


_PURCHASE_FIELDS: dict[str, Callable[[Purchase], Any]] = {
    "type": lambda event: event.type,
    "amount": lambda event: event.amount.amount,
    "currency": lambda event: event.amount.currency,
    "channel": lambda event: event.channel,
    "quantity": lambda event: event.quantity,
    "categories": lambda event: event.categories,
    "skus": lambda event: frozenset(item.sku for item in event.items),
}


def _event_type(_instance: Any, _attribute: Any, value: Any) -> None:
    identifier("event type", value)
    if value == "purchase":
        raise InvalidArgument("event type: 'purchase' is reserved; record purchases as Purchase")


@attrs.frozen(kw_only=True)
class CustomEvent:
    """Any other activity a programme rewards, e.g. ``CustomEvent(type="survey_completed")``."""

    type: str = attrs.field(validator=_event_type)
    attributes: Metadata = attrs.field(default=(), converter=frozen_metadata)

    def context(self, fields: Collection[str] | None = None) -> dict[str, Any]:
        """The event as condition variables (its attributes and ``type``): all of them,
        or only ``fields``."""
        return variables(self, _CUSTOM_FIELDS, self.attributes, fields)


_CUSTOM_FIELDS: dict[str, Callable[[CustomEvent], Any]] = {"type": lambda event: event.type}
