"""The stored form of notices and of a member's notice state.

A notice is a record of kind ``notice`` owned by its member (``due_at`` set while it is
pending, so the relay finds it); the member's notice state (the milestones reached and
the tier last seen, and the next notice number) is the customer-state document
``notices``. This module is the only code that reads or writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyaltykit.domain.notices import Notice, NoticeStatus
from loyaltykit.domain.records import instant_from_text

__all__ = [
    "NOTICE",
    "NOTICE_STATE",
    "NoticeState",
    "notice_from_record",
    "notice_state_document",
    "notice_state_from_document",
    "notice_to_record",
]

NOTICE = "notice"
NOTICE_STATE = "notices"


def notice_to_record(notice: Notice) -> dict[str, Any]:
    """A notice as plain data."""
    return {
        "customer_id": notice.customer_id,
        "id": notice.id,
        "template": notice.template,
        "channel": notice.channel,
        "at": notice.at.isoformat(),
        "data": dict(notice.data),
        "status": notice.status.value,
        "settled_at": None if notice.settled_at is None else notice.settled_at.isoformat(),
        "reason": notice.reason,
    }


def notice_from_record(record: Mapping[str, Any]) -> Notice:
    """The notice :func:`notice_to_record` wrote."""
    at = instant_from_text(record["at"])
    assert at is not None
    return Notice(
        customer_id=record["customer_id"],
        id=record["id"],
        template=record["template"],
        channel=record["channel"],
        at=at,
        data=dict(record["data"]),
        status=NoticeStatus(record["status"]),
        settled_at=instant_from_text(record.get("settled_at")),
        reason=record.get("reason", ""),
    )


class NoticeState:
    """A member's notice state: the next notice number, the milestones reached (and not
    fallen below since), the tier last seen. ``None`` fields were never observed."""

    __slots__ = ("next", "reached", "tier")

    def __init__(
        self, next: int = 1, reached: frozenset[int] | None = None, tier: str | None = None
    ) -> None:
        self.next = next
        self.reached = reached
        self.tier = tier


def notice_state_from_document(document: Mapping[str, Any] | None) -> NoticeState:
    """The state :func:`notice_state_document` wrote (a fresh one for ``None``)."""
    if document is None:
        return NoticeState()
    reached = document.get("reached")
    return NoticeState(
        next=int(document.get("next", 1)),
        reached=None if reached is None else frozenset(int(t) for t in reached),
        tier=document.get("tier"),
    )


def notice_state_document(state: NoticeState) -> dict[str, Any]:
    """A member's notice state as plain data."""
    return {
        "next": state.next,
        "reached": None if state.reached is None else sorted(state.reached),
        "tier": state.tier,
    }
