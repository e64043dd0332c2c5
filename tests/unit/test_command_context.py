"""The ledger context a command builds cheaply (``ledger.context``) is the one its
constructor builds, with the same checks; the kernel resolves its guards and followers
per programme version, and again once one is added."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from loyaltykit import Loyalty
from loyaltykit.domain import ledger
from loyaltykit.domain.ledger import Command
from loyaltykit.errors import LoyaltyError
from loyaltykit.policy.program import Program
from loyaltykit.service.kernel import Aftermath, Work
from loyaltykit.storage.base import UnitOfWork

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)

SAME: list[dict[str, Any]] = [
    {},
    {"reason": "goodwill", "actor": "agent-7"},
    {"metadata": (("order", "42"),)},
    {"metadata": {"b": 2, "a": "x"}},
    {"metadata": None},
    {"clock_skew": timedelta(minutes=5)},
]


@pytest.mark.parametrize("fields", SAME)
def test_the_cheap_context_equals_the_constructed_one(fields: dict[str, Any]) -> None:
    made = ledger.context(T0, "k", **fields)
    assert made == Command(at=T0, idempotency_key="k", **fields)
    assert type(made) is Command
    assert ledger.with_metadata(made, (("x", "1"),)) == Command(
        at=T0, idempotency_key="k", **{**fields, "metadata": (("x", "1"),)}
    )


REFUSED: list[dict[str, Any]] = [
    {"at": datetime(2026, 1, 1)},  # naive
    {"at": "2026-01-01"},
    {"reason": 3},
    {"reason": "x" * 100_000},
    {"actor": "line\nbreak"},
    {"metadata": "not a mapping"},
    {"clock_skew": timedelta(seconds=-1)},
    {"clock_skew": 5},
]


@pytest.mark.parametrize("fields", REFUSED)
def test_the_cheap_context_refuses_what_the_constructor_refuses(fields: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"at": T0, "idempotency_key": "k", **fields}
    with pytest.raises(LoyaltyError) as constructed:
        Command(**arguments)
    at = arguments.pop("at")
    key = arguments.pop("idempotency_key")
    with pytest.raises(type(constructed.value)) as cheap:
        ledger.context(at, key, **arguments)
    assert str(cheap.value) == str(constructed.value)


def test_an_instant_at_another_offset_is_kept_as_sent() -> None:
    at = datetime(2026, 1, 1, 20, tzinfo=timezone(timedelta(hours=8)))
    assert ledger.context(at, None).at.utcoffset() == timedelta(hours=8)


class _Counting:
    """A follower and a guard that count what they are shown."""

    def __init__(self) -> None:
        self.followed: list[str] = []
        self.checked: list[str] = []

    def watches(self, program: Program) -> bool:
        return True

    def follow(self, uow: UnitOfWork, program: Program, aftermath: Aftermath) -> None:
        self.followed.append(aftermath.command)

    def guards(self, program: Program) -> bool:
        return True

    def check(self, work: Work) -> None:
        self.checked.append(work.command.name)


def test_a_follower_or_guard_added_after_commands_ran_is_told_of_the_next() -> None:
    loyalty = Loyalty()
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    loyalty.earn("ann", 10, at=T0, idempotency_key="k1")  # resolved without them
    counting = _Counting()
    loyalty.kernel.followers.append(counting)
    loyalty.earn("ann", 10, at=T0, idempotency_key="k2")
    loyalty.kernel.guards.append(counting)
    loyalty.redeem_points("ann", 5, at=T0, idempotency_key="k3")
    assert counting.followed == ["earn", "redeem_points"]
    assert counting.checked == ["redeem_points"]
