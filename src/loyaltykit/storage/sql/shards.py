"""The shard rule of :mod:`loyaltykit.domain.shards` in SQL, on every dialect.

The first 32 bits of the MD5 digest of the key's UTF-8 text, as an unsigned number:
``('x' || substr(md5(key), 1, 8))::bit(32)::bigint`` on PostgreSQL,
``CONV(SUBSTR(MD5(key), 1, 8), 16, 10)`` on MariaDB, and a function registered on each
SQLite connection (SQLite has no digest of its own) that runs the Python rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from loyaltykit.domain.shards import Shard, shard_hash

__all__ = ["in_shard", "register_sqlite"]

SQLITE_FUNCTION = "lk_shard_hash"


class _ShardHash(FunctionElement[int]):
    type = BigInteger()
    inherit_cache = True
    name = "lk_shard_hash"


@compiles(_ShardHash)
def _sqlite(element: _ShardHash, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(_ShardHash, "postgresql")
def _postgresql(element: _ShardHash, compiler: Any, **kw: Any) -> str:
    key = compiler.process(element.clauses, **kw)
    return f"('x' || substr(md5({key}), 1, 8))::bit(32)::bigint"


@compiles(_ShardHash, "mysql")
def _mysql(element: _ShardHash, compiler: Any, **kw: Any) -> str:
    key = compiler.process(element.clauses, **kw)
    return f"CAST(CONV(SUBSTR(MD5({key}), 1, 8), 16, 10) AS UNSIGNED)"


def in_shard(column: ColumnElement[str], shard: Shard) -> ColumnElement[bool]:
    """``column``'s value is in ``shard``."""
    return (_ShardHash(column) % shard.count) == shard.index


def register_sqlite(dbapi_connection: Any) -> None:
    """Give a SQLite connection the shard function (idempotent)."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, shard_hash, deterministic=True)


def prepare(connection: Connection) -> None:
    """Make sure the connection can run :func:`in_shard` (SQLite: register the function
    on it, whoever created the engine)."""
    if connection.dialect.name == "sqlite":
        register_sqlite(connection.connection.dbapi_connection)
