"""Migration 0013 (the paperwork's 文号): up creates the counter and the issued numbers with their unique
keys, down removes them, up again — on SQLite and PostgreSQL; as the app's role the tables take ordinary
reads and writes — also after down and up again: the role's default grants cover tables made later."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect

from duban import migrations
from duban.core.db import build_engine
from tests.conftest import BACKENDS, database_url_for, owner_url_for

TABLES = {"document_serial", "document_serial_counter"}
ROW = {"kind": "notice", "year": 2026, "number": 1, "subject": "event:1", "issued_at": "2026-01-05 01:00:00"}


@pytest.fixture(params=BACKENDS)
def app_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url_for(request.param, tmp_path)


def _tables(url: str) -> set[str]:
    engine = build_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_0013_up_down_up(app_url: str) -> None:
    owner = owner_url_for(app_url)
    assert _tables(owner) >= TABLES
    migrations.downgrade(owner, "0012")
    assert not TABLES & _tables(owner)
    migrations.upgrade(owner, "0013")
    engine = build_engine(owner)
    try:
        uniques = {
            tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("document_serial")
        }
        assert {("kind", "year", "number"), ("kind", "subject")} <= uniques
        keys = inspect(engine).get_pk_constraint("document_serial_counter")["constrained_columns"]
        assert keys == ["kind", "year"]
    finally:
        engine.dispose()
    migrations.upgrade(owner)
    _writes_as_the_app(app_url)  # the re-created tables too: the role's default grants, nothing re-run


def test_the_app_role_writes_serials_and_a_number_is_never_taken_twice(app_url: str) -> None:
    _writes_as_the_app(app_url)


def _writes_as_the_app(app_url: str) -> None:
    """Ordinary reads and writes as the app (its role on PostgreSQL); the unique keys hold."""
    engine = build_engine(app_url)
    table = sa.table(
        "document_serial",
        *(sa.column(name) for name in ("kind", "year", "number", "subject", "issued_at")),
    )
    counter = sa.table("document_serial_counter", sa.column("kind"), sa.column("year"), sa.column("last"))
    try:
        with engine.begin() as conn:
            conn.execute(counter.insert().values(kind="notice", year=2026, last=1))
            conn.execute(table.insert().values(**ROW))
            conn.execute(counter.update().values(last=2))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(table.insert().values(**{**ROW, "subject": "event:2"}))  # number 1 again
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(table.insert().values(**{**ROW, "number": 2}))  # event:1 a second number
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 1
    finally:
        engine.dispose()
