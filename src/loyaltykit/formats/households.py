"""The stored form of households: a record of kind ``household`` in the partition
``household:<id>``, and each member's customer-state document ``household`` naming the
household they belong to. This module is the only code that reads or writes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loyaltykit.domain.households import Household
from loyaltykit.domain.records import instant_from_text

__all__ = [
    "HOUSEHOLD",
    "MEMBERSHIP",
    "household_from_record",
    "household_owner",
    "household_to_record",
]

HOUSEHOLD = "household"
MEMBERSHIP = "household"


def household_owner(household_id: str) -> str:
    """The records partition of a household."""
    return f"household:{household_id}"


def household_to_record(household: Household) -> dict[str, Any]:
    """A household as plain data."""
    return {
        "id": household.id,
        "head": household.head,
        "created_at": household.created_at.isoformat(),
        "on_leave": household.on_leave,
        "max_members": household.max_members,
        "members": {m: at.isoformat() for m, at in sorted(household.members.items())},
        "pooled": dict(sorted(household.pooled.items())),
        "left": dict(sorted(household.left.items())),
        "redeemed": household.redeemed,
        "returned": household.returned,
        "closed_at": None if household.closed_at is None else household.closed_at.isoformat(),
    }


def household_from_record(record: Mapping[str, Any]) -> Household:
    """The household :func:`household_to_record` wrote."""
    return Household(
        id=record["id"],
        head=record["head"],
        created_at=datetime.fromisoformat(record["created_at"]),
        on_leave=record["on_leave"],
        max_members=record["max_members"],
        members={m: datetime.fromisoformat(at) for m, at in record["members"].items()},
        pooled=dict(record["pooled"]),
        left=dict(record["left"]),
        redeemed=record["redeemed"],
        returned=record["returned"],
        closed_at=instant_from_text(record.get("closed_at")),
    )
