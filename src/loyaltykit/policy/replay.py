"""What-if: re-run an event history under another program and compare.

:func:`replay` evaluates every event with the policy engine alone, in memory, keeping
the per-customer state the engine needs (cap counters, purchase counts) exactly as
the service does, once under the current program and once under the proposed one.
The report says, per customer, how many points each would have granted::

    report = replay(history, current=program, proposed=new_program)
    for row in report.changed():
        print(row.customer_id, row.current, row.proposed, row.delta)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.campaigns import Budget
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.tiers import TierStatus
from loyaltykit.errors import UnknownCustomer
from loyaltykit.policy.engine import (
    BudgetConsumption,
    CounterIncrement,
    CustomerState,
    Earn,
    MetricSample,
    PolicyEngine,
    TierUpdate,
)
from loyaltykit.policy.funding import BudgetState
from loyaltykit.policy.program import Program, ProgramVersions
from loyaltykit.values import CustomerId, aware

__all__ = ["HistoricEvent", "ReplayReport", "ReplayRow", "TierRow", "replay"]


@attrs.frozen(kw_only=True)
class HistoricEvent:
    """An event of the history: who, what, when."""

    customer_id: CustomerId
    event: Purchase | CustomEvent
    at: datetime = attrs.field(validator=lambda _i, _a, value: aware("at", value))


@attrs.frozen(kw_only=True)
class ReplayRow:
    """Points one customer earned under each program, by point type."""

    customer_id: CustomerId
    point_type: str
    current: int
    proposed: int

    @property
    def delta(self) -> int:
        """``proposed - current``."""
        return self.proposed - self.current


@attrs.frozen(kw_only=True)
class TierRow:
    """The tier one customer would hold at the end of the history under each program."""

    customer_id: CustomerId
    current: str | None
    proposed: str | None


@attrs.frozen(kw_only=True)
class ReplayReport:
    """One row per customer and point type, and one tier row per customer."""

    rows: tuple[ReplayRow, ...]
    tiers: tuple[TierRow, ...] = ()

    def tier_changes(self) -> tuple[TierRow, ...]:
        """The customers who would end in another tier under the proposed program."""
        return tuple(row for row in self.tiers if row.current != row.proposed)

    def changed(self) -> tuple[ReplayRow, ...]:
        """The rows where the proposed program grants a different number of points."""
        return tuple(row for row in self.rows if row.delta)

    def total(self, point_type: str = "points") -> tuple[int, int]:
        """``(current, proposed)`` points of a type over every customer (liability)."""
        rows = [row for row in self.rows if row.point_type == point_type]
        return sum(row.current for row in rows), sum(row.proposed for row in rows)


def _run(
    program: Program | ProgramVersions,
    customers: dict[CustomerId, Customer],
    history: list[HistoricEvent],
) -> tuple[dict[tuple[CustomerId, str], int], dict[CustomerId, str]]:
    versions = program if isinstance(program, ProgramVersions) else None
    engine = PolicyEngine()
    counters: dict[CustomerId, dict[str, int]] = {}
    purchases: dict[CustomerId, int] = {}
    metrics: dict[CustomerId, MetricHistory] = {}
    statuses: dict[CustomerId, TierStatus] = {}
    earned: dict[tuple[CustomerId, str], int] = {}
    spent: dict[str, int] = {}  # campaign budgets, shared by every customer
    for item in history:
        rules = versions.at(item.at) if versions is not None else program
        assert isinstance(rules, Program)
        customer = customers[item.customer_id]
        status = statuses.get(item.customer_id)
        effective = None
        if rules.tiers is not None:
            status = status or rules.tiers.start(customer.enrolled_at)
            statuses[item.customer_id] = status
            effective = status.effective(item.at, rules.tiers)
        state = CustomerState(
            customer=customer,
            tier=effective,
            counters=counters.get(item.customer_id, {}),
            purchases=purchases.get(item.customer_id, 0),
            tier_status=status,
            metrics=metrics.get(item.customer_id, MetricHistory()),
            referrer_counters=counters.get(customer.referred_by or "", {}),
        )
        # the budgets are funded as the service funds them (one counter per campaign)
        budgets = BudgetState(
            spent={
                counter: spent.get(counter, 0)
                for counter in (
                    Budget.counter(c.id) for c in rules.campaigns if c.budget is not None
                )
            }
        )
        decision = engine.evaluate(rules, state, item.event, item.at, budgets=budgets)
        day = item.at.astimezone(rules.zone).date()
        for effect in decision.effects:
            if isinstance(effect, Earn):
                key = (effect.customer_id, effect.point_type)
                earned[key] = earned.get(key, 0) + effect.points
            elif isinstance(effect, CounterIncrement):
                owner_counters = counters.setdefault(effect.customer_id or item.customer_id, {})
                owner_counters[effect.key] = owner_counters.get(effect.key, 0) + effect.amount
            elif isinstance(effect, BudgetConsumption):
                spent[effect.counter] = spent.get(effect.counter, 0) + effect.points
            elif isinstance(effect, MetricSample):
                owner = metrics.get(effect.customer_id, MetricHistory())
                metrics[effect.customer_id] = owner.add(effect.metric, day, effect.value)
            elif isinstance(effect, TierUpdate):
                statuses[item.customer_id] = effect.status
        if isinstance(item.event, Purchase):
            purchases[item.customer_id] = purchases.get(item.customer_id, 0) + 1
    return earned, {customer_id: status.tier for customer_id, status in statuses.items()}


def replay(
    history: Iterable[HistoricEvent],
    *,
    customers: Iterable[Customer],
    current: Program | ProgramVersions,
    proposed: Program | ProgramVersions,
) -> ReplayReport:
    """Points every customer would have earned from ``history`` under each program."""
    known = {customer.id: customer for customer in customers}
    ordered = sorted(history, key=lambda item: item.at)
    for item in ordered:
        if item.customer_id not in known:
            raise UnknownCustomer(item.customer_id)
    before, tiers_before = _run(current, known, ordered)
    after, tiers_after = _run(proposed, known, ordered)
    keys = sorted(set(before) | set(after))
    members = sorted(set(tiers_before) | set(tiers_after))
    return ReplayReport(
        tiers=tuple(
            TierRow(customer_id=c, current=tiers_before.get(c), proposed=tiers_after.get(c))
            for c in members
        ),
        rows=tuple(
            ReplayRow(
                customer_id=customer_id,
                point_type=point_type,
                current=before.get((customer_id, point_type), 0),
                proposed=after.get((customer_id, point_type), 0),
            )
            for customer_id, point_type in keys
        ),
    )
