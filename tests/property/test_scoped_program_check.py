"""The property battery on a programme with rules and caps scoped to lines: scoped
multipliers and caps keep the battery's promises (monotone, split never earns more,
full refunds restore, caps hold)."""

from __future__ import annotations

from loyaltykit import Program
from loyaltykit.testing import check_program
from loyaltykit.testing.readings import readings

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
