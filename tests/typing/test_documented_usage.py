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
    CashOffset,
    ComplaintPolicy,
    Customer,
    CustomerState,
    ExchangeRates,
    Item,
    Loyalty,
    Money,
    MoneyOff,
    Order,
    PointsSale,
    PolicyEngine,
    PricedBasket,
    Program,
    Purchase,
    QcRule,
    Receipt,
    Requirement,
    Reward,
    RewardCatalog,
    Scope,
    Severity,
    SlaPolicy,
    Target,
    Tier,
    TierLadder,
    VoucherTerms,
    Window,
    errors,
)
from loyaltykit.aio import AsyncLoyalty
from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.formats.json import from_json_dict, json_schema, to_json_dict
from loyaltykit.policy.engine import Decision
from loyaltykit.policy.replay import HistoricEvent, ReplayReport, replay_stream
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


def what_if() -> tuple[Decision, ReplayReport]:
    """The engine's fast path and a streamed replay, as docs/concepts/programs.md shows."""
    member = Customer(id="c-1", enrolled_at=AT)
    purchase = Purchase(amount=Money.of(300, "CNY"))
    state = CustomerState(customer=member)
    fast: Decision = PolicyEngine().evaluate(program(), state, purchase, AT, explain=False)
    events: list[Customer | HistoricEvent] = [
        member,
        HistoricEvent(customer_id="c-1", event=purchase, at=AT),
    ]
    seen: list[int] = []
    report = replay_stream(events, current=program(), proposed=program(), progress=seen.append)
    return fast, report


def test_the_documented_usage_runs() -> None:
    fast, report = what_if()
    assert fast.trace == () and report.total()[0] == report.total()[1] > 0
    receipt, available = run_commands()
    assert receipt.balance.available == available == 12
    assert anyio.run(run_async) == 10
    assert funded_points() == 12


def run_checkout() -> tuple[Order, Receipt, Receipt]:
    """Baskets, checkout, points bought and rates, as docs/concepts/checkout.md shows."""
    cny = Money.of("1", "CNY")
    shoes = Scope(categories={"shoes"}, exclude=Scope(brands={"acme"}))
    catalog = RewardCatalog.of(
        Reward(
            id="shoes-20",
            kind="coupon",
            price=100,
            voucher=VoucherTerms(money_off=MoneyOff(amount=cny * 20, scope=shoes)),
        ),
        Reward(id="cash", kind="cash_offset", offset=CashOffset(rate=Money.of("0.01", "CNY"))),
    )
    rules = (BaseRate(id="base", per=cny), Multiplier(id="x2", factor="2", scope=shoes))
    rates = ExchangeRates.of(("USD", "CNY", AT, "7.1"))
    sale = PointsSale(rate=Money.of("0.05", "CNY"))
    loyalty = Loyalty(Program(rules=rules, catalog=catalog, points_sale=sale), rates=rates)
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll-c-1")
    bought: Receipt = loyalty.buy_points("c-1", 1000, at=AT, idempotency_key="buy-1")
    code: str = loyalty.redeem("c-1", "shoes-20", at=AT, idempotency_key="coupon").vouchers[0]
    basket = Purchase(
        amount=cny * 100, items=[Item(sku="run-1", category="shoes", unit_price=cny * 100)]
    )
    order: Order = loyalty.checkout(
        "c-1",
        basket,
        vouchers=[code],
        points=100,
        offset_reward="cash",
        at=AT,
        idempotency_key="order-1",
    )
    priced: PricedBasket = order.basket
    assert priced.to_pay == cny * 79
    refund: Receipt = loyalty.refund_order("c-1", "order-1", at=AT, idempotency_key="back-1")
    return order, bought, refund


def test_the_documented_checkout_runs() -> None:
    order, bought, refund = run_checkout()
    assert bought.revenue == Money.of("50.00", "CNY")
    assert order.receipt.entries[0].amount == -100
    assert refund.balance.available == 900


def run_sharded_jobs() -> int:
    """Batch work split between workers, and a relay built from a broker URL
    (docs/concepts/scaling.md)."""
    from loyaltykit import Shard
    from loyaltykit.outcomes import DueReport
    from loyaltykit.relays import BrokerRelay, relay_for

    loyalty = Loyalty(program())
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll-c-1")
    shards: list[Shard] = [Shard(k, 2) for k in range(2)] + [Shard.parse("0/1")]
    reports: list[DueReport] = [loyalty.run_due(at=AT, shard=shard) for shard in shards]
    relay: BrokerRelay = relay_for("nats://127.0.0.1:4222", stream="S", subject="s.events")
    assert isinstance(relay, BrokerRelay)
    return sum(report.expired.accounts for report in reports)


def test_sharded_jobs_type_check_and_run() -> None:
    assert run_sharded_jobs() == 0
