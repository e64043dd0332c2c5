"""Programme (tenant) keys, and a backend that keeps one programme only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyaltykit import DEFAULT_TENANT, Loyalty, MemoryStorage, Tenancy, tenant_key, tenant_storage
from loyaltykit.errors import InvalidIdentifier, InvalidTenant, TenancyUnsupported
from loyaltykit.storage.base import Capabilities, Storage, tenant_of
from loyaltykit.storage.memory import MemoryUnitOfWork

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@given(st.text(max_size=80) | st.from_regex(KEY, fullmatch=True))
def test_a_key_is_accepted_exactly_when_it_is_one(text: str) -> None:
    if KEY.fullmatch(text):
        assert tenant_key(text) == text
    else:
        with pytest.raises(InvalidTenant) as refused:
            tenant_key(text)
        assert isinstance(refused.value, InvalidIdentifier)  # caught as any bad id
        assert refused.value.problem()["type"] == "invalid_tenant"


def test_the_default_programme_is_a_valid_key() -> None:
    assert tenant_key(DEFAULT_TENANT) == "default"
    assert tenant_of(MemoryStorage()) == DEFAULT_TENANT
    assert Loyalty().tenant == DEFAULT_TENANT


class OneProgramme:
    """A backend as a plugin without tenancy writes it: the three members of Storage."""

    def __init__(self) -> None:
        self._inner = MemoryStorage()
        self.capabilities = Capabilities()

    def unit_of_work(self) -> MemoryUnitOfWork:
        return self._inner.unit_of_work()

    def close(self) -> None:
        self._inner.close()


def test_a_backend_without_tenancy_is_the_default_programme_and_refuses_another() -> None:
    backend: Storage = OneProgramme()
    assert not isinstance(backend, Tenancy)
    assert tenant_storage(backend, DEFAULT_TENANT) is backend
    loyalty = Loyalty(storage=backend, tenant=DEFAULT_TENANT)
    loyalty.enroll("c-1", at=T0, idempotency_key="e")
    assert loyalty.tenant == DEFAULT_TENANT
    with pytest.raises(TenancyUnsupported, match="OneProgramme backend keeps one programme"):
        Loyalty(storage=backend, tenant="brand-a")
    with pytest.raises(TenancyUnsupported) as refused:
        tenant_storage(backend, "brand-a")
    assert (refused.value.backend, refused.value.tenant) == ("OneProgramme", "brand-a")


def test_a_view_given_as_storage_keeps_its_programme_unless_another_is_named() -> None:
    store = MemoryStorage()
    view = store.for_tenant("brand-a")
    assert Loyalty(storage=view).tenant == "brand-a"
    assert Loyalty(storage=view, tenant="brand-b").tenant == "brand-b"
    assert Loyalty(storage=view, tenant=DEFAULT_TENANT).tenant == DEFAULT_TENANT
