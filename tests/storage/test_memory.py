"""The memory backend runs the conformance suite and the stateful ledger machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing.conformance import StorageConformance
from loyaltykit.testing.stateful import ledger_machine


class TestMemoryConformance(StorageConformance):
    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        backend = MemoryStorage()
        yield backend
        backend.close()


TestMemoryLedgerMachine = ledger_machine(MemoryStorage).TestCase
TestMemoryLedgerMachine.settings = settings(max_examples=250, stateful_step_count=40, deadline=None)
