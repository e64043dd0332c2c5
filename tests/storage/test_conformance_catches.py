"""The conformance suite fails the broken backends of issue 15 (a test that cannot fail
proves nothing): its test methods are called here on deliberately broken backends."""

from __future__ import annotations

from datetime import datetime

import pytest

from loyaltykit.storage.base import BulkChunk, Capabilities
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing.conformance import StorageConformance


class NothingEligible(MemoryStorage):
    """Offers both bulk protocols and never finds an eligible account: per-account
    settlement does all the work, so only a test of the bulk method itself notices."""

    def expire_in_bulk(
        self, at: datetime, *, accounts: int, after: tuple[str, str] | None = None
    ) -> BulkChunk:
        return BulkChunk()

    def release_in_bulk(
        self, at: datetime, *, accounts: int, after: tuple[str, str] | None = None
    ) -> BulkChunk:
        return BulkChunk()


class Miscounting(MemoryStorage):
    """Does the work (through a per-account path) but reports one chunk of nothing."""

    def expire_in_bulk(
        self, at: datetime, *, accounts: int, after: tuple[str, str] | None = None
    ) -> BulkChunk:
        return BulkChunk(accounts=1, entries=0, points=0, last=("zz", "points"))


class ClaimsProcesses(MemoryStorage):
    """Declares cross-process safety that a process-local store cannot have."""

    capabilities = Capabilities(concurrent_processes=True)


SUITE = StorageConformance()


@pytest.mark.parametrize("work", ["expire", "release"])
def test_a_bulk_method_that_does_nothing_fails(work: str) -> None:
    with pytest.raises(AssertionError, match="bulk chunks took"):
        SUITE.test_bulk_settlement_takes_every_eligible_account(NothingEligible(), work)


def test_a_bulk_method_that_misreports_its_chunks_fails() -> None:
    with pytest.raises(AssertionError):
        SUITE.test_bulk_settlement_writes_what_per_account_settlement_writes(
            Miscounting(), "expire", 0
        )


def test_declaring_concurrent_processes_without_a_url_fails() -> None:
    with pytest.raises(pytest.fail.Exception, match="storage_url"):
        SUITE.test_processes_never_spend_the_same_points_twice(ClaimsProcesses(), None)


def test_backends_without_the_capability_or_protocol_are_skipped() -> None:
    with pytest.raises(pytest.skip.Exception, match="BulkExpiry"):
        SUITE.test_bulk_settlement_takes_every_eligible_account(MemoryStorage(), "expire")
    with pytest.raises(pytest.skip.Exception, match="concurrent_processes"):
        SUITE.test_processes_never_spend_the_same_points_twice(MemoryStorage(), "memory://")
