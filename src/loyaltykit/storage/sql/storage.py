"""The SQL backend: SQLAlchemy Core on SQLite (the embedded default), PostgreSQL and MariaDB.

Concurrency control is a row lock on the customer: every command reads its customer
``FOR UPDATE`` first (SQLite takes the database write lock with ``BEGIN IMMEDIATE``), so
two commands on one customer run one after the other, on any number of processes. See
``docs/concepts/storage.md`` for why this, and not optimistic versions.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import QueuePool, StaticPool

from loyaltykit.domain.shards import Shard
from loyaltykit.errors import (
    ConcurrencyConflict,
    InvalidArgument,
    SchemaNotReady,
    StorageError,
    StorageUnavailable,
)
from loyaltykit.storage.base import BulkChunk, Capabilities, LedgerTotalsRow
from loyaltykit.storage.sql.bulk import expire_chunk, release_chunk
from loyaltykit.storage.sql.repositories import (
    Counters,
    Customers,
    CustomerState,
    Idempotency,
    Ledger,
    Records,
    Session,
    translate,
)
from loyaltykit.storage.sql.stored_value import MemberCards, StoredValue
from loyaltykit.storage.sql.totals import ledger_totals
from loyaltykit.values import DEFAULT_TENANT, tenant_key

__all__ = ["SqlStorage", "SqlUnitOfWork", "head", "revision", "shown", "upgrade"]

log = logging.getLogger("loyaltykit.storage.sql")

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "lk_alembic_version"
# the name of the lock every migrating process takes first (one name per database)
MIGRATION_LOCK = "loyaltykit-migrate"
_POSTGRES_LOCK_KEY = 0x6C6B_6D69  # "lkmi": pg_advisory_lock takes a 64-bit number


def shown(url: object) -> str:
    """A database URL fit for a message or a log line: its password replaced by ``***``."""
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL SQLAlchemy reads: still hide what looks like a login
        return re.sub(r"//[^/@]*@", "//***@", str(url))


def _engine(url: str, **settings: Any) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidArgument(f"storage URL {shown(url)!r} is not a database URL") from None
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        if _in_memory(parsed.database):
            # an in-memory database lives and dies with its connection: one connection
            # for every thread (SqlStorage serialises them), or each thread would get
            # a database of its own, without tables
            options["poolclass"] = StaticPool
    else:
        options["isolation_level"] = "READ COMMITTED"
        if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    options.update(settings)
    try:
        engine = create_engine(parsed, **options)
    except TypeError as error:  # an engine setting SQLAlchemy does not know
        raise InvalidArgument(f"engine settings {sorted(settings)}: {error}") from None
    except (NoSuchModuleError, ModuleNotFoundError) as error:
        extra = {"postgresql": "postgres", "mysql": "mysql"}.get(parsed.get_backend_name(), "sql")
        raise StorageUnavailable(
            f"no driver for {parsed.drivername!r} ({error}); pip install 'loyaltykit[{extra}]'"
        ) from None
    if engine.dialect.name == "sqlite":
        _sqlite(engine)
    return engine


def _in_memory(database: str | None) -> bool:
    """Whether a SQLite URL's database is in memory (``sqlite://``, ``sqlite:///:memory:``)."""
    return database in (None, "", ":memory:")


def _sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and transactions that take the write lock at
    once: pysqlite's own transaction handling is switched off (the SQLAlchemy recipe)."""

    @event.listens_for(engine, "connect")
    def _connect(connection: Any, _record: Any) -> None:
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # deleted and overwritten content is zeroed in the pages, not left readable
        # (an erased member's profile); scrub() then checkpoints the WAL
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # on the driver's connection: SQLAlchemy's exec_driver_sql cost a third of an
        # empty unit of work. A unit of work begins its transaction on the driver
        # itself (SqlUnitOfWork): a Core statement inside it finds that one open
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        if dbapi.in_transaction:
            return
        try:
            if connection.info.get(_QUERY_ONLY):
                # last lent to a read-only unit of work (the one connection of an
                # in-memory database is every unit's): this transaction writes
                dbapi.execute("PRAGMA query_only=0")
                connection.info[_QUERY_ONLY] = False
            dbapi.execute("BEGIN IMMEDIATE")
        except connection.dialect.loaded_dbapi.Error as error:
            # wrapped as SQLAlchemy wraps a statement's error, so callers translate it
            raise DBAPIError.instance(
                "BEGIN IMMEDIATE",
                (),
                error,
                connection.dialect.loaded_dbapi.Error,
                dialect=connection.dialect,
            ) from error


