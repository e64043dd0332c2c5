"""A replay grants what a plain reference pass grants: every event evaluated with its
trace, under the version in force, its effects applied to the member's state as the
service applies them (every metric kept, budgets always read). The replay's shortcuts
(the engine's fast path, no metric history without a tier ladder, no budgets read
without campaigns) change nothing, for any programme the testing strategies build,
programme versions and referred members included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Customer, Money
from loyaltykit.domain.activity import Purchase
from loyaltykit.domain.campaigns import Budget
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder, TierStatus
from loyaltykit.domain.windows import Window
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
from loyaltykit.policy.program import Program, ProgramVersion, ProgramVersions
from loyaltykit.policy.replay import HistoricEvent, Outcome, replay_one
from loyaltykit.testing.strategies import custom_events, profiles, programs, purchases

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
ENGINE = PolicyEngine()


def reference(
    members: list[Customer], history: list[HistoricEvent], program: Program | ProgramVersions
) -> Outcome:
    """The outcome of ``history``, each event evaluated with its trace and applied."""
    counters: dict[str, dict[str, int]] = {}
    purchases_made: dict[str, int] = {}
    metrics: dict[str, MetricHistory] = {}
    statuses: dict[str, TierStatus] = {}
    earned: dict[tuple[str, str], int] = {}
    spent: dict[str, int] = {}
    known = {member.id: member for member in members}
    for item in history:
        rules = program.at(item.at) if isinstance(program, ProgramVersions) else program
        customer = known[item.customer_id]
        status = statuses.get(item.customer_id)
        effective = None
        if rules.tiers is not None:
            status = status or rules.tiers.start(customer.enrolled_at)
            statuses[item.customer_id] = status
            effective = status.effective(item.at, rules.tiers)
        state = CustomerState(
            customer=customer,
            tier=effective,
            counters=dict(counters.get(item.customer_id, {})),
            purchases=purchases_made.get(item.customer_id, 0),
            tier_status=status,
            metrics=metrics.get(item.customer_id, MetricHistory()),
            referrer_counters=dict(counters.get(customer.referred_by or "", {})),
        )
        counter_names = [Budget.counter(c.id) for c in rules.campaigns if c.budget is not None]
        budgets = BudgetState(spent={name: spent.get(name, 0) for name in counter_names})
        decision = ENGINE.evaluate(rules, state, item.event, item.at, budgets=budgets)
        assert decision.trace or not rules.rules_for(item.event.type)
        day = item.at.astimezone(rules.zone).date()
        for effect in decision.effects:
            if isinstance(effect, Earn):
                key = (effect.customer_id, effect.point_type)
                earned[key] = earned.get(key, 0) + effect.points
            elif isinstance(effect, CounterIncrement):
                owner = counters.setdefault(effect.customer_id or item.customer_id, {})
                owner[effect.key] = owner.get(effect.key, 0) + effect.amount
            elif isinstance(effect, BudgetConsumption):
                spent[effect.counter] = spent.get(effect.counter, 0) + effect.points
            elif isinstance(effect, MetricSample):
                history_of = metrics.get(effect.customer_id, MetricHistory())
                metrics[effect.customer_id] = history_of.add(effect.metric, day, effect.value)
            elif isinstance(effect, TierUpdate):
                statuses[item.customer_id] = effect.status
        if isinstance(item.event, Purchase):
            purchases_made[item.customer_id] = purchases_made.get(item.customer_id, 0) + 1
    return Outcome(earned=earned, tiers={c: s.tier for c, s in statuses.items()})


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Customer], list[HistoricEvent]]:
    """Three members (the third referred by the first), and their events in time order."""
    members = [
        Customer(id="ann", enrolled_at=START, profile=draw(profiles())),
        Customer(id="ben", enrolled_at=START, profile=draw(profiles())),
        Customer(id="cat", enrolled_at=START, profile=draw(profiles()), referred_by="ann"),
    ]
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["ann", "ben", "cat"]),
                purchases() | custom_events(),
                st.integers(0, 60 * 24 * 40),  # minutes after the event before
            ),
            max_size=12,
        )
    )
    at = START
    history: list[HistoricEvent] = []
    for customer_id, event, minutes in steps:
        at += timedelta(minutes=minutes)
        history.append(HistoricEvent(customer_id=customer_id, event=event, at=at))
    return members, history


@settings(max_examples=60, deadline=None)
@given(
    program=programs(),
    later=st.none() | programs(),
    switch=st.integers(0, 60),
    drawn=histories(),
)
def test_a_replay_grants_what_each_traced_decision_applied_grants(
    program: Program,
    later: Program | None,
    switch: int,
    drawn: tuple[list[Customer], list[HistoricEvent]],
) -> None:
    members, history = drawn
    rules: Program | ProgramVersions = program
    if later is not None:  # a new version from some day on
        rules = ProgramVersions(
            versions=[
                ProgramVersion(valid_from=START - timedelta(days=1), program=program),
                ProgramVersion(valid_from=START + timedelta(days=switch), program=later),
            ]
        )
    assert replay_one([*members, *history], rules) == reference(members, history, rules)


def test_a_replay_rates_members_on_the_history_it_keeps() -> None:
    ladder = TierLadder(
        tiers=(
            Tier(code="base", rank=0),
            Tier(
                code="gold",
                rank=1,
                requirements=(
                    Requirement(metric="purchases", at_least=3, window=Window.all_time()),
                ),
            ),
        )
    )
    program = Program(tiers=ladder)
    members = [Customer(id="ann", enrolled_at=START), Customer(id="ben", enrolled_at=START)]
    history = [
        HistoricEvent(
            customer_id="ann" if n % 3 else "ben",
            event=Purchase(amount=Money.of(10, "CNY")),
            at=START + timedelta(days=n),
        )
        for n in range(7)
    ]
    found = replay_one([*members, *history], program)
    assert found == reference(members, history, program)
    assert found.tiers == {"ann": "gold", "ben": "gold"}
