"""Velocity rules, flags and suspension; four-eyes adjustments (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyaltykit import (
    AdjustmentRequest,
    Approvals,
    ApprovalState,
    CustomerStatus,
    EntryKind,
    Loyalty,
    Program,
    Velocity,
    VelocityRule,
)
from loyaltykit.errors import (
    AccountNotActive,
    ApprovalRefused,
    ApprovalRequired,
    InvalidArgument,
    UnknownApproval,
    VelocityExceeded,
)
from loyaltykit.storage.base import Storage

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def storage(memory_or_sqlite: Storage) -> Storage:
    return memory_or_sqlite


def _members(program: Program, storage: Storage | None = None) -> Loyalty:
    loyalty = Loyalty(program, storage=storage, outbox=True)
    for member in ("ann", "bob"):
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
    loyalty.earn("ann", 100_000, at=T0, idempotency_key="stock")
    return loyalty


def test_fifty_transfers_in_fifty_seconds_are_refused_beyond_the_hourly_limit(
    storage: Storage,
) -> None:
    rule = VelocityRule(id="transfers", commands="transfer", per="hour", at_most=5)
    loyalty = _members(Program(velocity=Velocity(rules=[rule])), storage)
    accepted = refused = 0
    for n in range(50):
        try:
            loyalty.transfer(
                "ann", "bob", 1000, at=T0 + timedelta(seconds=n), idempotency_key=f"t-{n}"
            )
            accepted += 1
        except VelocityExceeded as error:
            refused += error.rule == "transfers" and not error.suspended
    assert (accepted, refused) == (5, 45)
    assert loyalty.balance("bob").available == 5000
    flags = loyalty.flags("ann")
    assert len(flags) == 45 and {f.action for f in flags} == {"refuse"}
    assert flags[0].reason == (
        "velocity rule 'transfers': 6 transfer commands in the hour 2026-03-01T09, at most 5"
    )
    # a retry of an accepted transfer is a replay, never counted nor refused
    loyalty.transfer("ann", "bob", 1000, at=T0 + timedelta(minutes=5), idempotency_key="t-0")
    # the next hour starts again
    loyalty.transfer("ann", "bob", 1000, at=T0 + timedelta(hours=1), idempotency_key="t-next")
    assert loyalty.balance("bob").available == 6000


def test_a_suspend_rule_suspends_the_member_with_the_reason_traced(storage: Storage) -> None:
    rule = VelocityRule(id="redeems", commands="redeem", per="day", at_most=2, action="suspend")
    loyalty = _members(Program(velocity=Velocity(rules=[rule])), storage)
    for n in range(2):
        loyalty.redeem_points("ann", 10, at=T0, idempotency_key=f"r-{n}")
    with pytest.raises(VelocityExceeded, match="the member is suspended") as error:
        loyalty.redeem_points("ann", 10, at=T0, idempotency_key="r-2")
    assert error.value.suspended
    assert loyalty.customer("ann").status is CustomerStatus.SUSPENDED
    (flag,) = loyalty.flags("ann")
    assert (flag.rule, flag.count, flag.command, flag.idempotency_key) == (
        "redeems",
        3,
        "redeem_points",
        "r-2",
    )
    with pytest.raises(AccountNotActive):
        loyalty.redeem_points("ann", 10, at=T0, idempotency_key="r-3")
    loyalty.earn("ann", 10, at=T0, idempotency_key="o-1")  # suspended members still earn
    types = [e.type for e in loyalty.pending_events(limit=100)]
    assert "flag" in types and "suspend" in types
    assert loyalty.balance("ann").available == 100_000 - 20 + 10


def test_a_flag_rule_lets_the_command_through(storage: Storage) -> None:
    rule = VelocityRule(id="earns", commands="earn", per="day", at_most=1, action="flag")
    loyalty = _members(Program(velocity=Velocity(rules=[rule])), storage)  # "stock" is one
    loyalty.earn("ann", 5, at=T0, idempotency_key="o-1")
    assert loyalty.balance("ann").available == 100_005
    assert [(f.rule, f.count, f.action) for f in loyalty.flags("ann")] == [("earns", 2, "flag")]


def test_velocity_rules_are_checked_when_built() -> None:
    with pytest.raises(InvalidArgument, match="commands"):
        VelocityRule(id="x", commands="login", per="hour", at_most=1)
    with pytest.raises(InvalidArgument, match="per"):
        VelocityRule(id="x", commands="earn", per="week", at_most=1)
    with pytest.raises(InvalidArgument, match="at_most"):
        VelocityRule(id="x", commands="earn", per="day", at_most=0)
    rule = VelocityRule(id="x", commands="earn", per="day", at_most=1)
    with pytest.raises(InvalidArgument, match="more than once"):
        Velocity(rules=[rule, rule])


FOUR_EYES = Program(approvals=Approvals(adjust_above=5000))


def test_a_large_adjustment_posts_only_after_a_second_person_approves(storage: Storage) -> None:
    loyalty = _members(FOUR_EYES, storage)
    loyalty.adjust("bob", 5000, at=T0, idempotency_key="a-1", reason="goodwill", actor="li")
    with pytest.raises(ApprovalRequired, match="above 5000"):
        loyalty.adjust("bob", -5001, at=T0, idempotency_key="a-2", reason="fraud", actor="li")
    request = loyalty.request_adjustment(
        "bob", "req-1", 8000, at=T0, idempotency_key="q-1", reason="lost card", actor="li"
    )
    assert request.state is ApprovalState.PENDING
    assert loyalty.balance("bob").available == 5000
    assert [r.id for r in loyalty.pending_adjustment_requests()] == ["req-1"]
    with pytest.raises(ApprovalRefused, match="second person"):
        loyalty.approve_adjustment("bob", "req-1", at=T0, idempotency_key="ok-1", actor="Li ")
    receipt = loyalty.approve_adjustment(
        "bob", "req-1", at=T0 + timedelta(hours=1), idempotency_key="ok-1", actor="wang"
    )
    (entry,) = receipt.entries_of(EntryKind.ADJUST)
    assert (entry.amount, entry.actor, entry.reason) == (8000, "li", "lost card")
    assert dict(entry.metadata) == {"approved_by": "wang", "request": "req-1"}
    assert loyalty.balance("bob").available == 13000
    with pytest.raises(ApprovalRefused, match="already approved by 'wang'"):
        loyalty.approve_adjustment("bob", "req-1", at=T0, idempotency_key="ok-2", actor="zhao")
    again = loyalty.approve_adjustment("bob", "req-1", at=T0, idempotency_key="ok-1", actor="wang")
    assert again.replayed and loyalty.balance("bob").available == 13000
    (decided,) = loyalty.adjustment_requests("bob")
    assert (decided.state, decided.decided_by, decided.posted_under) == (
        ApprovalState.APPROVED,
        "wang",
        "ok-1",
    )
    assert loyalty.pending_adjustment_requests() == ()


def test_a_rejected_request_posts_nothing(storage: Storage) -> None:
    loyalty = _members(FOUR_EYES, storage)
    loyalty.request_adjustment(
        "ann", "req-1", -9000, at=T0, idempotency_key="q-1", reason="chargeback", actor="li"
    )
    rejected: AdjustmentRequest = loyalty.reject_adjustment(
        "ann", "req-1", at=T0, idempotency_key="no-1", actor="wang", note="not proven"
    )
    assert rejected.state is ApprovalState.REJECTED and rejected.posted_under is None
    with pytest.raises(ApprovalRefused, match="already rejected"):
        loyalty.approve_adjustment("ann", "req-1", at=T0, idempotency_key="ok-1", actor="zhao")
    assert loyalty.balance("ann").available == 100_000
    with pytest.raises(UnknownApproval):
        loyalty.approve_adjustment("ann", "req-9", at=T0, idempotency_key="ok-2", actor="zhao")
    with pytest.raises(InvalidArgument, match="already used"):
        loyalty.request_adjustment(
            "ann", "req-1", 10, at=T0, idempotency_key="q-2", reason="again", actor="li"
        )
    with pytest.raises(InvalidArgument, match="reason and an actor"):
        loyalty.request_adjustment(
            "ann", "req-2", 10, at=T0, idempotency_key="q-3", reason="", actor="li"
        )
