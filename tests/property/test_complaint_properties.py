"""The complaint state machine under random sequences of transitions: the history stays
append-only and consistent, and a refused transition changes nothing (also when sent
through the facade and its storage)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty, Program
from loyaltykit.domain.complaints import (
    TRANSITIONS,
    Complaint,
    ComplaintPolicy,
    GoodwillBudget,
    QcRule,
    Role,
)
from loyaltykit.errors import GoodwillBudgetExceeded, IllegalTransition

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
POLICY = ComplaintPolicy(
    qc=QcRule(goodwill_from=300),
    goodwill=GoodwillBudget(points=1000, per_complaint=100_000),
)

moves = st.lists(
    st.tuples(
        st.sampled_from(sorted(TRANSITIONS)),
        st.sampled_from(list(Role)),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
        st.integers(0, 600),
    ),
    max_size=40,
)


def apply(c: Complaint, name: str, role: Role, at: datetime, points: int) -> Complaint:
    common: dict[str, Any] = {"actor": "someone", "role": role, "at": at}
    if name == "assess":
        return c.assess(**common, severity="major", priority="high", policy=POLICY)
    if name == "propose":
        return c.propose(**common, resolution="r", goodwill_points=points, policy=POLICY)
    if name in ("respond", "reopen"):
        method = c.respond if name == "respond" else c.reopen
        return method(**common, policy=POLICY)
    if name == "close":
        return c.close(**common, satisfaction=3)
    result: Complaint = getattr(c, name)(**common)
    return result


def check_history(c: Complaint) -> None:
    first = c.history[0]
    assert (first.transition, first.from_state, first.to_state.value) == ("file", None, "received")
    for before, after in zip(c.history, c.history[1:], strict=False):
        assert after.from_state == before.to_state
        assert after.at >= before.at
    assert c.history[-1].to_state == c.state
    for name in ("acknowledge", "first_response", "resolution"):
        assert sum(1 for clock in c.clocks if clock.name == name and clock.running) <= 1
    if not c.state.is_open:
        assert c.next_due(POLICY) is None
        assert not any(clock.running for clock in c.clocks)


@settings(max_examples=300, deadline=None)
@given(moves=moves)
def test_random_transitions_keep_the_history_invariants(
    moves: list[tuple[str, Role, timedelta, int]],
) -> None:
    c = Complaint.file(
        "C-1",
        policy=POLICY,
        channel="email",
        received_at=T0,
        category="service",
        content="c",
        actor="op",
        customer_id="ann",
    )
    at = T0
    for name, role, step, points in moves:
        at += step
        if name not in c.allowed(role):
            with pytest.raises(IllegalTransition) as refused:
                apply(c, name, role, at, points)
            assert (refused.value.state, refused.value.transition) == (c.state.value, name)
            continue
        try:
            after = apply(c, name, role, at, points)
        except IllegalTransition:
            # the table allows it; only a guard refuses (QC approval, the reopen window)
            assert name in ("respond", "reopen")
            continue
        assert after.history[: len(c.history)] == c.history  # append-only
        assert len(after.history) == len(c.history) + 1
        assert after.goodwill_points >= c.goodwill_points
        for old, new in zip(c.clocks, after.clocks, strict=False):
            if not old.running:
                assert new == old  # a stopped clock never changes again
        check_history(after)
        c = after


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_through_the_facade_a_refused_transition_changes_nothing(data: st.DataObject) -> None:
    loyalty = Loyalty(Program(complaints=POLICY))
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    loyalty.file_complaint(
        "C-1",
        channel="email",
        category="service",
        content="c",
        at=T0,
        idempotency_key="f",
        actor="op",
        customer_id="ann",
    )
    commands = {
        "acknowledge": loyalty.acknowledge_complaint,
        "investigate": loyalty.investigate_complaint,
        "submit_for_review": loyalty.submit_for_review,
        "approve": loyalty.approve_resolution,
        "reject": loyalty.reject_resolution,
        "respond": loyalty.respond_to_complaint,
        "reinvestigate": loyalty.reinvestigate_complaint,
        "request_info": loyalty.request_customer_info,
        "customer_replied": loyalty.customer_replied,
        "escalate": loyalty.escalate_complaint,
        "resume": loyalty.resume_complaint,
        "reopen": loyalty.reopen_complaint,
        "withdraw": loyalty.withdraw_complaint,
    }
    at = T0
    granted = 0
    for n in range(data.draw(st.integers(0, 30))):
        before = loyalty.complaint("C-1")
        # mostly a move the table allows (so cases get far), sometimes any move
        legal = [(t, r) for r in Role for t in before.allowed(r)]
        if legal and data.draw(st.integers(0, 4)):
            name, role = data.draw(st.sampled_from(legal))
        else:
            name, role = (
                data.draw(st.sampled_from(sorted(TRANSITIONS))),
                data.draw(st.sampled_from(list(Role))),
            )
        at += data.draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)))
        points = data.draw(st.integers(0, 600))
        balance = loyalty.balance("ann").available
        common: dict[str, Any] = {
            "at": at,
            "idempotency_key": f"k-{n}",
            "actor": "someone",
            "role": role,
        }
        try:
            if name == "assess":
                loyalty.assess_complaint("C-1", severity="minor", priority="low", **common)
            elif name == "propose":
                loyalty.propose_resolution("C-1", resolution="r", goodwill_points=points, **common)
            elif name == "close":
                loyalty.close_complaint("C-1", satisfaction=4, **common)
            else:
                commands[name]("C-1", **common)
        except (IllegalTransition, GoodwillBudgetExceeded):
            assert loyalty.complaint("C-1") == before
            assert loyalty.balance("ann").available == balance
            continue
        after = loyalty.complaint("C-1")
        check_history(after)
        granted = after.goodwill_points
        assert loyalty.balance("ann").available == granted
    counters = loyalty.storage.unit_of_work().counters
    spent = [counters.value(f"goodwill:points:2026-{month:02d}") for month in (5, 6, 7)]
    assert all(value <= 1000 for value in spent)
    assert sum(spent) == granted


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)), max_size=8
    ),
    waits=st.booleans(),
)
def test_the_sla_batch_reports_each_warning_and_breach_once(
    offsets: list[timedelta], waits: bool
) -> None:
    loyalty = Loyalty(Program(complaints=POLICY))
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    for n in range(3):
        loyalty.file_complaint(
            f"C-{n}",
            channel="email",
            category="service",
            content="c",
            at=T0 + n * timedelta(hours=5),
            idempotency_key=f"f-{n}",
            actor="op",
            customer_id="ann",
        )
    if waits:
        loyalty.acknowledge_complaint("C-0", at=T0, idempotency_key="a", actor="op")
        loyalty.request_customer_info("C-0", at=T0, idempotency_key="w", actor="op")
    warned: list[tuple[str, str]] = []
    breached: list[tuple[str, str]] = []
    for offset in sorted(offsets):
        at = T0 + offset
        alerts = loyalty.escalate_overdue_complaints(at=at)
        warned += [(s.complaint_id, s.clock) for s in alerts.warnings]
        breached += [(s.complaint_id, s.clock) for s in alerts.breaches]
        assert all(s.breached for s in alerts.breaches)
        rerun = loyalty.escalate_overdue_complaints(at=at)
        assert (rerun.warnings, rerun.breaches, rerun.escalated) == ((), (), ())
    assert len(set(warned)) == len(warned)
    assert len(set(breached)) == len(breached)
    if waits:
        assert all(cid != "C-0" for cid, _ in warned + breached)
    for complaint in loyalty.all_complaints():
        check_history(complaint)
        escalations = sum(1 for s in complaint.history if s.transition == "escalate")
        assert escalations == sum(1 for cid, _ in breached if cid == complaint.id)
