"""Alembic: up, no drift, down — on SQLite and PostgreSQL; the audit log is append-only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect
from sqlmodel import Session

from duban import migrations
from duban.core import clock
from duban.core.db import build_engine
from duban.tasks.enums import DepartmentKind
from duban.tasks.models import Department
from tests.conftest import BACKENDS, database_url_for
from tests.migrations.test_audit_roles import seed_plan_task_event


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url_for(request.param, tmp_path, as_owner=True)


def test_upgrade_check_downgrade(fresh_url: str) -> None:
    migrations.check(fresh_url)
    engine = build_engine(fresh_url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "department",
        "user",
        "plan",
        "measure",
        "task",
        "task_assignment",
        "task_event",
        "task_unit",
    } <= tables
    assert "registry_fit" in {column["name"] for column in inspect(engine).get_columns("plan")}
    engine.dispose()
    migrations.downgrade(fresh_url, "base")
    engine = build_engine(fresh_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrations.upgrade(fresh_url)


def test_task_events_refuse_update_and_delete(fresh_url: str) -> None:
    engine = build_engine(fresh_url)
    event_id = seed_plan_task_event(engine)["event"]
    for statement in (
        sa.text("UPDATE task_event SET reason = 'changed' WHERE id = :id"),
        sa.text("DELETE FROM task_event WHERE id = :id"),
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(statement, {"id": event_id})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM task_event")).scalar_one() == 1
    engine.dispose()


def test_timestamps_come_back_aware(session: Session) -> None:
    department = Department(code="x", name="测试厅", kind=DepartmentKind.government)
    session.add(department)
    session.flush()
    session.expire(department)
    assert department.created_at.tzinfo is not None
    assert abs((department.created_at - clock.now()).total_seconds()) < 60
