"""The stored forms of velocity flags and counters and of adjustment requests (records
of kinds ``flag`` and ``adjustment_request``, and the customer-state document
``velocity``). This module is the only code that reads or writes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loyaltykit.domain.approvals import AdjustmentRequest, ApprovalState
from loyaltykit.domain.records import instant_from_text
from loyaltykit.policy.velocity import Flag

__all__ = [
    "ADJUSTMENT_REQUEST",
    "FLAG",
    "VELOCITY",
    "flag_from_record",
    "flag_to_record",
    "request_from_record",
    "request_to_record",
]

FLAG = "flag"
VELOCITY = "velocity"
ADJUSTMENT_REQUEST = "adjustment_request"


def flag_to_record(flag: Flag) -> dict[str, Any]:
    """A flag as plain data."""
    return {
        "customer_id": flag.customer_id,
        "id": flag.id,
        "rule": flag.rule,
        "period": flag.period,
        "count": flag.count,
        "at_most": flag.at_most,
        "command": flag.command,
        "idempotency_key": flag.idempotency_key,
        "at": flag.at.isoformat(),
        "action": flag.action,
        "reason": flag.reason,
    }


def flag_from_record(record: Mapping[str, Any]) -> Flag:
    """The flag :func:`flag_to_record` wrote."""
    return Flag(**{**record, "at": datetime.fromisoformat(record["at"])})


def request_to_record(request: AdjustmentRequest) -> dict[str, Any]:
    """An adjustment request as plain data."""
    return {
        "customer_id": request.customer_id,
        "id": request.id,
        "points": request.points,
        "point_type": request.point_type,
        "reason": request.reason,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at.isoformat(),
        "state": request.state.value,
        "decided_by": request.decided_by,
        "decided_at": None if request.decided_at is None else request.decided_at.isoformat(),
        "note": request.note,
        "posted_under": request.posted_under,
    }


def request_from_record(record: Mapping[str, Any]) -> AdjustmentRequest:
    """The request :func:`request_to_record` wrote."""
    requested_at = instant_from_text(record["requested_at"])
    assert requested_at is not None
    return AdjustmentRequest(
        customer_id=record["customer_id"],
        id=record["id"],
        points=record["points"],
        point_type=record["point_type"],
        reason=record["reason"],
        requested_by=record["requested_by"],
        requested_at=requested_at,
        state=ApprovalState(record["state"]),
        decided_by=record.get("decided_by"),
        decided_at=instant_from_text(record.get("decided_at")),
        note=record.get("note", ""),
        posted_under=record.get("posted_under"),
    )
