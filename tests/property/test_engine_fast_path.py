"""The engine's fast path (``explain=False``: no trace built) decides what the traced path
decides, for any programme the testing strategies build, any purchase or custom event, and
members with counters, purchases and a tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Customer
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.campaigns import Budget
from loyaltykit.policy.engine import CustomerState, PolicyEngine
from loyaltykit.policy.funding import BudgetState
from loyaltykit.policy.program import Program
from loyaltykit.testing.strategies import custom_events, profiles, programs, purchases

JOINED = datetime(2026, 1, 5, 9, tzinfo=UTC)
ENGINE = PolicyEngine()


@settings(max_examples=80, deadline=None)
@given(
    program=programs(),
    event=purchases() | custom_events(),
    profile=profiles(),
    purchases_before=st.integers(0, 30),
    counters=st.dictionaries(st.sampled_from(["cap:daily:2026-03-02", "x"]), st.integers(0, 50)),
    days=st.integers(0, 400),
    tier=st.none() | st.sampled_from(["silver", "gold", "platinum"]),
    funded=st.booleans(),
)
def test_the_fast_path_gives_the_traced_decision(
    program: Program,
    event: Purchase | CustomEvent,
    profile: object,
    purchases_before: int,
    counters: dict[str, int],
    days: int,
    tier: str | None,
    funded: bool,
) -> None:
    state = CustomerState(
        customer=Customer(id="c", enrolled_at=JOINED, profile=profile),  # type: ignore[arg-type]
        tier=tier,
        counters=counters,
        purchases=purchases_before,
    )
    at = JOINED + timedelta(days=days, hours=3)
    # with budgets, campaign awards are paid from them (as the service and replay do);
    # every budget is read, untouched: an unread one is the caller's bug (a LookupError)
    spent = {Budget.counter(c.id): 0 for c in program.campaigns if c.budget is not None}
    budgets = BudgetState(spent=spent) if funded else None
    traced = ENGINE.evaluate(program, state, event, at, budgets=budgets)
    fast = ENGINE.evaluate(program, state, event, at, budgets=budgets, explain=False)
    assert fast.effects == traced.effects
    assert fast.trace == ()
    assert traced.trace or not program.rules_for(event.type)
