"""Engines and sessions; only the request or the job commits, and work queued for after commit runs then."""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from duban.core.config import get_settings

AFTER_COMMIT_KEY = "duban_after_commit"


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and real transactions (pysqlite would defer BEGIN)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers wait instead of failing mid-way.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def build_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url` with duban's connection settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # Instead of a round trip before every checkout (pool_pre_ping), a look at the socket: see below.
    kwargs.setdefault("pool_recycle", 1800)
    # As many as the threads that run sync endpoints (anyio's default 40), so no connection is opened
    # and closed under load.
    kwargs.setdefault("pool_size", 40)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
    _discard_hung_up(engine)
    return engine


def _discard_hung_up(engine: Engine) -> None:
    """At checkout, drop a pooled connection the server has closed (restart, terminated backend, idle
    timeout) and take a fresh one. An idle PostgreSQL connection receives nothing unless the server is
    closing it (duban LISTENs to nothing), so a readable socket means a hang-up: a poll of the socket
    costs microseconds where a ping costs a round trip on every request."""

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed or _readable(dbapi_connection.fileno()):
            raise DisconnectionError("PostgreSQL closed this pooled connection")


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return build_engine(get_settings().database_url)


def backend_name() -> str:
    """The configured database's dialect: `postgresql` or `sqlite`."""
    return str(get_engine().dialect.name)


def dispose_engine() -> None:
    """Close the pooled connections and forget the engine (after fork, in tests)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


class ConnectionUnit:
    """A unit of work on one pooled connection without an ORM session: what the request path's actions
    run in (a session costs more per request than the action's SQL). Same `connection()` and `info`
    as a Session, so the services take either; `unit_scope` commits it."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.info: dict[str, Any] = {}

    def connection(self) -> Connection:
        """The connection, inside the unit's transaction."""
        return self._connection


Unit = Session | ConnectionUnit


def after_commit(unit: Unit, callback: Callable[[], None]) -> None:
    """Run `callback` once the unit's transaction has committed (dropped on rollback)."""
    if isinstance(unit, Session) and not unit.in_transaction():
        unit.begin()
    unit.info.setdefault(AFTER_COMMIT_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks: list[Callable[[], None]] = session.info.pop(AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(AFTER_COMMIT_KEY, None)


_session_factory: Callable[[], Session] | None = None


def set_session_factory(factory: Callable[[], Session] | None) -> None:
    """Let tests hand every boundary a session bound to their rolled-back transaction."""
    global _session_factory
    _session_factory = factory


def new_session() -> Session:
    """A new session on the configured engine (or the test factory)."""
    if _session_factory is not None:
        return _session_factory()
    return Session(get_engine(), expire_on_commit=False)


@contextmanager
def unit_scope(atomic: bool = True) -> Iterator[Unit]:
    """A unit of work for the request path: commits on success, then runs its after-commit work; rolls
    back on error. A connection unit, or the test's session when tests have set a session factory.
    `atomic=False` is for a unit whose reads need no snapshot and which writes in one statement: on
    PostgreSQL each statement then commits by itself, which spares the BEGIN and COMMIT round trips."""
    if _session_factory is not None:
        with session_scope() as session:
            yield session
        return
    connection = get_engine().connect()
    # Set on the driver, where it costs an attribute (SQLAlchemy's isolation option costs more than a
    # statement), and always unset before the pool takes the connection back.
    driver = (
        connection.connection.dbapi_connection
        if not atomic and connection.dialect.name == "postgresql"
        else None
    )
    if driver is not None:
        driver.autocommit = True
    unit = ConnectionUnit(connection)
    try:
        with connection.begin():
            yield unit
    finally:
        callbacks: list[Callable[[], None]] = unit.info.pop(AFTER_COMMIT_KEY, [])
        if driver is not None and not connection.invalidated:
            driver.autocommit = False
        connection.close()
    for callback in callbacks:
        callback()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work for jobs and the CLI: commits on success, rolls back on error."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
