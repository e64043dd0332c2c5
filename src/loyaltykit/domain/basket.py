"""Lines of a basket and the scopes that pick some of them.

A :class:`~loyaltykit.domain.activity.Purchase` may carry its lines (SKU, category,
brand, tags, quantity, unit price or line amount). A :class:`Scope` names the lines a
rule, a multiplier, a threshold, a cap or a money-off reward applies to: lines whose
SKU, category or brand is listed, or that carry one of the listed tags (any one of
them is enough), less the lines that match its ``exclude`` part. A scope that lists
nothing to include takes every line, so ``Scope(exclude=Scope(categories={"tobacco"}))``
is "everything but tobacco".

>>> from loyaltykit.domain.activity import Item, Purchase
>>> from loyaltykit.values import Money, bounded_decimal
>>> basket = Purchase(
...     amount=Money.of("400", "CNY"),
...     items=[
...         Item(sku="run-1", category="shoes", unit_price=Money.of("300", "CNY")),
...         Item(sku="cig-1", category="tobacco", unit_price=Money.of("100", "CNY")),
...     ],
... )
>>> everything_but_tobacco = Scope(exclude=Scope(categories={"tobacco"}))
>>> str(eligible_amount(everything_but_tobacco, basket).amount)
'300'
>>> line_labels(everything_but_tobacco.positions(basket.items), basket.items)
('run-1',)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from loyaltykit.errors import CurrencyMismatch, InvalidAmount, InvalidArgument
from loyaltykit.values import Money, bounded_decimal

if TYPE_CHECKING:
    from loyaltykit.domain.activity import Item, Purchase

__all__ = [
    "MoneyOff",
    "Scope",
    "allocate",
    "eligible_amount",
    "line_amount",
    "line_labels",
    "name_set",
    "scope_of",
]

_LISTS = ("skus", "categories", "brands", "tags")


def name_set(what: str, value: object) -> frozenset[str]:
    """``value`` (a list or set of non-empty strings, or ``None``) as a frozenset; else an
    :class:`~loyaltykit.errors.InvalidArgument` naming ``what``."""
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{what}: {value!r} is not a list of names")
    names = frozenset(value)
    for name in names:
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"{what}: {name!r} is not a non-empty string")
    return names


def _skus(value: object) -> frozenset[str]:
    return name_set("scope skus", value)


def _categories(value: object) -> frozenset[str]:
    return name_set("scope categories", value)


def _brands(value: object) -> frozenset[str]:
    return name_set("scope brands", value)


def _tags(value: object) -> frozenset[str]:
    return name_set("scope tags", value)


def _exclude(value: object) -> Scope | None:
    if value is None:
        return None
    found = scope_of(value)
    if found is not None and found.exclude is not None:
        raise InvalidArgument("scope exclude: an exclusion has no exclusion of its own")
    return found


@attrs.frozen(kw_only=True)
class Scope:
    """The lines of a basket something applies to.

    A line is in scope when its SKU, category or brand is listed, or it carries one of
    the listed tags (nothing listed: every line), and it matches nothing in ``exclude``.
    """

    skus: frozenset[str] = attrs.field(factory=frozenset, converter=_skus)
    categories: frozenset[str] = attrs.field(factory=frozenset, converter=_categories)
    brands: frozenset[str] = attrs.field(factory=frozenset, converter=_brands)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    exclude: Scope | None = attrs.field(default=None, converter=_exclude)

    def __attrs_post_init__(self) -> None:
        if self.exclude is None and not self.lists_any:
            raise InvalidArgument(
                "scope: names no SKU, category, brand or tag to include or exclude"
            )

    @property
    def lists_any(self) -> bool:
        """True when the scope lists lines to include (otherwise it includes every line)."""
        return bool(self.skus or self.categories or self.brands or self.tags)

    def matches(self, line: Item) -> bool:
        """True when ``line`` is listed (ignoring ``exclude``)."""
        return (
            line.sku in self.skus
            or line.category in self.categories
            or line.brand in self.brands
            or bool(line.tags & self.tags)
        )

    def includes(self, line: Item) -> bool:
        """True when ``line`` is in scope."""
        if self.lists_any and not self.matches(line):
            return False
        return self.exclude is None or not self.exclude.matches(line)

    def lines(self, lines: Iterable[Item]) -> tuple[Item, ...]:
        """The lines in scope, in basket order."""
        return tuple(line for line in lines if self.includes(line))

    def positions(self, lines: Iterable[Item]) -> tuple[int, ...]:
        """Where the lines in scope are in ``lines`` (from 0)."""
        return tuple(n for n, line in enumerate(lines) if self.includes(line))

    def describe(self) -> str:
        """The scope in words, for traces: ``"categories shoes, except brands acme"``."""
        parts = [
            f"{name} {', '.join(sorted(getattr(self, name)))}"
            for name in _LISTS
            if getattr(self, name)
        ]
        text = "; ".join(parts) if parts else "every line"
        if self.exclude is not None:
            text += f", except {self.exclude.describe()}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The dict (TOML) form: the lists given, and ``exclude`` as a nested table."""
        data: dict[str, Any] = {name: sorted(getattr(self, name)) for name in _LISTS}
        data = {name: names for name, names in data.items() if names}
        if self.exclude is not None:
            data["exclude"] = self.exclude.to_dict()
        return data


