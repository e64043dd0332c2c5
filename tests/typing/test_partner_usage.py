"""Coalition partners as the docs show them, type-checked by ``mypy --strict
tests/typing`` (and run by pytest, so it cannot go stale)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from loyaltykit import (
    GoalEvaluation,
    GoalMetric,
    GoalProgress,
    Loyalty,
    Money,
    Partner,
    PartnerGoal,
    PartnerSettlement,
    Program,
    Receipt,
    Reward,
    RewardCatalog,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
APR = datetime(2026, 4, 1, tzinfo=UTC)


def test_a_partner_awards_supplies_settles_and_is_evaluated() -> None:
    goal = PartnerGoal(id="q1", metric=GoalMetric.POINTS_ISSUED, target=100, start=JAN, end=APR)
    cinema = Partner(
        id="cinema", currency="CNY", point_price=Money.of("0.02", "CNY"), goals=(goal,)
    )
    ticket = Reward(
        id="ticket", kind="ticket", price=50, partner="cinema", cost=Money.of("30", "CNY")
    )
    loyalty = Loyalty(Program(partners=(cinema,), catalog=RewardCatalog.of(ticket)))
    loyalty.enroll("c-1", at=JAN, idempotency_key="enroll")
    awarded: Receipt = loyalty.award_partner_points(
        "cinema", "c-1", 120, at=JAN + timedelta(days=1), idempotency_key="film"
    )
    loyalty.redeem("c-1", "ticket", at=JAN + timedelta(days=2), idempotency_key="t")
    settlement: PartnerSettlement = loyalty.partner_settlement("cinema", start=JAN, end=APR)
    net: Money = settlement.net
    progress: tuple[GoalProgress, ...] = loyalty.partner_progress(
        "cinema", at=JAN + timedelta(days=3)
    )
    share: Decimal = progress[0].share
    verdict: GoalEvaluation = loyalty.partner_evaluation("cinema", "q1", at=APR)
    met: bool = verdict.met
    assert awarded.balance.available == 120 and net == Money.of("-27.60", "CNY")
    assert share == Decimal("1.2000") and met