def _config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The latest schema revision this version of loyaltykit ships."""
    from alembic.script import ScriptDirectory

    latest = ScriptDirectory.from_config(_config()).get_current_head()
    assert latest is not None
    return latest


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Create or upgrade the schema of the database ``target`` names (Alembic).

    ``revision`` is a revision id (``"0001"``) or ``"head"``; an unknown one raises
    :class:`~loyaltykit.errors.InvalidArgument` and changes nothing.
    """
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    config = _config()
    try:
        ScriptDirectory.from_config(config).get_revision(revision)
    except CommandError:
        raise InvalidArgument(
            f"schema revision {revision!r} is unknown; use 'head' or one of "
            f"{', '.join(_revisions())}"
        ) from None
    engine = _engine(target) if isinstance(target, str) else target
    try:
        for attempt in range(_MIGRATION_ATTEMPTS):
            try:
                _upgrade_once(engine, config, revision, command)
                break
            except DBAPIError as error:
                translated = translate(error)
                # SQLite answers "database is locked" at once, whatever its busy timeout,
                # while another process switches a new file to WAL: wait and try again
                if not isinstance(translated, ConcurrencyConflict):
                    raise translated from error
                if attempt == _MIGRATION_ATTEMPTS - 1:
                    raise translated from error
                log.info("schema upgrade of %s waits for another process", shown(engine.url))
                time.sleep(0.05 * (attempt + 1))
    except CommandError as error:  # e.g. the database is at a revision we do not ship
        raise StorageError(f"cannot upgrade the schema: {error}") from None
    finally:
        if isinstance(target, str):
            engine.dispose()


_MIGRATION_ATTEMPTS = 20


