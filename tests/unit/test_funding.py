"""Budget funding is a step of the engine: the tier is decided once, on funded points."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.errors import ConcurrencyConflict
from loyaltykit.policy.engine import BudgetConsumption
from loyaltykit.service.campaigns import take_budget
from loyaltykit.storage.memory import MemoryStorage

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 5, 8, 12, tzinfo=SHANGHAI)


def _program(budget: int) -> Program:
    gold: dict[str, Any] = {
        "code": "gold",
        "rank": 1,
        "requirements": [
            {"metric": "qualifying_points", "at_least": "100", "window": {"kind": "all_time"}}
        ],
    }
    return Program.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "rules": [
                {"id": "base", "kind": "base_rate", "per": "10"},
                {
                    "id": "gold-x2",
                    "kind": "multiplier",
                    "factor": "2",
                    "condition": "customer.tier == 'gold'",
                },
                {"id": "credits", "kind": "base_rate", "per": "10", "point_type": "tier"},
            ],
            "tiers": {
                "upgrade_applies": "this_event",
                "levels": [{"code": "member", "rank": 0}, gold],
            },
            "campaigns": [
                {
                    "id": "double-credits",
                    "schedule": {"start": "2026-05-01T00:00:00+08:00"},
                    "effects": [{"kind": "tier_credits"}],
                    "budget": {"points": budget},
                }
            ],
        }
    )


def _buy(budget: int) -> tuple[Loyalty, str]:
    loyalty = Loyalty(_program(budget))
    loyalty.enroll("a", at=AT, idempotency_key="e-a")
    receipt = loyalty.record_purchase(
        "a", Purchase(amount=Money.of(600, "CNY")), at=AT, idempotency_key="p"
    )
    return loyalty, receipt.explanation


def test_an_upgrade_the_budget_does_not_fund_does_not_price_the_event() -> None:
    # 60 credits + 60 campaign credits would reach gold and price this event at gold
    # (x2); the budget funds 30 of the 60, so the member stays below 100 and earns at
    # the tier they have
    loyalty, explanation = _buy(budget=30)
    assert loyalty.tier("a", at=AT).effective == "member"
    assert loyalty.balance("a").available == 60
    assert loyalty.balance("a", point_type="tier").available == 90
    assert "budget of 30 has 30 left -> cut from 60 to 30" in explanation
    assert "upgrade to gold" not in explanation


def test_an_upgrade_the_budget_funds_prices_the_event() -> None:
    loyalty, explanation = _buy(budget=1000)
    assert loyalty.tier("a", at=AT).effective == "gold"
    assert loyalty.balance("a").available == 120
    assert loyalty.balance("a", point_type="tier").available == 120
    assert "the upgrade to gold applies to this event" in explanation
    assert loyalty.campaign_budget("double-credits").spent == 60


def test_a_budget_spent_since_it_was_read_is_a_lost_race() -> None:
    storage = MemoryStorage()
    with storage.unit_of_work() as uow:
        assert uow.counters.take("budget:x", 45, limit=50) == 45
        # funded on a read of 40 spent: 9 fitted then, 5 fit now
        with pytest.raises(ConcurrencyConflict, match="budget:x"):
            take_budget(uow, BudgetConsumption(counter="budget:x", points=9, limit=50))
        take_budget(uow, BudgetConsumption(counter="budget:x", points=5, limit=50))
        assert uow.counters.value("budget:x") == 50
