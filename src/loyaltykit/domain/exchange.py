"""Exchange rates the caller supplies, effective-dated, and purchases converted by them.

A programme earns in one currency (``Program.currency``). A purchase in another is
converted at the rate in force at the purchase's instant, from an
:class:`ExchangeRates` table given to ``Loyalty(..., rates=...)``; the trace says which
rate was used. Without a rate for the pair in force at that instant the purchase is
refused with :class:`~loyaltykit.errors.NoExchangeRate`, naming the currency.

>>> from datetime import UTC, datetime
>>> rates = ExchangeRates.of(
...     ("USD", "CNY", datetime(2026, 1, 1, tzinfo=UTC), "7.10"),
...     ("USD", "CNY", datetime(2026, 6, 1, tzinfo=UTC), "7.20"),
... )
>>> rates.rate("USD", "CNY", datetime(2026, 5, 31, tzinfo=UTC)).rate
Decimal('7.10')
>>> rates.convert(Money.of("10", "USD"), "CNY", datetime(2026, 6, 2, tzinfo=UTC))
Money(amount=Decimal('72.00'), currency='CNY')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from loyaltykit.domain.basket import allocate
from loyaltykit.errors import InvalidAmount, InvalidArgument, NoExchangeRate
from loyaltykit.values import MONEY_ROUNDINGS, Money, aware, bounded_decimal, sequence_of, utc

if TYPE_CHECKING:
    from loyaltykit.domain.activity import Purchase

__all__ = [
    "ExchangeRate",
    "ExchangeRates",
    "RatesFormat",
    "converted_purchase",
    "install_rates_format",
]


def _rate(value: object) -> Decimal:
    rate = bounded_decimal("exchange rate", value, max_digits=12, max_places=12)
    if rate <= 0:
        raise InvalidAmount("exchange rate", value, "a positive number")
    return rate


def _currency(value: object) -> str:
    Money.zero(str(value))  # an unknown code is InvalidCurrency here
    return str(value)


def _valid_from(_instance: Any, _attribute: Any, value: Any) -> None:
    aware("valid_from", value)


@attrs.frozen(kw_only=True)
class ExchangeRate:
    """One ``base`` is ``rate`` of ``quote`` from ``valid_from`` on (until a later rate of
    the same pair)."""

    base: str = attrs.field(converter=_currency)
    quote: str = attrs.field(converter=_currency)
    valid_from: datetime = attrs.field(converter=utc, validator=_valid_from)
    rate: Decimal = attrs.field(converter=_rate)

    def __attrs_post_init__(self) -> None:
        if self.base == self.quote:
            raise InvalidArgument(f"exchange rate: {self.base} to itself")

    def describe(self) -> str:
        """The rate in words, for traces."""
        return (
            f"1 {self.base} = {self.rate.normalize():f} {self.quote} "
            f"(from {self.valid_from.isoformat()})"
        )


def _rates(value: Iterable[ExchangeRate]) -> tuple[ExchangeRate, ...]:
    rates = sequence_of("rates", value, ExchangeRate)
    for rate in rates:
        if not isinstance(rate, ExchangeRate):
            raise InvalidArgument(f"rates: {rate!r} is not an ExchangeRate")
    seen = {(r.base, r.quote, r.valid_from) for r in rates}
    if len(seen) != len(rates):
        raise InvalidArgument("rates: two rates of one pair start at the same instant")
    return tuple(sorted(rates, key=lambda r: (r.base, r.quote, r.valid_from)))


def _rounding(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in MONEY_ROUNDINGS:
        raise InvalidArgument(f"rates rounding: {value!r} is not one of {list(MONEY_ROUNDINGS)}")


@attrs.frozen
class ExchangeRates:
    """Effective-dated rates, one direction per pair (give both when both are used).

    Built in Python (:meth:`of`), or read from a document (:meth:`from_dict`,
    :meth:`from_toml`) whose every problem is reported at once with its path::

        rounding = "ROUND_HALF_EVEN"
        [[rates]]
        base = "USD"
        quote = "CNY"
        from = 2026-01-01T00:00:00Z
        rate = "7.10"
    """

    rates: tuple[ExchangeRate, ...] = attrs.field(converter=_rates)
    rounding: str = attrs.field(default=ROUND_HALF_EVEN, validator=_rounding)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExchangeRates:
        """A table from its dict form (``rates``, a list of ``base``, ``quote``, ``from``,
        ``rate``; optionally ``rounding``); every problem is reported at once, with its
        path, in a :class:`~loyaltykit.errors.ProgramError`."""
        return _installed().from_dict(data)

    @classmethod
    def from_toml(cls, path: str | Path) -> ExchangeRates:
        """A table from a TOML file of the dict form."""
        return _installed().from_toml(path)

    def to_dict(self) -> dict[str, Any]:
        """The dict form (TOML/JSON-ready) that :meth:`from_dict` reads back equal."""
        return _installed().to_dict(self)

    @classmethod
    def of(cls, *rows: tuple[str, str, datetime, Decimal | str]) -> ExchangeRates:
        """A table from ``(base, quote, valid_from, rate)`` rows."""
        return cls(
            tuple(
                ExchangeRate(base=base, quote=quote, valid_from=start, rate=rate)
                for base, quote, start, rate in rows
            )
        )

    def rate(self, base: str, quote: str, at: datetime) -> ExchangeRate:
        """The rate of ``base`` in ``quote`` in force at ``at``; else
        :class:`~loyaltykit.errors.NoExchangeRate`."""
        at = aware("at", at)
        found = None
        for rate in self.rates:
            if rate.base == base and rate.quote == quote and rate.valid_from <= at:
                found = rate
        if found is None:
            raise NoExchangeRate(base, quote, at)
        return found

    def convert(self, money: Money, quote: str, at: datetime) -> Money:
        """``money`` in ``quote`` at the rate in force at ``at``, quantized to ``quote``."""
        rate = self.rate(money.currency, quote, at)
        return Money.of(money.amount * rate.rate, quote).quantize(self.rounding)


@attrs.frozen(kw_only=True)
class RatesFormat:
    """How rate tables are read from and written to documents: the seam through which
    :meth:`ExchangeRates.from_dict` and its siblings reach the loader, which lives above
    the domain (:mod:`loyaltykit.formats.exchange_rates`, installed when it is imported;
    ``loyaltykit.ExchangeRates`` is exported from it, so the public name always has it)."""

    from_dict: Callable[[Mapping[str, Any]], ExchangeRates]
    from_toml: Callable[[str | Path], ExchangeRates]
    to_dict: Callable[[ExchangeRates], dict[str, Any]]


_FORMATS: list[RatesFormat] = []


def install_rates_format(rates_format: RatesFormat) -> None:
    """Make ``rates_format`` the one :class:`ExchangeRates`' named constructors use."""
    _FORMATS[:] = [rates_format]


