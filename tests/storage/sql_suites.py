"""The conformance suite and the ledger and redemption machines, bound to one SQL
database URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from loyaltykit.storage.sql import SqlStorage
from loyaltykit.testing.conformance import StorageConformance
from loyaltykit.testing.redemption_machine import redemption_machine
from loyaltykit.testing.stateful import ledger_machine
from loyaltykit.testing.stored_value_machine import stored_value_machine
from tests.databases import storage_factory


class SqlConformance(StorageConformance):
    """Runs the shared suite on the database the ``database_url`` fixture names."""

    @pytest.fixture(scope="class")
    @classmethod
    def factory(cls, database_url: str) -> Iterator[Callable[[], SqlStorage]]:
        make = storage_factory(database_url)
        yield make
        make().close()

    @pytest.fixture
    def storage(self, factory: Callable[[], SqlStorage]) -> SqlStorage:
        return factory()

    @pytest.fixture
    def storage_url(self, database_url: str) -> str:
        return database_url

    def test_the_ledger_machine(self, factory: Callable[[], SqlStorage]) -> None:
        machine = ledger_machine(factory)
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=self.machine_examples,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )

    def test_the_redemption_machine(self, factory: Callable[[], SqlStorage]) -> None:
        run_state_machine_as_test(
            redemption_machine(factory),
            settings=settings(
                max_examples=self.redemption_examples,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )

    def test_the_stored_value_machine(self, factory: Callable[[], SqlStorage]) -> None:
        run_state_machine_as_test(
            stored_value_machine(factory),
            settings=settings(
                max_examples=self.stored_value_examples,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )

    machine_examples = 30
    redemption_examples = 8
    stored_value_examples = 5
