"""The memory backend keeps the member's decoded documents (issue 19): a purchase reads
the counters, tier and metric history the last command left instead of decoding them
again, and every backend still stores the same documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loyaltykit import Item, Loyalty, Money, Program, Purchase
from loyaltykit.formats.member import ACTIVITY, METRICS, TIER, activity_from_document
from loyaltykit.service.members import ACTIVITY_CODEC, load_member
from loyaltykit.storage.base import StateCodec, put_state_value, state_value
from loyaltykit.storage.memory import MemoryStorage

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
# caps (counters), a first-purchase rule, and a tier ladder on a month of spend
PROGRAM = Program.from_dict(
    {
        "name": "kept",
        "timezone": "Asia/Shanghai",
        "currency": "CNY",
        "rules": [
            {"id": "base", "kind": "base_rate", "per": "10", "priority": 10},
            {"id": "welcome", "kind": "first_purchase", "amount": 50, "priority": 20},
        ],
        "caps": [{"id": "daily", "limit": 60, "period": "day"}],
        "tiers": {
            "version": "t1",
            "status_length": {"months": 1},
            "levels": [
                {"code": "blue", "rank": 0},
                {
                    "code": "gold",
                    "rank": 1,
                    "requirements": [
                        {
                            "metric": "spend",
                            "at_least": "600",
                            "window": {"kind": "rolling", "months": 1},
                        }
                    ],
                },
            ],
        },
    }
)


def _purchases(loyalty: Loyalty, count: int) -> None:
    for n in range(count):
        purchase = Purchase(
            amount=Money.of(f"{40 + 13 * n}.50", "CNY"),
            items=(Item(sku="tee", category="clothes", quantity=1 + n % 3),),
        )
        at = T0 + timedelta(days=3 * n, hours=n % 5)
        loyalty.record_purchase(f"c{n % 2}", purchase, at=at, idempotency_key=f"p{n}")


def _documents(loyalty: Loyalty) -> dict[str, Any]:
    with loyalty.storage.unit_of_work() as uow:
        return {
            f"{customer} {name}": uow.state.get(customer, name)
            for customer in ("c0", "c1")
            for name in (ACTIVITY, TIER, METRICS)
        }


def test_memory_stores_the_documents_sqlite_stores(tmp_path: Path) -> None:
    memory = Loyalty(PROGRAM)
    sqlite = Loyalty(PROGRAM, storage=f"sqlite:///{tmp_path / 'kept.db'}")
    for loyalty in (memory, sqlite):
        for customer in ("c0", "c1"):
            loyalty.enroll(customer, at=T0, idempotency_key=f"e-{customer}")
        _purchases(loyalty, 24)  # across months: metric months dropped, a tier gained
    documents = _documents(memory)
    assert documents["c0 tier"] is not None
    assert documents == _documents(sqlite)
    with memory.storage.unit_of_work() as one, sqlite.storage.unit_of_work() as other:
        for customer in ("c0", "c1"):
            kept = one.customers.get(customer)
            assert kept is not None
            assert load_member(one, kept) == load_member(other, kept)
    sqlite.close()


def test_a_kept_value_is_handed_back_until_a_document_replaces_it() -> None:
    storage = MemoryStorage()
    with storage.unit_of_work() as uow:
        uow.state.put("c1", ACTIVITY, {"counters": {"cap:d": 3}, "purchases": 2})
        read = state_value(uow.state, "c1", ACTIVITY, ACTIVITY_CODEC)
        assert read == activity_from_document(uow.state.get("c1", ACTIVITY))
        assert state_value(uow.state, "c1", ACTIVITY, ACTIVITY_CODEC) is read  # decoded once
        put_state_value(uow.state, "c1", ACTIVITY, ACTIVITY_CODEC, read._replace(purchases=3))
        assert uow.state.get("c1", ACTIVITY) == {"counters": {"cap:d": 3}, "purchases": 3}
        # another codec of the same document decodes it afresh (from the kept value)
        other = StateCodec(activity_from_document, ACTIVITY_CODEC.encode)
        assert state_value(uow.state, "c1", ACTIVITY, other).purchases == 3
        uow.state.put("c1", ACTIVITY, {"counters": {}, "purchases": 7})
        assert state_value(uow.state, "c1", ACTIVITY, ACTIVITY_CODEC).purchases == 7
        uow.commit()


def test_a_rolled_back_write_gives_back_the_value_before_it() -> None:
    storage = MemoryStorage()
    with storage.unit_of_work() as uow:
        put_state_value(uow.state, "c1", ACTIVITY, ACTIVITY_CODEC, activity_from_document(None))
        uow.commit()
    with storage.unit_of_work() as uow:
        before = state_value(uow.state, "c1", ACTIVITY, ACTIVITY_CODEC)
        put_state_value(uow.state, "c1", ACTIVITY, ACTIVITY_CODEC, before._replace(purchases=9))
        put_state_value(uow.state, "c2", ACTIVITY, ACTIVITY_CODEC, before)
    with storage.unit_of_work() as uow:
        assert state_value(uow.state, "c1", ACTIVITY, ACTIVITY_CODEC) is before
        assert uow.state.get("c2", ACTIVITY) is None
