"""Opt-in pytest fixtures for testing code built on loyaltykit.

Enable them in a ``conftest.py``::

    pytest_plugins = ["loyaltykit.testing.pytest_plugin"]

Fixtures: ``loyalty_program`` (override it to test your own program), ``loyalty`` (a
facade on a fresh in-memory store), ``loyalty_at`` (a fixed, aware instant) and
``assert_ledger_sound`` (checks every ledger invariant of a customer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from loyaltykit import Loyalty
from loyaltykit.policy.program import Program
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing.invariants import ledger_violations


@pytest.fixture
def loyalty_program() -> Program:
    """The program under test; override this fixture to use your own."""
    return Program()


@pytest.fixture
def loyalty(loyalty_program: Program) -> Iterator[Loyalty]:
    """A :class:`~loyaltykit.Loyalty` facade on a fresh in-memory store."""
    facade = Loyalty(loyalty_program, storage=MemoryStorage())
    yield facade
    facade.close()


@pytest.fixture
def loyalty_at() -> datetime:
    """A fixed instant to pass as ``at=`` (tests never read the clock)."""
    return datetime(2026, 1, 1, 9, tzinfo=UTC)


@pytest.fixture
def assert_ledger_sound(loyalty: Loyalty) -> Callable[..., None]:
    """``assert_ledger_sound("c-1")`` fails with every broken ledger invariant."""

    def check(customer_id: str, point_type: str = "points") -> None:
        problems = ledger_violations(loyalty.storage, customer_id, point_type)
        assert not problems, "\n".join(problems)

    return check
