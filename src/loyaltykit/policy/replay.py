"""What-if: re-run an event history under another program and compare.

:func:`replay` evaluates every event with the policy engine alone, in memory, keeping
the per-customer state the engine needs (cap counters, purchase counts) exactly as
the service does, once under the current program and once under the proposed one.
The report says, per customer, how many points each would have granted::

    report = replay(history, current=program, proposed=new_program)
    for row in report.changed():
        print(row.customer_id, row.current, row.proposed, row.delta)

:func:`replay_stream` does the same in one pass over a history already in time order
(members first, then events), for histories too large to hold: each event is evaluated
under both programmes as it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.campaigns import Budget
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.tiers import TierStatus
from loyaltykit.errors import InvalidArgument, UnknownCustomer
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
from loyaltykit.policy.trusted import trusted
from loyaltykit.values import CustomerId, aware

__all__ = [
    "HistoricEvent",
    "Outcome",
    "ReplayReport",
    "ReplayRow",
    "TierRow",
    "compare",
    "replay",
    "replay_one",
    "replay_stream",
]

_NO_METRICS = MetricHistory()  # immutable: one empty history serves every new member
_NO_COUNTERS: Mapping[str, int] = MappingProxyType({})  # nor counters yet, read only


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


# one per event and side: built without its __init__ (nothing to validate)
_state: Callable[..., CustomerState] = trusted(CustomerState)


class _Side:
    """One programme's pass over the history: the per-customer state the engine needs,
    kept exactly as the service keeps it, and what it granted."""

    def __init__(self, program: Program | ProgramVersions) -> None:
        self.program = program
        self.versions = program if isinstance(program, ProgramVersions) else None
        programs = (
            [program] if isinstance(program, Program) else [v.program for v in program.versions]
        )
        # the metric history is read only to rate members (a ladder's requirements):
        # under programmes without tiers it is not kept
        self.keeps_metrics = any(rules.tiers is not None for rules in programs)
        self.budget_counters = {
            id(rules): tuple(Budget.counter(c.id) for c in rules.campaigns if c.budget is not None)
            for rules in programs
        }
        self.engine = PolicyEngine()
        self.counters: dict[CustomerId, dict[str, int]] = {}
        self.purchases: dict[CustomerId, int] = {}
        self.metrics: dict[CustomerId, MetricHistory] = {}
        self.statuses: dict[CustomerId, TierStatus] = {}
        self.earned: dict[tuple[CustomerId, str], int] = {}
        self.spent: dict[str, int] = {}  # campaign budgets, shared by every customer

    def outcome(self) -> Outcome:
        tiers = {customer_id: status.tier for customer_id, status in self.statuses.items()}
        return Outcome(earned=dict(self.earned), tiers=tiers)

    def step(self, item: HistoricEvent, customer: Customer) -> None:
        """Evaluate one event and apply its effects to this side's state."""
        rules = self.versions.at(item.at) if self.versions is not None else self.program
        assert isinstance(rules, Program)
        counters, earned, metrics = self.counters, self.earned, self.metrics
        customer_id = item.customer_id
        status = self.statuses.get(customer_id)
        effective = None
        if rules.tiers is not None:
            status = status or rules.tiers.start(customer.enrolled_at)
            self.statuses[customer_id] = status
            effective = status.effective(item.at, rules.tiers)
        referrer = customer.referred_by
        state = _state(
            customer,
            effective,
            counters.get(customer_id, _NO_COUNTERS),
            self.purchases.get(customer_id, 0),
            status,
            metrics.get(customer_id, _NO_METRICS),
            _NO_COUNTERS if referrer is None else counters.get(referrer, _NO_COUNTERS),
        )
        budgets = None  # read by the engine only for the campaigns' awards
        if rules.campaigns:
            # the budgets are funded as the service funds them (one counter per campaign)
            spent = self.spent
            budgets = BudgetState(
                spent={
                    counter: spent.get(counter, 0) for counter in self.budget_counters[id(rules)]
                }
            )
        # the report counts points: the engine's fast path, no trace built
        decision = self.engine.evaluate(
            rules, state, item.event, item.at, budgets=budgets, explain=False
        )
        day = None
        for effect in decision.effects:
            if isinstance(effect, CounterIncrement):
                owner_counters = counters.get(effect.customer_id or customer_id)
                if owner_counters is None:
                    owner_counters = counters[effect.customer_id or customer_id] = {}
                owner_counters[effect.key] = owner_counters.get(effect.key, 0) + effect.amount
            elif isinstance(effect, Earn):
                key = (effect.customer_id, effect.point_type)
                earned[key] = earned.get(key, 0) + effect.points
            elif isinstance(effect, MetricSample):
                if self.keeps_metrics:
                    if day is None:
                        day = item.at.astimezone(rules.zone).date()
                    owner = metrics.get(effect.customer_id, _NO_METRICS)
                    metrics[effect.customer_id] = owner.add(effect.metric, day, effect.value)
            elif isinstance(effect, BudgetConsumption):
                self.spent[effect.counter] = self.spent.get(effect.counter, 0) + effect.points
            elif isinstance(effect, TierUpdate):
                self.statuses[customer_id] = effect.status
        if isinstance(item.event, Purchase):
            self.purchases[customer_id] = self.purchases.get(customer_id, 0) + 1