def scope_of(value: object) -> Scope | None:
    """A :class:`Scope` from itself, its dict form (``{"categories": ["shoes"], "exclude":
    {"brands": ["acme"]}}``) or ``None``; anything else is an
    :class:`~loyaltykit.errors.InvalidArgument` naming what was wrong."""
    if value is None or isinstance(value, Scope):
        return value
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"scope: {value!r} is not a table of skus, categories, brands, tags")
    unknown = sorted(set(value) - {*_LISTS, "exclude"})
    if unknown:
        raise InvalidArgument(
            f"scope: unknown field {unknown[0]!r} (known: {', '.join((*_LISTS, 'exclude'))})"
        )
    return Scope(**{str(key): item for key, item in value.items()})


def line_amount(line: Item, currency: str, *, what: str) -> Money:
    """What ``line`` costs: its ``amount``, else ``unit_price * quantity``. A line without
    either, or in another currency, is an :class:`~loyaltykit.errors.InvalidArgument`
    naming ``what`` needed it."""
    found = line.line_amount
    if found is None:
        raise InvalidArgument(
            f"{what}: line {line.sku!r} has neither an amount nor a unit_price; "
            "a scope on amounts needs the price of every line"
        )
    if found.currency != currency:
        raise InvalidArgument(
            f"{what}: line {line.sku!r} is in {found.currency}, the purchase in {currency}"
        )
    return found


def eligible_amount(scope: Scope, purchase: Purchase, *, what: str = "scope") -> Money:
    """The part of ``purchase.amount`` in scope.

    A scope that lists lines counts what those lines cost; a scope that only excludes
    counts the whole purchase less what the excluded lines cost (so a delivery fee that
    is on no line still counts). Never below zero.
    """
    currency = purchase.amount.currency
    zero = Money.zero(currency)
    if scope.lists_any:
        total = sum(
            (line_amount(line, currency, what=what) for line in scope.lines(purchase.items)),
            zero,
        )
    else:
        left_out = [line for line in purchase.items if not scope.includes(line)]
        total = purchase.amount - sum(
            (line_amount(line, currency, what=what) for line in left_out), zero
        )
    return max(total, zero)


def line_labels(positions: Iterable[int], basket: Iterable[Item]) -> tuple[str, ...]:
    """How a trace names the lines at ``positions`` of ``basket``: the SKU, with ``#n``
    (its place in the basket, from 1) when the basket has the SKU on more than one line."""
    skus = [line.sku for line in basket]
    return tuple(
        skus[n] if skus.count(skus[n]) == 1 else f"{skus[n]}#{n + 1}" for n in sorted(positions)
    )


def _percent(value: object) -> Decimal | None:
    if value is None:
        return None
    percent = bounded_decimal("money off percent", value, max_digits=3, max_places=6)
    if not 0 < percent <= 100:
        raise InvalidAmount("money off percent", value, "more than 0 and at most 100")
    return percent


def _positive_money(what: str) -> Any:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if value is not None and (not isinstance(value, Money) or value.amount <= 0):
            raise InvalidAmount(f"money off {what}", value, "a positive Money amount")

    return check


def _repeat(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"money off repeat: {value!r} is not true or false")


