from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from loyaltykit import Customer, Loyalty, Money
from loyaltykit.domain.activity import Purchase
from loyaltykit.errors import UnknownCustomer
from loyaltykit.formats.programs import Program
from loyaltykit.policy.replay import HistoricEvent, replay
from loyaltykit.policy.rules import BaseRate, Cap

T0 = datetime(2026, 2, 1, tzinfo=UTC)
CURRENT = Program(rules=(BaseRate(id="base", per=Money.of(10, "CNY")),))
PROPOSED = Program(
    rules=(BaseRate(id="base", per=Money.of(10, "CNY"), rate=2),),
    caps=(Cap(id="daily", limit=30, period="day"),),
)
CUSTOMERS = [Customer(id="ann", enrolled_at=T0), Customer(id="ben", enrolled_at=T0)]
HISTORY = [
    HistoricEvent(customer_id="ann", event=Purchase(amount=Money.of(100, "CNY")), at=T0),
    HistoricEvent(
        customer_id="ann", event=Purchase(amount=Money.of(100, "CNY")), at=T0 + timedelta(hours=1)
    ),
    HistoricEvent(customer_id="ben", event=Purchase(amount=Money.of(50, "CNY")), at=T0),
]


def test_replay_reports_the_difference_per_customer() -> None:
    report = replay(HISTORY, customers=CUSTOMERS, current=CURRENT, proposed=PROPOSED)
    rows = {(row.customer_id, row.point_type): (row.current, row.proposed) for row in report.rows}
    assert rows == {("ann", "points"): (20, 30), ("ben", "points"): (5, 10)}
    assert report.total() == (25, 40)
    assert [row.delta for row in report.changed()] == [10, 5]


def test_replay_agrees_with_the_facade() -> None:
    loyalty = Loyalty(PROPOSED)
    for customer in CUSTOMERS:
        loyalty.enroll(customer.id, at=T0, idempotency_key=f"e-{customer.id}")
    for n, item in enumerate(HISTORY):
        assert isinstance(item.event, Purchase)
        loyalty.record_purchase(item.customer_id, item.event, at=item.at, idempotency_key=f"k{n}")
    report = replay(HISTORY, customers=CUSTOMERS, current=CURRENT, proposed=PROPOSED)
    for row in report.rows:
        assert loyalty.balance(row.customer_id).available == row.proposed


def test_replay_needs_every_customer() -> None:
    with pytest.raises(UnknownCustomer):
        replay(HISTORY, customers=CUSTOMERS[:1], current=CURRENT, proposed=PROPOSED)


def test_replay_reports_tiers_under_each_program() -> None:
    from loyaltykit.domain.tiers import Requirement, Tier, TierLadder

    def ladder(threshold: str) -> TierLadder:
        return TierLadder(
            tiers=(
                Tier(code="member", rank=0),
                Tier(
                    code="gold",
                    rank=1,
                    requirements=(Requirement(metric="spend", at_least=threshold),),
                ),
            )
        )

    easy = Program(rules=CURRENT.rules, tiers=ladder("150"))
    hard = Program(rules=CURRENT.rules, tiers=ladder("1000"))
    report = replay(HISTORY, customers=CUSTOMERS, current=easy, proposed=hard)
    assert [(r.customer_id, r.current, r.proposed) for r in report.tiers] == [
        ("ann", "gold", "member"),
        ("ben", "member", "member"),
    ]
    assert [r.customer_id for r in report.tier_changes()] == ["ann"]


def test_replay_of_a_campaign_with_a_budget_and_a_member_limit_agrees_with_the_facade() -> None:
    from loyaltykit.domain.campaigns import Budget, MemberLimit, Multiply, Schedule
    from loyaltykit.policy.campaigns import Campaign

    double = Campaign(
        id="double",
        schedule=Schedule(start=T0),
        effects=(Multiply(factor="2"),),
        budget=Budget(points=25),
        member_limit=MemberLimit(times=1, period="day"),
    )
    with_campaign = Program(rules=CURRENT.rules, campaigns=(double,))
    report = replay(HISTORY, customers=CUSTOMERS, current=CURRENT, proposed=with_campaign)
    rows = {row.customer_id: (row.current, row.proposed) for row in report.rows}
    # ann: 10 + 10 extra, then the daily limit; ben: 5 + 5 extra; the budget of 25 holds
    assert rows == {"ann": (20, 30), "ben": (5, 10)}
    tight = Program(
        rules=CURRENT.rules, campaigns=(attrs.evolve(double, budget=Budget(points=12)),)
    )
    loyalty = Loyalty(tight)
    for customer in CUSTOMERS:
        loyalty.enroll(customer.id, at=T0, idempotency_key=f"e-{customer.id}")
    for n, item in enumerate(HISTORY):
        assert isinstance(item.event, Purchase)
        loyalty.record_purchase(item.customer_id, item.event, at=item.at, idempotency_key=f"k{n}")
    for row in replay(HISTORY, customers=CUSTOMERS, current=CURRENT, proposed=tight).rows:
        assert loyalty.balance(row.customer_id).available == row.proposed
    assert loyalty.campaign_budget("double").spent == 12


def test_a_streamed_replay_reports_what_replay_reports_and_its_progress() -> None:
    from loyaltykit.policy.replay import replay_stream

    seen: list[int] = []
    streamed = replay_stream(
        [*CUSTOMERS, *sorted(HISTORY, key=lambda item: item.at)],
        current=CURRENT,
        proposed=PROPOSED,
        progress=seen.append,
        every=2,
    )
    assert streamed == replay(HISTORY, customers=CUSTOMERS, current=CURRENT, proposed=PROPOSED)
    assert seen == [2, 3]


def test_a_streamed_replay_refuses_an_event_out_of_order_or_of_a_stranger() -> None:
    from loyaltykit.errors import InvalidArgument
    from loyaltykit.policy.replay import replay_stream

    late, early = HISTORY[1], HISTORY[0]
    with pytest.raises(InvalidArgument, match="time order"):
        replay_stream([*CUSTOMERS, late, early], current=CURRENT, proposed=PROPOSED)
    with pytest.raises(UnknownCustomer):
        replay_stream([CUSTOMERS[1], early], current=CURRENT, proposed=PROPOSED)