def replay(
    history: Iterable[HistoricEvent],
    *,
    customers: Iterable[Customer],
    current: Program | ProgramVersions,
    proposed: Program | ProgramVersions,
) -> ReplayReport:
    """Points every customer would have earned from ``history`` under each program.

    The history may come in any order (it is sorted by instant first, so it is held in
    memory); a large one already in time order streams through :func:`replay_stream`."""
    known = {customer.id: customer for customer in customers}
    ordered = sorted(history, key=lambda item: item.at)
    for item in ordered:
        if item.customer_id not in known:
            raise UnknownCustomer(item.customer_id)
    return replay_stream([*known.values(), *ordered], current=current, proposed=proposed)


def replay_stream(
    history: Iterable[Customer | HistoricEvent],
    *,
    current: Program | ProgramVersions,
    proposed: Program | ProgramVersions,
    progress: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> ReplayReport:
    """:func:`replay` in one streaming pass: each event is evaluated under both programmes
    as it is read, and only the per-customer state the engine needs is kept, so a history
    of millions of events never has to be in memory.

    ``history`` holds the members (:class:`~loyaltykit.Customer`, each before its first
    event) and the events, in time order: an event dated before the one read before it
    is refused with :class:`~loyaltykit.errors.InvalidArgument` (sort the history, or
    use :func:`replay`). ``progress`` is called with the number of events done every
    ``every`` events and once at the end (a progress bar's ``update``).

    >>> from datetime import datetime, timezone
    >>> from loyaltykit import Money, Program
    >>> from loyaltykit.policy.rules import BaseRate
    >>> at = datetime(2026, 2, 1, tzinfo=timezone.utc)
    >>> ann = Customer(id="ann", enrolled_at=at)
    >>> buy = HistoricEvent(customer_id="ann", event=Purchase(amount=Money.of(100, "CNY")), at=at)
    >>> single = Program(rules=(BaseRate(id="base", per=Money.of(10, "CNY")),))
    >>> double = Program(rules=(BaseRate(id="base", per=Money.of(10, "CNY"), rate=2),))
    >>> replay_stream([ann, buy], current=single, proposed=double).total()
    (10, 20)
    """
    before, after = _Side(current), _Side(proposed)
    _stream(history, (before, after), progress, every)
    return compare(before.outcome(), after.outcome())


@attrs.frozen(kw_only=True)
class Outcome:
    """What one programme granted over a history: points per customer and point type,
    and the tier each member ends in (members of programmes without tiers have none)."""

    earned: Mapping[tuple[CustomerId, str], int]
    tiers: Mapping[CustomerId, str]


def replay_one(
    history: Iterable[Customer | HistoricEvent],
    program: Program | ProgramVersions,
    *,
    progress: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> Outcome:
    """One programme's side of :func:`replay_stream`, alone: the two sides of a what-if
    can run in two processes, each reading the history (``loyaltykit replay --jobs 2``),
    and :func:`compare` makes the report."""
    side = _Side(program)
    _stream(history, (side,), progress, every)
    return side.outcome()


def _stream(
    history: Iterable[Customer | HistoricEvent],
    sides: tuple[_Side, ...],
    progress: Callable[[int], None] | None,
    every: int,
) -> None:
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise InvalidArgument(f"every: {every!r} is not a whole number of 1 or more")
    known: dict[CustomerId, Customer] = {}
    done = 0
    latest: datetime | None = None
    for item in history:
        if isinstance(item, Customer):
            known[item.id] = item
            continue
        customer = known.get(item.customer_id)
        if customer is None:
            raise UnknownCustomer(item.customer_id)
        if latest is not None and item.at < latest:
            raise InvalidArgument(
                f"history: the event of {item.customer_id!r} at {item.at.isoformat()} comes "
                f"after one at {latest.isoformat()}; a streamed history must be in time "
                "order (sort it, or use replay())"
            )
        latest = item.at
        for side in sides:
            side.step(item, customer)
        done += 1
        if progress is not None and done % every == 0:
            progress(done)
    if progress is not None:
        progress(done)


def compare(current: Outcome, proposed: Outcome) -> ReplayReport:
    """The report of two programmes' outcomes over the same history."""
    keys = sorted(set(current.earned) | set(proposed.earned))
    members = sorted(set(current.tiers) | set(proposed.tiers))
    return ReplayReport(
        tiers=tuple(
            TierRow(customer_id=c, current=current.tiers.get(c), proposed=proposed.tiers.get(c))
            for c in members
        ),
        rows=tuple(
            ReplayRow(
                customer_id=customer_id,
                point_type=point_type,
                current=current.earned.get((customer_id, point_type), 0),
                proposed=proposed.earned.get((customer_id, point_type), 0),
            )
            for customer_id, point_type in keys
        ),
    )
