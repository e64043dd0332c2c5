"""A replayed command gives back the receipt it gave the first time, exactly, whatever
happened on the ledger in between (the stored outcome refers to the ledger's entries)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.databases import storage_factory

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.errors import LoyaltyError
from loyaltykit.outcomes import Receipt, receipt_to_record
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.sql import SqlStorage

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
PROGRAM = Program.from_dict(
    {
        "point_types": [
            {"code": "points", "name": "Points"},
            {"code": "miles", "name": "Miles"},
        ],
        "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
        "points_sale": {"rate": "0.05"},
    }
)
MEMBERS = ("ann", "bob", "cy")

Call = Callable[[Loyalty], Receipt]

member = st.sampled_from(MEMBERS)
step = st.one_of(
    st.tuples(
        st.just("earn"),
        member,
        st.integers(1, 300),
        st.none() | st.integers(1, 20),
        st.sampled_from(["points", "miles"]),
        st.booleans(),
    ),
    st.tuples(st.just("redeem"), member, st.integers(1, 200)),
    st.tuples(st.just("transfer"), member, member, st.integers(1, 100)),
    st.tuples(st.just("adjust"), member, st.integers(-50, 50).filter(bool)),
    st.tuples(st.just("purchase"), member, st.integers(1, 50_000)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 100)),
    st.tuples(st.just("reverse"), st.integers(0, 50), st.sampled_from([None, Fraction(1, 2)])),
    st.tuples(st.just("buy"), member, st.integers(1, 500)),
    st.tuples(
        st.just("expire"),
    ),
)


def call_of(item: tuple[Any, ...], key: str, at: datetime, done: list[Receipt]) -> Call | None:
    """The command ``item`` names, as a call that can be sent again (``None`` when it
    names an earlier command that is not there)."""
    kind = item[0]
    if kind == "earn":
        _, who, amount, days, point_type, tagged = item
        expires = None if days is None else at + timedelta(days=days)
        metadata = {"order": key, "lane": 3} if tagged else None
        return lambda loyalty: loyalty.earn(
            who,
            amount,
            at=at,
            idempotency_key=key,
            expires_at=expires,
            point_type=point_type,
            metadata=metadata,
        )
    if kind == "redeem":
        return lambda loyalty: loyalty.redeem_points(item[1], item[2], at=at, idempotency_key=key)
    if kind == "transfer":
        if item[1] == item[2]:
            return None
        return lambda loyalty: loyalty.transfer(
            item[1], item[2], item[3], at=at, idempotency_key=key, reason="gift"
        )
    if kind == "adjust":
        return lambda loyalty: loyalty.adjust(
            item[1], item[2], at=at, idempotency_key=key, reason="fix", actor="ops"
        )
    if kind == "purchase":
        purchase = Purchase(amount=Money.of(f"{item[2] / 100:.2f}", "CNY"))
        return lambda loyalty: loyalty.record_purchase(
            item[1], purchase, at=at, idempotency_key=key
        )
    if kind == "buy":
        return lambda loyalty: loyalty.buy_points(item[1], item[2], at=at, idempotency_key=key)
    purchases = [r for r in done if r.command == "record_purchase"]
    if kind == "refund" and purchases:
        original = purchases[item[1] % len(purchases)]
        amount = Money.of(f"{item[2] / 100:.2f}", "CNY")
        return lambda loyalty: loyalty.refund(
            original.customer_id,
            original.idempotency_key,
            at=at,
            idempotency_key=key,
            amount=amount,
        )
    earned = [r for r in done if r.command in ("earn", "redeem_points", "adjust")]
    if kind == "reverse" and earned:
        original = earned[item[1] % len(earned)]
        return lambda loyalty: loyalty.reverse(
            original.customer_id,
            original.idempotency_key,
            at=at,
            idempotency_key=key,
            portion=item[2],
        )
    return None


def text_of(receipt: Receipt) -> str:
    return json.dumps(receipt_to_record(receipt), sort_keys=True)


def replays_alike(loyalty: Loyalty, steps: list[tuple[Any, ...]], erase: bool) -> None:
    for who in MEMBERS:
        loyalty.enroll(who, at=T0, idempotency_key=f"e-{who}")
    sent: list[tuple[Call, Receipt]] = []
    for n, item in enumerate(steps):
        at = T0 + timedelta(days=n)
        if item[0] == "expire":
            loyalty.expire_due(at=at)
            continue
        call = call_of(item, f"k{n}", at, [receipt for _, receipt in sent])
        if call is None:
            continue
        with contextlib.suppress(LoyaltyError):  # refused: nothing stored under the key
            sent.append((call, call(loyalty)))
    loyalty.expire_due(at=T0 + timedelta(days=len(steps) + 30))
    if erase:  # erasure keeps the ledger whole: public receipts replay the same
        loyalty.erase("cy", at=T0 + timedelta(days=len(steps) + 31), idempotency_key="x-cy")
    for call, first in sent:
        again = call(loyalty)
        assert again.replayed
        assert again == first
        assert text_of(again) == text_of(first)


steps = st.lists(step, max_size=25)


@given(steps=steps, erase=st.booleans())
@settings(max_examples=60, deadline=None)
def test_a_replayed_command_gives_back_its_first_receipt_on_memory(
    steps: list[tuple[Any, ...]], erase: bool
) -> None:
    replays_alike(Loyalty(PROGRAM, storage=MemoryStorage()), steps, erase)


@pytest.fixture(scope="module")
def sqlite_storages(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], SqlStorage]:
    """Emptied storages on one migrated SQLite file (migrating costs more than an example)."""
    return storage_factory(f"sqlite:///{tmp_path_factory.mktemp('replay')}/replay.db")


@given(steps=steps, erase=st.booleans())
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_replayed_command_gives_back_its_first_receipt_on_sqlite(
    sqlite_storages: Callable[[], SqlStorage], steps: list[tuple[Any, ...]], erase: bool
) -> None:
    storage = sqlite_storages()
    try:
        replays_alike(Loyalty(PROGRAM, storage=storage), steps, erase)
    finally:
        storage.close()
