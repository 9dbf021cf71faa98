"""Engines and sessions: SQLite pragmas, commit boundaries, after-commit work."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from duban.core.db import after_commit, build_engine, session_scope, set_session_factory


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
