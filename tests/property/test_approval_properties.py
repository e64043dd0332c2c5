"""An approval never posts twice (issue 17): whatever mix of approvals, rejections,
retries and requester self-approvals follows a request, its adjustment posts at most
once, and exactly when the first decision accepted was an approval."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Approvals, EntryKind, Loyalty, Program
from loyaltykit.errors import ApprovalRefused, IdempotencyConflict

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
ATTEMPTS = st.lists(
    st.tuples(st.sampled_from(["li", "wang", "zhao"]), st.booleans(), st.integers(0, 3)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(ATTEMPTS)
def test_an_approval_never_posts_twice(attempts: list[tuple[str, bool, int]]) -> None:
    loyalty = Loyalty(Program(approvals=Approvals(adjust_above=100)))
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    loyalty.request_adjustment(
        "ann", "req-1", 500, at=T0, idempotency_key="q", reason="lost card", actor="li"
    )
    first: bool | None = None  # the first decision accepted: approve or reject
    for actor, approve, key in attempts:
        decide = loyalty.approve_adjustment if approve else loyalty.reject_adjustment
        try:
            decide("ann", "req-1", at=T0, idempotency_key=f"d-{key}", actor=actor)
        except (ApprovalRefused, IdempotencyConflict):
            continue
        if first is None:
            first = approve
    posted = [
        line.entry
        for line in loyalty.statement("ann").lines
        if line.entry.kind is EntryKind.ADJUST
        and dict(line.entry.metadata).get("request") == "req-1"
    ]
    assert len(posted) == (1 if first else 0)
    assert loyalty.balance("ann").available == (500 if first else 0)
