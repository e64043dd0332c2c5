"""Inquiries and suggestions: what members ask and propose, taken apart from complaints.

The source keeps three intakes apart: complaints (a case to resolve, in
:mod:`loyaltykit.domain.complaints`), inquiries (a question to answer: "how do I use my
points abroad?") and suggestions (an idea to consider: "open earlier on Sundays"). An
:class:`Inquiry` of ``kind`` ``inquiry`` or ``suggestion`` is registered with its source
channel, topic, content and time, and answered once; :class:`IntakeCounts` counts the
three intakes of a period side by side, so suggestions never inflate the complaint rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.errors import InvalidArgument
from loyaltykit.values import CustomerId

__all__ = [
    "INQUIRY_KINDS",
    "Inquiry",
    "IntakeCounts",
    "erased_inquiry",
    "inquiry_from_record",
    "inquiry_to_record",
]

INQUIRY_KINDS = ("inquiry", "suggestion")


def _kind(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in INQUIRY_KINDS:
        raise InvalidArgument(f"kind: {value!r} is not one of {list(INQUIRY_KINDS)}")


def _content(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 5000:
        raise InvalidArgument("content: a non-empty text of at most 5000 characters is needed")


@attrs.frozen(kw_only=True)
class Inquiry:
    """A question or a suggestion, from a member (``customer_id``) or anyone (``None``),
    and its ``answer`` once given (a suggestion's answer says what will be done)."""

    id: str
    kind: str = attrs.field(validator=_kind)
    channel: str
    topic: str
    content: str = attrs.field(validator=_content, repr=False)
    at: datetime
    customer_id: CustomerId | None = None
    answer: str | None = attrs.field(default=None, repr=False)
    answered_at: datetime | None = None

    @property
    def state(self) -> str:
        """``open`` until answered, then ``answered``."""
        return "open" if self.answered_at is None else "answered"


@attrs.frozen(kw_only=True)
class IntakeCounts:
    """How many complaints, inquiries and suggestions came in over a period, counted
    apart; ``by_channel`` gives the three per channel."""

    complaints: int
    inquiries: int
    suggestions: int
    by_channel: tuple[tuple[str, int, int, int], ...] = ()


def inquiry_to_record(inquiry: Inquiry) -> dict[str, Any]:
    """An inquiry as plain data."""
    return {
        "id": inquiry.id,
        "kind": inquiry.kind,
        "channel": inquiry.channel,
        "topic": inquiry.topic,
        "content": inquiry.content,
        "at": inquiry.at.isoformat(),
        "customer_id": inquiry.customer_id,
        "answer": inquiry.answer,
        "answered_at": None if inquiry.answered_at is None else inquiry.answered_at.isoformat(),
    }


def inquiry_from_record(record: Mapping[str, Any]) -> Inquiry:
    """The inquiry :func:`inquiry_to_record` wrote."""
    answered = record["answered_at"]
    return Inquiry(
        id=record["id"],
        kind=record["kind"],
        channel=record["channel"],
        topic=record["topic"],
        content=record["content"],
        at=datetime.fromisoformat(record["at"]),
        customer_id=record["customer_id"],
        answer=record["answer"],
        answered_at=None if answered is None else datetime.fromisoformat(answered),
    )


ERASED = "(erased)"


def erased_inquiry(inquiry: Inquiry) -> Inquiry:
    """The inquiry of an erased member: kind, channel, topic and times stay (they are
    counted); what they wrote and the answer to it go."""
    answer = None if inquiry.answer is None else ERASED
    return attrs.evolve(inquiry, content=ERASED, answer=answer)
