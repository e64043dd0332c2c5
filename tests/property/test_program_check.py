"""check_program catches real mistakes: each broken programme below is reported under
the right property with a readable counterexample, and the example programmes pass."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from loyaltykit import Program
from loyaltykit.errors import InvalidArgument
from loyaltykit.policy.rules import Cap
from loyaltykit.testing import History, Outcome, check_program

PROGRAMS = Path(__file__).resolve().parents[2] / "examples" / "programs"
EXAMPLES = 20  # small: the whole suite stays fast; the defaults are for users

BASE = {"id": "base", "kind": "base_rate", "per": "10"}
SPEND_TIERS = {
    "status_length": {"months": 12},
    "levels": [
        {"code": "member", "rank": 0},
        {
            "code": "silver",
            "rank": 1,
            "requirements": [
                {"metric": "spend", "at_least": "1000", "window": {"kind": "calendar_year"}}
            ],
        },
        {
            "code": "gold",
            "rank": 2,
            "requirements": [
                {"metric": "spend", "at_least": "1000", "window": {"kind": "calendar_year"}}
            ],
        },
    ],
}
BANDED_TIERS = {
    "status_length": {"months": 6},
    "levels": [
        {"code": "regular", "rank": 0},
        {
            "code": "silver",
            "rank": 1,
            "requirements": [
                {
                    "metric": "spend",
                    "at_least": "100",
                    "below": "149",
                    "per_month": True,
                    "window": {"kind": "rolling", "months": 3},
                }
            ],
        },
        {
            "code": "gold",
            "rank": 2,
            "requirements": [
                {
                    "metric": "spend",
                    "at_least": "150",
                    "per_month": True,
                    "window": {"kind": "rolling", "months": 3},
                }
            ],
        },
    ],
}


@attrs.frozen(kw_only=True)
class HourlyCap(Cap):
    """A daily cap whose counter is keyed by the hour: it resets every hour."""

    def counter(self, at: datetime) -> str | None:
        return f"cap:{self.id}:{at:%Y-%m-%dT%H}"


def _program(**data: Any) -> Program:
    return Program.from_dict({"name": "broken", **data})


def _hourly_cap() -> Program:
    return attrs.evolve(
        _program(rules=[BASE]), caps=(HourlyCap(id="daily", limit=50, period="day"),)
    )


def _python_condition() -> Program:
    base = _program(rules=[BASE])
    rule = attrs.evolve(base.rules[0], condition=lambda context: context["event"]["amount"] > 0)
    return attrs.evolve(base, rules=(rule,))


BROKEN = {
    "equal tier thresholds: silver is never reached": (
        lambda: _program(rules=[BASE], tiers=SPEND_TIERS),
        "tiers_reachable_and_ordered",
        "silver is never reached",
    ),
    "off-by-one band: ARPU 149 to 150 belongs to no tier": (
        lambda: _program(rules=[BASE], tiers=BANDED_TIERS),
        "tiers_reachable_and_ordered",
        "a gap between them",
    ),
    "rounding up mints points on split purchases": (
        lambda: _program(rules=[{**BASE, "rounding": "ROUND_UP"}]),
        "split_never_earns_more",
        "bought apart to earn at most",
    ),
    "a half-up multiplier mints points on split purchases": (
        lambda: _program(
            rounding="ROUND_HALF_UP",
            rules=[BASE, {"id": "x15", "kind": "multiplier", "factor": "1.5", "priority": 200}],
        ),
        "split_never_earns_more",
        "x1.5",
    ),
    "a welcome bonus that stacks with the member-day double": (
        lambda: _program(
            rules=[
                BASE,
                {"id": "welcome", "kind": "first_purchase", "amount": 100},
                {"id": "double", "kind": "multiplier", "factor": "2", "priority": 200},
            ],
            promises={"exclusive": [["welcome", "double"]]},
        ),
        "exclusive_rules",
        "['welcome', 'double'] all applied",
    ),
    "a small-basket bonus breaks the monotone promise": (
        lambda: _program(
            rules=[
                BASE,
                {
                    "id": "small-basket",
                    "kind": "fixed",
                    "amount": 30,
                    "condition": "event.amount < 100",
                },
            ]
        ),
        "monotone",
        "small-basket",
    ),
    "a cap that resets every hour instead of every day": (
        _hourly_cap,
        "caps_and_budgets_hold",
        "cap daily to keep points at most 50 per day",
    ),
    "a condition reading a field new members lack": (
        lambda: _program(
            rules=[
                {**BASE, "condition": "len(customer.nickname) > 0 or event.amount > 0"},
            ]
        ),
        "conditions_evaluate",
        "ConditionEvaluationError",
    ),
    "a Python condition has no TOML form": (
        _python_condition,
        "round_trips",
        "a Python callable has no dict form",
    ),
    "a one-off spend bonus counted twice on a split bill": (
        lambda: _program(
            rules=[
                BASE,
                {"id": "spend-200", "kind": "spend_threshold", "threshold": "200", "amount": 100},
            ]
        ),
        "split_never_earns_more",
        "spend-200",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN), ids=lambda case: case.split(":")[0])
def test_a_broken_programme_is_reported_under_the_right_property(case: str) -> None:
    make, name, clue = BROKEN[case]
    report = check_program(make(), max_examples=EXAMPLES, only=[name])
    result = report[name]
    assert not result.passed, str(report)
    text = str(report)
    assert f"FAIL {name}" in text
    assert result.counterexample is not None
    assert clue in text, text
    assert "expected:" in text and "actual:" in text


def test_a_counterexample_shows_the_shrunk_history_as_a_table() -> None:
    report = check_program(
        _program(rules=[{**BASE, "rounding": "ROUND_UP"}]),
        max_examples=EXAMPLES,
        only=["split_never_earns_more"],
    )
    example = report["split_never_earns_more"].counterexample
    assert example is not None and example.history is not None
    table = str(example).splitlines()
    assert table[0].split() == ["when", "what", "amount"]
    assert "enrol" in table[1]
    # shrunk: the history before the basket is empty, the basket is the one step
    assert len(example.history.steps) == 1
    assert any(line.startswith("+ base: 1 per 10 CNY") for line in example.trace)


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.toml")), ids=lambda p: p.stem)
def test_the_example_programmes_pass_the_battery(path: Path) -> None:
    report = check_program(Program.from_toml(path), max_examples=EXAMPLES)
    assert report.ok, str(report)


def test_extra_properties_are_reported_under_their_name() -> None:
    def at_most_one_purchase(history: History, outcomes: Sequence[Outcome]) -> None:
        """Members buy at most once (false, on purpose)."""
        bought = [o for o in outcomes if o.step.what.startswith("purchase")]
        assert len(bought) <= 1, f"{len(bought)} purchases"

    report = check_program(
        _program(rules=[BASE]),
        max_examples=EXAMPLES,
        extra=[at_most_one_purchase],
        only=["at_most_one_purchase"],
    )
    result = report["at_most_one_purchase"]
    assert not result.passed
    assert result.description == "Members buy at most once (false, on purpose)."
    assert result.counterexample is not None and "2 purchases" in result.counterexample.actual


def test_unpromised_properties_are_skipped_with_the_reason() -> None:
    report = check_program(
        _program(rules=[BASE], promises={"monotone": False}),
        max_examples=5,
        only=["monotone", "exclusive_rules"],
    )
    assert report["monotone"].skipped == (
        "the programme does not promise it ([promises] monotone = false)"
    )
    assert report.ok


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"max_examples": 0}, "max_examples: 0"),
        ({"only": ["nope"]}, "no properties ['nope']"),
    ],
)
def test_bad_arguments_are_refused_up_front(arguments: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidArgument, match=problem.replace("[", r"\[")):
        check_program(Program(), **arguments)


def _level(code: str, rank: int, spend: int) -> dict[str, Any]:
    window = {"kind": "rolling", "months": 12}
    return {
        "code": code,
        "rank": rank,
        "requirements": [{"metric": "spend", "at_least": str(spend), "window": window}],
    }


def test_a_one_step_ladder_is_reached_and_stepped_down_one_tier_at_a_time() -> None:
    ladder = {
        "status_length": {"months": 12},
        "grace": {"months": 2},
        "downgrade": "one_step",
        "levels": [
            {"code": "base", "rank": 0},
            _level("silver", 1, 1000),
            _level("gold", 2, 2000),
            _level("platinum", 3, 3000),
        ],
    }
    report = check_program(
        _program(rules=[BASE], tiers=ladder), max_examples=5, only=["tiers_reachable_and_ordered"]
    )
    assert report.ok, str(report)