def _installed() -> RatesFormat:
    if not _FORMATS:
        raise RuntimeError(
            "no exchange-rate format is installed: use loyaltykit.ExchangeRates, or import "
            "loyaltykit.formats.exchange_rates, before loading rates"
        )
    return _FORMATS[0]


def converted_purchase(
    purchase: Purchase, currency: str, rates: ExchangeRates | None, at: datetime
) -> tuple[Purchase, ExchangeRate | None]:
    """``purchase`` in ``currency`` and the rate used (``None``: it already was). Its
    priced lines are converted so that they keep summing as they did: what the lines cost
    together is converted once and shared among them in proportion."""
    if purchase.amount.currency == currency:
        return purchase, None
    if rates is None:
        raise NoExchangeRate(purchase.amount.currency, currency, at)
    rate = rates.rate(purchase.amount.currency, currency, at)
    amount = rates.convert(purchase.amount, currency, at)
    priced = [n for n, item in enumerate(purchase.items) if item.line_amount is not None]
    items = list(purchase.items)
    if priced:
        costs = [items[n].line_amount for n in priced]
        known = [cost for cost in costs if cost is not None]
        lines = sum(known, Money.zero(known[0].currency))
        shares = allocate(
            rates.convert(lines, currency, at),
            known,
            rounding=rates.rounding,
            capped=False,
        )
        for n, share in zip(priced, shares, strict=True):
            item = items[n]
            unit = None if item.unit_price is None else rates.convert(item.unit_price, currency, at)
            items[n] = attrs.evolve(item, unit_price=unit, amount=share)
    return attrs.evolve(purchase, amount=amount, items=tuple(items)), rate
