"""Engines and sessions: SQLite pragmas, commit boundaries, after-commit work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, text
from sqlmodel import Session

from duban.core import db
from duban.core.db import after_commit, build_engine, session_scope, set_session_factory
from tests.conftest import database_url_for, owner_url_for


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()


def test_after_commit_runs_only_after_commit(engine: Engine) -> None:
    ran: list[str] = []
    with Session(engine) as session:
        after_commit(session, lambda: ran.append("rolled back"))
        session.rollback()
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
        session.commit()
    assert ran == ["committed"]


def test_session_scope_rolls_back_on_error(engine: Engine) -> None:
    set_session_factory(lambda: Session(engine))
    ran: list[str] = []
    try:
        with pytest.raises(RuntimeError), session_scope() as session:
            after_commit(session, lambda: ran.append("queued"))
            raise RuntimeError("boom")
    finally:
        set_session_factory(None)
    assert ran == []


def _plain(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    engine = build_engine(url, pool_size=1, max_overflow=0)
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    yield engine
    engine.dispose()


@pytest.fixture
def plain_engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The configured engine as production has it: no session factory, a pool of one of its own (as the
    owner: the tests below create and drop a probe table)."""
    yield from _plain(owner_url_for(database_url), monkeypatch)


@pytest.fixture
def postgres_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The same on PostgreSQL alone, for what only a server does (hang up, autocommit)."""
    for url in database_url_for("postgres", tmp_path, as_owner=True):
        yield from _plain(url, monkeypatch)


def test_unit_scope_commits_then_runs_after_commit_work(plain_engine: Engine) -> None:
    ran: list[str] = []
    with db.unit_scope() as unit:
        assert isinstance(unit, db.ConnectionUnit)
        unit.connection().execute(text("CREATE TABLE unit_probe (x INTEGER)"))
        unit.connection().execute(text("INSERT INTO unit_probe VALUES (1)"))
        after_commit(unit, lambda: ran.append("queued"))
        assert ran == []
    assert ran == ["queued"]
    with plain_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM unit_probe")).scalar_one() == 1
        conn.execute(text("DROP TABLE unit_probe"))


def test_unit_scope_rolls_back_and_drops_its_work_on_error(plain_engine: Engine) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), db.unit_scope() as unit:
        unit.connection().execute(text("CREATE TABLE unit_probe (x INTEGER)"))
        after_commit(unit, lambda: ran.append("queued"))
        raise RuntimeError("boom")
    assert ran == []
    with plain_engine.connect() as conn:
        assert "unit_probe" not in sa.inspect(conn).get_table_names()
    # The connection went back to the pool of one: the next unit gets it.
    with db.unit_scope() as unit:
        assert unit.connection().execute(text("SELECT 1")).scalar_one() == 1


def test_a_connection_the_server_closed_is_replaced_at_checkout(postgres_engine: Engine) -> None:
    plain_engine = postgres_engine
    with plain_engine.connect() as conn:
        first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with build_engine(plain_engine.url.render_as_string(hide_password=False)).connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.commit()
    time.sleep(0.2)  # the server's goodbye reaches the idle pooled socket
    with db.unit_scope() as unit:  # no error: the dead connection is discarded, a fresh one opened
        second = unit.connection().execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert second != first


def test_a_non_atomic_unit_commits_each_statement_and_leaves_the_pool_as_it_was(
    postgres_engine: Engine,
) -> None:
    plain_engine = postgres_engine
    with plain_engine.begin() as conn:
        conn.execute(text("CREATE TABLE unit_probe (x INTEGER)"))
    try:
        with pytest.raises(RuntimeError), db.unit_scope(atomic=False) as unit:
            unit.connection().execute(text("INSERT INTO unit_probe VALUES (1)"))
            raise RuntimeError("after the statement")
        # The pool of one hands the same connection back, in transactions again.
        with pytest.raises(RuntimeError), db.unit_scope() as unit:
            unit.connection().execute(text("INSERT INTO unit_probe VALUES (2)"))
            raise RuntimeError("rolled back")
        with plain_engine.connect() as conn:
            assert conn.execute(text("SELECT x FROM unit_probe")).scalars().all() == [1]
    finally:
        with plain_engine.begin() as conn:
            conn.execute(text("DROP TABLE unit_probe"))
