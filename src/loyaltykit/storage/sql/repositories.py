"""The repositories of :mod:`loyaltykit.storage.base` over one SQL connection."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ClauseElement,
    ColumnElement,
    Connection,
    CursorResult,
    Dialect,
    Executable,
    Insert,
    Integer,
    Table,
    and_,
    bindparam,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from loyaltykit.domain.customer import Customer, CustomerStatus, Profile
from loyaltykit.domain.ledger import Account, Entry, Lot
from loyaltykit.domain.records import (
    entry_from_record,
    entry_to_record,
    profile_from_record,
    profile_to_record,
)
from loyaltykit.domain.shards import Shard
from loyaltykit.errors import (
    ConcurrencyConflict,
    CustomerAlreadyExists,
    ReadOnlyViolation,
    StorageDataError,
    StorageError,
    StorageIntegrityError,
    StorageUnavailable,
)
from loyaltykit.storage.base import IdempotencyRecord, StoredRecord, counter_take
from loyaltykit.storage.sql import schema
from loyaltykit.storage.sql.prepared import Cursor, Prepared, prepared
from loyaltykit.storage.sql.shards import in_shard, prepare
from loyaltykit.values import DEFAULT_TENANT, CustomerId, points_amount

__all__ = ["Counters", "Records", "Session"]

# drivers' codes for lost races: serialization failures, deadlocks, lock timeouts
_RACE_SQLSTATES = {"40001", "40P01", "55P03"}
_RACE_MYSQL = {1205, 1213, 3572}
_RACE_SQLITE = {5, 6, 261, 262, 517}  # SQLITE_BUSY, _LOCKED and their extended codes
# a new row with a key another writer inserted first: a lost race for an insert
_DUPLICATE_SQLSTATES = {"23505"}
_DUPLICATE_MYSQL = {1062}
_SQLITE_CONSTRAINT_UNIQUE = {1555, 2067}  # SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE
# MariaDB reports some inconsistent rows as general errors: a missing value, a broken reference
_INTEGRITY_MYSQL = {1048, 1364, 1451, 1452}
# values the database cannot hold
_DATA_SQLSTATES_CLASS = "22"
_DATA_MYSQL = {1264, 1265, 1366, 1406, 1690}
# a write refused by a read-only transaction or connection (PostgreSQL's
# read_only_sql_transaction, MariaDB's ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION, SQLite's
# SQLITE_READONLY under ``PRAGMA query_only``)
_READ_ONLY_SQLSTATES = {"25006"}
_READ_ONLY_MYSQL = {1792}
_READ_ONLY_SQLITE = {8}
# the server cannot be reached or dropped the connection: SQLSTATE class 08, and the
# MySQL client's "can't connect", "server has gone away", "lost connection" codes
_UNREACHABLE_MYSQL = {2002, 2003, 2005, 2006, 2013}


def translate(error: DBAPIError) -> Exception:
    """The loyaltykit error for a driver's error, by the driver's own codes (never by
    words in a message, which may quote a column or a value)."""
    original = error.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    sqlite = getattr(original, "sqlite_errorcode", None)
    mysql = original.args[0] if original is not None and original.args else None
    if not isinstance(mysql, int) or isinstance(mysql, bool):  # only MySQL's codes are ints
        mysql = None
    if state in _READ_ONLY_SQLSTATES or mysql in _READ_ONLY_MYSQL or sqlite in _READ_ONLY_SQLITE:
        return ReadOnlyViolation(f"a statement ({original})")
    if state in _RACE_SQLSTATES or mysql in _RACE_MYSQL or sqlite in _RACE_SQLITE:
        return ConcurrencyConflict(f"another writer won a race: {original}")
    if isinstance(error, IntegrityError) or mysql in _INTEGRITY_MYSQL:
        duplicate = (
            state in _DUPLICATE_SQLSTATES
            or mysql in _DUPLICATE_MYSQL
            or sqlite in _SQLITE_CONSTRAINT_UNIQUE
        )
        if duplicate:
            return ConcurrencyConflict(f"a row was written by another writer first: {original}")
        return StorageIntegrityError(f"the database refused an inconsistent row: {original}")
    if (state or "").startswith(_DATA_SQLSTATES_CLASS) or mysql in _DATA_MYSQL:
        return StorageDataError(f"the database cannot hold a value: {original}")
    if (
        error.connection_invalidated
        or (isinstance(state, str) and state.startswith("08"))
        or mysql in _UNREACHABLE_MYSQL
        or _is_unreachable(original)
    ):
        return StorageUnavailable(f"the database cannot be reached: {original}")
    return StorageError(f"the database refused a statement: {original}")


def _is_unreachable(original: BaseException | None) -> bool:
    # psycopg raises a bare OperationalError (no SQLSTATE) when it cannot connect
    return (
        type(original).__name__ == "OperationalError"
        and getattr(original, "sqlstate", "") is None
        and type(original).__module__.startswith("psycopg")
    )


class Session:
    """One connection in a transaction, for one programme. Statements go through
    :meth:`run` (Core), or :meth:`rows` and :meth:`write` for the command path's
    prepared statements.

    Every statement names its ``tenant``: prepared ones through the ``tenant`` (inserts)
    and ``key_tenant`` (conditions) parameters, which :meth:`rows` and :meth:`write` bind
    to this session's programme whatever the caller passed; Core ones in their own words
    (:meth:`mine`)."""

    def __init__(self, connection: Connection, tenant: str = DEFAULT_TENANT) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self.tenant = tenant
        self._tenant = {"tenant": tenant, "key_tenant": tenant}
        self._cursor: Cursor | None = None
        self.savepoints = 0  # taken in the current transaction: each one's name
        self._statements: dict[str, Prepared] = {}
        # SQLite writes an entry's lot ids in its own account as ``seq.idx`` (0016)
        self.own_lots = self.dialect.name == "sqlite"

    def mine(self, table: Table) -> ColumnElement[bool]:
        """``table``'s rows of this session's programme."""
        return table.c.tenant == self.tenant

    @property
    def cursor(self) -> Cursor:
        if self._cursor is None:
            self._cursor = Cursor(self.connection.connection.dbapi_connection, self.dialect)
        return self._cursor

    def statement(self, key: str) -> Prepared:
        """The prepared form of the command path's statement ``key`` (remembered by the
        session, which on SQLite lives as long as its connection)."""
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = prepared(key, self.dialect, _PREPARED[key])
        return found

    def rows(self, key: str, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        statement = self.statement(key)
        try:
            return self.cursor.rows(statement, {**values, **self._tenant})
        except DBAPIError as error:
            raise translate(error) from error

    def mappings(self, key: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        keys = self.statement(key).keys
        return [dict(zip(keys, row, strict=True)) for row in self.rows(key, values)]

    def write(self, key: str, values: Mapping[str, Any]) -> int:
        statement = self.statement(key)
        try:
            return self.cursor.write(statement, {**values, **self._tenant})
        except DBAPIError as error:
            raise translate(error) from error

    def write_many(self, key: str, values: Sequence[Mapping[str, Any]]) -> None:
        statement = self.statement(key)
        try:
            self.cursor.write_many(statement, [{**row, **self._tenant} for row in values])
        except DBAPIError as error:
            raise translate(error) from error

    def plain(self, sql: str) -> None:
        try:
            self.cursor.plain(sql)
        except DBAPIError as error:
            raise translate(error) from error

    def run(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Run a Core statement. Parameters given as one mapping to a query or an update
        get ``key_tenant``: the programme of the statements built once (an insert names
        its ``tenant`` column itself)."""
        if isinstance(parameters, Mapping) and not isinstance(statement, Insert):
            parameters = {**parameters, "key_tenant": self.tenant}
        try:
            if parameters is None:
                result = self.connection.execute(statement)
            else:
                result = self.connection.execute(statement, parameters)
            return cast(CursorResult[Any], result)
        except DBAPIError as error:
            raise translate(error) from error


