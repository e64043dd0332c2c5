"""Code written as the docs show it, type-checked by ``mypy --strict tests/typing``.

``make typecheck`` (which CI runs) checks this module strictly, so a documented
constructor that mypy rejects fails CI; pytest runs it too, so it cannot go stale.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
from dateutil.relativedelta import relativedelta

from loyaltykit import (
    Budget,
    BudgetState,
    CareConfig,
    CareTrigger,
    ComplaintPolicy,
    CustomerState,
    Loyalty,
    Money,
    PolicyEngine,
    Program,
    Purchase,
    QcRule,
    Receipt,
    Requirement,
    Severity,
    SlaPolicy,
    Target,
    Tier,
    TierLadder,
    Window,
    errors,
)
from loyaltykit.aio import AsyncLoyalty
from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.formats.json import from_json_dict, json_schema, to_json_dict
from loyaltykit.policy.rules import BaseRate, Cap, Multiplier

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


def spent(amount: str) -> Requirement:
    return Requirement(metric="spend", at_least=amount, window=Window.rolling(12))


def program() -> Program:
    """The programme of docs/concepts/programs.md and docs/concepts/tiers.md."""
    return Program(
        rules=(
            BaseRate(id="base", per=Money.of(10, "CNY")),
            Multiplier(id="gold", factor=Decimal("1.5"), condition="customer.tier == 'gold'"),
        ),
        caps=(Cap(id="daily", limit=500, period="day"),),
        tiers=TierLadder(
            tiers=(
                Tier(code="bronze", rank=0),
                Tier(code="silver", rank=1, requirements=(spent("10000"),)),
                Tier(
                    code="gold",
                    rank=2,
                    requirements=[spent("20000")],
                    perks=frozenset({"lounge", "priority"}),
                ),
            ),
            grace=relativedelta(months=1),
        ),
        care=CareConfig(
            triggers=(CareTrigger(kind="welcome", points=50, tiers=frozenset({"gold"})),)
        ),
        complaints=ComplaintPolicy(
            calendars={"hotline": BusinessCalendar.twenty_four_seven()},
            sla=(
                SlaPolicy(
                    id="standard",
                    acknowledge=Target(within=timedelta(hours=2), calendar="hotline"),
                    first_response=Target(within=timedelta(hours=18)),
                    resolution=Target(within=timedelta(hours=45)),
                ),
            ),
            qc=QcRule(categories=frozenset({"billing"}), severities={Severity.CRITICAL}),
        ),
    )


def run_commands() -> tuple[Receipt, int]:
    loyalty = Loyalty(program())
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll-c-1")
    receipt = loyalty.record_purchase(
        "c-1", Purchase(amount=Money.of("129.90", "CNY")), at=AT, idempotency_key="order-1"
    )
    available: int = loyalty.balance("c-1").available
    refused: list[tuple[str, int]] = []
    try:
        loyalty.redeem_points("c-1", available + 1, at=AT, idempotency_key="redeem-1")
    except errors.InsufficientPoints as error:
        status: int = error.http_status
        refused.append((error.code, status))
    try:
        loyalty.enroll("c-1", at=AT, idempotency_key="enroll-again")
    except errors.LoyaltyError as error:
        refused.append((str(error.problem()["type"]), error.http_status))
    assert refused == [("insufficient_points", 409), ("customer_already_exists", 409)]
    document = to_json_dict(receipt)
    again: Receipt = from_json_dict(Receipt, document)
    assert again == receipt
    assert json_schema(Receipt)["$ref"] == "#/$defs/Receipt"
    return receipt, available


def funded_points() -> int:
    """docs/concepts/campaigns.md: the engine funds campaign awards from ``budgets``."""
    loyalty = Loyalty(program())
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll-c-1")
    spent = BudgetState(spent={Budget.counter("member-day"): 20})
    decision = PolicyEngine().evaluate(
        program(),
        CustomerState(customer=loyalty.customer("c-1")),
        Purchase(amount=Money.of(120, "CNY")),
        AT,
        budgets=spent,
    )
    points: int = decision.points()
    return points


async def run_async() -> int:
    async with AsyncLoyalty(program(), max_threads=4) as loyalty:
        await loyalty.enroll("c-1", at=AT, idempotency_key="enroll-c-1")
        receipt: Receipt = await loyalty.earn("c-1", 10, at=AT, idempotency_key="order-1")
        return receipt.balance.available


def test_the_documented_usage_runs() -> None:
    receipt, available = run_commands()
    assert receipt.balance.available == available == 12
    assert anyio.run(run_async) == 10
    assert funded_points() == 12
