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
from loyaltykit.domain.customer import Customer
from loyaltykit.errors import UnknownCustomer
from loyaltykit.policy.engine import CounterIncrement, CustomerState, Earn, PolicyEngine
from loyaltykit.policy.program import Program, ProgramVersions
from loyaltykit.values import CustomerId, aware

__all__ = ["HistoricEvent", "ReplayReport", "ReplayRow", "replay"]


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
class ReplayReport:
    """One row per customer and point type, sorted by customer id."""

    rows: tuple[ReplayRow, ...]

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
) -> dict[tuple[CustomerId, str], int]:
    versions = program if isinstance(program, ProgramVersions) else None
    engine = PolicyEngine()
    counters: dict[CustomerId, dict[str, int]] = {}
    purchases: dict[CustomerId, int] = {}
    earned: dict[tuple[CustomerId, str], int] = {}
    for item in history:
        rules = versions.at(item.at) if versions is not None else program
        assert isinstance(rules, Program)
        state = CustomerState(
            customer=customers[item.customer_id],
            counters=counters.get(item.customer_id, {}),
            purchases=purchases.get(item.customer_id, 0),
        )
        decision = engine.evaluate(rules, state, item.event, item.at)
        mine = counters.setdefault(item.customer_id, {})
        for effect in decision.effects:
            if isinstance(effect, Earn):
                key = (effect.customer_id, effect.point_type)
                earned[key] = earned.get(key, 0) + effect.points
            elif isinstance(effect, CounterIncrement):
                mine[effect.key] = mine.get(effect.key, 0) + effect.amount
        if isinstance(item.event, Purchase):
            purchases[item.customer_id] = purchases.get(item.customer_id, 0) + 1
    return earned


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
    before = _run(current, known, ordered)
    after = _run(proposed, known, ordered)
    keys = sorted(set(before) | set(after))
    return ReplayReport(
        rows=tuple(
            ReplayRow(
                customer_id=customer_id,
                point_type=point_type,
                current=before.get((customer_id, point_type), 0),
                proposed=after.get((customer_id, point_type), 0),
            )
            for customer_id, point_type in keys
        )
    )