# The statements every command runs, built once: building a Core expression costs about
# three times its execution on SQLite, so the hot path only binds parameters.
_customers, _accounts, _lots = schema.customers, schema.accounts, schema.lots
_TENANT: BindParameter[str] = bindparam("key_tenant")
_LOT_FIELDS = schema.fields(_lots)
_CUSTOMER = select(_customers).where(
    _customers.c.tenant == _TENANT, _customers.c.id == bindparam("customer_id")
)
_CUSTOMER_FOR_UPDATE = _CUSTOMER.with_for_update()
_ACCOUNT_KEY = and_(
    _accounts.c.tenant == _TENANT,
    _accounts.c.customer_id == bindparam("key_customer_id"),
    _accounts.c.point_type == bindparam("key_point_type"),
)
_ACCOUNT = select(*schema.fields(_accounts)).where(_ACCOUNT_KEY)
_IN_ACCOUNT = and_(
    _lots.c.tenant == _TENANT,
    _lots.c.customer_id == bindparam("customer_id"),
    _lots.c.point_type == bindparam("point_type"),
)
# ``remaining > 0`` is written out, not bound: the planner must see it to use the partial
# index of live lots (lk_lots_live)
_LIVE = _lots.c.remaining > literal_column("0")
# A debit's lots in spending order, a page at a time: lots that expire (soonest first,
# then oldest), then lots that never do (oldest first). Each part is a range of the index
# lk_lots_spendable, which holds that whole order, so a page costs the same however many
# live lots the account has; a later page starts after the last lot of the one before
# (keyset paging), not at an offset.
_RELEASED = and_(_IN_ACCOUNT, _lots.c.pending == false(), _LIVE)
_EXPIRING = and_(_RELEASED, _lots.c.expires_at > bindparam("at"))
_FOREVER = and_(_RELEASED, _lots.c.expires_at.is_(None))
_AFTER = tuple_(_lots.c.earned_at, _lots.c.seq, _lots.c.idx) > tuple_(
    # typed as their columns: an untyped instant would be bound in another text form
    bindparam("after_earned", type_=_lots.c.earned_at.type),
    bindparam("after_seq", type_=_lots.c.seq.type),
    bindparam("after_idx", type_=_lots.c.idx.type),
)
_PAGE = bindparam("page", type_=Integer)
_BY_EXPIRY = (_lots.c.expires_at, _lots.c.earned_at, _lots.c.seq, _lots.c.idx)
_BY_AGE = (_lots.c.earned_at, _lots.c.seq, _lots.c.idx)
_SPENDABLE_PAGES = {
    "spendable expiring": select(*_LOT_FIELDS).where(_EXPIRING).order_by(*_BY_EXPIRY).limit(_PAGE),
    "spendable expiring after": select(*_LOT_FIELDS)
    .where(
        _EXPIRING,
        _lots.c.expires_at >= bindparam("after_expires", type_=_lots.c.expires_at.type),
        # (expires_at, earned_at, seq, idx) after the last lot's: the >= above is the
        # index range, this drops the lots up to that one
        or_(_lots.c.expires_at > bindparam("after_expires", type_=_lots.c.expires_at.type), _AFTER),
    )
    .order_by(*_BY_EXPIRY)
    .limit(_PAGE),
    "spendable forever": select(*_LOT_FIELDS).where(_FOREVER).order_by(*_BY_AGE).limit(_PAGE),
    "spendable forever after": select(*_LOT_FIELDS)
    .where(_FOREVER, _AFTER)
    .order_by(*_BY_AGE)
    .limit(_PAGE),
}
# the first page holds what most debits take (one or two lots, and the one after);
# pages grow so that a debit of many lots still needs few statements
_FIRST_PAGE, _LAST_PAGE = 8, 512
# two index ranges rather than one OR, which would read every live lot of the account:
# released lots that expired, and pending lots that are due either way
# (``pending = false``, not ``IS false``: an index serves only the first). MariaDB has no
# partial index and its planner prefers the primary key, which walks every expired lot:
# it is told to take lk_lots_due, whose ``remaining > 0`` range skips them (0008)
_DUE = union_all(
    select(*_LOT_FIELDS)
    .with_hint(_lots, "FORCE INDEX (lk_lots_due)", dialect_name="mysql")
    .where(_IN_ACCOUNT, _lots.c.pending == false(), _LIVE, _lots.c.expires_at <= bindparam("at")),
    select(*_LOT_FIELDS).where(
        _IN_ACCOUNT,
        _lots.c.pending == true(),
        _LIVE,
        or_(_lots.c.available_from <= bindparam("at"), _lots.c.expires_at <= bindparam("at")),
    ),
)
_IDEMPOTENCY = select(schema.idempotency).where(
    schema.idempotency.c.tenant == _TENANT,
    schema.idempotency.c.customer_id == bindparam("customer_id"),
    schema.idempotency.c.key == bindparam("key"),
)
_STATE_KEY = and_(
    schema.customer_state.c.tenant == _TENANT,
    schema.customer_state.c.customer_id == bindparam("key_customer_id"),
    schema.customer_state.c.name == bindparam("key_name"),
)
_STATE = select(schema.customer_state.c.document).where(_STATE_KEY)
_INSERT = {table.name: insert(table) for table in schema.metadata.sorted_tables}