def _upgrade_once(engine: Engine, config: Any, revision: str, command: Any) -> None:
    with engine.connect() as connection, _migration_lock(connection):
        with connection.begin():
            before = _current(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            after = _current(connection)
        if before != after:
            log.info("schema of %s upgraded: %s -> %s", shown(engine.url), before, after)


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """Hold the database's migration lock: one process migrates, the others wait for it
    and then find nothing left to do. SQLite needs none: the migration's transaction
    begins with ``BEGIN IMMEDIATE``, which takes the database's write lock."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({_POSTGRES_LOCK_KEY})")
        connection.commit()
        try:
            yield
        finally:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_POSTGRES_LOCK_KEY})")
            connection.commit()
    elif dialect in ("mysql", "mariadb"):
        got = connection.exec_driver_sql(f"SELECT GET_LOCK('{MIGRATION_LOCK}', 300)").scalar()
        connection.commit()
        if got != 1:
            raise StorageError(f"timed out waiting for the migration lock {MIGRATION_LOCK!r}")
        try:
            yield
        finally:
            connection.exec_driver_sql(f"SELECT RELEASE_LOCK('{MIGRATION_LOCK}')")
            connection.commit()
    else:
        yield


def _current(connection: Connection) -> str | None:
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return sorted(item.revision for item in script.walk_revisions())


def revision(target: str | Engine) -> str | None:
    """The schema revision of the database ``target`` names, ``None`` if it has no
    loyaltykit schema. A SQLite file that does not exist is an error, not created."""
    engine = _engine(target) if isinstance(target, str) else target
    database = engine.url.database
    in_file = engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
    if in_file and not Path(str(database)).exists():
        if isinstance(target, str):
            engine.dispose()
        raise StorageUnavailable(f"no SQLite database file at {database!r}")
    try:
        with engine.connect() as connection:
            return _current(connection)
    except DBAPIError as error:
        raise translate(error) from error
    finally:
        if isinstance(target, str):
            engine.dispose()


def _brand_new(engine: Engine) -> bool:
    """A SQLite database with nothing in it: the embedded default, created on first use."""
    if engine.dialect.name != "sqlite":
        return False
    database = engine.url.database
    if database in (None, "", ":memory:") or not Path(str(database)).exists():
        return True
    try:
        with engine.connect() as connection:
            tables = connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except DBAPIError as error:
        raise translate(error) from error
    return tables == 0


# an in-memory database at the latest schema, migrated once per process: every later
# brand-new in-memory database is a copy of it (SQLite's backup), not a second migration
_AT_HEAD: list[sqlite3.Connection] = []
_AT_HEAD_LOCK = threading.Lock()


def _create_in_memory(engine: Engine) -> None:
    """Create the brand-new in-memory database of ``engine`` (its one connection) at the
    latest schema: by the migrations the first time in a process, then as a copy of the
    database they made, byte for byte (a fiftieth of the time: tests open many)."""
    with _AT_HEAD_LOCK:
        if not _AT_HEAD:
            upgrade(engine)
            template = sqlite3.connect(":memory:", check_same_thread=False)
            with engine.connect() as connection:
                connection.connection.driver_connection.backup(template)  # type: ignore[union-attr]
            _AT_HEAD.append(template)
            return
        with engine.connect() as connection:
            _AT_HEAD[0].backup(connection.connection.driver_connection)  # type: ignore[arg-type]


def _require_head(engine: Engine) -> None:
    now = revision(engine)
    latest = head()
    if now == latest:
        return
    url = shown(engine.url)
    if now is None:
        raise SchemaNotReady(url, None, latest, f"loyaltykit init --db '{url}'")
    raise SchemaNotReady(url, now, latest, f"loyaltykit db upgrade '{url}'")


class _Held:
    """A connection with the session and repositories built on it once: kept by the
    store between units of work on SQLite, built for each one elsewhere. ``tenant``:
    the programme whose rows its repositories read and write."""

    __slots__ = (
        "cards",
        "connection",
        "counters",
        "customers",
        "dbapi",
        "error",
        "idempotency",
        "info",
        "ledger",
        "owned",
        "records",
        "session",
        "state",
        "stored_value",
    )

    def __init__(self, connection: Connection, tenant: str, *, owned: bool = True) -> None:
        self.connection = connection
        self.owned = owned
        self.dbapi: Any = connection.connection.dbapi_connection
        self.info = connection.info  # the driver connection's, shared by its Connections
        self.error: type[Exception] = connection.dialect.loaded_dbapi.Error
        session = self.session = Session(connection, tenant)
        self.customers = Customers(session)
        self.ledger = Ledger(session)
        self.idempotency = Idempotency(session)
        self.state = CustomerState(session)
        self.records = Records(session)
        self.counters = Counters(session)
        self.stored_value = StoredValue(session)
        self.cards = MemberCards(session)

    def driver(self, sql: str) -> None:
        """Run ``sql`` on the driver's connection, its error wrapped as SQLAlchemy's."""
        try:
            self.dbapi.execute(sql)
        except self.error as error:
            raise DBAPIError.instance(
                sql, (), error, self.error, dialect=self.connection.dialect
            ) from error

    def close(self) -> None:
        """Give the connection back to the pool as the pool lent it (batch work and
        other stores write on it). A connection the held one does not own (the one of an
        in-memory database, which its store and every view share) is left as it is: this
        may run from a finalizer, in the middle of another unit of work on it."""
        if not self.owned:
            return
        connection = self.connection
        if self.info.get(_QUERY_ONLY) and not connection.invalidated:
            try:
                self.driver("PRAGMA query_only=0")
                self.info[_QUERY_ONLY] = False
            except DBAPIError:
                connection.invalidate()
        connection.close()

    def end(self, commit: bool) -> None:
        """Commit or roll back SQLite's open transaction: through SQLAlchemy when a Core
        statement made it track one, else on the driver."""
        connection = self.connection
        if connection.in_transaction():
            connection.commit() if commit else connection.rollback()
            return
        try:
            self.dbapi.commit() if commit else self.dbapi.rollback()
        except self.error as error:
            sql = "COMMIT" if commit else "ROLLBACK"
            raise DBAPIError.instance(
                sql, (), error, self.error, dialect=connection.dialect
            ) from error


_QUERY_ONLY = "loyaltykit_query_only"


class SqlUnitOfWork:
    """One database transaction on one connection.

    On SQLite the connection stays checked out by the store between units of work (the
    pool's checkout and return were a third of an empty unit's cost) and the
    transaction is begun and ended on the driver: ``BEGIN IMMEDIATE``, or a deferred
    ``BEGIN`` under ``PRAGMA query_only`` for a read-only unit. Elsewhere each unit
    checks a connection out of the engine's pool and begins a SQLAlchemy transaction.
    """

    def __init__(self, storage: SqlStorage, *, reading: bool = False) -> None:
        self._storage = storage
        self._reading = reading
        self._committed = False

    def __enter__(self) -> Self:
        storage = self._storage
        if storage._shared is not None:
            storage._shared.acquire()
        try:
            held = self._held = storage._checkout(self._reading)
        except DBAPIError as error:
            self._release()
            # no connection at all: the server is down, unreachable or refuses us
            raise StorageUnavailable(f"the database cannot be reached: {error.orig}") from error
        except BaseException:
            self._release()
            raise
        try:
            if storage._keeps:
                self._begin_sqlite(held)
            else:
                self._transaction = self._begin(held.connection)
        except BaseException as error:
            storage._checkin(held, keep=isinstance(error, DBAPIError))
            self._release()
            if isinstance(error, DBAPIError):
                raise translate(error) from error
            raise
        self._open = True
        self.customers = held.customers
        self.ledger = held.ledger
        self.idempotency = held.idempotency
        self.state = held.state
        self.records = held.records
        self.counters = held.counters
        self.stored_value = held.stored_value
        self.cards = held.cards
        held.session.savepoints = 0
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        healthy = False
        try:
            if self._open and not self._committed:
                self._end(commit=False)
            healthy = True
        finally:
            try:
                self._storage._checkin(self._held, keep=healthy)
            finally:
                self._release()

    def _begin_sqlite(self, held: _Held) -> None:
        # a connection refuses writes while it serves a read-only unit: the database's
        # own guard behind ReadOnlyUnit's (a flag of the driver's connection, so the
        # one connection of an in-memory database is switched back for a writer)
        if held.info.get(_QUERY_ONLY, False) is not self._reading:
            held.driver(f"PRAGMA query_only={int(self._reading)}")
            held.info[_QUERY_ONLY] = self._reading
        # deferred for a read: it takes the write lock never, and its snapshot at its
        # first read (WAL)
        held.driver("BEGIN" if self._reading else "BEGIN IMMEDIATE")

    def _begin(self, connection: Connection) -> Any:
        """A SQLAlchemy transaction; for a read-only unit a ``REPEATABLE READ, READ ONLY``
        one (one snapshot for every statement, no row locks, refused writes)."""
        transaction = connection.begin()
        if not self._reading:
            return transaction
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        except connection.dialect.loaded_dbapi.Error as error:
            transaction.rollback()
            raise DBAPIError.instance(
                "SET TRANSACTION", (), error, connection.dialect.loaded_dbapi.Error
            ) from error
        finally:
            cursor.close()
        return transaction

    def _end(self, *, commit: bool) -> None:
        if self._storage._keeps:
            self._held.end(commit)
        elif commit:
            self._transaction.commit()
        elif self._transaction.is_active:
            self._transaction.rollback()
        self._open = False

    def _release(self) -> None:
        if self._storage._shared is not None:
            self._storage._shared.release()

    def commit(self) -> None:
        try:
            self._end(commit=True)
        except DBAPIError as error:
            raise translate(error) from error
        self._committed = True

    def rollback(self) -> None:
        if self._open:
            self._end(commit=False)

    def savepoint(self) -> _Savepoint:
        # plain SQL on the session's cursor: SQLAlchemy's begin_nested() compiles a new
        # SAVEPOINT clause each time, a third of a batched command's overhead on SQLite
        session = self._held.session
        session.savepoints += 1
        return _Savepoint(session, f"lk_savepoint_{session.savepoints}")


class _Savepoint:
    """A SQL ``SAVEPOINT``."""

    def __init__(self, session: Session, name: str) -> None:
        self._session = session
        self._name = name
        session.plain(f"SAVEPOINT {name}")

    def release(self) -> None:
        self._session.plain(f"RELEASE SAVEPOINT {self._name}")

    def rollback(self) -> None:
        self._session.plain(f"ROLLBACK TO SAVEPOINT {self._name}")
        self._session.plain(f"RELEASE SAVEPOINT {self._name}")


class SqlStorage:
    """A SQL database as loyaltykit's storage.

    Opening never changes a schema behind your back: a database whose schema is missing
    or older than this version of loyaltykit raises :class:`~loyaltykit.errors.SchemaNotReady`
    naming the command that fixes it (``loyaltykit init --db URL``, or :func:`upgrade`).
    The one exception is the embedded default: a brand-new SQLite database (a file that
    does not exist yet or holds no tables at all, or ``sqlite://`` in memory) is created
    at the latest schema, since there is nothing in it to migrate.

    One database holds any number of programmes (:class:`~loyaltykit.storage.base.Tenancy`):
    a storage sees the default one, :meth:`for_tenant` another, on the same engine.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tenant = DEFAULT_TENANT
        durable = not (engine.dialect.name == "sqlite" and _in_memory(engine.url.database))
        # in-memory SQLite is one connection (StaticPool) that threads take turns on
        self._shared = None if durable else threading.RLock()
        # ... and that connection is held by the store and its views for their life: given
        # back to the pool, closed or collected, it would be reset (rolled back) by the pool
        # whatever unit of work of another view were open on it
        self._memory: Connection | None = None if durable else engine.connect()
        # SQLite: connections kept checked out between units of work, last in first out
        # (a server's connections go back to the pool, whose pre-ping finds dead ones);
        # writers' apart from readers' (under query_only), so switching is rare
        self._keeps = engine.dialect.name == "sqlite"
        self._keep_connections()
        self.capabilities = Capabilities(
            concurrent_threads=True,
            concurrent_processes=durable,
            durable=durable,
            shards=True,
        )

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = False, **engine_settings: Any) -> SqlStorage:
        """Open the database ``url`` names, checking its schema is at the latest revision.

        ``migrate=True`` upgrades it first (under the migration lock), as
        ``loyaltykit db upgrade`` would. ``engine_settings`` go to SQLAlchemy's
        ``create_engine`` (``pool_size``, ``max_overflow``, ``pool_timeout``,
        ``pool_recycle``, ``connect_args``...); to bring an engine of your own, use
        ``SqlStorage(engine)`` after :func:`upgrade` ``(engine)``.
        """
        engine = _engine(url, **engine_settings)
        try:
            if engine.dialect.name == "sqlite" and _in_memory(engine.url.database):
                _create_in_memory(engine)
            elif migrate or _brand_new(engine):
                upgrade(engine)
            else:
                _require_head(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def _keep_connections(self) -> None:
        self._idle: tuple[list[_Held], list[_Held]] = ([], [])
        self._closed = False
        _KEEPERS.add(self)
        weakref.finalize(self, _close_all, self._idle)

    @property
    def tenant(self) -> str:
        """The programme whose rows this storage sees."""
        return self._tenant

    def for_tenant(self, tenant: str) -> SqlStorage:
        """This database as ``tenant`` sees it: the same engine (its pool, and the lock of
        an in-memory SQLite database), that programme's rows; the connections a SQLite
        store keeps between units of work are the view's own (their repositories are
        bound to its programme). Closing either closes the engine's pooled connections,
        which a file or a server database opens again on the next unit of work; an
        in-memory SQLite database lives in its one connection, so close it once, when
        every view is done with it."""
        view = copy.copy(self)
        view._tenant = tenant_key(tenant)
        view._keep_connections()
        return view

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work; use it in a ``with`` block."""
        return SqlUnitOfWork(self)

    def read_unit_of_work(self) -> SqlUnitOfWork:
        """A unit of work for reading only (see
        :class:`~loyaltykit.storage.base.ReadOnlyUnits`): it takes no write lock, so
        readers never make writers wait, and it sees one consistent state. The database
        refuses writes in it (SQLite's ``query_only``, a ``READ ONLY`` transaction)."""
        return SqlUnitOfWork(self, reading=True)

    def _checkout(self, reading: bool) -> _Held:
        if self._keeps:
            try:
                return self._idle[reading].pop()  # atomic: one thread gets each
            except IndexError:
                pass
            if not self._room():  # the pool's last: switch one of the others instead
                try:
                    return self._idle[not reading].pop()
                except IndexError:
                    pass
        if self._memory is not None:
            return _Held(self._memory, self._tenant, owned=False)
        return _Held(self.engine.connect(), self._tenant)

    def _checkin(self, held: _Held, *, keep: bool) -> None:
        kept = keep and self._keeps and not self._closed
        if kept and not held.connection.invalidated and self._room():
            self._idle[bool(held.info.get(_QUERY_ONLY))].append(held)
            return
        held.close()

    def _room(self) -> bool:
        """Whether one more connection may stay checked out while idle: never the
        pool's last ones, or a thread waiting for the pool would wait for its timeout
        with connections lying idle here."""
        pool = self.engine.pool
        if isinstance(pool, QueuePool):
            return pool.checkedout() < pool.size()
        return len(self._idle[0]) + len(self._idle[1]) < _MOST_IDLE

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A connection in a transaction of its own, for batch work."""
        with contextlib.ExitStack() as stack:
            if self._shared is not None:
                stack.enter_context(self._shared)
            try:
                with self.engine.connect() as connection, connection.begin():
                    yield connection
            except DBAPIError as error:
                raise translate(error) from error

    def expire_in_bulk(
        self,
        at: datetime,
        *,
        accounts: int,
        after: tuple[str, str] | None = None,
        shard: Shard | None = None,
    ) -> BulkChunk:
        """Expire one chunk of accounts with set-based statements (see :mod:`.bulk`)."""
        with self._transaction() as connection:
            chunk = expire_chunk(
                connection, at, limit=accounts, after=after, shard=shard, tenant=self._tenant
            )
        log.debug("bulk expiry: %d points from %d accounts", chunk.points, chunk.accounts)
        return chunk

    def release_in_bulk(
        self,
        at: datetime,
        *,
        accounts: int,
        after: tuple[str, str] | None = None,
        shard: Shard | None = None,
    ) -> BulkChunk:
        """Release one chunk of accounts' pending lots with set-based statements."""
        with self._transaction() as connection:
            chunk = release_chunk(
                connection, at, limit=accounts, after=after, shard=shard, tenant=self._tenant
            )
        log.debug("bulk release: %d points in %d accounts", chunk.points, chunk.accounts)
        return chunk

    def ledger_totals(self, point_type: str) -> list[LedgerTotalsRow]:
        """Every account of ``point_type`` with its entries summed (two set-based reads)."""
        with self._transaction() as connection:
            return ledger_totals(connection, point_type, self._tenant)

    def scrub(self) -> None:
        """Make what commits overwrote unreadable in the database's files: on a SQLite
        file, copy the write-ahead log into the database and truncate it (the old pages
        in it would still show an erased profile). PostgreSQL and MariaDB: nothing here
        (their own storage reclaims old row versions; see docs/concepts/storage.md)."""
        if self.engine.dialect.name != "sqlite" or not self.capabilities.durable:
            return
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            # the connection is in autocommit mode (no open transaction), as a
            # checkpoint needs; TRUNCATE waits for readers through the busy timeout
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        except Exception as error:  # the driver's error, translated like every other
            raise StorageError(f"cannot checkpoint the SQLite write-ahead log: {error}") from None
        finally:
            connection.close()

    def close(self) -> None:
        """Close every pooled connection."""
        self._closed = True
        _close_all(self._idle)
        if self._memory is not None:
            self._memory.close()
        self.engine.dispose()


_MOST_IDLE = 16


def _close_all(lists: tuple[list[_Held], ...]) -> None:
    for idle in lists:
        while idle:
            try:
                held = idle.pop()
            except IndexError:  # taken meanwhile
                break
            held.close()


# every store that keeps connections: a forked child must not use (nor close) the
# parent's SQLite connections, so it leaves them where they are and opens its own
_KEEPERS: weakref.WeakSet[SqlStorage] = weakref.WeakSet()
_INHERITED: list[_Held] = []


def _after_fork() -> None:
    for storage in list(_KEEPERS):
        for idle in storage._idle:
            _INHERITED.extend(idle)
            idle.clear()


os.register_at_fork(after_in_child=_after_fork)