@attrs.frozen(kw_only=True)
class MoneyOff:
    """Money taken off a basket: ``amount`` or ``percent`` of what the lines in ``scope``
    cost (the whole basket without a scope), once they cost at least ``minimum``, never
    more than ``maximum``, never more than they cost. With ``repeat`` (an ``amount`` and a
    ``minimum``), the amount comes off once per full ``minimum`` (每满 200 减 20).

    It is the money-off of a discount reward, of a voucher, and the effect of a campaign
    that takes money off at checkout (``kind = "money_off"`` in a campaign's effects).

    >>> off = MoneyOff(percent="10", scope={"categories": ["shoes"]}, maximum=Money.of(25, "CNY"))
    >>> off.discount(Money.of(300, "CNY"))
    Money(amount=Decimal('25'), currency='CNY')
    >>> each_200 = MoneyOff(amount=Money.of(20, "CNY"), minimum=Money.of(200, "CNY"), repeat=True)
    >>> each_200.discount(Money.of(650, "CNY"))
    Money(amount=Decimal('60'), currency='CNY')
    """

    kind = "money_off"

    amount: Money | None = attrs.field(default=None, validator=_positive_money("amount"))
    percent: Decimal | None = attrs.field(default=None, converter=_percent)
    scope: Scope | None = attrs.field(default=None, converter=scope_of)
    minimum: Money | None = attrs.field(default=None, validator=_positive_money("minimum"))
    maximum: Money | None = attrs.field(default=None, validator=_positive_money("maximum"))
    repeat: bool = attrs.field(default=False, validator=_repeat)

    def __attrs_post_init__(self) -> None:
        if (self.amount is None) == (self.percent is None):
            raise InvalidArgument("money off: give exactly one of amount and percent")
        if self.repeat and (self.amount is None or self.minimum is None):
            raise InvalidArgument("money off repeat: needs an amount and a minimum to repeat per")
        moneys = [m for m in (self.amount, self.minimum, self.maximum) if m is not None]
        if len({m.currency for m in moneys}) > 1:
            raise CurrencyMismatch(*sorted({m.currency for m in moneys})[:2])

    def describe(self) -> str:
        """The money off in words, for traces: ``"20 CNY off each full 200 CNY of shoes"``."""
        if self.amount is not None:
            what = f"{self.amount} off"
        else:
            assert self.percent is not None
            what = f"{self.percent.normalize():f}% off"
        if self.repeat:
            what += f" each full {self.minimum}"
        elif self.minimum is not None:
            what += f" from {self.minimum}"
        if self.maximum is not None:
            what += f", at most {self.maximum}"
        if self.scope is not None:
            what += f", on {self.scope.describe()}"
        return what

    def refusal(self, eligible: Money) -> str | None:
        """Why nothing comes off ``eligible`` (what the lines in scope cost), or ``None``."""
        if eligible.amount <= 0:
            where = "the basket" if self.scope is None else self.scope.describe()
            return f"nothing in {where}"
        if self.minimum is not None and eligible < self.minimum:
            return f"a minimum spend of {self.minimum}, {eligible} spent"
        return None

    def discount(self, eligible: Money) -> Money:
        """What comes off ``eligible`` (exact: quantized when it is allocated to lines)."""
        if self.refusal(eligible) is not None:
            return Money.zero(eligible.currency)
        if self.amount is not None:
            if self.amount.currency != eligible.currency:
                raise CurrencyMismatch(self.amount.currency, eligible.currency)
            off = self.amount
            if self.repeat:
                assert self.minimum is not None
                off = self.amount * int(eligible.amount // self.minimum.amount)
        else:
            assert self.percent is not None
            off = Money.of(eligible.amount * self.percent / 100, eligible.currency)
        if self.maximum is not None:
            if self.maximum.currency != eligible.currency:
                raise CurrencyMismatch(self.maximum.currency, eligible.currency)
            off = min(off, self.maximum)
        return min(off, eligible)


def allocate(
    total: Money, weights: Sequence[Money], *, rounding: str, capped: bool = True
) -> tuple[Money, ...]:
    """``total`` shared among ``weights`` in proportion, in the currency's minor units,
    summing to ``total`` quantized with ``rounding`` exactly: each share is rounded down,
    then the units left go one each to the largest remainders (the earlier line first
    on a tie). With ``capped`` (a discount) no share goes past its own weight; without it
    (a conversion to another currency) the weights are only proportions.

    >>> lines = [Money.of(10, "CNY")] * 3
    >>> shares = allocate(Money.of(10, "CNY"), lines, rounding="ROUND_HALF_EVEN")
    >>> [str(part.amount) for part in shares]
    ['3.34', '3.33', '3.33']
    """
    currency = total.currency
    whole = total.quantize(rounding)
    unit = Fraction(1, 10**whole.minor_units)
    cents = int(Fraction(whole.amount) / unit)
    exact_weights = [Fraction(weight.amount) for weight in weights]
    spread = sum(exact_weights, Fraction(0))
    caps = [int(weight / unit) for weight in exact_weights]
    if capped and cents > sum(caps):
        raise InvalidAmount("allocated amount", total, "at most what the lines cost")
    if spread == 0:
        if cents:
            raise InvalidAmount("allocated amount", total, "zero: the lines cost nothing")
        return tuple(Money.zero(currency).quantize(rounding) for _ in weights)
    exact = [cents * weight / spread for weight in exact_weights]
    shares = [int(part) for part in exact]
    order = sorted(range(len(exact)), key=lambda n: (-(exact[n] - shares[n]), n))
    left = cents - sum(shares)
    while left:
        for n in order:
            if left == 0:
                break
            if not capped or shares[n] < caps[n]:
                shares[n] += 1
                left -= 1
    places = Decimal(1).scaleb(-whole.minor_units)
    return tuple(Money.of(Decimal(share) * places, currency) for share in shares)
