"""Programs from dicts, TOML and JSON: every problem reported with its path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import Money
from loyaltykit.errors import InvalidArgument, ProgramError
from loyaltykit.formats.programs import Program
from loyaltykit.policy.rules import BaseRate, Cap

RETAIL = {
    "name": "retail",
    "version": "2026-01",
    "timezone": "Asia/Shanghai",
    "currency": "CNY",
    "pending_for": {"days": 7},
    "point_types": [
        {"code": "points", "expire_after": {"months": 12}},
        {"code": "tier", "redeemable": False, "transferable": False},
    ],
    "rules": [
        {"id": "base", "kind": "base_rate", "per": "10"},
        {"id": "spend-500", "kind": "spend_threshold", "threshold": "500", "amount": 200},
        {"id": "survey", "kind": "fixed", "event": "survey_completed", "amount": 30},
    ],
    "caps": [{"id": "daily", "limit": 500, "period": "day"}],
}


def test_a_program_loads_from_a_dict_and_dumps_back_equal() -> None:
    program = Program.from_dict(RETAIL)
    assert program.rules[0] == BaseRate(id="base", per=Money.of(10, "CNY"))
    assert program.caps == (Cap(id="daily", limit=500, period="day"),)
    assert program.point_type("points").expire_after == relativedelta(years=1)
    assert program.pending_for == relativedelta(days=7)
    assert Program.from_dict(program.to_dict()) == program
    assert Program.from_json(json.dumps(program.to_dict())) == program


def test_toml_files_load(tmp_path: Path) -> None:
    path = tmp_path / "retail.toml"
    path.write_text(
        """
name = "retail"
timezone = "Asia/Shanghai"

[[rules]]
id = "base"
kind = "base_rate"
per = "10"

[[caps]]
id = "daily"
limit = 500
period = "day"
""",
        encoding="utf-8",
    )
    program = Program.from_toml(path)
    assert [rule.id for rule in program.rules] == ["base"]
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ", encoding="utf-8")
    with pytest.raises(ProgramError, match=r"broken\.toml"):
        Program.from_toml(broken)


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    bad = {
        "name": "bad",
        "refund_policy": "maybe",
        "point_types": [{"code": "Points!"}],
        "rules": [
            {"id": "base", "kind": "base_rate", "per": "-5"},
            {"id": "x", "kind": "teleport"},
            {"kind": "fixed", "amount": 1},
        ],
        "caps": [{"id": "c", "limit": 5, "period": "fortnight"}],
        "colour": "red",
    }
    with pytest.raises(ProgramError) as raised:
        Program.from_dict(bad)
    problems = raised.value.problems
    assert len(problems) == 7, problems
    expected = [
        "colour: unknown field",
        "refund_policy: 'maybe'",
        "point_types[0]",
        "rules[0].per",
        "rules[1].kind",
        "rules[2].id: is required",
        "caps[0]",
    ]
    for fragment, problem in zip(expected, problems, strict=True):
        assert problem.startswith(fragment), (fragment, problem)
    assert isinstance(raised.value, InvalidArgument)


def test_rules_must_name_declared_point_types_and_unique_ids() -> None:
    with pytest.raises(ProgramError, match=r"rules\[0\]\.point_type: 'miles' is not declared"):
        Program.from_dict(
            {"rules": [{"id": "r", "kind": "fixed", "amount": 1, "point_type": "miles"}]}
        )
    with pytest.raises(ProgramError, match=r"used more than once"):
        Program.from_dict({"rules": [{"id": "r", "kind": "fixed", "amount": 1}] * 2})


def test_python_conditions_cannot_be_dumped() -> None:
    program = Program(rules=(BaseRate(id="b", per=Money.of(1, "CNY"), condition=lambda c: True),))
    with pytest.raises(InvalidArgument, match="condition language"):
        program.to_dict()