def _json(value: Any) -> str:
    if not value and isinstance(value, list):  # most entries change no metadata
        return "[]"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Customers:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, customer_id: CustomerId, *, for_update: bool = False) -> Customer | None:
        query = "customer for update" if for_update else "customer"
        rows = self._session.mappings(query, {"customer_id": customer_id})
        return _customer(rows[0]) if rows else None

    def add(self, customer: Customer) -> None:
        row = {"tenant": self._session.tenant, **_customer_row(customer)}
        try:
            self._session.connection.execute(_INSERT["lk_customers"], row)
        except IntegrityError as error:
            translated = translate(error)
            if isinstance(translated, ConcurrencyConflict):  # the id is taken
                raise CustomerAlreadyExists(customer.id) from error
            raise translated from error
        except DBAPIError as error:
            raise translate(error) from error

    def update(self, customer: Customer) -> None:
        row = _customer_row(customer)
        del row["id"]
        table = schema.customers
        mine = self._session.mine(table)
        self._session.run(update(table).where(mine, table.c.id == customer.id).values(**row))

    def ids(self, *, after: CustomerId | None = None, limit: int) -> list[CustomerId]:
        table = schema.customers
        query = (
            select(table.c.id).where(self._session.mine(table)).order_by(table.c.id).limit(limit)
        )
        if after is not None:
            query = query.where(schema.customers.c.id > after)
        return list(self._session.run(query).scalars())


