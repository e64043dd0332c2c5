"""The memory backend runs the conformance suite and the ledger and redemption machines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing import RedemptionMachine
from loyaltykit.testing.conformance import StorageConformance
from loyaltykit.testing.stateful import ledger_machine
from loyaltykit.testing.stored_value_machine import StoredValueMachine


class TestMemoryConformance(StorageConformance):
    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        backend = MemoryStorage()
        yield backend
        backend.close()


TestMemoryLedgerMachine = ledger_machine(MemoryStorage).TestCase
TestMemoryLedgerMachine.settings = settings(max_examples=250, stateful_step_count=40, deadline=None)

TestMemoryRedemptionMachine = RedemptionMachine.TestCase
TestMemoryRedemptionMachine.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestMemoryStoredValueMachine = StoredValueMachine.TestCase
TestMemoryStoredValueMachine.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None
)
