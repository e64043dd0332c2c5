"""Exchange-rate tables in their dict and TOML form: read, written back equal, and every
problem reported at once with its path; a round trip for any table (hypothesis)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import ExchangeRates, Loyalty, Money, Program, Purchase
from loyaltykit.domain.exchange import ExchangeRate
from loyaltykit.errors import InvalidArgument, ProgramError
from loyaltykit.policy.rules import BaseRate
from loyaltykit.values import MONEY_ROUNDINGS

JAN = datetime(2026, 1, 1, tzinfo=UTC)
TOML = """
rounding = "ROUND_HALF_UP"

[[rates]]
base = "USD"
quote = "CNY"
from = 2026-01-01T00:00:00Z
rate = "7.10"

[[rates]]
base = "USD"
quote = "CNY"
from = 2026-06-01T08:00:00+08:00
rate = "7.20"
"""


def test_a_rate_table_is_read_from_toml_and_used_by_the_facade(tmp_path: Path) -> None:
    path = tmp_path / "rates.toml"
    path.write_text(TOML)
    rates = ExchangeRates.from_toml(path)
    assert rates == ExchangeRates(
        (
            ExchangeRate(base="USD", quote="CNY", valid_from=JAN, rate="7.10"),
            ExchangeRate(
                base="USD", quote="CNY", valid_from=datetime(2026, 6, 1, tzinfo=UTC), rate="7.20"
            ),
        ),
        rounding="ROUND_HALF_UP",
    )
    store = Loyalty(
        Program(currency="CNY", rules=(BaseRate(id="base", per=Money.of(1, "CNY")),)), rates=rates
    )
    store.enroll("c-1", at=JAN, idempotency_key="enroll")
    receipt = store.record_purchase(
        "c-1", Purchase(amount=Money.of("10", "USD")), at=JAN, idempotency_key="p"
    )
    assert receipt.balance.available == 71
    assert ExchangeRates.from_dict(rates.to_dict()) == rates


def test_every_problem_is_reported_with_its_path() -> None:
    data: dict[str, Any] = {
        "rounding": "ROUND_SOMETIMES",
        "colour": "blue",
        "rates": [
            {"base": "USD", "quote": "CNY", "from": "2026-01-01T00:00:00", "rate": "7.1"},
            {"base": "usd", "quote": "CNY", "from": "2026-01-01T00:00:00Z", "rate": 7.1},
            {"base": "EUR", "quote": "CNY", "rate": "0"},
            {"base": "JPY", "quote": "JPY", "from": "2026-01-01T00:00:00Z", "rate": "1"},
            {"quote": "CNY", "from": "2026-01-01T00:00:00Z", "rate": "1", "extra": 1},
            "7.10",
        ],
    }
    with pytest.raises(ProgramError) as caught:
        ExchangeRates.from_dict(data)
    problems = caught.value.problems
    expected = [
        "colour: unknown field",
        "rounding: 'ROUND_SOMETIMES' is not one of",
        "rates[0].from: '2026-01-01T00:00:00' has no UTC offset",
        "rates[1].base:",
        'rates[1].rate: 7.1 is not a rate written as a string such as "7.10"',
        "rates[2].from: is required",
        "rates[2].rate: '0' must be a positive rate",
        "rates[3]: exchange rate: JPY to itself",
        "rates[4].extra: unknown field",
        "rates[4].base: is required",
        "rates[5]: '7.10' is not a table",
    ]
    for start in expected:
        assert any(problem.startswith(start) for problem in problems), (start, problems)
    assert len(problems) == len(expected)


def test_two_rates_of_one_pair_from_one_instant_name_both_places() -> None:
    row = {"base": "USD", "quote": "CNY", "from": "2026-01-01T00:00:00Z", "rate": "7"}
    with pytest.raises(ProgramError) as caught:
        ExchangeRates.from_dict({"rates": [row, {**row, "from": "2026-01-01T08:00:00+08:00"}]})
    assert caught.value.problems == (
        "rates[1].from: rates[0] already gives USD in CNY from 2026-01-01T00:00:00+00:00",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "exchange rates: [] is not a table"),
        ({}, "rates: is required"),
        ({"rates": {"base": "USD"}}, "rates: {'base': 'USD'} is not a list"),
    ],
)
def test_a_document_that_is_not_a_table_of_rates_is_refused(data: Any, message: str) -> None:
    with pytest.raises(ProgramError, match=re.escape(message)):
        ExchangeRates.from_dict(data)


def test_a_file_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rates.toml"
    path.write_text("[[rates]\n")
    with pytest.raises(ProgramError, match=r"rates\.toml"):
        ExchangeRates.from_toml(path)
    with pytest.raises(InvalidArgument, match="is not a file path"):
        ExchangeRates.from_toml(0)  # type: ignore[arg-type]


CURRENCIES = ("CNY", "USD", "EUR", "JPY", "HKD")
rates_tables = st.builds(
    lambda rows, rounding: ExchangeRates(tuple(rows), rounding=rounding),
    st.lists(
        st.builds(
            lambda pair, days, micros, rate: ExchangeRate(
                base=pair[0],
                quote=pair[1],
                valid_from=JAN + timedelta(days=days, microseconds=micros),
                rate=rate,
            ),
            st.permutations(CURRENCIES).map(lambda order: (order[0], order[1])),
            st.integers(-3650, 3650),
            st.integers(0, 86_400 * 10**6 - 1),
            st.decimals(min_value="0.000000000001", max_value="99999", places=6),
        ),
        max_size=6,
        unique_by=lambda rate: (rate.base, rate.quote, rate.valid_from),
    ),
    st.sampled_from(MONEY_ROUNDINGS),
)


@settings(max_examples=100, deadline=None)
@given(rates=rates_tables)
def test_any_table_reads_back_equal_from_its_dict_and_toml_forms(
    rates: ExchangeRates, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert ExchangeRates.from_dict(rates.to_dict()) == rates
    path = tmp_path_factory.mktemp("rates") / "rates.toml"
    path.write_text(tomli_w.dumps(rates.to_dict()))
    assert ExchangeRates.from_toml(path) == rates