def _customer_row(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "enrolled_at": customer.enrolled_at,
        "status": customer.status.value,
        "profile": _json(profile_to_record(customer.profile)),
        "referred_by": customer.referred_by,
        "erased_at": customer.erased_at,
    }


@functools.lru_cache(maxsize=1024)
def _profile(text: str) -> Profile:
    """The profile stored as ``text``. Every command reads its customer: profiles are
    immutable, so equal texts (most often the same customer's) share one parsed value."""
    return profile_from_record(json.loads(text))


def _customer(row: Mapping[Any, Any]) -> Customer:
    return Customer(
        id=row["id"],
        enrolled_at=row["enrolled_at"],
        status=CustomerStatus(row["status"]),
        profile=_profile(row["profile"]),
        referred_by=row["referred_by"],
        erased_at=row["erased_at"],
    )


_ACCOUNT_COUNTS = (
    "available",
    "pending",
    "deficit",
    "lifetime_earned",
    "lifetime_redeemed",
    "lifetime_expired",
    "last_seq",
    "last_at",
)


class Ledger:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- accounts -----------------------------------------------------------------

    def account(self, customer_id: CustomerId, point_type: str) -> Account | None:
        key = {"key_customer_id": customer_id, "key_point_type": point_type}
        rows = self._session.mappings("account", key)
        return Account(**rows[0]) if rows else None

    def accounts(self, customer_id: CustomerId) -> list[Account]:
        table = schema.accounts
        query = (
            select(*schema.fields(table))
            .where(self._session.mine(table), table.c.customer_id == customer_id)
            .order_by(table.c.point_type)
        )
        return [Account(**dict(row)) for row in self._session.run(query).mappings()]

    def save_account(self, account: Account) -> None:
        values = {name: getattr(account, name) for name in _ACCOUNT_COUNTS}
        values["customer_id"], values["point_type"] = account.customer_id, account.point_type
        self._session.write("upsert account", values)

    # --- entries ------------------------------------------------------------------

    def add_entries(self, entries: Sequence[Entry]) -> None:
        own = self._session.own_lots
        if len(entries) == 1:
            self._session.write("insert entry", _entry_row(entries[0], own))
        elif entries:
            self._session.write_many("insert entry", [_entry_row(entry, own) for entry in entries])

    def entries(self, customer_id: CustomerId, point_type: str) -> list[Entry]:
        table = schema.entries
        return self._entries_where(
            (table.c.customer_id == customer_id, table.c.point_type == point_type),
            table.c.seq,
        )

    def entries_by_key(self, customer_id: CustomerId, idempotency_key: str) -> list[Entry]:
        table = schema.entries
        return self._entries_where(
            (table.c.customer_id == customer_id, table.c.idempotency_key == idempotency_key),
            table.c.point_type,
            table.c.seq,
        )

    def entries_by_seq(
        self, customer_id: CustomerId, point_type: str, seqs: Collection[int]
    ) -> list[Entry]:
        if not seqs:
            return []
        table = schema.entries
        return self._entries_where(
            (
                table.c.customer_id == customer_id,
                table.c.point_type == point_type,
                table.c.seq.in_(sorted(set(seqs))),
            ),
            table.c.seq,
        )

    def _entries_where(
        self, conditions: tuple[ColumnElement[bool], ...], *order: ColumnElement[Any]
    ) -> list[Entry]:
        """This programme's entries meeting every condition, in ``order``."""
        table = schema.entries
        query = (
            select(*schema.fields(table))
            .where(self._session.mine(table), *conditions)
            .order_by(*order)
        )
        return [_entry(row) for row in self._session.run(query).mappings()]

    def reversals_of(self, customer_id: CustomerId, entry_id: str) -> list[Entry]:
        table = schema.entries
        query = (
            select(*schema.fields(table))
            .where(
                self._session.mine(table),
                table.c.customer_id == customer_id,
                table.c.reverses == entry_id,
            )
            .order_by(table.c.seq)
        )
        return [_entry(row) for row in self._session.run(query).mappings()]

    # --- lots ---------------------------------------------------------------------

    def save_lots(self, lots: Sequence[Lot]) -> None:
        # one upsert per lot: a new lot is inserted, a changed one replaced
        if len(lots) == 1:
            self._session.write("upsert lot", _lot_row(lots[0]))
        elif lots:
            self._session.write_many("upsert lot", [_lot_row(lot) for lot in lots])

    def lots(self, customer_id: CustomerId, point_type: str) -> list[Lot]:
        table = schema.lots
        query = (
            select(*schema.fields(table))
            .where(
                self._session.mine(table),
                table.c.customer_id == customer_id,
                table.c.point_type == point_type,
            )
            .order_by(table.c.seq, table.c.idx)
        )
        return [_lot(row) for row in self._session.run(query).mappings()]

    def lots_by_id(self, customer_id: CustomerId, lot_ids: Collection[str]) -> list[Lot]:
        table = schema.lots
        keys = []
        prefix = f"{customer_id}:"
        for lot_id in lot_ids:
            if not lot_id.startswith(prefix):
                continue
            point_type, position = lot_id[len(prefix) :].rsplit(":", 1)
            seq, _, index = position.partition(".")
            keys.append(
                and_(
                    table.c.point_type == point_type,
                    table.c.seq == int(seq),
                    table.c.idx == int(index),
                )
            )
        if not keys:
            return []
        query = select(*_LOT_FIELDS).where(
            self._session.mine(table), table.c.customer_id == customer_id, or_(*keys)
        )
        return [_lot(row) for row in self._session.run(query).mappings()]

    def spendable_lots(
        self, customer_id: CustomerId, point_type: str, at: datetime
    ) -> Iterator[Lot]:
        # a page at a time, each read at once (fetchall): the caller may run other
        # statements on this connection between pages, and stops when it has enough
        parameters: dict[str, Any] = {
            "customer_id": customer_id,
            "point_type": point_type,
            "at": at,
        }
        page = _FIRST_PAGE
        for part in ("spendable expiring", "spendable forever"):
            query = part
            while True:
                rows = self._session.rows(query, {**parameters, "page": page})
                for row in rows:
                    yield _lot_of(row)
                if len(rows) < page:
                    break
                last = rows[-1]  # columns by position: expires_at 7, earned_at 6, seq 2, idx 3
                parameters.update(
                    after_expires=last[7],
                    after_earned=last[6],
                    after_seq=last[2],
                    after_idx=last[3],
                )
                query = f"{part} after"
                page = min(page * 4, _LAST_PAGE)

    def due_lots(self, customer_id: CustomerId, point_type: str, at: datetime) -> list[Lot]:
        parameters = {"customer_id": customer_id, "point_type": point_type, "at": at}
        return [_lot_of(row) for row in self._session.rows("due", parameters)]

    def expiring(
        self, customer_id: CustomerId, point_type: str, after: datetime, until: datetime
    ) -> int:
        table = schema.lots
        query = select(func.coalesce(func.sum(table.c.remaining), 0)).where(
            self._session.mine(table),
            table.c.customer_id == customer_id,
            table.c.point_type == point_type,
            table.c.pending.is_(False),
            table.c.expires_at > after,
            table.c.expires_at <= until,
        )
        return int(self._session.run(query).scalar_one())

    def accounts_with_due_lots(
        self, at: datetime, *, limit: int, work: str, shard: Shard | None = None
    ) -> list[tuple[CustomerId, str]]:
        table = schema.lots
        if work == "expire":
            due = and_(table.c.remaining > 0, table.c.expires_at <= at)
        else:
            due = and_(
                table.c.remaining > 0,
                table.c.pending.is_(True),
                table.c.available_from <= at,
                or_(table.c.expires_at.is_(None), table.c.available_from < table.c.expires_at),
            )
        query = (
            select(table.c.customer_id, table.c.point_type)
            .where(self._session.mine(table), due)
            .group_by(table.c.customer_id, table.c.point_type)
            .order_by(table.c.customer_id, table.c.point_type)
            .limit(limit)
        )
        if shard is not None:
            prepare(self._session.connection)
            query = query.where(in_shard(table.c.customer_id, shard))
        return [(str(row.customer_id), str(row.point_type)) for row in self._session.run(query)]


