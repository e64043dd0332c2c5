"""Campaigns, care, referrals and draws on the SQL backends: the same outcomes as memory."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from loyaltykit import Loyalty, MemoryStorage, Money, Profile, Program, Purchase
from loyaltykit.storage.base import Storage
from tests.databases import storage_factory

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 5, 8, 12, tzinfo=SHANGHAI)
PROGRAM = Program.from_dict(
    {
        "timezone": "Asia/Shanghai",
        "rules": [
            {"id": "base", "kind": "base_rate", "per": "10"},
            {
                "id": "refer",
                "kind": "referral",
                "amount": 5,
                "referrer_amount": 20,
                "referrer_cap": 1,
            },
        ],
        "campaigns": [
            {
                "id": "member-day",
                "schedule": {
                    "start": "2026-05-01T00:00:00+08:00",
                    "recurrence": "FREQ=MONTHLY;BYMONTHDAY=8",
                },
                "effects": [
                    {"kind": "multiply", "factor": "2"},
                    {"kind": "reward", "reward": "coupon"},
                    {"kind": "draw_entries", "per_event": 1},
                ],
                "member_limit": {"times": 2, "period": "day"},
                "budget": {"points": 30},
            }
        ],
        "care": {"birthday": {"points": 50}, "inactive": {"days": 30}},
    }
)


def scenario(storage: Storage) -> tuple[object, ...]:
    """Budgets, limits, referrals, a draw, care and a report; everything they return."""
    with Loyalty(PROGRAM, storage=storage) as loyalty:
        loyalty.enroll(
            "boss", at=T0, idempotency_key="e-boss", profile=Profile(birthday=date(1990, 5, 20))
        )
        for n in range(3):
            loyalty.enroll(f"m{n}", at=T0, idempotency_key=f"e-{n}", referred_by="boss")
        explanations = [
            loyalty.record_purchase(
                f"m{n % 3}", Purchase(amount=Money.of(120, "CNY")), at=T0, idempotency_key=f"p{n}"
            ).explanation
            for n in range(5)
        ]
        drawn = loyalty.draw("member-day", winners=2, seed="s", at=T0, idempotency_key="d")
        care = loyalty.run_due(at=datetime(2026, 6, 20, tzinfo=SHANGHAI)).care
        again = loyalty.run_due(at=datetime(2026, 6, 21, tzinfo=SHANGHAI)).care
        report = loyalty.campaign_report("member-day", at=T0 + timedelta(days=1))
        board = loyalty.referral_leaderboard(since=T0, until=T0 + timedelta(days=1))
        return (
            explanations,
            loyalty.campaign_budget("member-day"),
            loyalty.participants("member-day"),
            drawn,
            loyalty.draws("member-day"),
            care,
            again,
            loyalty.care_actions(at=datetime(2026, 6, 21, tzinfo=SHANGHAI)),
            report,
            board,
            [loyalty.balance(member).available for member in ("boss", "m0", "m1", "m2")],
        )


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_sql_backends_agree_with_memory(kind: str, request: pytest.FixtureRequest) -> None:
    url: str = request.getfixturevalue(f"{kind}_url")
    expected = scenario(MemoryStorage())
    assert scenario(storage_factory(url)()) == expected
    explanations, budget, people, drawn, _, care, again, worklist, _, board, balances = expected
    assert budget.spent == 30  # type: ignore[attr-defined]
    assert "budget of 30 has 13 left -> cut from 17 to 13" in explanations[1]  # type: ignore[index]
    assert {m: p.points for m, p in people.items()} == {"m0": 17, "m1": 13, "m2": 0}  # type: ignore[attr-defined]
    assert drawn.winners == drawn.reproduce()  # type: ignore[attr-defined]
    assert len(care) == 4 and again == () and worklist == care  # type: ignore[arg-type]
    assert [(line.referrer, line.referrals, line.points) for line in board] == [("boss", 3, 20)]  # type: ignore[attr-defined]
    assert balances == [20, 12 + 5 + 17 + 12, 12 + 5 + 13 + 12, 12 + 5]
