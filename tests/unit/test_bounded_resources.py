"""Hostile conditions and programmes are refused quickly and without building anything big.

Each input below once took seconds to minutes or gigabytes of memory. Each must now be
refused with a typed error within one second of CPU time and under 50 MB of allocations,
measured with ``tracemalloc`` (peak of the refusal alone) and ``time.process_time`` (the
CPU the refusal used, so a busy machine does not make the test flaky).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loyaltykit import Money, Program
from loyaltykit.errors import InvalidAmount, LoyaltyError, ProgramError
from loyaltykit.policy.conditions import Condition, ConditionError, ConditionEvaluationError
from loyaltykit.values import portion

SECONDS = 1.0
MEMORY = 50 * 2**20


def _refused_within_bounds(call: Callable[[], Any], error: type[Exception]) -> Exception:
    tracemalloc.start()
    started = time.process_time()
    try:
        with pytest.raises(error) as raised:
            call()
    finally:
        spent = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert spent < SECONDS, f"refused in {spent:.2f} s of CPU"
    assert peak < MEMORY, f"refused after allocating {peak / 2**20:.1f} MB"
    return raised.value


@pytest.mark.parametrize(
    "source",
    ids=[
        "repeat-text",
        "format-width",
        "repeat-list",
        "list-repeated",
        "format-zeros",
        "parens",
        "deep-not",
        "long-name",
    ],
    argvalues=[
        "'x' * 2000000000 == ''",
        "'%*d' % (1500000000, 1) == ''",
        "[0] * 500000000 == []",
        "500000000 * [0] == []",
        "'%0999999999d' % 1 == ''",
        "(" * 1000 + "1" + ")" * 1000,
        "not " * 490 + "true",
        "x" * 5000,
    ],
)
def test_a_condition_that_would_allocate_without_bound_is_refused_at_parse(source: str) -> None:
    _refused_within_bounds(lambda: Condition.parse(source), ConditionError)


@pytest.mark.parametrize(
    ("source", "context"),
    ids=["repeat-text", "repeat-list", "format-width", "huge-product"],
    argvalues=[
        ("event.name * 2000000000 == ''", {"event": {"name": "x"}}),
        ("event.items * 500000000 == []", {"event": {"items": [0]}}),
        ("event.format % event.args == ''", {"event": {"format": "%*d", "args": (10**9, 1)}}),
        ("event.n * event.n * event.n > 0", {"event": {"n": 10**200}}),
    ],
)
def test_a_condition_that_would_allocate_from_its_inputs_is_refused_at_evaluation(
    source: str, context: dict[str, Any]
) -> None:
    condition = Condition.parse(source)
    _refused_within_bounds(lambda: condition.evaluate(context), ConditionEvaluationError)


@pytest.mark.parametrize(
    "value",
    ["1e-10000000", Decimal("1e-999999999"), "1" * 100_000 + "/3", 10**5000],
    ids=["1e-10000000", "Decimal-1e-999999999", "huge-fraction", "5000-digit-int"],
)
def test_a_portion_with_an_unbounded_exponent_is_refused_at_once(value: object) -> None:
    _refused_within_bounds(lambda: portion(value), InvalidAmount)


@pytest.mark.parametrize(
    "amount",
    ["1E+999999999", "1e-999999999", Decimal("1e30"), "9" * 1_000_000, 10**5000],
    ids=["1E+999999999", "1e-999999999", "1e30", "a-million-nines", "5000-digit-int"],
)
def test_money_with_an_unbounded_exponent_is_refused_at_once(amount: object) -> None:
    _refused_within_bounds(lambda: Money.of(amount, "CNY"), InvalidAmount)  # type: ignore[arg-type]


def _program(**fields: Any) -> dict[str, Any]:
    return {"name": "hostile", "rules": [{"id": "base", "kind": "base_rate", "per": "10"}]} | fields


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_PROGRAMMES = {
    "expiry of a million years": _program(
        point_types=[{"code": "points", "expire_after": {"years": 10**6}}]
    ),
    "per 1e-999999": _program(rules=[{"id": "r", "kind": "base_rate", "per": "1e-999999"}]),
    "per 1e-20": _program(rules=[{"id": "r", "kind": "base_rate", "per": "1e-20"}]),
    "factor 1E+30": _program(
        rules=[
            {"id": "r", "kind": "base_rate", "per": "10"},
            {"id": "m", "kind": "multiplier", "factor": "1E+30"},
        ]
    ),
    "nested 100,000 deep": _program(rules=_nested(100_000)),
    "a 5000-digit integer": _program(caps=[{"id": "c", "limit": 10**5000, "period": "day"}]),
    "a misspelt root": _program(
        rules=[{"id": "r", "kind": "base_rate", "per": "10", "condition": "'vip' in custmer.tags"}]
    ),
    "a condition that repeats text": _program(
        rules=[{"id": "r", "kind": "base_rate", "per": "10", "condition": "'x' * 2000000000"}]
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PROGRAMMES))
def test_a_programme_that_cannot_be_evaluated_is_refused_at_load(name: str) -> None:
    error = _refused_within_bounds(
        lambda: Program.from_dict(HOSTILE_PROGRAMMES[name]), ProgramError
    )
    assert isinstance(error, ProgramError)
    assert all(":" in problem for problem in error.problems)  # each names its path


@pytest.mark.parametrize(
    "text",
    ids=["nested-arrays", "5000-digit-int", "nested-objects"],
    argvalues=[
        "[" * 100_000 + "]" * 100_000,
        '{"name": ' + "1" * 5000 + "}",
        '{"a":' * 50_000 + "1",
    ],
)
def test_a_hostile_json_programme_is_refused(text: str) -> None:
    _refused_within_bounds(lambda: Program.from_json(text), ProgramError)


def test_a_hostile_toml_programme_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("rules = " + "[" * 50_000 + "]" * 50_000 + "\n")
    _refused_within_bounds(lambda: Program.from_toml(deep), ProgramError)
    big = tmp_path / "big.toml"
    big.write_text("name = 'x'\n[[caps]]\nid = 'c'\nperiod = 'day'\nlimit = " + "9" * 5000 + "\n")
    _refused_within_bounds(lambda: Program.from_toml(big), ProgramError)


def test_a_ladder_with_a_higher_tier_easier_on_every_requirement_is_refused() -> None:
    ladder = {
        "levels": [
            {"code": "base", "rank": 0},
            {"code": "silver", "rank": 1, "requirements": [{"metric": "spend", "at_least": 1000}]},
            {"code": "gold", "rank": 2, "requirements": [{"metric": "spend", "at_least": 10}]},
        ]
    }
    with pytest.raises(ProgramError, match=r"tiers: .*'gold' \(rank 2\) is easier than 'silver'"):
        Program.from_dict(_program(tiers=ladder))


def test_a_ladder_whose_higher_tier_is_harder_on_one_requirement_loads() -> None:
    requirements = [
        [{"metric": "spend", "at_least": 1000}, {"metric": "visits", "at_least": 1}],
        [{"metric": "spend", "at_least": 10}, {"metric": "visits", "at_least": 5}],
    ]
    ladder = {
        "levels": [
            {"code": "base", "rank": 0},
            {"code": "silver", "rank": 1, "requirements": requirements[0]},
            {"code": "gold", "rank": 2, "requirements": requirements[1]},
        ]
    }
    assert Program.from_dict(_program(tiers=ladder)).tiers is not None


def test_refusals_are_loyalty_errors_with_short_messages() -> None:
    error = _refused_within_bounds(lambda: Money.of("9" * 1_000_000, "CNY"), InvalidAmount)
    assert isinstance(error, LoyaltyError)
    assert len(str(error)) < 500
    assert json.dumps(str(error))