_LOT_KEY_COLUMNS = ("tenant", "customer_id", "point_type", "seq", "idx")


def _upsert(table: Table, keys: Sequence[str]) -> Callable[[Dialect], ClauseElement]:
    """``INSERT``, or replace the row with the same primary key, in the dialect's words."""

    def build(dialect: Dialect) -> ClauseElement:
        others = [column.name for column in table.columns if column.name not in keys]
        if dialect.name in ("sqlite", "postgresql"):
            module: Any
            if dialect.name == "sqlite":
                from sqlalchemy.dialects import sqlite as module
            else:
                from sqlalchemy.dialects import postgresql as module
            statement = module.insert(table)
            upsert: ClauseElement = statement.on_conflict_do_update(
                index_elements=list(keys),
                set_={name: statement.excluded[name] for name in others},
            )
            return upsert
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql

            statement = mysql.insert(table)
            return statement.on_duplicate_key_update(
                {name: statement.inserted[name] for name in others}
            )
        raise StorageError(f"no upsert for the {dialect.name!r} dialect")  # pragma: no cover

    return build


# the command path's statements, run through prepared.Cursor (see prepared.py)
_PREPARED: dict[str, ClauseElement | Callable[[Dialect], ClauseElement]] = {
    "customer": _CUSTOMER,
    "customer for update": _CUSTOMER_FOR_UPDATE,
    "account": _ACCOUNT,
    "upsert account": _upsert(schema.accounts, ("tenant", "customer_id", "point_type")),
    "insert entry": _INSERT["lk_entries"],
    "upsert lot": _upsert(schema.lots, _LOT_KEY_COLUMNS),
    **_SPENDABLE_PAGES,
    "due": _DUE,
    "idempotency": _IDEMPOTENCY,
    "state": _STATE,
    "upsert state": _upsert(schema.customer_state, ("tenant", "customer_id", "name")),
}


