"""The complaint state machine: transitions, roles, guards, history, SLA clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import attrs
import pytest

from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.domain.complaint_records import complaint_from_record, complaint_to_record
from loyaltykit.domain.complaints import (
    ALLOW_ALL,
    TRANSITIONS,
    Authorizer,
    Complaint,
    ComplaintPolicy,
    ComplaintState,
    ComplaintTaxonomy,
    GoodwillBudget,
    Priority,
    QcRule,
    Role,
    Severity,
    SlaPolicy,
    Target,
)
from loyaltykit.errors import IllegalTransition, InvalidAmount, InvalidArgument

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)
CS, BD, QC, SUP = (
    Role.CUSTOMER_SERVICE,
    Role.BUSINESS_DEPARTMENT,
    Role.QUALITY_CONTROL,
    Role.SUPERVISOR,
)
S = ComplaintState

POLICY = ComplaintPolicy(
    taxonomy=ComplaintTaxonomy(categories={"service": {"staff", "queue"}, "points": set()}),
    calendars={"hotline": BusinessCalendar.twenty_four_seven()},
    sla=(
        SlaPolicy(
            id="standard",
            acknowledge=Target(within=4 * H),
            first_response=Target(within=9 * H),
            resolution=Target(within=45 * H),
        ),
        SlaPolicy(
            id="hotline",
            channel="hotline",
            acknowledge=Target(within=2 * H, calendar="hotline"),
            first_response=Target(within=9 * H),
            resolution=Target(within=45 * H),
        ),
        SlaPolicy(
            id="urgent-service",
            category="service",
            priority=Priority.URGENT,
            acknowledge=Target(within=H),
            first_response=Target(within=2 * H),
            resolution=Target(within=9 * H),
        ),
    ),
    qc=QcRule(categories={"points"}, severities={Severity.CRITICAL}, goodwill_from=500),
    goodwill=GoodwillBudget(points=1000, per_complaint=600),
)


def filed(**changes: object) -> Complaint:
    arguments: dict[str, object] = {
        "policy": POLICY,
        "channel": "email",
        "received_at": T0,
        "category": "service",
        "subcategory": "staff",
        "content": "the cashier was rude",
        "actor": "op-1",
        "customer_id": "ann",
        "remedy_requested": "an apology",
    }
    arguments.update(changes)
    return Complaint.file("C-1", **arguments)  # type: ignore[arg-type]


def proposed(points: int = 100, **changes: object) -> Complaint:
    c = filed(**changes).acknowledge(actor="op-1", role=CS, at=T0 + H)
    c = c.assess(
        actor="op-1", role=CS, at=T0 + 2 * H, severity="major", priority="high", policy=POLICY
    )
    c = c.investigate(actor="bd-1", role=BD, at=T0 + 3 * H)
    return c.propose(
        actor="bd-1",
        role=BD,
        at=T0 + 4 * H,
        resolution="apology",
        goodwill_points=points,
        policy=POLICY,
    )


def test_the_main_path_records_every_step_with_actor_role_and_time() -> None:
    c = proposed().respond(actor="op-1", role=CS, at=T0 + 5 * H, policy=POLICY)
    c = c.close(actor="op-1", role=CS, at=T0 + 6 * H, satisfaction=4)
    assert c.state is S.CLOSED
    assert [s.transition for s in c.history] == [
        "file",
        "acknowledge",
        "assess",
        "investigate",
        "propose",
        "respond",
        "close",
    ]
    assert [s.role for s in c.history[1:]] == [CS, CS, BD, BD, CS, CS]
    assert c.history[3].actor == "bd-1"
    assert c.history[-1].at == T0 + 6 * H
    assert all(a.to_state == b.from_state for a, b in zip(c.history, c.history[1:], strict=False))
    assert c.satisfaction == 4
    assert c.closed_at == T0 + 6 * H
    assert c.goodwill_points == 100
    assert c.severity is Severity.MAJOR
    assert c.priority is Priority.HIGH
    assert not any(clock.running for clock in c.clocks)


def test_an_illegal_transition_names_the_state_and_the_transition() -> None:
    c = filed()
    with pytest.raises(IllegalTransition, match=r"'C-1' is received: close is not allowed") as e:
        c.close(actor="op-1", role=CS, at=T0 + H)
    assert (e.value.state, e.value.transition) == ("received", "close")


@pytest.mark.parametrize(
    ("transition", "role"),
    [
        ("acknowledge", BD),
        ("acknowledge", QC),
    ],
)
def test_a_role_outside_the_table_is_refused(transition: str, role: Role) -> None:
    with pytest.raises(IllegalTransition, match=f"role '{role.value}' may not"):
        getattr(filed(), transition)(actor="x", role=role, at=T0 + H)


def test_only_the_business_department_proposes_and_only_qc_approves() -> None:
    c = proposed(points=0).submit_for_review(actor="bd-1", role=BD, at=T0 + 5 * H)
    with pytest.raises(IllegalTransition, match="quality_control"):
        c.approve(actor="op-1", role=CS, at=T0 + 6 * H)
    c2 = filed().acknowledge(actor="op-1", role=CS, at=T0 + H)
    c2 = c2.assess(actor="s", role=SUP, at=T0 + H, severity="minor", priority="low", policy=POLICY)
    c2 = c2.investigate(actor="s", role=SUP, at=T0 + H)
    with pytest.raises(IllegalTransition, match="business_department"):
        c2.propose(actor="op-1", role=CS, at=T0 + H, resolution="r", policy=POLICY)


def test_qc_review_is_required_by_the_rule_and_gates_the_response() -> None:
    for needs_review in (
        proposed(points=500),  # goodwill at the threshold
        proposed(points=0, category="points", subcategory=""),
    ):
        with pytest.raises(IllegalTransition, match="quality control must approve"):
            needs_review.respond(actor="op-1", role=CS, at=T0 + 5 * H, policy=POLICY)
        reviewed = needs_review.submit_for_review(actor="bd-1", role=BD, at=T0 + 5 * H)
        approved = reviewed.approve(actor="qc-1", role=QC, at=T0 + 6 * H)
        assert approved.state is S.RESOLUTION_PROPOSED
        assert approved.proposal is not None
        assert approved.proposal.approved
        done = approved.respond(actor="op-1", role=CS, at=T0 + 7 * H, policy=POLICY)
        assert done.state is S.RESPONDED
    small = proposed(points=100)
    assert small.respond(actor="op-1", role=CS, at=T0 + 5 * H, policy=POLICY).state is S.RESPONDED


def test_a_critical_severity_needs_qc_and_a_rejection_goes_back_to_investigation() -> None:
    c = filed().acknowledge(actor="op-1", role=CS, at=T0 + H)
    c = c.assess(
        actor="op-1",
        role=CS,
        at=T0 + H,
        severity=Severity.CRITICAL,
        priority="high",
        policy=POLICY,
    )
    c = c.investigate(actor="bd", role=BD, at=T0 + H)
    c = c.propose(actor="bd", role=BD, at=T0 + H, resolution="r", policy=POLICY)
    assert POLICY.qc.requires(c)
    c = c.submit_for_review(actor="op-1", role=CS, at=T0 + H)
    rejected = c.reject(actor="qc", role=QC, at=T0 + 2 * H, note="not enough")
    assert rejected.state is S.INVESTIGATING
    assert rejected.proposal is None
    assert rejected.history[-1].note == "not enough"


def test_waiting_on_the_customer_pauses_every_clock_and_returns_where_it_was() -> None:
    c = filed().acknowledge(actor="op-1", role=CS, at=T0 + H)
    waiting = c.request_info(actor="op-1", role=CS, at=T0 + 2 * H)
    assert waiting.state is S.WAITING_ON_CUSTOMER
    assert all(clock.paused_since == T0 + 2 * H for clock in waiting.clocks if clock.running)
    assert waiting.next_due(POLICY) is None
    back = waiting.customer_replied(actor="op-1", role=CS, at=T0 + 26 * H)  # next day 11:00
    assert back.state is S.ACKNOWLEDGED
    resolution = back.clock("resolution")
    assert resolution.pauses == ((T0 + 2 * H, T0 + 26 * H),)
    calendar = POLICY.calendar("default")
    # 2 hours were used before the pause, the night and the pause do not count
    assert resolution.used(T0 + 27 * H, calendar) == 3 * H
    assert resolution.deadline(calendar) == calendar.add(T0 + 26 * H, 43 * H)
    with pytest.raises(IllegalTransition):
        waiting.escalate(actor="s", role=SUP, at=T0 + 3 * H)


def test_escalation_raises_priority_and_resume_returns_to_the_state_before() -> None:
    c = filed().acknowledge(actor="op-1", role=CS, at=T0 + H)
    escalated = c.escalate(actor="sup", role=SUP, at=T0 + 2 * H)
    assert escalated.state is S.ESCALATED
    assert escalated.priority is Priority.HIGH
    again = escalated.escalate(actor="sup", role=SUP, at=T0 + 3 * H)
    assert again.priority is Priority.URGENT
    assert again.escalate(actor="sup", role=SUP, at=T0 + 3 * H).priority is Priority.URGENT
    resumed = again.resume(actor="sup", role=SUP, at=T0 + 4 * H)
    assert resumed.state is S.ACKNOWLEDGED
    with pytest.raises(IllegalTransition, match="customer_service"):
        c.escalate(actor="op-1", role=CS, at=T0 + 2 * H)


def test_reopen_within_the_window_starts_a_new_resolution_clock() -> None:
    c = proposed().respond(actor="op-1", role=CS, at=T0 + 5 * H, policy=POLICY)
    closed = c.close(actor="op-1", role=CS, at=T0 + 6 * H, satisfaction=2)
    reopened = closed.reopen(actor="op-1", role=CS, at=T0 + timedelta(days=14), policy=POLICY)
    assert reopened.state is S.REOPENED
    assert reopened.reopened == 1
    assert reopened.satisfaction is None
    assert reopened.clock("resolution").started_at == T0 + timedelta(days=14)
    assert reopened.clock("resolution").running
    assert len(reopened.clocks) == 4
    assert reopened.investigate(actor="bd", role=BD, at=T0 + timedelta(days=14)).state is (
        S.INVESTIGATING
    )
    with pytest.raises(IllegalTransition, match=r"reopen is not allowed \(closed at"):
        closed.reopen(actor="op-1", role=CS, at=T0 + timedelta(days=15), policy=POLICY)


def test_a_customer_who_rejects_the_answer_sends_it_back_to_investigation() -> None:
    c = proposed().respond(actor="op-1", role=CS, at=T0 + 5 * H, policy=POLICY)
    again = c.reinvestigate(actor="op-1", role=CS, at=T0 + 6 * H)
    assert again.state is S.INVESTIGATING
    assert again.proposal is None


def test_withdrawal_stops_every_clock_and_ends_the_case() -> None:
    c = filed().withdraw(actor="op-1", role=CS, at=T0 + H)
    assert c.state is S.WITHDRAWN
    assert not any(clock.running for clock in c.clocks)
    assert c.next_due(POLICY) is None
    assert c.allowed() == ()
    with pytest.raises(IllegalTransition):
        c.withdraw(actor="op-1", role=CS, at=T0 + H)


def test_the_transition_table_and_allowed() -> None:
    assert filed().allowed() == ("acknowledge", "escalate", "withdraw")
    assert filed().allowed(CS) == ("acknowledge", "withdraw")
    assert set(TRANSITIONS) >= {"acknowledge", "respond", "close", "reopen", "withdraw"}


def test_steps_cannot_go_back_in_time() -> None:
    with pytest.raises(InvalidArgument, match="before the complaint's last step"):
        filed().acknowledge(actor="op-1", role=CS, at=T0 - H)


def test_the_most_specific_sla_policy_applies_and_assessment_retargets() -> None:
    assert filed().sla == "standard"
    hotline = filed(channel="hotline")
    assert hotline.sla == "hotline"
    assert hotline.clock("acknowledge").calendar == "hotline"
    c = filed().acknowledge(actor="op-1", role=CS, at=T0 + H)
    urgent = c.assess(
        actor="op-1", role=CS, at=T0 + H, severity="critical", priority="urgent", policy=POLICY
    )
    assert urgent.sla == "urgent-service"
    assert urgent.clock("resolution").target == 9 * H
    assert urgent.clock("acknowledge").target == 4 * H  # stopped clocks keep their target


def test_statuses_and_the_next_due_instant() -> None:
    c = filed(channel="hotline")  # 2 hours to acknowledge, around the clock
    ack = {s.clock: s for s in c.statuses(T0 + 100 * timedelta(minutes=1), POLICY)}["acknowledge"]
    assert ack.remaining == timedelta(minutes=20)
    assert ack.about_to_breach
    assert not ack.breached
    assert c.next_due(POLICY) == T0 + timedelta(minutes=96)  # a fifth of 2 hours left
    late = {s.clock: s for s in c.statuses(T0 + 3 * H, POLICY)}["acknowledge"]
    assert late.breached
    assert late.deadline == T0 + 2 * H


def test_check_sla_warns_once_and_escalates_a_breach_once() -> None:
    c = filed(channel="hotline")
    warned, alerts = c.check_sla(T0 + 100 * timedelta(minutes=1), POLICY, actor="sla")
    assert [w.clock for w in alerts.warnings] == ["acknowledge"]
    assert warned.clock("acknowledge").warned
    again, none = warned.check_sla(T0 + 100 * timedelta(minutes=1), POLICY, actor="sla")
    assert (none.warnings, none.breaches, again) == ((), (), warned)
    breached, alerts = warned.check_sla(T0 + 3 * H, POLICY, actor="sla")
    assert [b.clock for b in alerts.breaches] == ["acknowledge"]
    assert alerts.escalated == ("C-1",)
    assert breached.state is S.ESCALATED
    assert breached.priority is Priority.HIGH
    assert breached.history[-1].role is SUP
    assert breached.history[-1].note == "SLA acknowledge breached"
    assert breached.check_sla(T0 + 3 * H, POLICY, actor="sla")[1].breaches == ()
    due = breached.next_due(POLICY)
    assert due is not None
    assert due > T0 + 3 * H


def test_filing_validates_its_inputs() -> None:
    with pytest.raises(InvalidArgument, match="'billing' is not in the taxonomy"):
        filed(category="billing")
    with pytest.raises(InvalidArgument, match="'parking' is not under 'service'"):
        filed(subcategory="parking")
    with pytest.raises(InvalidArgument, match="customer_id or an anonymous contact"):
        filed(customer_id=None)
    with pytest.raises(InvalidArgument, match="priority"):
        filed(priority="asap")
    with pytest.raises(InvalidArgument, match="role"):
        filed(role="janitor")
    anonymous = filed(customer_id=None, contact="+86 138 0000 0000")
    assert anonymous.owner == "complaint:anonymous"
    with pytest.raises(InvalidArgument, match="anonymous complaint has no account"):
        anonymous.acknowledge(actor="o", role=CS, at=T0).assess(
            actor="o", role=CS, at=T0, severity="minor", priority="low", policy=POLICY
        ).investigate(actor="b", role=BD, at=T0).propose(
            actor="b", role=BD, at=T0, resolution="r", goodwill_points=5, policy=POLICY
        )


def test_goodwill_and_satisfaction_are_validated() -> None:
    with pytest.raises(InvalidAmount, match="at most 600 on this complaint"):
        proposed(points=601)
    with pytest.raises(InvalidAmount, match="goodwill_points"):
        proposed(points=-1)
    no_budget = attrs.evolve(POLICY, goodwill=None)
    c = proposed(points=0)
    c = c.submit_for_review(actor="b", role=BD, at=T0 + 5 * H)
    c = c.reject(actor="q", role=QC, at=T0 + 5 * H)
    with pytest.raises(InvalidArgument, match="no goodwill budget"):
        c.propose(
            actor="b", role=BD, at=T0 + 5 * H, resolution="r", goodwill_points=5, policy=no_budget
        )
    responded = proposed().respond(actor="op-1", role=CS, at=T0 + 5 * H, policy=POLICY)
    with pytest.raises(InvalidAmount, match="satisfaction"):
        responded.close(actor="op-1", role=CS, at=T0 + 6 * H, satisfaction=6)


def test_policies_are_validated() -> None:
    with pytest.raises(InvalidArgument, match="calendar 'night' is not declared"):
        ComplaintPolicy(
            sla=(
                SlaPolicy(
                    id="x",
                    acknowledge=Target(within=H, calendar="night"),
                    first_response=Target(within=H),
                    resolution=Target(within=H),
                ),
            )
        )
    with pytest.raises(InvalidArgument, match="select every complaint"):
        ComplaintPolicy(sla=(POLICY.sla[2],))
    with pytest.raises(InvalidArgument, match="used more than once"):
        ComplaintPolicy(sla=(POLICY.sla[0], POLICY.sla[0]))
    with pytest.raises(InvalidArgument, match="warn_share"):
        attrs.evolve(POLICY.sla[0], warn_share=Fraction(3, 2))
    with pytest.raises(InvalidArgument, match="positive timedelta"):
        Target(within=timedelta(0))
    with pytest.raises(InvalidArgument, match="goodwill period"):
        GoodwillBudget(points=10, period="fortnight")
    with pytest.raises(InvalidAmount, match="goodwill points"):
        GoodwillBudget(points=0)


def test_goodwill_budget_counters_follow_the_period() -> None:
    at = datetime(2026, 5, 4, 9)
    assert GoodwillBudget(points=1, period="day").counter(at) == "goodwill:points:2026-05-04"
    assert GoodwillBudget(points=1, period="week").counter(at) == "goodwill:points:2026-W19"
    assert GoodwillBudget(points=1).counter(at) == "goodwill:points:2026-05"
    assert GoodwillBudget(points=1, period="year").counter(at) == "goodwill:points:2026"
    assert GoodwillBudget(points=1, period="lifetime").counter(at) == "goodwill:points:all"


def test_a_complaint_survives_its_plain_data_form() -> None:
    c = filed().acknowledge(actor="op-1", role=CS, at=T0 + H)
    c = c.request_info(actor="op-1", role=CS, at=T0 + 2 * H)
    c = c.customer_replied(actor="op-1", role=CS, at=T0 + 3 * H)
    c = c.escalate(actor="s", role=SUP, at=T0 + 4 * H).warned("resolution")
    for complaint in (c, proposed().respond(actor="o", role=CS, at=T0 + 5 * H, policy=POLICY)):
        assert complaint_from_record(complaint_to_record(complaint)) == complaint


def test_a_new_target_after_assessment_warns_again() -> None:
    c = filed().acknowledge(actor="op-1", role=CS, at=T0 + H).warned("resolution")
    assert c.clock("resolution").warned
    urgent = c.assess(
        actor="op-1", role=CS, at=T0 + H, severity="critical", priority="urgent", policy=POLICY
    )
    assert not urgent.clock("resolution").warned
    same = c.assess(
        actor="op-1", role=CS, at=T0 + H, severity="minor", priority="low", policy=POLICY
    )
    assert same.clock("resolution").warned  # same target: the warning stands


def test_every_step_names_its_actor() -> None:
    with pytest.raises(InvalidArgument, match="actor: '' is empty"):
        filed(actor="")
    with pytest.raises(InvalidArgument, match="actor"):
        filed().acknowledge(actor="  ", role=CS, at=T0)


def test_catalogue_rewards_are_kept_by_reference_when_the_answer_goes_out() -> None:
    c = filed().acknowledge(actor="o", role=CS, at=T0)
    c = c.assess(actor="o", role=CS, at=T0, severity="minor", priority="low", policy=POLICY)
    c = c.investigate(actor="b", role=BD, at=T0)
    c = c.propose(
        actor="b", role=BD, at=T0, resolution="a voucher", rewards=("voucher-20",), policy=POLICY
    )
    assert c.goodwill_rewards == ()
    done = c.respond(actor="o", role=CS, at=T0, policy=POLICY)
    assert done.goodwill_rewards == ("voucher-20",)
    assert complaint_from_record(complaint_to_record(done)) == done
    with pytest.raises(InvalidArgument, match="reward"):
        filed().acknowledge(actor="o", role=CS, at=T0).assess(
            actor="o", role=CS, at=T0, severity="minor", priority="low", policy=POLICY
        ).investigate(actor="b", role=BD, at=T0).propose(
            actor="b", role=BD, at=T0, resolution="r", rewards=("bad id",), policy=POLICY
        )


def test_the_proposer_may_not_approve_their_own_resolution() -> None:
    reviewed = proposed(points=500).submit_for_review(actor="bd-1", role=BD, at=T0 + 5 * H)
    proposer = next(step.actor for step in reviewed.history if step.transition == "propose")
    with pytest.raises(IllegalTransition, match=f"{proposer!r} proposed it"):
        reviewed.approve(actor=proposer, role=QC, at=T0 + 6 * H, policy=POLICY)
    with pytest.raises(IllegalTransition, match="a second person"):
        reviewed.approve(actor=f"  {proposer} ", role=QC, at=T0 + 6 * H)  # the default rule
    approved = reviewed.approve(actor="qc-1", role=QC, at=T0 + 6 * H, policy=POLICY)
    assert approved.proposal is not None and approved.proposal.approved
    # a programme may allow one person both roles (a small shop): four_eyes = False
    relaxed = attrs.evolve(POLICY, qc=attrs.evolve(POLICY.qc, four_eyes=False))
    assert reviewed.approve(actor=proposer, role=QC, at=T0 + 6 * H, policy=relaxed).proposal


def test_an_authorizer_is_a_protocol_and_allow_all_allows_everything() -> None:
    assert isinstance(ALLOW_ALL, Authorizer)
    assert ALLOW_ALL.allowed("anyone", QC, "approve")
