"""The stored-value and member-card repositories of :mod:`loyaltykit.storage.base` over
one SQL connection (tables ``lk_stored_value``, ``lk_stored_value_entries``,
``lk_member_cards``; revision 0011).

Amounts are kept as whole minor units in each card's ``places``: ``50.00 CNY`` is
``5000`` with ``places = 2``. A card is locked with ``SELECT ... FOR UPDATE`` on
PostgreSQL and MariaDB (SQLite's transactions hold the database's write lock already).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, insert, select, update

from loyaltykit.domain.cards import BlockReason, CardStatus, MemberCard
from loyaltykit.domain.stored_value import (
    Funding,
    StoredValueAccount,
    StoredValueEntry,
    StoredValueEntryKind,
    StoredValueKind,
    StoredValueStatus,
)
from loyaltykit.storage.sql import schema
from loyaltykit.storage.sql.repositories import Session
from loyaltykit.values import CustomerId, Money

__all__ = ["MemberCards", "StoredValue"]

_sv, _entries, _cards = schema.stored_value, schema.stored_value_entries, schema.member_cards
# key_tenant: bound to the unit of work's programme by Session.run
_TENANT: BindParameter[str] = bindparam("key_tenant")
_CARD = select(_sv).where(_sv.c.tenant == _TENANT, _sv.c.code == bindparam("code"))
_CARD_FOR_UPDATE = _CARD.with_for_update()
_ENTRIES = (
    select(_entries, _sv.c.currency, _sv.c.places)
    .join(_sv, and_(_sv.c.tenant == _entries.c.tenant, _sv.c.code == _entries.c.code))
    .where(_entries.c.tenant == _TENANT, _entries.c.code == bindparam("code"))
    .order_by(_entries.c.seq)
)
_MEMBER_CARD = select(_cards).where(
    _cards.c.tenant == _TENANT, _cards.c.number == bindparam("number")
)
_MEMBER_CARD_FOR_UPDATE = _MEMBER_CARD.with_for_update()


def _minor(money: Money, places: int) -> int:
    scaled = money.amount.scaleb(places)
    if scaled != scaled.to_integral_value():  # pragma: no cover - the domain refuses it
        raise ValueError(f"{money} is not a whole number of 10^-{places}")
    return int(scaled)


def _money(minor: int, places: int, currency: str) -> Money:
    return Money(amount=Decimal(minor).scaleb(-places), currency=currency)


def _places(currency: str) -> int:
    return Money.zero(currency).minor_units


def _account_row(account: StoredValueAccount, places: int) -> dict[str, Any]:
    return {
        "kind": account.kind.value,
        "currency": account.currency,
        "places": places,
        "holder": account.holder,
        "issued_at": account.issued_at,
        "expires_at": account.expires_at,
        "balance": _minor(account.balance, places),
        "last_seq": account.last_seq,
        "last_at": account.last_at,
        "status": account.status.value,
    }


def _account(row: Mapping[Any, Any]) -> StoredValueAccount:
    return StoredValueAccount(
        code=row["code"],
        kind=StoredValueKind(row["kind"]),
        currency=row["currency"],
        holder=row["holder"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        balance=_money(row["balance"], row["places"], row["currency"]),
        last_seq=row["last_seq"],
        last_at=row["last_at"],
        status=StoredValueStatus(row["status"]),
    )


def _entry(row: Mapping[Any, Any]) -> StoredValueEntry:
    places, currency = row["places"], row["currency"]
    return StoredValueEntry(
        code=row["code"],
        seq=row["seq"],
        kind=StoredValueEntryKind(row["kind"]),
        amount=_money(row["amount"], places, currency),
        balance=_money(row["balance"], places, currency),
        at=row["occurred_at"],
        idempotency_key=row["idempotency_key"],
        funding=None if row["funding"] is None else Funding(row["funding"]),
        reference=row["reference"],
    )


class StoredValue:
    """:class:`~loyaltykit.storage.base.StoredValueRepository` on SQL."""

    def __init__(self, session: Session) -> None:
        self._session = session
        # each card's places, as read or written in this unit of work (they never change)
        self._places: dict[str, int] = {}

    def get(self, code: str, *, for_update: bool = False) -> StoredValueAccount | None:
        query = _CARD_FOR_UPDATE if for_update else _CARD
        row = self._session.run(query, {"code": code}).mappings().first()
        if row is None:
            return None
        self._places[code] = row["places"]
        return _account(row)

    def add(self, account: StoredValueAccount) -> None:
        places = _places(account.currency)
        row = {"tenant": self._session.tenant, "code": account.code}
        self._session.run(insert(_sv), {**row, **_account_row(account, places)})
        self._places[account.code] = places

    def update(self, account: StoredValueAccount) -> None:
        # the card keeps the places it was issued with
        row = _account_row(account, self._places_of([account.code])[account.code])
        mine = self._session.mine(_sv)
        self._session.run(update(_sv).where(mine, _sv.c.code == account.code).values(**row))

    def _places_of(self, codes: Sequence[str]) -> dict[str, int]:
        missing = sorted(set(codes) - set(self._places))
        if missing:
            query = select(_sv.c.code, _sv.c.places).where(
                self._session.mine(_sv), _sv.c.code.in_(missing)
            )
            self._places.update({row.code: row.places for row in self._session.run(query)})
        return self._places

    def add_entries(self, entries: Sequence[StoredValueEntry]) -> None:
        if not entries:
            return
        places = self._places_of([entry.code for entry in entries])
        rows = [
            {
                "tenant": self._session.tenant,
                "code": entry.code,
                "seq": entry.seq,
                "kind": entry.kind.value,
                "amount": _minor(entry.amount, places[entry.code]),
                "balance": _minor(entry.balance, places[entry.code]),
                "occurred_at": entry.at,
                "idempotency_key": entry.idempotency_key,
                "funding": None if entry.funding is None else entry.funding.value,
                "reference": entry.reference,
            }
            for entry in entries
        ]
        self._session.run(insert(_entries), rows)

    def entries(self, code: str) -> list[StoredValueEntry]:
        rows = self._session.run(_ENTRIES, {"code": code}).mappings()
        return [_entry(row) for row in rows]

    def entries_by_key(self, code: str, idempotency_key: str) -> list[StoredValueEntry]:
        query = _ENTRIES.where(_entries.c.idempotency_key == idempotency_key)
        return [_entry(row) for row in self._session.run(query, {"code": code}).mappings()]

    def refunds_of(self, code: str, payment_key: str) -> list[StoredValueEntry]:
        query = _ENTRIES.where(
            _entries.c.reference == payment_key,
            _entries.c.kind == StoredValueEntryKind.REFUND.value,
        )
        return [_entry(row) for row in self._session.run(query, {"code": code}).mappings()]

    def of_holder(self, customer_id: CustomerId) -> list[StoredValueAccount]:
        query = (
            select(_sv)
            .where(self._session.mine(_sv), _sv.c.holder == customer_id)
            .order_by(_sv.c.code)
        )
        return [_account(row) for row in self._session.run(query).mappings()]

    def due(self, at: datetime, *, limit: int) -> list[str]:
        query = (
            select(_sv.c.code)
            .where(
                and_(
                    self._session.mine(_sv),
                    _sv.c.status == StoredValueStatus.ACTIVE.value,
                    _sv.c.expires_at.is_not(None),
                    _sv.c.expires_at <= at,
                )
            )
            .order_by(_sv.c.expires_at, _sv.c.code)
            .limit(limit)
        )
        return list(self._session.run(query).scalars())


def _card_row(card: MemberCard) -> dict[str, Any]:
    return {
        "customer_id": card.customer_id,
        "issued_at": card.issued_at,
        "status": card.status.value,
        "blocked_at": card.blocked_at,
        "reason": None if card.reason is None else card.reason.value,
        "replaces": card.replaces,
        "replaced_by": card.replaced_by,
    }


def _card(row: Mapping[Any, Any]) -> MemberCard:
    return MemberCard(
        number=row["number"],
        customer_id=row["customer_id"],
        issued_at=row["issued_at"],
        status=CardStatus(row["status"]),
        blocked_at=row["blocked_at"],
        reason=None if row["reason"] is None else BlockReason(row["reason"]),
        replaces=row["replaces"],
        replaced_by=row["replaced_by"],
    )


class MemberCards:
    """:class:`~loyaltykit.storage.base.CardRepository` on SQL."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, number: str, *, for_update: bool = False) -> MemberCard | None:
        query = _MEMBER_CARD_FOR_UPDATE if for_update else _MEMBER_CARD
        row = self._session.run(query, {"number": number}).mappings().first()
        return None if row is None else _card(row)

    def add(self, card: MemberCard) -> None:
        row = {"tenant": self._session.tenant, "number": card.number}
        self._session.run(insert(_cards), {**row, **_card_row(card)})

    def update(self, card: MemberCard) -> None:
        mine = self._session.mine(_cards)
        statement = (
            update(_cards).where(mine, _cards.c.number == card.number).values(**_card_row(card))
        )
        self._session.run(statement)

    def of_customer(self, customer_id: CustomerId) -> list[MemberCard]:
        query = (
            select(_cards)
            .where(self._session.mine(_cards), _cards.c.customer_id == customer_id)
            .order_by(_cards.c.issued_at, _cards.c.number)
        )
        return [_card(row) for row in self._session.run(query).mappings()]