# SET clauses bind "v_<column>": a bind parameter may not be named like the column it sets
def _bound(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f"v_{name}": value for name, value in values.items()}


def _entry_row(entry: Entry, own_lots: bool = False) -> dict[str, Any]:
    """The row of ``entry``. ``own_lots`` (SQLite, 0016): the ids of the lots it changed
    in its own account are written as ``seq.idx``, without the customer and point type
    the row holds already (:func:`_entry` reads both forms)."""
    record = entry_to_record(entry)
    portion = record.pop("portion")
    changes = record["lots"]
    if own_lots and changes:
        prefix = f"{entry.customer_id}:{entry.point_type}:"
        changes = [[_own_lot(lot_id, prefix), delta] for lot_id, delta in changes]
    return {
        **record,
        "occurred_at": entry.occurred_at,
        "recorded_at": entry.recorded_at,
        "reversed_portion": portion,
        "lots": _json(changes),
        "metadata": _json(record["metadata"]),
    }


def _own_lot(lot_id: str, prefix: str) -> str:
    """``lot_id`` without ``prefix`` (its account's), if what is left has no colon: a lot
    id without one is always a lot of the entry's own account."""
    if lot_id.startswith(prefix):
        rest = lot_id[len(prefix) :]
        if ":" not in rest:
            return rest
    return lot_id


def _entry(row: Mapping[Any, Any]) -> Entry:
    record = dict(row)
    record["portion"] = record.pop("reversed_portion")
    changes = json.loads(record["lots"])
    if changes:
        prefix = f"{record['customer_id']}:{record['point_type']}:"
        changes = [
            [lot_id if ":" in lot_id else prefix + lot_id, delta] for lot_id, delta in changes
        ]
    record["lots"] = changes
    record["metadata"] = json.loads(record["metadata"])
    return entry_from_record(record)


def _lot_row(lot: Lot) -> dict[str, Any]:
    return {
        "customer_id": lot.customer_id,
        "point_type": lot.point_type,
        "seq": lot.seq,
        "idx": lot.index,
        "amount": lot.amount,
        "remaining": lot.remaining,
        "earned_at": lot.earned_at,
        "expires_at": lot.expires_at,
        "available_from": lot.available_from,
        "pending": lot.pending,
        "expired": lot.expired,
        "withdrawn": lot.withdrawn,
        "forgiven": lot.forgiven,
        "shortfall": lot.shortfall,
    }


def _lot_of(row: Sequence[Any]) -> Lot:
    """A lot from a row of ``select(lots)``, by position (the table's column order)."""
    return Lot(
        customer_id=row[0],
        point_type=row[1],
        seq=row[2],
        index=row[3],
        amount=row[4],
        remaining=row[5],
        earned_at=row[6],
        expires_at=row[7],
        available_from=row[8],
        pending=bool(row[9]),
        expired=row[10],
        withdrawn=row[11],
        forgiven=row[12],
        shortfall=row[13],
    )


def _lot(row: Mapping[Any, Any]) -> Lot:
    values = dict(row)
    values["index"] = values.pop("idx")
    values["pending"] = bool(values["pending"])
    return Lot(**values)


class Idempotency:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, customer_id: CustomerId, key: str) -> IdempotencyRecord | None:
        rows = self._session.mappings("idempotency", {"customer_id": customer_id, "key": key})
        if not rows:
            return None
        row = rows[0]
        return IdempotencyRecord(
            customer_id=row["customer_id"],
            key=row["key"],
            command=row["command"],
            fingerprint=row["fingerprint"],
            outcome=json.loads(row["outcome"]),
            recorded_at=row["recorded_at"],
        )

    def add(self, record: IdempotencyRecord) -> None:
        row = {
            "tenant": self._session.tenant,
            "customer_id": record.customer_id,
            "key": record.key,
            "command": record.command,
            "fingerprint": record.fingerprint,
            "outcome": _json(record.outcome),
            "recorded_at": record.recorded_at,
        }
        statement = prepared("insert idempotency", self._session.dialect, _INSERT["lk_idempotency"])
        try:
            self._session.cursor.write(statement, row)
        except IntegrityError as error:
            translated = translate(error)
            if isinstance(translated, ConcurrencyConflict):
                raise ConcurrencyConflict(
                    f"idempotency key {record.key!r} of customer {record.customer_id!r} is taken"
                ) from error
            raise translated from error
        except DBAPIError as error:
            raise translate(error) from error

    def redact(self, customer_id: CustomerId, commands: Collection[str]) -> None:
        table = schema.idempotency
        self._session.run(
            update(table)
            .where(
                self._session.mine(table),
                table.c.customer_id == customer_id,
                table.c.command.in_(list(commands)),
            )
            .values(outcome=_json({"redacted": True}))
        )


