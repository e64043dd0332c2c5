"""Plain-data forms of complaints, for the record store and idempotency records.

JSON-compatible dicts with ISO 8601 instants, durations in whole microseconds,
fractions as ``"p/q"`` strings and enums by value (as :mod:`loyaltykit.domain.records`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from fractions import Fraction
from typing import Any

from loyaltykit.domain.complaints import (
    Complaint,
    ComplaintState,
    Priority,
    Proposal,
    Role,
    Severity,
    SlaClock,
    Step,
)
from loyaltykit.domain.records import instant_from_record, instant_from_text
from loyaltykit.errors import ComplaintFull

__all__ = [
    "MAX_COMPLAINT_BYTES",
    "checked_complaint_record",
    "complaint_from_record",
    "complaint_to_record",
]

MAX_COMPLAINT_BYTES = 60_000
"""The largest a stored complaint may be: its :func:`complaint_to_record` document as
compact UTF-8 JSON, at most 60,000 bytes, inside MariaDB's 64 KB ``TEXT`` (the column of
every record and of the idempotency outcome that repeats it) with room to spare. Checked
by the service before storage, so every backend refuses the same step."""


def _micros(value: timedelta) -> int:
    return value // timedelta(microseconds=1)


def _clock_to_record(clock: SlaClock) -> dict[str, Any]:
    return {
        "name": clock.name,
        "target_us": _micros(clock.target),
        "calendar": clock.calendar,
        "started_at": clock.started_at.isoformat(),
        "stopped_at": None if clock.stopped_at is None else clock.stopped_at.isoformat(),
        "pauses": [[start.isoformat(), end.isoformat()] for start, end in clock.pauses],
        "paused_since": None if clock.paused_since is None else clock.paused_since.isoformat(),
        "warn_share": str(clock.warn_share),
        "warned": clock.warned,
        "escalated": clock.escalated,
    }


def _clock_from_record(record: Mapping[str, Any]) -> SlaClock:
    return SlaClock(
        name=record["name"],
        target=timedelta(microseconds=record["target_us"]),
        calendar=record["calendar"],
        started_at=instant_from_record(record["started_at"]),
        stopped_at=instant_from_text(record["stopped_at"]),
        pauses=tuple(
            (instant_from_record(start), instant_from_record(end))
            for start, end in record["pauses"]
        ),
        paused_since=instant_from_text(record["paused_since"]),
        warn_share=Fraction(record["warn_share"]),
        warned=record["warned"],
        escalated=record["escalated"],
    )


def _step_to_record(step: Step) -> dict[str, Any]:
    return {
        "transition": step.transition,
        "from": None if step.from_state is None else step.from_state.value,
        "to": step.to_state.value,
        "actor": step.actor,
        "role": step.role.value,
        "at": step.at.isoformat(),
        "note": step.note,
    }


def _step_from_record(record: Mapping[str, Any]) -> Step:
    return Step(
        transition=record["transition"],
        from_state=None if record["from"] is None else ComplaintState(record["from"]),
        to_state=ComplaintState(record["to"]),
        actor=record["actor"],
        role=Role(record["role"]),
        at=instant_from_record(record["at"]),
        note=record["note"],
    )


def complaint_to_record(complaint: Complaint) -> dict[str, Any]:
    """A complaint as plain data."""
    proposal = complaint.proposal
    return {
        "id": complaint.id,
        "customer_id": complaint.customer_id,
        "contact": complaint.contact,
        "channel": complaint.channel,
        "received_at": complaint.received_at.isoformat(),
        "category": complaint.category,
        "subcategory": complaint.subcategory,
        "content": complaint.content,
        "remedy_requested": complaint.remedy_requested,
        "severity": None if complaint.severity is None else complaint.severity.value,
        "priority": complaint.priority.value,
        "sla": complaint.sla,
        "state": complaint.state.value,
        "history": [_step_to_record(step) for step in complaint.history],
        "clocks": [_clock_to_record(clock) for clock in complaint.clocks],
        "resume_state": None if complaint.resume_state is None else complaint.resume_state.value,
        "proposal": None
        if proposal is None
        else {
            "resolution": proposal.resolution,
            "goodwill_points": proposal.goodwill_points,
            "rewards": list(proposal.rewards),
            "approved": proposal.approved,
        },
        "goodwill_points": complaint.goodwill_points,
        "goodwill_rewards": list(complaint.goodwill_rewards),
        "goodwill_entry": complaint.goodwill_entry,
        "satisfaction": complaint.satisfaction,
        "closed_at": None if complaint.closed_at is None else complaint.closed_at.isoformat(),
        "reopened": complaint.reopened,
    }


def complaint_from_record(record: Mapping[str, Any]) -> Complaint:
    """The complaint :func:`complaint_to_record` wrote."""
    proposal = record["proposal"]
    return Complaint(
        id=record["id"],
        customer_id=record["customer_id"],
        contact=record["contact"],
        channel=record["channel"],
        received_at=instant_from_record(record["received_at"]),
        category=record["category"],
        subcategory=record["subcategory"],
        content=record["content"],
        remedy_requested=record["remedy_requested"],
        severity=None if record["severity"] is None else Severity(record["severity"]),
        priority=Priority(record["priority"]),
        sla=record["sla"],
        state=ComplaintState(record["state"]),
        history=tuple(_step_from_record(step) for step in record["history"]),
        clocks=tuple(_clock_from_record(clock) for clock in record["clocks"]),
        resume_state=None
        if record["resume_state"] is None
        else ComplaintState(record["resume_state"]),
        proposal=None
        if proposal is None
        else Proposal(
            resolution=proposal["resolution"],
            goodwill_points=proposal["goodwill_points"],
            rewards=tuple(proposal["rewards"]),
            approved=proposal["approved"],
        ),
        goodwill_points=record["goodwill_points"],
        goodwill_rewards=tuple(record["goodwill_rewards"]),
        goodwill_entry=record["goodwill_entry"],
        satisfaction=record["satisfaction"],
        closed_at=instant_from_text(record["closed_at"]),
        reopened=record["reopened"],
    )


def checked_complaint_record(complaint: Complaint, transition: str) -> dict[str, Any]:
    """:func:`complaint_to_record`, or :class:`ComplaintFull` when the document would be
    larger than :data:`MAX_COMPLAINT_BYTES` (measured in the compact JSON every backend
    stores, so the bound is the same on each)."""
    record = complaint_to_record(complaint)
    size = len(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_COMPLAINT_BYTES:
        raise ComplaintFull(
            complaint.id,
            transition,
            f"the stored complaint would be {size} bytes, at most {MAX_COMPLAINT_BYTES}",
        )
    return record
