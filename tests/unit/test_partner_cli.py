"""``loyaltykit settlement``: a partner's settlement from the shell, as a table and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loyaltykit import Loyalty, Program
from loyaltykit.cli import main

PROGRAMME = """
currency = "CNY"

[[partners]]
id = "cinema"
point_price = "0.02"

[[rewards]]
id = "ticket"
kind = "ticket"
points = 500
partner = "cinema"
cost = "30"
"""
AT = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, str]:
    program = tmp_path / "programme.toml"
    program.write_text(PROGRAMME, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    assert main(["init", "--db", url]) == 0
    with Loyalty(Program.from_toml(program), storage=url) as loyalty:
        loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
        loyalty.award_partner_points("cinema", "c-1", 1500, at=AT, idempotency_key="film")
        loyalty.redeem("c-1", "ticket", at=AT, idempotency_key="ticket")
    return url, str(program)


def test_the_settlement_prints_as_json_and_as_a_table(
    setup: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, program = setup
    period = ["--start", "2026-01-01T00:00:00+08:00", "--end", "2026-03-01T00:00:00+08:00"]
    capsys.readouterr()
    assert main(["settlement", "cinema", "--db", url, "--program", program, *period, "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["points_issued"], done["units_redeemed"]) == (1500, 1)
    assert done["owed_by_partner"] == {"amount": "30.00", "currency": "CNY"}
    assert main(["settlement", "cinema", "--db", url, "--program", program, *period]) == 0
    table = capsys.readouterr().out
    assert "net (the partner pays)" in table and "0.00 CNY" in table


def test_an_unknown_partner_is_refused(
    setup: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, program = setup
    period = ["--start", "2026-01-01T00:00:00+08:00", "--end", "2026-03-01T00:00:00+08:00"]
    assert main(["settlement", "gym", "--db", url, "--program", program, *period]) == 1
    assert "no partner 'gym'" in capsys.readouterr().err
