"""Set-based expiry: a chunk of accounts expired by three statements, not a Python loop.

Eligible accounts are those whose settlement is expiry alone: no deficit and no pending
lot due for release by ``at`` (a release may repay a deficit, and must come first; those
accounts take the per-account path). For the chunk, in one transaction under the
customers' locks:

1. ``INSERT ... SELECT`` one ``expire`` entry per due lot, numbered after the account's
   last entry in spending order (``ROW_NUMBER() OVER``), dated at the lot's expiry;
2. ``UPDATE`` the accounts by the sums of what expires;
3. ``UPDATE`` the lots: what was left is now expired.

The entries are exactly those the domain's ``settle`` would write; a property test
compares the two paths. Re-running finds nothing left to do: the work is idempotent and
can stop after any chunk.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Connection,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    update,
)

from loyaltykit.storage.sql import schema

__all__ = ["expire_chunk"]

lots, accounts, entries = schema.lots, schema.accounts, schema.entries


def _eligible(at: datetime, limit: int) -> object:
    due_release = exists().where(
        lots.c.customer_id == accounts.c.customer_id,
        lots.c.point_type == accounts.c.point_type,
        lots.c.pending.is_(True),
        lots.c.remaining > 0,
        lots.c.available_from <= at,
    )
    due_expiry = exists().where(
        lots.c.customer_id == accounts.c.customer_id,
        lots.c.point_type == accounts.c.point_type,
        lots.c.remaining > 0,
        lots.c.expires_at <= at,
    )
    return (
        select(accounts.c.customer_id, accounts.c.point_type)
        .where(accounts.c.deficit == 0, due_expiry, ~due_release)
        .order_by(accounts.c.customer_id, accounts.c.point_type)
        .limit(limit)
    )


def expire_chunk(connection: Connection, at: datetime, *, limit: int) -> tuple[int, int, int]:
    """Expire the due lots of up to ``limit`` eligible accounts; ``(accounts, entries,
    points)`` done. The caller runs it in a transaction and commits."""
    chunk = [(row[0], row[1]) for row in connection.execute(_eligible(at, limit))]  # type: ignore[call-overload]
    if not chunk:
        return 0, 0, 0
    customers = sorted({customer_id for customer_id, _ in chunk})
    # the same lock every command takes first, in id order: no deadlocks
    connection.execute(
        select(schema.customers.c.id)
        .where(schema.customers.c.id.in_(customers))
        .order_by(schema.customers.c.id)
        .with_for_update()
    ).all()
    in_chunk = tuple_(lots.c.customer_id, lots.c.point_type).in_(chunk)
    due = and_(in_chunk, lots.c.remaining > 0, lots.c.expires_at <= at)
    number = func.row_number().over(
        partition_by=(lots.c.customer_id, lots.c.point_type),
        order_by=(lots.c.expires_at, lots.c.earned_at, lots.c.seq, lots.c.idx),
    )
    lot_id = (
        lots.c.customer_id
        + literal(":")
        + lots.c.point_type
        + literal(":")
        + cast(lots.c.seq, String)
        + literal(".")
        + cast(lots.c.idx, String)
    )
    change = (
        literal('[["') + lot_id + literal('",') + cast(-lots.c.remaining, String) + literal("]]")
    )
    pending = lots.c.pending.is_(True)
    rows = (
        select(
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
        .select_from(
            lots.join(
                accounts,
                and_(
                    accounts.c.customer_id == lots.c.customer_id,
                    accounts.c.point_type == lots.c.point_type,
                ),
            )
        )
        .where(due)
    )
    written, expired = connection.execute(
        select(func.count(), func.coalesce(func.sum(lots.c.remaining), 0)).where(due)
    ).one()
    connection.execute(
        entries.insert().from_select(
            [
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
            ],
            rows,
        )
    )
    mine = and_(
        lots.c.customer_id == accounts.c.customer_id,
        lots.c.point_type == accounts.c.point_type,
        lots.c.remaining > 0,
        lots.c.expires_at <= at,
    )

    def total(*condition: object) -> object:
        return (
            select(func.coalesce(func.sum(lots.c.remaining), 0))
            .where(mine, *condition)  # type: ignore[arg-type]
            .scalar_subquery()
        )

    count = select(func.count()).where(mine).scalar_subquery()
    account_chunk = tuple_(accounts.c.customer_id, accounts.c.point_type).in_(chunk)
    connection.execute(
        update(accounts)
        .where(account_chunk)
        .values(
            available=accounts.c.available - total(lots.c.pending.is_(False)),
            pending=accounts.c.pending - total(lots.c.pending.is_(True)),
            lifetime_expired=accounts.c.lifetime_expired + total(),
            last_seq=accounts.c.last_seq + count,
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
    return len(chunk), int(written), int(expired)
