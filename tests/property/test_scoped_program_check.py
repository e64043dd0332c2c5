"""The property battery on a programme with rules and caps scoped to lines: scoped
multipliers and caps keep the battery's promises (monotone, split never earns more,
full refunds restore, caps hold), and its baskets carry the brands and tags the scopes
read, so rules scoped to them are exercised."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Program, Purchase
from loyaltykit.testing import check_program
from loyaltykit.testing.history import History, Outcome
from loyaltykit.testing.program_check import Broken
from loyaltykit.testing.readings import readings
from loyaltykit.testing.strategies import for_program

SCOPED = Program.from_dict(
    {
        "rules": [
            {
                "id": "base",
                "kind": "base_rate",
                "per": "10",
                "scope": {"exclude": {"categories": ["tobacco"]}},
            },
            {
                "id": "x2",
                "kind": "multiplier",
                "factor": "2",
                "scope": {"categories": ["shoes"], "skus": ["run-1"]},
            },
            {"id": "socks", "kind": "per_unit", "rate": 3, "scope": {"skus": ["sock-1"]}},
        ],
        "caps": [{"id": "bags", "limit": 100, "period": "day", "scope": {"categories": ["bags"]}}],
    }
)


def test_baskets_carry_the_lines_scopes_read() -> None:
    read = readings(SCOPED)
    assert set(read.categories) >= {"tobacco", "shoes", "bags"}
    assert set(read.skus) >= {"run-1", "sock-1"}


def test_a_scoped_programme_keeps_the_battery_s_properties() -> None:
    report = check_program(SCOPED, max_examples=10)
    assert report.ok, str(report)


BRANDED = Program.from_dict(
    {
        "rules": [
            {"id": "base", "kind": "base_rate", "per": "10"},
            {"id": "acme-x3", "kind": "multiplier", "factor": "3", "scope": {"brands": ["acme"]}},
            {
                "id": "organic",
                "kind": "per_unit",
                "rate": 2,
                "scope": {"tags": ["organic"], "exclude": {"brands": ["cheapo"]}},
            },
        ],
        "campaigns": [
            {
                "id": "eco",
                "schedule": {"start": "2026-01-01T00:00:00+08:00"},
                "effects": [{"kind": "money_off", "percent": "5", "scope": {"tags": ["eco"]}}],
            }
        ],
    }
)


def test_baskets_carry_the_brands_and_tags_scopes_read() -> None:
    read = readings(BRANDED)
    assert set(read.brands) == {"acme", "cheapo"}
    assert set(read.line_tags) == {"organic", "eco"}
    baskets = for_program(BRANDED).purchases()
    lines = [line for basket in _examples(baskets) for line in basket.items]
    assert {"acme", "cheapo", ""} <= {line.brand for line in lines}
    assert {"organic", "eco"} <= {tag for line in lines for tag in line.tags}
    assert any(not line.tags for line in lines)


def _examples(strategy: st.SearchStrategy[Purchase]) -> list[Purchase]:
    found: list[Purchase] = []

    @settings(max_examples=200, derandomize=True, database=None)
    @given(strategy)
    def collect(purchase: Purchase) -> None:
        found.append(purchase)

    collect()
    return found


def _no_acme(history: History, outcomes: Sequence[Outcome]) -> None:
    for step in history.steps:
        action = step.action
        if isinstance(action, Purchase) and any(line.brand == "acme" for line in action.items):
            raise Broken("no acme line (a planted failure)", f"acme bought at {step.at}")


def test_the_battery_reaches_brand_scoped_rules() -> None:
    report = check_program(BRANDED, max_examples=10)
    assert report.ok, str(report)
    # a property that fails on any acme line is found failing: the histories hold them
    planted = check_program(BRANDED, max_examples=20, extra=[_no_acme], only=["_no_acme"])
    assert not planted.ok
    assert "acme" in str(planted)
