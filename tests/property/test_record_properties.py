"""The record converters of domain/records.py give back what they were given, through JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from loyaltykit import Account, Customer, Entry, EntryKind, Lot, LotChange
from loyaltykit.domain.records import (
    account_from_record,
    account_to_record,
    customer_from_record,
    customer_to_record,
    entry_from_record,
    entry_to_record,
    lot_from_record,
    lot_to_record,
)
from loyaltykit.testing.strategies import customer_ids, instants, profiles


def _utc_instants() -> st.SearchStrategy[datetime]:
    # what the domain holds: every instant is normalised to UTC at the boundary
    # (values.aware), and an ambiguous wall time never equals its UTC form
    return instants().map(lambda at: at.astimezone(UTC))


amounts = st.integers(min_value=0, max_value=2**40)
signed = st.integers(min_value=-(2**40), max_value=2**40)
point_types = st.sampled_from(["points", "miles", "tier"])

lots = st.builds(
    Lot,
    customer_id=customer_ids(),
    point_type=point_types,
    seq=st.integers(1, 10**6),
    index=st.integers(0, 9),
    amount=amounts,
    remaining=amounts,
    earned_at=_utc_instants(),
    expires_at=st.none() | _utc_instants(),
    available_from=st.none() | _utc_instants(),
    pending=st.booleans(),
    expired=amounts,
    withdrawn=amounts,
    forgiven=amounts,
    shortfall=amounts,
)
accounts = st.builds(
    Account,
    customer_id=customer_ids(),
    point_type=point_types,
    available=signed,
    pending=amounts,
    deficit=amounts,
    lifetime_earned=amounts,
    lifetime_redeemed=amounts,
    lifetime_expired=amounts,
    last_seq=st.integers(0, 10**6),
)
entries = st.builds(
    Entry,
    customer_id=customer_ids(),
    point_type=point_types,
    seq=st.integers(1, 10**6),
    kind=st.sampled_from(EntryKind),
    amount=signed,
    pending_delta=signed,
    deficit_delta=signed,
    occurred_at=_utc_instants(),
    recorded_at=_utc_instants(),
    idempotency_key=st.none() | st.text(min_size=1, max_size=20),
    reason=st.text(max_size=20),
    actor=st.none() | st.text(min_size=1, max_size=10),
    reverses=st.none() | st.just("c1:points:1"),
    portion=st.none() | st.fractions(min_value=Fraction(1, 100), max_value=1),
    shortfall=amounts,
    lots=st.lists(st.builds(LotChange, lot_id=st.just("c1:points:1.0"), delta=signed)).map(tuple),
    metadata=st.lists(st.tuples(st.text(min_size=1, max_size=5), st.integers())).map(tuple),
)
customers = st.builds(Customer, id=customer_ids(), enrolled_at=_utc_instants(), profile=profiles())


def _utc_instants() -> st.SearchStrategy[datetime]:
    # what the domain holds: every instant is normalised to UTC at the boundary
    # (values.aware), and an ambiguous wall time never equals its UTC form
    return instants().map(lambda at: at.astimezone(UTC))


def _through_json(record: dict[str, object]) -> dict[str, object]:
    return dict(json.loads(json.dumps(record)))


@given(lots)
def test_lots_round_trip(lot: Lot) -> None:
    assert lot_from_record(_through_json(lot_to_record(lot))) == lot


@given(accounts)
def test_accounts_round_trip(account: Account) -> None:
    assert account_from_record(_through_json(account_to_record(account))) == account


@given(entries)
def test_entries_round_trip(entry: Entry) -> None:
    assert entry_from_record(_through_json(entry_to_record(entry))) == entry


@given(customers)
def test_customers_round_trip(customer: Customer) -> None:
    assert customer_from_record(_through_json(customer_to_record(customer))) == customer