class CustomerState:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, customer_id: CustomerId, name: str) -> dict[str, Any] | None:
        rows = self._session.rows("state", {"key_customer_id": customer_id, "key_name": name})
        return dict(json.loads(rows[0][0])) if rows else None

    def put(
        self,
        customer_id: CustomerId,
        name: str,
        document: Mapping[str, Any],
        *,
        due_at: datetime | None = None,
    ) -> None:
        values = {"document": _json(dict(document)), "due_at": due_at}
        self._session.write("upsert state", {"customer_id": customer_id, "name": name, **values})

    def due(
        self, name: str, at: datetime, *, limit: int, shard: Shard | None = None
    ) -> list[CustomerId]:
        table = schema.customer_state
        query = (
            select(table.c.customer_id)
            .where(self._session.mine(table), table.c.name == name, table.c.due_at <= at)
            .order_by(table.c.due_at, table.c.customer_id)
            .limit(limit)
        )
        if shard is not None:
            prepare(self._session.connection)
            query = query.where(in_shard(table.c.customer_id, shard))
        return list(self._session.run(query).scalars())


_records, _counters = schema.records, schema.counters
_RECORD_KEY = and_(
    _records.c.tenant == _TENANT,
    _records.c.owner == bindparam("key_owner"),
    _records.c.kind == bindparam("key_kind"),
    _records.c.id == bindparam("key_id"),
)
_RECORD = select(_records).where(_RECORD_KEY)
_RECORD_FOR_UPDATE = _RECORD.with_for_update()
_SAVE_RECORD = (
    update(_records)
    .where(_RECORD_KEY)
    .values(
        document=bindparam("v_document"), due_at=bindparam("v_due_at"), lookup=bindparam("v_lookup")
    )
)
_lookups = schema.lookups
_LOOKUP_KEY = and_(
    _lookups.c.tenant == _TENANT,
    _lookups.c.kind == bindparam("key_kind"),
    _lookups.c.lookup == bindparam("key_lookup"),
)
_LOOKUP = select(_lookups.c.owner, _lookups.c.id).where(_LOOKUP_KEY)
_LOOKUP_FOR_UPDATE = _LOOKUP.with_for_update()
_MOVE_LOOKUP = (
    update(_lookups)
    .where(
        _LOOKUP_KEY,
        _lookups.c.owner == bindparam("old_owner"),
        _lookups.c.id == bindparam("old_id"),
    )
    .values(owner=bindparam("v_owner"), id=bindparam("v_id"))
)


_COUNTER_KEY = and_(_counters.c.tenant == _TENANT, _counters.c.name == bindparam("key_name"))
_COUNTER = select(_counters.c.value).where(_COUNTER_KEY)
_COUNTER_FOR_UPDATE = _COUNTER.with_for_update()
_SET_COUNTER = update(_counters).where(_COUNTER_KEY).values(value=bindparam("v"))


def _stored(row: Mapping[Any, Any]) -> StoredRecord:
    return StoredRecord(
        owner=row["owner"],
        kind=row["kind"],
        id=row["id"],
        document=dict(json.loads(row["document"])),
        due_at=row["due_at"],
        lookup=row["lookup"],
    )


