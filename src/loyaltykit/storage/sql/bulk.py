"""Set-based batch work: a chunk of accounts settled by a few statements, not a Python loop.

Eligible accounts are those whose settlement is one kind of work alone, with no deficit:
for expiry, no pending lot due for release by ``at`` (a release may repay a deficit, and
must come first); for release, no lot due to expire by ``at``. Those accounts take the
per-account path. For a chunk, in one transaction under the customers' locks (taken in
id order, then the chunk is checked again: a command may have changed an account between
the search and the lock):

Expiry (:func:`expire_chunk`):

1. ``INSERT ... SELECT`` one ``expire`` entry per due lot, numbered after the account's
   last entry in spending order (``ROW_NUMBER() OVER``), dated at the lot's expiry;
2. ``UPDATE`` the accounts by the sums of what expires;
3. ``UPDATE`` the lots: what was left is now expired.

Release (:func:`release_chunk`):

1. ``INSERT ... SELECT`` one ``release`` entry per due pending lot, numbered in the order
   of release (``available_from``, then spending order), dated at its ``available_from``;
2. ``UPDATE`` the accounts: what was pending is available;
3. ``UPDATE`` the lots: no longer pending.

The entries are exactly those the domain's ``settle`` would write; property tests
compare the two paths. Re-running finds nothing left to do: the work is idempotent and
can stop after any chunk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    ScalarSelect,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)

from loyaltykit.domain.shards import Shard
from loyaltykit.storage.base import BulkChunk
from loyaltykit.storage.sql import schema
from loyaltykit.storage.sql.shards import in_shard, prepare

__all__ = ["expire_chunk", "release_chunk"]

lots, accounts, entries = schema.lots, schema.accounts, schema.entries


def _in_account() -> ColumnElement[bool]:
    return and_(
        lots.c.tenant == accounts.c.tenant,
        lots.c.customer_id == accounts.c.customer_id,
        lots.c.point_type == accounts.c.point_type,
    )


def _due_expiry(at: datetime) -> ColumnElement[bool]:
    return and_(lots.c.remaining > 0, lots.c.expires_at <= at)


def _due_release(at: datetime) -> ColumnElement[bool]:
    # a pending lot whose expiry comes first is expired while pending, never released
    return and_(
        lots.c.pending.is_(True),
        lots.c.remaining > 0,
        lots.c.available_from <= at,
        or_(lots.c.expires_at.is_(None), lots.c.available_from < lots.c.expires_at),
    )


def _eligible(at: datetime, work: str, tenant: str, shard: Shard | None = None) -> Select[Any]:
    due_expiry = exists().where(_in_account(), _due_expiry(at))
    due_release = exists().where(_in_account(), _due_release(at))
    wanted, unwanted = (due_expiry, due_release) if work == "expire" else (due_release, due_expiry)
    query = (
        select(accounts.c.customer_id, accounts.c.point_type)
        .where(accounts.c.tenant == tenant, accounts.c.deficit == 0, wanted, ~unwanted)
        .order_by(accounts.c.customer_id, accounts.c.point_type)
    )
    # --- shards (issue 18): a worker's share of the customers
    if shard is not None:
        query = query.where(in_shard(accounts.c.customer_id, shard))
    return query


def _locked_chunk(
    connection: Connection,
    at: datetime,
    work: str,
    limit: int,
    after: tuple[str, str] | None,
    tenant: str,
    shard: Shard | None = None,
) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """Up to ``limit`` eligible accounts after ``after`` (in ``shard``), their customers
    locked, still eligible; and the last account found (where the next chunk starts)."""
    if shard is not None:
        prepare(connection)
    query = _eligible(at, work, tenant, shard).limit(limit)
    if after is not None:
        # spelled out rather than a row-value comparison, which MySQL does not index
        query = query.where(
            or_(
                accounts.c.customer_id > after[0],
                and_(accounts.c.customer_id == after[0], accounts.c.point_type > after[1]),
            )
        )
    found = [(row[0], row[1]) for row in connection.execute(query)]
    if not found:
        return [], None
    customers = sorted({customer_id for customer_id, _ in found})
    # the same lock every command takes first, in id order: no deadlocks
    connection.execute(
        select(schema.customers.c.id)
        .where(schema.customers.c.tenant == tenant, schema.customers.c.id.in_(customers))
        .order_by(schema.customers.c.id)
        .with_for_update()
    ).all()
    # a command may have settled an account, or given it a deficit, before we locked it
    again = connection.execute(_eligible(at, work, tenant).where(_among(accounts, found, tenant)))
    return [(row[0], row[1]) for row in again], found[-1]


def _among(table: Table, chunk: list[tuple[str, str]], tenant: str) -> ColumnElement[bool]:
    """Rows of ``table`` in the chunk's accounts. The customer ids are listed on their
    own too: SQLite plans a row-value ``IN`` with another index (a scan of every lot due
    by ``at``, settled or not, per chunk), but looks up a plain ``IN`` by primary key."""
    customers = sorted({customer_id for customer_id, _ in chunk})
    return and_(
        table.c.tenant == tenant,
        table.c.customer_id.in_(customers),
        tuple_(table.c.customer_id, table.c.point_type).in_(chunk),
    )


def _lot_id(dialect: str) -> ColumnElement[str]:
    """The id of a lot, as the entry that changes it writes it: on SQLite ``seq.idx``,
    the entry's own account being the lot's (0016, as ``repositories._entry_row``)."""
    position = cast(lots.c.seq, String) + literal(".") + cast(lots.c.idx, String)
    if dialect == "sqlite":
        return position
    return lots.c.customer_id + literal(":") + lots.c.point_type + literal(":") + position


_ENTRY_COLUMNS = [
    "tenant",
    "customer_id",
    "point_type",
    "seq",
    "kind",
    "amount",
    "pending_delta",
    "deficit_delta",
    "occurred_at",
    "recorded_at",
    "reason",
    "shortfall",
    "lots",
    "metadata",
]


def _with_account() -> Any:
    return lots.join(
        accounts,
        and_(
            accounts.c.tenant == lots.c.tenant,
            accounts.c.customer_id == lots.c.customer_id,
            accounts.c.point_type == lots.c.point_type,
        ),
    )


def expire_chunk(
    connection: Connection,
    at: datetime,
    *,
    limit: int,
    after: tuple[str, str] | None = None,
    shard: Shard | None = None,
    tenant: str,
) -> BulkChunk:
    """Expire the due lots of up to ``limit`` eligible accounts after ``after`` (only
    customers in ``shard``). The caller runs it in a transaction and commits."""
    chunk, last = _locked_chunk(connection, at, "expire", limit, after, tenant, shard)
    if not chunk:
        return BulkChunk(last=last)
    in_chunk = _among(lots, chunk, tenant)
    due = and_(in_chunk, _due_expiry(at))
    number = func.row_number().over(
        partition_by=(lots.c.customer_id, lots.c.point_type),
        order_by=(lots.c.expires_at, lots.c.earned_at, lots.c.seq, lots.c.idx),
    )
    lot_id = _lot_id(connection.dialect.name)
    change = (
        literal('[["') + lot_id + literal('",') + cast(-lots.c.remaining, String) + literal("]]")
    )
    pending = lots.c.pending.is_(True)
    rows = (
        select(
            lots.c.tenant,
            lots.c.customer_id,
            lots.c.point_type,
            accounts.c.last_seq + number,
            literal("expire"),
            case((pending, 0), else_=-lots.c.remaining),
            case((pending, -lots.c.remaining), else_=0),
            literal(0),
            lots.c.expires_at,
            literal(at, schema.UtcDateTime),
            literal(""),
            literal(0),
            change,
            literal("[]"),
        )
        .select_from(_with_account())
        .where(due)
    )
    written, expired = connection.execute(
        select(func.count(), func.coalesce(func.sum(lots.c.remaining), 0)).where(due)
    ).one()
    connection.execute(entries.insert().from_select(_ENTRY_COLUMNS, rows))
    mine = and_(_in_account(), _due_expiry(at))

    def total(*condition: ColumnElement[bool]) -> ScalarSelect[Any]:
        return (
            select(func.coalesce(func.sum(lots.c.remaining), 0))
            .where(mine, *condition)
            .scalar_subquery()
        )

    count = select(func.count()).where(mine).scalar_subquery()
    latest = select(func.max(lots.c.expires_at)).where(mine).scalar_subquery()
    account_chunk = _among(accounts, chunk, tenant)
    connection.execute(
        update(accounts)
        .where(account_chunk)
        .values(
            available=accounts.c.available - total(lots.c.pending.is_(False)),
            pending=accounts.c.pending - total(lots.c.pending.is_(True)),
            lifetime_expired=accounts.c.lifetime_expired + total(),
            last_seq=accounts.c.last_seq + count,
            last_at=_later(latest),
        )
    )
    # ordered: MySQL assigns left to right with the new values, so ``expired`` first
    connection.execute(
        update(lots)
        .where(due)
        .ordered_values(
            (lots.c.expired, lots.c.expired + lots.c.remaining),
            (lots.c.remaining, literal_column("0")),
        )
    )
    return BulkChunk(accounts=len(chunk), entries=int(written), points=int(expired), last=last)


def _later(latest: ScalarSelect[Any]) -> ColumnElement[Any]:
    """The account's ``last_at`` after entries dated up to ``latest`` (as the domain's
    ledger keeps it: the greatest ``occurred_at``)."""
    return case(
        (or_(accounts.c.last_at.is_(None), accounts.c.last_at < latest), latest),
        else_=accounts.c.last_at,
    )


def release_chunk(
    connection: Connection,
    at: datetime,
    *,
    limit: int,
    after: tuple[str, str] | None = None,
    shard: Shard | None = None,
    tenant: str,
) -> BulkChunk:
    """Release the due pending lots of up to ``limit`` eligible accounts after ``after``
    (only customers in ``shard``). The caller runs it in a transaction and commits."""
    chunk, last = _locked_chunk(connection, at, "release", limit, after, tenant, shard)
    if not chunk:
        return BulkChunk(last=last)
    in_chunk = _among(lots, chunk, tenant)
    due = and_(in_chunk, _due_release(at))
    # settle() orders releases by instant, then spending order (never-expiring last)
    number = func.row_number().over(
        partition_by=(lots.c.customer_id, lots.c.point_type),
        order_by=(
            lots.c.available_from,
            case((lots.c.expires_at.is_(None), 1), else_=0),
            lots.c.expires_at,
            lots.c.earned_at,
            lots.c.seq,
            lots.c.idx,
        ),
    )
    # no deficit: the release repays nothing, so it changes no lot's remaining points
    rows = (
        select(
            lots.c.tenant,
            lots.c.customer_id,
            lots.c.point_type,
            accounts.c.last_seq + number,
            literal("release"),
            lots.c.remaining,
            -lots.c.remaining,
            literal(0),
            lots.c.available_from,
            literal(at, schema.UtcDateTime),
            literal(""),
            literal(0),
            literal("[]"),
            literal("[]"),
        )
        .select_from(_with_account())
        .where(due)
    )
    written, released = connection.execute(
        select(func.count(), func.coalesce(func.sum(lots.c.remaining), 0)).where(due)
    ).one()
    connection.execute(entries.insert().from_select(_ENTRY_COLUMNS, rows))
    mine = and_(_in_account(), _due_release(at))
    total = select(func.coalesce(func.sum(lots.c.remaining), 0)).where(mine).scalar_subquery()
    count = select(func.count()).where(mine).scalar_subquery()
    latest = select(func.max(lots.c.available_from)).where(mine).scalar_subquery()
    connection.execute(
        update(accounts)
        .where(_among(accounts, chunk, tenant))
        .values(
            available=accounts.c.available + total,
            pending=accounts.c.pending - total,
            last_seq=accounts.c.last_seq + count,
            last_at=_later(latest),
        )
    )
    connection.execute(update(lots).where(due).values(pending=False))
    return BulkChunk(accounts=len(chunk), entries=int(written), points=int(released), last=last)
