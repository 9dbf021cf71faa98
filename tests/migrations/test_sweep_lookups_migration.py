"""Migration 0015: the (frozen policy version, state) index the sweep's lookups use on PostgreSQL, and
down again; SQLite gets none (it matches no expression index against a bound JSON path)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from duban import migrations
from duban.core.db import build_engine
from duban.workflow.policy import CHASED_STATES, ISSUED_STATES, frozen_version, task_t
from tests.conftest import BACKENDS, database_url_for

INDEX = "ix_task_policy_version_state"


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url_for(request.param, tmp_path, as_owner=True)


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """The index exists on PostgreSQL only: no SQLite variant to skip."""
    yield from database_url_for("postgres", tmp_path, as_owner=True)


def _indexes(url: str) -> set[str]:
    engine = build_engine(url)
    try:
        return {str(index["name"]) for index in sa.inspect(engine).get_indexes("task")}
    finally:
        engine.dispose()


def _plan(conn: sa.Connection, statement: Any) -> str:
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    return "\n".join(str(row[0]) for row in rows)


def test_0015_up_and_down(fresh_url: str) -> None:
    postgres = fresh_url.startswith("postgresql")
    assert (INDEX in _indexes(fresh_url)) is postgres
    migrations.downgrade(fresh_url, "0014")
    assert INDEX not in _indexes(fresh_url)
    migrations.upgrade(fresh_url)
    assert (INDEX in _indexes(fresh_url)) is postgres
    migrations.check(fresh_url)


def test_the_sweep_lookups_can_use_the_index(postgres_url: str) -> None:
    fresh_url = postgres_url
    version = frozen_version()
    # freeze_policy's WHERE: issued tasks without a frozen version
    freeze = sa.select(task_t.c.id).where(task_t.c.state.in_(ISSUED_STATES), version.is_(None))
    least = sa.select(sa.func.min(version)).where(task_t.c.state.in_(CHASED_STATES), version > 1)
    engine = build_engine(fresh_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask what the index can do
            for statement in (freeze, least):
                assert INDEX in _plan(conn, statement)
    finally:
        engine.dispose()
