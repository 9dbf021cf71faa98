"""Core statements compiled once per dialect and run on the driver's cursor, for the few every request runs.

SQLAlchemy's per-execution work (cache key, parameter processing, result wrapping) costs more than the
SQL itself for a one-row read or write; the request-path statements (the caller, the task's header, the
action's write) skip it. Binds still go through their types' processors, driver errors still become
SQLAlchemy's exceptions (disconnects invalidate the connection), and statement listeners
(`before_cursor_execute`) are still called, so callers and error handlers see no difference. Results
are the driver's raw rows: select only columns whose driver values need no conversion (integers,
text, enums, booleans).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPICursor

Row = Sequence[Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # bind names in position order, for positional paramstyles
    defaults: dict[str, Any]
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


class Prepared:
    """A statement compiled once per dialect; `run` executes it on the connection's driver cursor."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            if "POSTCOMPILE" in compiled.string:
                raise ValueError("prepared statements cannot expand IN lists; use a Core execute")
            processors: dict[str, Callable[[Any], Any]] = {}  # a bind used twice is processed once
            for bind, name in compiled.bind_names.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            order = tuple(compiled.positiontup) if compiled.positional else None
            found = _Compiled(compiled.string, order, dict(compiled.params), tuple(processors.items()))
            self._by_dialect[dialect.name] = found
        return found

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> DBAPICursor:
        """Execute with `params` (missing binds take the statement's own values); returns the cursor."""
        compiled = self._compile(conn.dialect)
        values = {**compiled.defaults, **params} if params else dict(compiled.defaults)
        for name, processor in compiled.processors:
            values[name] = processor(values[name])
        bound: Any = values if compiled.order is None else tuple(values[name] for name in compiled.order)
        fairy = conn.connection
        cursor = fairy.cursor()
        if conn.dispatch.before_cursor_execute:  # statement listeners (counters, tracing) still see it
            conn.dispatch.before_cursor_execute(conn, cursor, compiled.sql, bound, None, False)
        try:
            cursor.execute(compiled.sql, bound)
        except conn.dialect.loaded_dbapi.Error as error:
            disconnected = conn.dialect.is_disconnect(error, fairy.dbapi_connection, cursor)
            if disconnected:
                conn.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                compiled.sql,
                bound,
                error,
                conn.dialect.loaded_dbapi.Error,
                connection_invalidated=disconnected,
                dialect=conn.dialect,
            ) from error
        return cursor

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Row]:
        """All rows the statement returns."""
        cursor = self.run(conn, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Row | None:
        """The first row, or None."""
        cursor = self.run(conn, params)
        try:
            row: Row | None = cursor.fetchone()
            return row
        finally:
            cursor.close()

    def rowcount(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """How many rows the statement changed."""
        cursor = self.run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
