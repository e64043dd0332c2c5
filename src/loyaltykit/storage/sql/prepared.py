"""The command path's statements, compiled once per dialect and run on the driver's cursor.

SQLAlchemy's ``Connection.execute`` does a lot per call even for a cached statement:
a cache lookup, an execution context, events, a result object wrapping the cursor. On
SQLite that cost about three times the driver's own work per statement, and a command
runs about ten statements. Here each statement is compiled once for the engine's
dialect (the SQL text, the order of its parameters, the type processors of its
parameters and columns) and executed on the DB-API cursor of the unit of work's
connection: the same SQL SQLAlchemy would send, with the same conversions, without the
machinery around it. Drivers' errors are wrapped as SQLAlchemy would wrap them, so the
repositories translate them in one place.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ClauseElement, CompoundSelect, Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Cursor", "Prepared", "prepared"]

_Processor = Callable[[Any], Any] | None


class Prepared:
    """One statement compiled for one dialect: its SQL and how to bind and read it."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self.positional = compiled.positional
        if compiled.positional:
            names = list(compiled.positiontup or ())
        else:
            names = list(dict.fromkeys(compiled.bind_names.values()))
        # (name, processor, constant, required): a parameter that is not required is a
        # literal of the statement itself (``remaining > 0``), bound once here
        self.binds: list[tuple[str, _Processor, Any, bool]] = []
        for name in names:
            bind = compiled.binds[name]
            processor = bind.type._cached_bind_processor(dialect)
            if bind.required:
                self.binds.append((name, processor, None, True))
            else:
                value = bind.effective_value
                self.binds.append((name, None, processor(value) if processor else value, False))
        self.keys: list[str] = []
        self.results: list[_Processor] = []
        if isinstance(statement, Select | CompoundSelect):
            for column in statement.selected_columns:
                self.keys.append(str(column.key))
                self.results.append(column.type._cached_result_processor(dialect, None))
        self.converts = any(self.results)
        # the common case, in few steps: a positional statement whose parameters are
        # all the caller's is one itemgetter, then the processors of the few that have one
        # (instants); a row converts only its columns that have a processor
        self._fetch: Callable[[Mapping[str, Any]], Sequence[Any]] | None = None
        self._processed = [(n, p) for n, (_, p, _, _) in enumerate(self.binds) if p is not None]
        if self.positional and self.binds and all(bind[3] for bind in self.binds):
            getter = operator.itemgetter(*(name for name, _, _, _ in self.binds))
            self._fetch = getter if len(self.binds) > 1 else lambda values: (getter(values),)
        self._converted = [(n, p) for n, p in enumerate(self.results) if p is not None]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for ``values`` (keyed by bind name)."""
        if self._fetch is not None:  # positional, every parameter required
            found = self._fetch(values)
            if not self._processed:
                return found
            bound = list(found)
            for index, processor in self._processed:
                bound[index] = processor(bound[index])
            return bound
        if self.positional:
            return [
                (processor(values[name]) if processor else values[name]) if required else constant
                for name, processor, constant, required in self.binds
            ]
        return {
            name: (processor(values[name]) if processor else values[name]) if required else constant
            for name, processor, constant, required in self.binds
        }

    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A result row with the columns' types applied (aware datetimes, booleans)."""
        if not self._converted:
            return tuple(row)
        values = list(row)
        for index, processor in self._converted:
            values[index] = processor(values[index])
        return tuple(values)


# statement -> its Prepared form per dialect; dialects live as long as their engines
_CACHE: weakref.WeakKeyDictionary[Dialect, dict[object, Prepared]] = weakref.WeakKeyDictionary()


def prepared(
    key: object, dialect: Dialect, build: Callable[[Dialect], ClauseElement] | ClauseElement
) -> Prepared:
    """The :class:`Prepared` form of a statement, built on first use for ``dialect``.
    ``build`` is the statement, or a function of the dialect (for upserts, whose syntax
    is the dialect's own)."""
    known = _CACHE.get(dialect)
    if known is None:
        known = _CACHE[dialect] = {}
    found = known.get(key)
    if found is None:
        statement = build if isinstance(build, ClauseElement) else build(dialect)
        found = known[key] = Prepared(statement, dialect)
    return found


class Cursor:
    """The DB-API cursor of one connection, running :class:`Prepared` statements."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self.dialect = dialect
        self._cursor = dbapi_connection.cursor()
        self._error: type[Exception] = dialect.loaded_dbapi.Error

    def _fail(self, sql: str, parameters: Any, error: Exception) -> DBAPIError:
        wrapped = DBAPIError.instance(sql, parameters, error, self._error, dialect=self.dialect)
        assert isinstance(wrapped, DBAPIError)
        return wrapped

    def rows(self, statement: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a query; every row, converted."""
        parameters = statement.parameters(values)
        try:
            self._cursor.execute(statement.sql, parameters)
            found = self._cursor.fetchall()
        except self._error as error:
            raise self._fail(statement.sql, parameters, error) from error
        if not statement.converts:  # the driver's rows are tuples already
            return list(found)
        return [statement.convert(row) for row in found]

    def write(self, statement: Prepared, values: Mapping[str, Any]) -> int:
        """Run a write; the number of rows it matched."""
        parameters = statement.parameters(values)
        try:
            self._cursor.execute(statement.sql, parameters)
        except self._error as error:
            raise self._fail(statement.sql, parameters, error) from error
        return int(self._cursor.rowcount)

    def write_many(self, statement: Prepared, values: Iterable[Mapping[str, Any]]) -> None:
        """Run a write once per parameter set."""
        parameters = [statement.parameters(one) for one in values]
        try:
            self._cursor.executemany(statement.sql, parameters)
        except self._error as error:
            raise self._fail(statement.sql, parameters, error) from error

    def plain(self, sql: str) -> None:
        """Run a statement without parameters (savepoints)."""
        try:
            self._cursor.execute(sql)
        except self._error as error:
            raise self._fail(sql, (), error) from error
