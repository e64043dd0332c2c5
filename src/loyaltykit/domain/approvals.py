"""Approvals: manual adjustments above a threshold need a second person (four eyes).

The programme's :class:`Approvals` sets the threshold. An adjustment of more points
than it (either way) is not posted by ``adjust``: it is requested
(:class:`AdjustmentRequest`, pending), and posts only when someone other than the
requester approves it; a request is decided once, so an approval never posts twice.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.errors import ApprovalRefused, InvalidArgument
from loyaltykit.values import CustomerId

__all__ = ["AdjustmentRequest", "ApprovalState", "Approvals"]


def _threshold(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise InvalidArgument(f"approvals.adjust_above: {value!r} is not an int of 0 or more")


@attrs.frozen(kw_only=True)
class Approvals:
    """``adjust_above``: manual adjustments of more points than this (taken or given)
    need a second person's approval; ``None`` (the default) for never.

    >>> Approvals(adjust_above=5000).needs(-6000), Approvals().needs(10**9)
    (True, False)
    """

    adjust_above: int | None = attrs.field(default=None, validator=_threshold)

    def needs(self, points: int) -> bool:
        """Whether an adjustment of ``points`` needs approval."""
        return self.adjust_above is not None and abs(points) > self.adjust_above


class ApprovalState(enum.Enum):
    """``pending`` (waiting for a second person), ``approved`` (posted), ``rejected``."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@attrs.frozen(kw_only=True)
class AdjustmentRequest:
    """A manual adjustment waiting for, or given, a second person's decision.

    ``decided_by`` is the approver (or rejecter), ``posted_under`` the idempotency key
    the approved adjustment's entries were posted under.
    """

    customer_id: CustomerId
    id: str
    points: int
    point_type: str
    reason: str
    requested_by: str
    requested_at: datetime
    state: ApprovalState = ApprovalState.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""
    posted_under: str | None = None

    def decided(
        self, approve: bool, actor: str, at: datetime, note: str, key: str
    ) -> AdjustmentRequest:
        """The request decided by ``actor``; refused for the requester themselves and for a
        request already decided."""
        if self.state is not ApprovalState.PENDING:
            raise ApprovalRefused(self.id, f"already {self.state.value} by {self.decided_by!r}")
        if actor.strip().casefold() == self.requested_by.strip().casefold():
            raise ApprovalRefused(self.id, f"{actor!r} requested it: a second person must decide")
        return attrs.evolve(
            self,
            state=ApprovalState.APPROVED if approve else ApprovalState.REJECTED,
            decided_by=actor,
            decided_at=at,
            note=note,
            posted_under=key if approve else None,
        )
