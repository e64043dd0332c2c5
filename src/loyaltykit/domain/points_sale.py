"""Points sold for money: the programme's price of a point, and when a sale is refundable.

>>> from dateutil.relativedelta import relativedelta
>>> sale = PointsSale(rate=Money.of("0.05", "CNY"), step=100, refundable_for=relativedelta(days=14))
>>> sale.price(1000)
Money(amount=Decimal('50.00'), currency='CNY')
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.errors import InvalidAmount, InvalidArgument
from loyaltykit.values import Money, Points

__all__ = ["PointsSale"]


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidAmount(attribute.name, value, "a positive int")


def _optional_positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _positive(instance, attribute, value)


@attrs.frozen(kw_only=True)
class PointsSale:
    """Members may buy ``point_type`` points at ``rate`` each (the price is quantized to
    the currency with ``rounding``), ``minimum`` to ``maximum`` at a time in multiples
    of ``step``. A sale can be refunded within ``refundable_for`` of it (``None``: never),
    while none of the points bought has been spent."""

    rate: Money
    point_type: str = "points"
    minimum: Points = attrs.field(default=1, validator=_positive)
    maximum: Points | None = attrs.field(default=None, validator=_optional_positive)
    step: Points = attrs.field(default=1, validator=_positive)
    refundable_for: relativedelta | None = None
    rounding: str = ROUND_HALF_UP

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.rate, Money) or self.rate.amount <= 0:
            raise InvalidAmount("points sale rate", self.rate, "a positive Money price of a point")
        if self.refundable_for is not None and not isinstance(self.refundable_for, relativedelta):
            raise InvalidArgument(f"refundable_for: {self.refundable_for!r} is not a relativedelta")
        Money.zero(self.rate.currency).quantize(self.rounding)  # a bad mode fails here

    def price(self, points: Points) -> Money:
        """What ``points`` cost; :class:`~loyaltykit.errors.InvalidAmount` when the
        number breaks the minimum, the maximum or the step."""
        if isinstance(points, bool) or not isinstance(points, int) or points < self.minimum:
            raise InvalidAmount("points", points, f"an int of at least {self.minimum}")
        if self.maximum is not None and points > self.maximum:
            raise InvalidAmount("points", points, f"at most {self.maximum}")
        if points % self.step:
            raise InvalidAmount("points", points, f"a multiple of {self.step}")
        return (self.rate * points).quantize(self.rounding)

    def refundable(self, sold_at: datetime, at: datetime) -> str | None:
        """Why a sale made at ``sold_at`` cannot be refunded at ``at``, or ``None``."""
        if self.refundable_for is None:
            return "bought points are not refundable under this programme"
        if at >= sold_at + self.refundable_for:
            return f"the refund window ended at {(sold_at + self.refundable_for).isoformat()}"
        return None
