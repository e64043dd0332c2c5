"""Complaints through the facade: the pipeline, goodwill in the ledger, the SLA batch."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from loyaltykit import EntryKind, Loyalty, Program
from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.domain.complaints import (
    ComplaintPolicy,
    ComplaintState,
    GoodwillBudget,
    Priority,
    QcRule,
    Role,
    Severity,
    SlaPolicy,
    Target,
)
from loyaltykit.errors import (
    ComplaintAlreadyExists,
    GoodwillBudgetExceeded,
    IdempotencyConflict,
    IllegalTransition,
    UnknownComplaint,
    UnknownCustomer,
)

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)  # a Monday, 09:00
H = timedelta(hours=1)
S = ComplaintState

POLICY = ComplaintPolicy(
    calendars={"hotline": BusinessCalendar.twenty_four_seven()},
    sla=(
        SlaPolicy(
            id="standard",
            acknowledge=Target(within=2 * H, calendar="hotline"),
            first_response=Target(within=18 * H),
            resolution=Target(within=45 * H),
        ),
    ),
    qc=QcRule(goodwill_from=500),
    goodwill=GoodwillBudget(points=1000, period="month"),
)


def facade() -> Loyalty:
    loyalty = Loyalty(Program(complaints=POLICY))
    for customer in ("ann", "ben"):
        loyalty.enroll(customer, at=T0, idempotency_key=f"enroll-{customer}")
    return loyalty


def file(loyalty: Loyalty, complaint_id: str = "C-1", customer: str | None = "ann") -> None:
    loyalty.file_complaint(
        complaint_id,
        channel="hotline",
        category="service",
        content="waited 40 minutes",
        at=T0,
        idempotency_key=f"file-{complaint_id}",
        actor="op-1",
        customer_id=customer,
        contact=None if customer else "wechat:anon-7",
    )


def to_proposal(loyalty: Loyalty, complaint_id: str = "C-1", points: int = 200) -> None:
    loyalty.acknowledge_complaint(
        complaint_id, at=T0 + H, idempotency_key=f"ack-{complaint_id}", actor="op-1"
    )
    loyalty.assess_complaint(
        complaint_id,
        severity="major",
        priority="high",
        at=T0 + H,
        idempotency_key=f"assess-{complaint_id}",
        actor="op-1",
    )
    loyalty.investigate_complaint(
        complaint_id, at=T0 + 2 * H, idempotency_key=f"inv-{complaint_id}", actor="bd-1"
    )
    loyalty.propose_resolution(
        complaint_id,
        resolution="apology and goodwill points",
        goodwill_points=points,
        at=T0 + 3 * H,
        idempotency_key=f"prop-{complaint_id}",
        actor="bd-1",
    )


def test_a_complaint_round_trip_grants_goodwill_as_an_adjustment_linked_to_it() -> None:
    loyalty = facade()
    file(loyalty)
    to_proposal(loyalty)
    answered = loyalty.respond_to_complaint(
        "C-1", at=T0 + 4 * H, idempotency_key="resp-1", actor="op-1"
    )
    assert answered.state is S.RESPONDED
    assert answered.goodwill_points == 200
    assert loyalty.balance("ann").available == 200
    (entry,) = [e for e in loyalty.statement("ann").lines if e.entry.kind is EntryKind.ADJUST]
    assert entry.entry.id == answered.goodwill_entry
    assert dict(entry.entry.metadata)["complaint"] == "C-1"
    assert entry.entry.reason == "goodwill for complaint C-1"
    closed = loyalty.close_complaint(
        "C-1", at=T0 + 5 * H, idempotency_key="close-1", actor="op-1", satisfaction=5
    )
    assert closed.satisfaction == 5
    assert loyalty.complaint("C-1") == closed
    assert loyalty.complaints_of("ann") == (closed,)
    assert loyalty.storage.unit_of_work().counters.value("goodwill:points:2026-05") == 200


def test_replays_return_the_first_outcome_and_grant_nothing_twice() -> None:
    loyalty = facade()
    file(loyalty)
    file(loyalty)  # replay of the same key
    to_proposal(loyalty)
    first = loyalty.respond_to_complaint("C-1", at=T0 + 4 * H, idempotency_key="r", actor="op-1")
    again = loyalty.respond_to_complaint("C-1", at=T0 + 4 * H, idempotency_key="r", actor="op-1")
    assert again == first
    assert loyalty.balance("ann").available == 200
    assert len(loyalty.complaint("C-1").history) == len(first.history)
    with pytest.raises(IdempotencyConflict):
        loyalty.respond_to_complaint("C-1", at=T0 + 4 * H, idempotency_key="r", actor="op-2")
    with pytest.raises(ComplaintAlreadyExists, match="C-1"):
        loyalty.file_complaint(
            "C-1",
            channel="email",
            category="service",
            content="again",
            at=T0,
            idempotency_key="file-other",
            actor="op-1",
            customer_id="ann",
        )


def test_the_goodwill_budget_is_never_overspent_and_a_refusal_changes_nothing() -> None:
    loyalty = facade()
    for complaint_id, customer in (("C-1", "ann"), ("C-2", "ben")):
        file(loyalty, complaint_id, customer)
        to_proposal(loyalty, complaint_id, points=450)
    loyalty.respond_to_complaint("C-1", at=T0 + 4 * H, idempotency_key="r-1", actor="op-1")
    loyalty.file_complaint(
        "C-3",
        channel="hotline",
        category="service",
        content="x",
        at=T0,
        idempotency_key="file-C-3",
        actor="op-1",
        customer_id="ben",
    )
    to_proposal(loyalty, "C-3", points=450)
    loyalty.respond_to_complaint("C-2", at=T0 + 4 * H, idempotency_key="r-2", actor="op-1")
    before = loyalty.complaint("C-3")
    with pytest.raises(GoodwillBudgetExceeded, match="450 points requested, 100 of 1000 left"):
        loyalty.respond_to_complaint("C-3", at=T0 + 4 * H, idempotency_key="r-3", actor="op-1")
    assert loyalty.complaint("C-3") == before
    assert loyalty.balance("ben").available == 450
    assert loyalty.storage.unit_of_work().counters.value("goodwill:points:2026-05") == 900
    # the next month has a new budget
    nextmonth = datetime(2026, 6, 1, 9, tzinfo=UTC)
    done = loyalty.respond_to_complaint("C-3", at=nextmonth, idempotency_key="r-3b", actor="op-1")
    assert done.goodwill_points == 450


def test_qc_review_gates_a_large_goodwill_grant() -> None:
    loyalty = facade()
    file(loyalty)
    to_proposal(loyalty, points=500)
    with pytest.raises(IllegalTransition, match="quality control must approve"):
        loyalty.respond_to_complaint("C-1", at=T0 + 4 * H, idempotency_key="r", actor="op-1")
    assert loyalty.balance("ann").available == 0
    loyalty.submit_for_review("C-1", at=T0 + 4 * H, idempotency_key="qc", actor="bd-1")
    loyalty.approve_resolution("C-1", at=T0 + 5 * H, idempotency_key="ok", actor="qc-1")
    answered = loyalty.respond_to_complaint(
        "C-1", at=T0 + 5 * H, idempotency_key="r2", actor="op-1"
    )
    assert answered.goodwill_points == 500


def test_every_facade_transition_reaches_its_state() -> None:
    loyalty = facade()
    file(loyalty)
    loyalty.acknowledge_complaint("C-1", at=T0 + H, idempotency_key="a", actor="op")
    waiting = loyalty.request_customer_info("C-1", at=T0 + H, idempotency_key="w", actor="op")
    assert waiting.state is S.WAITING_ON_CUSTOMER
    back = loyalty.customer_replied("C-1", at=T0 + 2 * H, idempotency_key="b", actor="op")
    assert back.state is S.ACKNOWLEDGED
    up = loyalty.escalate_complaint("C-1", at=T0 + 2 * H, idempotency_key="e", actor="sup")
    assert (up.state, up.priority) == (S.ESCALATED, Priority.HIGH)
    down = loyalty.resume_complaint("C-1", at=T0 + 2 * H, idempotency_key="d", actor="sup")
    assert down.state is S.ACKNOWLEDGED
    loyalty.assess_complaint(
        "C-1", severity="minor", priority="low", at=T0 + 2 * H, idempotency_key="s", actor="op"
    )
    loyalty.investigate_complaint("C-1", at=T0 + 2 * H, idempotency_key="i", actor="bd")
    loyalty.propose_resolution(
        "C-1", resolution="r", at=T0 + 2 * H, idempotency_key="p", actor="bd"
    )
    loyalty.submit_for_review("C-1", at=T0 + 2 * H, idempotency_key="q", actor="bd")
    rejected = loyalty.reject_resolution("C-1", at=T0 + 2 * H, idempotency_key="x", actor="qc")
    assert rejected.state is S.INVESTIGATING
    loyalty.propose_resolution(
        "C-1", resolution="r2", at=T0 + 3 * H, idempotency_key="p2", actor="bd"
    )
    loyalty.respond_to_complaint("C-1", at=T0 + 3 * H, idempotency_key="r", actor="op")
    again = loyalty.reinvestigate_complaint("C-1", at=T0 + 3 * H, idempotency_key="ri", actor="op")
    assert again.state is S.INVESTIGATING
    loyalty.propose_resolution(
        "C-1", resolution="r3", at=T0 + 4 * H, idempotency_key="p3", actor="bd"
    )
    loyalty.respond_to_complaint("C-1", at=T0 + 4 * H, idempotency_key="r3", actor="op")
    loyalty.close_complaint("C-1", at=T0 + 4 * H, idempotency_key="c", actor="op")
    reopened = loyalty.reopen_complaint("C-1", at=T0 + 30 * H, idempotency_key="o", actor="op")
    assert reopened.state is S.REOPENED
    gone = loyalty.withdraw_complaint("C-1", at=T0 + 31 * H, idempotency_key="g", actor="op")
    assert gone.state is S.WITHDRAWN
    assert [s.transition for s in gone.history][-3:] == ["close", "reopen", "withdraw"]


def test_refusals_are_typed_and_change_nothing() -> None:
    loyalty = facade()
    file(loyalty)
    before = loyalty.complaint("C-1")
    with pytest.raises(IllegalTransition, match="'C-1' is received: close is not allowed"):
        loyalty.close_complaint("C-1", at=T0 + H, idempotency_key="c", actor="op")
    with pytest.raises(IllegalTransition, match="role 'business_department'"):
        loyalty.acknowledge_complaint(
            "C-1", at=T0 + H, idempotency_key="a", actor="bd", role="business_department"
        )
    assert loyalty.complaint("C-1") == before
    # the refused key is free: nothing was recorded under it
    done = loyalty.acknowledge_complaint("C-1", at=T0 + H, idempotency_key="a", actor="op")
    assert done.state is S.ACKNOWLEDGED
    with pytest.raises(UnknownComplaint, match="C-9"):
        loyalty.acknowledge_complaint("C-9", at=T0 + H, idempotency_key="a9", actor="op")
    with pytest.raises(UnknownComplaint):
        loyalty.complaint("C-9")
    with pytest.raises(UnknownCustomer):
        file(loyalty, "C-2", "nobody")


def test_an_anonymous_complaint_is_kept_under_the_anonymous_partition() -> None:
    loyalty = facade()
    file(loyalty, "C-A", None)
    loyalty.acknowledge_complaint("C-A", at=T0 + H, idempotency_key="a", actor="op")
    found = loyalty.complaint("C-A")
    assert found.customer_id is None
    assert found.contact == "wechat:anon-7"
    assert [c.id for c in loyalty.all_complaints()] == ["C-A"]


def test_the_sla_batch_warns_then_escalates_once_and_run_due_reports_it() -> None:
    loyalty = facade()
    file(loyalty)  # 2 hours to acknowledge on the 24-hour calendar
    assert loyalty.escalate_overdue_complaints(at=T0 + H).warnings == ()
    warned = loyalty.escalate_overdue_complaints(at=T0 + 100 * timedelta(minutes=1))
    assert [(w.complaint_id, w.clock) for w in warned.warnings] == [("C-1", "acknowledge")]
    assert loyalty.escalate_overdue_complaints(at=T0 + 100 * timedelta(minutes=1)).warnings == ()
    report = loyalty.run_due(at=T0 + 3 * H)
    assert report.complaints is not None
    assert [(b.complaint_id, b.clock) for b in report.complaints.breaches] == [
        ("C-1", "acknowledge")
    ]
    assert report.complaints.escalated == ("C-1",)
    escalated = loyalty.complaint("C-1")
    assert (escalated.state, escalated.priority) == (S.ESCALATED, Priority.HIGH)
    assert escalated.history[-1].actor == "loyaltykit:sla"
    rerun = loyalty.run_due(at=T0 + 3 * H).complaints
    assert rerun is not None
    assert (rerun.breaches, rerun.escalated) == ((), ())
    assert loyalty.complaint("C-1") == escalated


def test_waiting_on_the_customer_keeps_a_complaint_out_of_the_sla_batch() -> None:
    loyalty = facade()
    file(loyalty)
    loyalty.acknowledge_complaint("C-1", at=T0 + H, idempotency_key="a", actor="op")
    loyalty.request_customer_info("C-1", at=T0 + H, idempotency_key="w", actor="op")
    found = loyalty.escalate_overdue_complaints(at=T0 + timedelta(days=30))
    assert (found.warnings, found.breaches) == ((), ())


def test_a_replay_may_name_roles_and_levels_by_enum_or_by_value() -> None:
    loyalty = facade()
    file(loyalty)
    first = loyalty.acknowledge_complaint(
        "C-1", at=T0 + H, idempotency_key="a", actor="op", role=Role.CUSTOMER_SERVICE
    )
    again = loyalty.acknowledge_complaint(
        "C-1", at=T0 + H, idempotency_key="a", actor="op", role="customer_service"
    )
    assert again == first
    assessed = loyalty.assess_complaint(
        "C-1",
        severity=Severity.MINOR,
        priority=Priority.LOW,
        at=T0 + H,
        idempotency_key="s",
        actor="op",
    )
    replay = loyalty.assess_complaint(
        "C-1", severity="minor", priority="low", at=T0 + H, idempotency_key="s", actor="op"
    )
    assert replay == assessed


def test_erasing_a_customer_redacts_their_complaints_and_stored_outcomes() -> None:
    loyalty = facade()
    file(loyalty)
    loyalty.acknowledge_complaint(
        "C-1", at=T0 + H, idempotency_key="a", actor="op", note="called back on 138..."
    )
    loyalty.erase("ann", at=T0 + 2 * H, idempotency_key="erase-ann")
    erased = loyalty.complaint("C-1")
    assert (erased.content, erased.remedy_requested, erased.history[-1].note) == ("", "", "")
    assert erased.category == "service"
    assert [s.transition for s in erased.history] == ["file", "acknowledge"]
    file(loyalty)  # the replay returns the complaint as it is now, without the content
    assert loyalty.complaint("C-1") == erased
    replay = loyalty.acknowledge_complaint(
        "C-1", at=T0 + H, idempotency_key="a", actor="op", note="called back on 138..."
    )
    assert replay == erased
    stored = loyalty.storage.unit_of_work().idempotency.get("ann", "file-C-1")
    assert stored is not None
    assert "waited" not in str(stored.outcome)


def test_complaints_at_risk_lists_what_is_late_or_nearly_late_without_changing_it() -> None:
    loyalty = facade()
    file(loyalty, "C-1")
    loyalty.file_complaint(
        "C-2",
        channel="hotline",
        category="service",
        content="x",
        at=T0 + H,
        idempotency_key="file-C-2",
        actor="op",
        customer_id="ben",
    )
    file(loyalty, "C-3", None)
    at = T0 + 2 * H + timedelta(minutes=45)  # C-1 breached 45 minutes ago, C-2 has 15 left
    risky = loyalty.complaints_at_risk(at=at)
    assert [(s.complaint_id, s.clock) for s in risky] == [
        ("C-1", "acknowledge"),
        ("C-3", "acknowledge"),
        ("C-2", "acknowledge"),
    ]
    assert risky[0].remaining == -timedelta(minutes=45)
    assert risky[-1].about_to_breach
    assert loyalty.complaint("C-1").state is S.RECEIVED  # nothing escalated


def test_the_goodwill_budget_holds_when_threads_respond_at_once() -> None:
    loyalty = facade()
    for n in range(8):
        loyalty.file_complaint(
            f"T-{n}",
            channel="email",
            category="service",
            content="x",
            at=T0,
            idempotency_key=f"f-{n}",
            actor="op",
            customer_id="ann" if n % 2 else "ben",
        )
        to_proposal(loyalty, f"T-{n}", points=300)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def respond(n: int) -> None:
        barrier.wait()
        try:
            loyalty.respond_to_complaint(
                f"T-{n}", at=T0 + 4 * H, idempotency_key=f"r-{n}", actor="op"
            )
            outcomes.append("granted")
        except GoodwillBudgetExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=respond, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["granted"] * 3 + ["refused"] * 5
    total = loyalty.balance("ann").available + loyalty.balance("ben").available
    assert total == 900
    assert loyalty.storage.unit_of_work().counters.value("goodwill:points:2026-05") == 900


def test_complaint_commands_join_a_batch_and_a_refused_one_is_undone_alone() -> None:
    loyalty = facade()
    with loyalty.batch():
        file(loyalty)
        with pytest.raises(IllegalTransition):
            loyalty.close_complaint("C-1", at=T0, idempotency_key="c", actor="op")
        loyalty.acknowledge_complaint("C-1", at=T0 + H, idempotency_key="a", actor="op")
        loyalty.earn("ann", 5, at=T0, idempotency_key="earn")
    assert loyalty.complaint("C-1").state is S.ACKNOWLEDGED
    assert loyalty.balance("ann").available == 5

    def abandoned() -> None:
        with loyalty.batch():
            loyalty.assess_complaint(
                "C-1", severity="minor", priority="low", at=T0 + H, idempotency_key="s", actor="op"
            )
            raise RuntimeError("the caller gives up")

    with pytest.raises(RuntimeError):
        abandoned()
    assert loyalty.complaint("C-1").state is S.ACKNOWLEDGED
