"""The engine records its trace compactly and writes its lines when they are read: a trace
read late, after other events were evaluated, is the trace read at once; a decision
whose lines were not read yet is equal to, hashed and shown as the decision built with
them; ``explain()`` is the text of those lines, whichever is read first; pickling keeps
an unread trace. Programmes: the testing strategies' (with conditions and exclusive rules
added, which their rules have none of), and programmes with scoped rules and caps and a
referral, for purchases, custom events and members with counters, tiers and a referrer."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Customer, Program
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.campaigns import Budget
from loyaltykit.domain.customer import Profile
from loyaltykit.policy.engine import CustomerState, Decision, PolicyEngine
from loyaltykit.policy.funding import BudgetState
from loyaltykit.testing.strategies import custom_events, profiles, programs, purchases

JOINED = datetime(2026, 1, 5, 9, tzinfo=UTC)
ENGINE = PolicyEngine()
CONDITIONS = (
    None,
    "event.amount >= 100",
    "day_of_week(at) >= 6",
    "'gold' in customer.tags",
    "customer.purchases >= 2",
)
# what the strategies' programmes lack: rules and caps scoped to lines, a referral
SCOPED = Program.from_dict(
    {
        "rules": [
            {"id": "base", "kind": "base_rate", "per": "10", "scope": {"exclude": {"skus": ["x"]}}},
            {"id": "x2", "kind": "multiplier", "factor": "2", "scope": {"categories": ["shoes"]}},
            {"id": "socks", "kind": "per_unit", "rate": 3, "scope": {"categories": ["food"]}},
            {"id": "big", "kind": "spend_threshold", "threshold": "200", "amount": 50},
            {"id": "gold", "kind": "multiplier", "factor": "1.5", "exclusive": True},
            {"id": "late", "kind": "fixed", "amount": 5, "priority": 900},
        ],
        "caps": [
            {"id": "shoes", "limit": 40, "period": "day", "scope": {"categories": ["shoes"]}},
            {"id": "daily", "limit": 300, "period": "day"},
        ],
    }
)
REFERRAL = Program.from_dict(
    {
        "rules": [
            {"id": "base", "kind": "base_rate", "per": "10"},
            {
                "id": "friend",
                "kind": "referral",
                "amount": 30,
                "referrer_amount": 50,
                "referrer_cap": 2,
                "referrer_cap_period": "month",
            },
        ],
        "caps": [{"id": "per-order", "limit": 60, "period": "event"}],
    }
)


@st.composite
def traced_programs(draw: st.DrawFn) -> Program:
    """A programme of the strategies with some rules given a condition or made exclusive,
    or one of the programmes above."""
    program = draw(programs())
    rules = tuple(
        attrs.evolve(
            rule,
            condition=draw(st.sampled_from(CONDITIONS)),
            exclusive=draw(st.booleans()),
        )
        for rule in program.rules
    )
    return draw(st.sampled_from([attrs.evolve(program, rules=rules), SCOPED, REFERRAL]))


def _state(profile: Profile, purchases_before: int, tier: str | None, n: int) -> CustomerState:
    customer = Customer(
        id="c", enrolled_at=JOINED, profile=profile, referred_by=None if n % 2 else "friend"
    )
    return CustomerState(
        customer=customer,
        tier=tier,
        counters={"cap:daily:2026-03-02": 40},
        purchases=purchases_before + n,
        referrer_counters={},
    )


@settings(max_examples=80, deadline=None)
@given(
    program=traced_programs(),
    events=st.lists(purchases() | custom_events(), min_size=1, max_size=4),
    profile=profiles(),
    purchases_before=st.integers(0, 3),
    days=st.integers(0, 400),
    tier=st.none() | st.sampled_from(["silver", "gold", "platinum"]),
    funded=st.booleans(),
)
def test_a_trace_read_late_is_the_trace_read_at_once(
    program: Program,
    events: list[Purchase | CustomEvent],
    profile: Profile,
    purchases_before: int,
    days: int,
    tier: str | None,
    funded: bool,
) -> None:
    spent = {Budget.counter(c.id): 0 for c in program.campaigns if c.budget is not None}
    budgets = BudgetState(spent=spent) if funded else None
    at = JOINED + timedelta(days=days, hours=3)

    def decisions() -> list[Decision]:
        return [
            ENGINE.evaluate(
                program,
                _state(profile, purchases_before, tier, n),
                event,
                at + timedelta(hours=n),
                budgets=budgets,
            )
            for n, event in enumerate(events)
        ]

    at_once = []
    for decision in decisions():  # each read before the next event is evaluated
        at_once.append((decision.explain(), decision.trace))
    late = decisions()  # all evaluated, none read; then read last first, text or lines first
    for n, (decision, (text, lines)) in reversed(list(enumerate(zip(late, at_once, strict=True)))):
        if n % 2:
            assert decision.trace == lines
            assert decision.explain() == text
        else:
            assert decision.explain() == text
            assert decision.trace == lines
        assert text == "\n".join(f"{'+' if line.matched else '-'} {line.detail}" for line in lines)
    for decision, unread, (_, lines) in zip(late, decisions(), at_once, strict=True):
        eager = Decision(effects=decision.effects, trace=lines)
        kept = pickle.loads(pickle.dumps(unread))  # pickled before its trace is read
        assert unread == eager and eager == unread and (unread != eager) is False
        assert hash(unread) == hash(eager) == hash(decision)
        assert repr(unread) == repr(eager) == repr(decision)
        assert kept == eager and kept.trace == lines


@settings(max_examples=40, deadline=None)
@given(program=traced_programs(), event=purchases() | custom_events(), profile=profiles())
def test_the_fast_path_writes_no_trace_and_equals_no_traced_decision_with_lines(
    program: Program, event: Purchase | CustomEvent, profile: Profile
) -> None:
    state = _state(profile, 0, None, 1)
    traced = ENGINE.evaluate(program, state, event, JOINED)
    fast = ENGINE.evaluate(program, state, event, JOINED, explain=False)
    assert fast.trace == () and fast.explain() == ""
    assert fast == Decision(effects=traced.effects, trace=())
    assert (fast == traced) is (traced.trace == ())