class Records:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(
        self, owner: str, kind: str, record_id: str, *, for_update: bool = False
    ) -> StoredRecord | None:
        query = _RECORD_FOR_UPDATE if for_update else _RECORD
        key = {"key_owner": owner, "key_kind": kind, "key_id": record_id}
        row = self._session.run(query, key).mappings().first()
        return None if row is None else _stored(row)

    def put(
        self,
        owner: str,
        kind: str,
        record_id: str,
        document: Mapping[str, Any],
        *,
        due_at: datetime | None = None,
        lookup: str | None = None,
    ) -> None:
        values = {"document": _json(dict(document)), "due_at": due_at, "lookup": lookup}
        key = {"key_owner": owner, "key_kind": kind, "key_id": record_id}
        if lookup is not None:
            self._claim(kind, lookup, owner, record_id)
        if self._session.run(_SAVE_RECORD, {**key, **_bound(values)}).rowcount:
            return
        row = {"tenant": self._session.tenant, "owner": owner, "kind": kind, "id": record_id}
        self._session.run(_INSERT["lk_records"], {**row, **values})

    def _claim(self, kind: str, lookup: str, owner: str, record_id: str) -> None:
        """Make ``lookup`` point at this record, or raise ConcurrencyConflict when another
        record holds it. Each statement names one lookup (one shard of ``lk_lookups``) or
        one record (its owner's shard): no statement spans owners."""
        session, key = self._session, {"key_kind": kind, "key_lookup": lookup}
        found = session.run(_LOOKUP_FOR_UPDATE, key).mappings().first()
        holder = None if found is None else (str(found["owner"]), str(found["id"]))
        if holder is None:
            row = {
                "tenant": session.tenant,
                "kind": kind,
                "lookup": lookup,
                "owner": owner,
                "id": record_id,
            }
            if session.run(
                _insert_missing(_lookups, session.connection.dialect.name), row
            ).rowcount:
                return
            raced = session.run(_LOOKUP_FOR_UPDATE, key).mappings().one()  # a racer's
            holder = (str(raced["owner"]), str(raced["id"]))
        if (holder[0], holder[1]) == (owner, record_id):
            return
        held = self.get(holder[0], kind, holder[1], for_update=True)
        if held is not None and held.lookup == lookup:
            raise ConcurrencyConflict(
                f"lookup {lookup!r} of kind {kind!r} is taken by record {holder[1]!r}"
            )
        # a lookup its record no longer has: taken over, unless a racer took it first
        old = {"old_owner": holder[0], "old_id": holder[1]}
        moved = session.run(_MOVE_LOOKUP, {**key, **old, "v_owner": owner, "v_id": record_id})
        if not moved.rowcount:
            raise ConcurrencyConflict(f"lookup {lookup!r} of kind {kind!r} was taken meanwhile")

    def find(self, kind: str, lookup: str) -> StoredRecord | None:
        key = {"key_kind": kind, "key_lookup": lookup}
        holder = self._session.run(_LOOKUP, key).mappings().first()
        if holder is None:
            return None
        found = self.get(str(holder["owner"]), kind, str(holder["id"]))
        # the record's own lookup is the current one: a row of a changed lookup is stale
        return found if found is not None and found.lookup == lookup else None

    def of_owner(self, owner: str, kind: str) -> list[StoredRecord]:
        query = (
            select(_records)
            .where(self._session.mine(_records), _records.c.owner == owner, _records.c.kind == kind)
            .order_by(_records.c.id)
        )
        return [_stored(row) for row in self._session.run(query).mappings()]

    def due(self, kind: str, at: datetime, *, limit: int) -> list[StoredRecord]:
        query = (
            select(_records)
            .where(self._session.mine(_records), _records.c.kind == kind, _records.c.due_at <= at)
            .order_by(_records.c.due_at, _records.c.owner, _records.c.id)
            .limit(limit)
        )
        return [_stored(row) for row in self._session.run(query).mappings()]

    def scan(
        self, kind: str, *, after: tuple[str, str] | None = None, limit: int
    ) -> list[StoredRecord]:
        query = (
            select(_records)
            .where(self._session.mine(_records), _records.c.kind == kind)
            .order_by(_records.c.owner, _records.c.id)
            .limit(limit)
        )
        if after is not None:
            owner, record_id = after
            query = query.where(
                or_(
                    _records.c.owner > owner,
                    and_(_records.c.owner == owner, _records.c.id > record_id),
                )
            )
        return [_stored(row) for row in self._session.run(query).mappings()]


class Counters:
    def __init__(self, session: Session) -> None:
        self._session = session

    def value(self, name: str) -> int:
        found = self._session.run(_COUNTER, {"key_name": name}).scalar_one_or_none()
        return 0 if found is None else int(found)

    def take(
        self, name: str, amount: int, *, limit: int | None = None, partial: bool = False
    ) -> int:
        points_amount("amount", amount)
        current = self._locked(name)
        taken = counter_take(current, amount, limit=limit, partial=partial)
        if taken:
            self._session.run(_SET_COUNTER, {"key_name": name, "v": current + taken})
        return taken

    def restore(self, name: str, amount: int) -> None:
        points_amount("amount", amount)
        current = self._locked(name)
        self._session.run(_SET_COUNTER, {"key_name": name, "v": max(0, current - amount)})

    def _locked(self, name: str) -> int:
        """The counter's value under its row lock, creating the row at 0 if missing
        (an insert that ignores a row another writer created first)."""
        session = self._session
        found = session.run(_COUNTER_FOR_UPDATE, {"key_name": name}).scalar_one_or_none()
        if found is not None:
            return int(found)
        session.run(
            _insert_missing(_counters, session.connection.dialect.name),
            {"tenant": session.tenant, "name": name, "value": 0},
        )
        return int(session.run(_COUNTER_FOR_UPDATE, {"key_name": name}).scalar_one())


def _insert_missing(table: Table, dialect: str) -> Executable:
    """An INSERT of a row that does nothing when a row with its key exists (a counter
    created at 0, a lookup a racer inserted first)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table).prefix_with("IGNORE")
