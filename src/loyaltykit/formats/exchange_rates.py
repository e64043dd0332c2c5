"""Exchange-rate tables as data: the dict, TOML and JSON-ready form of
:class:`~loyaltykit.domain.exchange.ExchangeRates`.

::

    rounding = "ROUND_HALF_EVEN"      # optional: how converted amounts are quantized

    [[rates]]
    base = "USD"                      # one USD ...
    quote = "CNY"                     # ... is `rate` CNY
    from = 2026-01-01T00:00:00Z       # in force from this instant, until a later rate
    rate = "7.10"                     # a string (or a whole number): exact, never a float

Read through the shared problem collector (:mod:`loyaltykit.formats.problems`) and the
shared reader of instants (:mod:`loyaltykit.formats.scalars`): every problem is reported
at once, each with its path (``rates[2].rate: 0 must be a positive rate``), in one
:class:`~loyaltykit.errors.ProgramError`. Importing this module installs it as the
loader of :meth:`ExchangeRates.from_dict <loyaltykit.domain.exchange.ExchangeRates.from_dict>`
and its siblings; ``loyaltykit.ExchangeRates`` is exported from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loyaltykit.domain.exchange import (
    ExchangeRate,
    ExchangeRates,
    RatesFormat,
    install_rates_format,
)
from loyaltykit.formats.problems import Problems, document_problems, toml_document
from loyaltykit.formats.scalars import instant, instant_text, positive_decimal
from loyaltykit.values import MONEY_ROUNDINGS, Money

__all__ = [
    "FORMAT",
    "ExchangeRates",
    "exchange_rates_from_dict",
    "exchange_rates_from_toml",
    "exchange_rates_to_dict",
]

NAME = "exchange rates"
_TOP = ("rounding", "rates")
_RATE = ("base", "quote", "from", "rate")


def _currency(reader: Problems, data: Mapping[str, Any], prefix: str, key: str) -> str | None:
    code = reader.field(data, prefix, key, str, required=True)
    if code is None:
        return None
    found = reader.build(prefix + key, lambda: Money.zero(code))
    return None if found is None else code


def _rate(reader: Problems, value: Any, path: str) -> ExchangeRate | None:
    data = reader.table(value, path)
    if data is None:
        return None
    prefix = path + "."
    reader.unknown(data, prefix, _RATE)
    before = len(reader.problems)
    base = _currency(reader, data, prefix, "base")
    quote = _currency(reader, data, prefix, "quote")
    if "from" not in data:
        reader.add(prefix + "from", "is required")
    start = instant(reader, data.get("from"), prefix + "from")
    rate = None
    if "rate" not in data:
        reader.add(prefix + "rate", "is required")
    else:
        rate = positive_decimal(
            reader, data["rate"], prefix + "rate", what="rate", example='"7.10"', max_digits=12
        )
    if len(reader.problems) > before:
        return None
    return reader.build(
        path, lambda: ExchangeRate(base=base, quote=quote, valid_from=start, rate=rate)
    )


def exchange_rates_from_dict(data: Mapping[str, Any]) -> ExchangeRates:
    """The table of the dict form ``data`` (see the module docstring); every problem is
    reported at once, with its path, in a :class:`~loyaltykit.errors.ProgramError`."""
    reader = Problems()
    reader.problems.extend(document_problems(data))
    reader.raise_if_any(NAME)
    table = reader.table(data, NAME)
    if table is None:
        reader.fail(NAME)
    reader.unknown(table, "", _TOP)
    rounding = reader.field(table, "", "rounding", str, "ROUND_HALF_EVEN")
    if rounding not in MONEY_ROUNDINGS:
        reader.add("rounding", f"{rounding!r} is not one of {list(MONEY_ROUNDINGS)}")
    if "rates" not in table:
        reader.add("rates", "is required (a list of tables of base, quote, from, rate)")
    rows = reader.items(table.get("rates", []), "rates")
    rates = [_rate(reader, row, f"rates[{n}]") for n, row in enumerate(rows)]
    first: dict[tuple[str, str, Any], int] = {}
    for n, rate in enumerate(rates):
        if rate is None:
            continue
        pair = (rate.base, rate.quote, rate.valid_from)
        if pair in first:
            reader.add(
                f"rates[{n}].from",
                f"rates[{first[pair]}] already gives {rate.base} in {rate.quote} "
                f"from {instant_text(rate.valid_from)}",
            )
        first.setdefault(pair, n)
    reader.raise_if_any(NAME)
    found = [rate for rate in rates if rate is not None]
    built = reader.build("rates", lambda: ExchangeRates(tuple(found), rounding=rounding))
    reader.raise_if_any(NAME)
    assert built is not None
    return built


def exchange_rates_from_toml(path: str | Path) -> ExchangeRates:
    """The table of a TOML file of the dict form."""
    return exchange_rates_from_dict(toml_document(path))


def exchange_rates_to_dict(rates: ExchangeRates) -> dict[str, Any]:
    """The dict form that :func:`exchange_rates_from_dict` reads back equal."""
    return {
        "rounding": rates.rounding,
        "rates": [
            {
                "base": rate.base,
                "quote": rate.quote,
                "from": instant_text(rate.valid_from),
                "rate": str(rate.rate),
            }
            for rate in rates.rates
        ],
    }


FORMAT = RatesFormat(
    from_dict=exchange_rates_from_dict,
    from_toml=exchange_rates_from_toml,
    to_dict=exchange_rates_to_dict,
)
"""The dict and TOML forms of a rate table, as :class:`ExchangeRates`' named constructors
use them (installed when this module is imported)."""
install_rates_format(FORMAT)
