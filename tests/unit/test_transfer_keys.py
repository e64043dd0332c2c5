"""A transfer's key belongs to the sender: the receiver's own keys are never shadowed by
it, and a batch job never stops for one account it cannot settle (issue 11, item 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyaltykit import EntryKind, Loyalty
from loyaltykit.errors import NotReversible, UnknownEntry
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    from tests.databases import storage_factory

    path = tmp_path_factory.mktemp("keys") / "loyalty.db"
    return storage_factory(f"sqlite:///{path}")()


def test_a_receiver_reverses_its_own_command_under_a_key_a_sender_also_used(
    storage: Storage,
) -> None:
    loyalty = Loyalty(storage=storage)
    for member in ("ann", "bob"):
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
    loyalty.earn("ann", 100, at=T0, idempotency_key="order-1")
    loyalty.earn("bob", 10, at=T0, idempotency_key="order-1")  # bob's own key space
    sent = loyalty.transfer("ann", "bob", 50, at=T0, idempotency_key="order-1:gift")
    loyalty.transfer("ann", "bob", 5, at=T0, idempotency_key="bob-key")
    loyalty.earn("bob", 7, at=T0, idempotency_key="bob-key")
    incoming = sent.entries_of(EntryKind.TRANSFER_IN)
    assert incoming and incoming[0].idempotency_key is None
    assert dict(incoming[0].metadata)["from"] == "ann"
    undone = loyalty.reverse("bob", "bob-key", at=T0 + timedelta(hours=1), idempotency_key="u1")
    assert undone.balance.available == 10 + 50 + 5  # bob's 7 undone, the transfers kept
    with pytest.raises(UnknownEntry):  # the sender's key is not in bob's key space
        loyalty.reverse("bob", "order-1:gift", at=T0, idempotency_key="u2")
    storage.close()


def test_expiry_goes_past_an_account_it_cannot_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    from loyaltykit.domain import ledger
    from loyaltykit.service import batch

    loyalty = Loyalty()
    for member in ("ann", "bob"):
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
        loyalty.earn(member, 10, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=1))
    settle = ledger.settle

    def broken(account: ledger.Account, *args: object, **kwargs: object) -> ledger.Posting:
        if account.customer_id == "ann":
            raise NotReversible("a damaged account")
        return settle(account, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch.ledger, "settle", broken)
    report = loyalty.run_due(at=T0 + timedelta(days=2))
    assert report.expired.expired == 10  # bob's
    assert [(f.job, f.owner, f.error) for f in report.failures] == [
        ("expire_due", "ann", "NotReversible")
    ]
    monkeypatch.undo()
    assert loyalty.run_due(at=T0 + timedelta(days=2)).expired.expired == 10  # ann's now
