"""Pricing a basket: money off, allocated to its lines, and points as payment.

:func:`price_basket` is pure. It takes the campaigns' money off
(:class:`CampaignDiscount`) first, in priority order, then each
:class:`~loyaltykit.domain.basket.MoneyOff` in the order given, each on what the lines
in its scope still cost, and allocates what comes off to those lines (in the currency's
minor units, with a named rounding mode, the units left over going to the largest
remainders, the earlier line first on a tie), so the lines always sum to the total
exactly and no line goes below zero. :meth:`PricedBasket.paying` then shares the money
points pay among the lines the same way, and :meth:`PricedBasket.paid_purchase` is the
purchase the programme's earning rules see: what is left to pay in money, line by line.

>>> from loyaltykit.domain.activity import Item, Purchase
>>> from loyaltykit.domain.basket import MoneyOff
>>> from loyaltykit.values import Money
>>> cny = lambda amount: Money.of(amount, "CNY")
>>> basket = Purchase(
...     amount=cny("400"),
...     items=[
...         Item(sku="run-1", category="shoes", unit_price=cny("300")),
...         Item(sku="tee-1", category="shirts", unit_price=cny("100")),
...     ],
... )
>>> shoes_10 = MoneyOff(percent="10", scope={"categories": ["shoes"]})
>>> priced = price_basket(basket, [("shoes-10", shoes_10)])
>>> str(priced.total.amount), [str(line.net.amount) for line in priced.lines]
('370.00', ['270.00', '100.00'])
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN

import attrs

from loyaltykit.domain.activity import Item, Purchase
from loyaltykit.domain.basket import MoneyOff, allocate, line_amount, line_labels
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import Money

__all__ = ["AppliedDiscount", "CampaignDiscount", "PricedBasket", "PricedLine", "price_basket"]

MONEY_ROUNDING = ROUND_HALF_EVEN
"""The rounding mode of money when none is named (banker's rounding)."""


@attrs.frozen(kw_only=True)
class PricedLine:
    """A line of a priced basket: what it cost (``price``), what came off it (one amount
    per discount, by source), and how much of what is left points pay."""

    item: Item
    price: Money
    discounts: tuple[tuple[str, Money], ...] = ()
    points_paid: Money | None = None

    @property
    def discount(self) -> Money:
        """Everything that came off the line."""
        zero = Money.zero(self.price.currency).quantize()
        return sum((amount for _, amount in self.discounts), zero)

    @property
    def net(self) -> Money:
        """What the line costs after its discounts."""
        return self.price - self.discount

    @property
    def to_pay(self) -> Money:
        """What is left to pay in money, after the points."""
        paid = self.points_paid or Money.zero(self.price.currency)
        return self.net - paid


@attrs.frozen(kw_only=True)
class AppliedDiscount:
    """One discount: its source (``voucher:CODE``, ``reward:ID``, ``campaign:ID``), what
    came off, the lines it came off; or, when nothing came off, why (``refusal``)."""

    source: str
    amount: Money
    lines: tuple[str, ...] = ()
    refusal: str | None = None
    note: str | None = None
    """What cut it, when something did (a campaign's budget)."""

    def explain(self) -> str:
        """The discount as a line of a receipt's explanation."""
        if self.refusal is not None:
            return f"- {self.source}: {self.refusal}"
        cut = "" if self.note is None else f" ({self.note})"
        return f"+ {self.source}: {self.amount} off {', '.join(self.lines)}{cut}"


@attrs.frozen(kw_only=True)
class CampaignDiscount:
    """A campaign's money off as a checkout offers it to one basket
    (:func:`~loyaltykit.policy.campaigns.campaign_discounts` builds them).

    ``money_off`` comes off in order, never more in all than ``budget_left`` (``None``:
    no money budget); ``refusal`` says why the campaign does not apply at all. The
    service takes what came off from ``budget_counter`` (up to ``budget_limit`` minor
    units) and counts a use on the member's ``times_key``, in the checkout's unit of work.
    """

    campaign: str
    money_off: tuple[MoneyOff, ...]
    exclusive: bool = False
    budget_left: Money | None = None
    budget_counter: str | None = None
    budget_limit: int | None = None
    times_key: str | None = None
    refusal: str | None = None


@attrs.frozen(kw_only=True)
class PricedBasket:
    """A basket with its discounts allocated to its lines."""

    currency: str
    lines: tuple[PricedLine, ...]
    discounts: tuple[AppliedDiscount, ...] = ()
    rounding: str = MONEY_ROUNDING

    @property
    def subtotal(self) -> Money:
        """What the lines cost before any discount."""
        return sum((line.price for line in self.lines), Money.zero(self.currency))

    @property
    def discount(self) -> Money:
        """Everything that came off."""
        return sum((line.discount for line in self.lines), Money.zero(self.currency))

    @property
    def total(self) -> Money:
        """The subtotal less the discounts, never below zero."""
        return sum((line.net for line in self.lines), Money.zero(self.currency))

    @property
    def points_paid(self) -> Money:
        """The money points pay."""
        zero = Money.zero(self.currency)
        return sum((line.points_paid or zero for line in self.lines), zero)

    @property
    def to_pay(self) -> Money:
        """What is left to pay in money."""
        return self.total - self.points_paid

    def paying(self, value: Money) -> PricedBasket:
        """The basket with ``value`` paid by points, shared among the lines by what each
        still costs."""
        if value.currency != self.currency or not Money.zero(self.currency) <= value <= self.total:
            raise InvalidArgument(f"points pay {value}: more than the basket's {self.total}")
        shares = allocate(value, [line.net for line in self.lines], rounding=self.rounding)
        lines = tuple(
            attrs.evolve(line, points_paid=share)
            for line, share in zip(self.lines, shares, strict=True)
        )
        return attrs.evolve(self, lines=lines)

    def paid_purchase(self, purchase: Purchase) -> Purchase:
        """``purchase`` as the earning rules see it: what is left to pay in money, each
        line at what is left to pay for it."""
        items = tuple(attrs.evolve(line.item, amount=line.to_pay) for line in self.lines)
        return attrs.evolve(purchase, amount=self.to_pay, items=items)


def _price(item: Item, currency: str, rounding: str) -> Money:
    """What a line costs, in the currency's minor units (a finer price is refused)."""
    price = line_amount(item, currency, what="checkout")
    exact = price.quantize(rounding)
    if exact != price:
        raise InvalidArgument(
            f"checkout: line {item.sku!r} costs {price}, finer than the smallest unit of {currency}"
        )
    return exact


class _Pricing:
    """The lines of a basket as discounts come off them, one discount at a time."""

    def __init__(self, purchase: Purchase, rounding: str) -> None:
        currency = purchase.amount.currency
        if not purchase.items:
            raise InvalidArgument("checkout: the basket has no lines")
        prices = [_price(item, currency, rounding) for item in purchase.items]
        whole = sum(prices, Money.zero(currency))
        if whole != purchase.amount:
            raise InvalidArgument(
                f"checkout: the lines cost {whole}, the purchase amount is {purchase.amount}"
            )
        self.purchase = purchase
        self.rounding = rounding
        self.zero = Money.zero(currency)
        self.prices = prices
        self.left = list(prices)
        self.taken: list[list[tuple[str, Money]]] = [[] for _ in prices]
        self.applied: list[AppliedDiscount] = []

    def take(self, source: str, off: MoneyOff) -> AppliedDiscount:
        """Take ``off`` off what the lines in its scope still cost."""
        items = self.purchase.items
        places = tuple(range(len(items))) if off.scope is None else off.scope.positions(items)
        eligible = sum((self.left[n] for n in places), self.zero)
        refusal = off.refusal(eligible)
        amount = off.discount(eligible)
        shares = allocate(amount, [self.left[n] for n in places], rounding=self.rounding)
        counted = []
        for n, share in zip(places, shares, strict=True):
            if share.amount > 0:
                self.left[n] -= share
                self.taken[n].append((source, share))
                counted.append(n)
        total = sum(shares, self.zero)
        if refusal is None and total.amount == 0:
            refusal = f"{amount} rounds to nothing"
        return self.note(
            AppliedDiscount(
                source=source, amount=total, lines=line_labels(counted, items), refusal=refusal
            )
        )

    def note(self, applied: AppliedDiscount) -> AppliedDiscount:
        """Record ``applied`` among the basket's discounts."""
        self.applied.append(applied)
        return applied

    def offer(self, offer: CampaignDiscount, exclusive: str | None) -> bool:
        """Take a campaign's money off (its effects in order, within what its budget has
        left), unless ``exclusive`` (an exclusive campaign that took money off) stops it;
        True when something came off."""
        source = f"campaign:{offer.campaign}"
        refusal = offer.refusal
        if refusal is None and exclusive is not None:
            refusal = f"not stacked: {exclusive} is exclusive"
        if refusal is not None:
            self.note(AppliedDiscount(source=source, amount=self.zero, refusal=refusal))
            return False
        left = offer.budget_left
        took = False
        for off in offer.money_off:
            if left is not None and left.amount <= 0:
                self.note(AppliedDiscount(source=source, amount=self.zero, refusal="budget spent"))
                continue
            whole = off
            if left is not None:
                cut = left if off.maximum is None else min(off.maximum, left)
                off = attrs.evolve(off, maximum=cut)
            applied = self.take(source, off)
            took = took or applied.amount.amount > 0
            if left is not None:
                limited = whole.maximum is None or left < whole.maximum
                if applied.refusal is None and limited and applied.amount == left:
                    note = f"the last {left} of its budget"
                    self.applied[-1] = attrs.evolve(applied, note=note)
                left = left - applied.amount
        return took

    def basket(self) -> PricedBasket:
        """The basket as priced so far."""
        lines = tuple(
            PricedLine(item=item, price=price, discounts=tuple(self.taken[n]))
            for n, (item, price) in enumerate(zip(self.purchase.items, self.prices, strict=True))
        )
        return PricedBasket(
            currency=self.zero.currency,
            lines=lines,
            discounts=tuple(self.applied),
            rounding=self.rounding,
        )


def price_basket(
    purchase: Purchase,
    discounts: Sequence[tuple[str, MoneyOff]],
    *,
    rounding: str = MONEY_ROUNDING,
    campaigns: Sequence[CampaignDiscount] = (),
) -> PricedBasket:
    """``purchase`` priced: the ``campaigns``' money off first, in their order (an exclusive
    campaign that takes money off stops the campaigns after it), then each discount, in
    order, on what its lines still cost.

    The purchase needs lines, each with its price, in the purchase's currency, that sum to
    its amount: otherwise an :class:`~loyaltykit.errors.InvalidArgument` says which.
    """
    pricing = _Pricing(purchase, rounding)
    exclusive: str | None = None
    for offer in campaigns:
        if pricing.offer(offer, exclusive) and offer.exclusive:
            exclusive = offer.campaign
    for source, off in discounts:
        pricing.take(source, off)
    return pricing.basket()
