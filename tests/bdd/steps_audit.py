"""Step definitions for the audit log (features/审计记录不可篡改.feature; imported by tests/bdd/conftest.py):
UPDATE, DELETE and TRUNCATE of task_event refused. On PostgreSQL the suite's session connects as the
application role (tests/conftest.py); the owner's attempt runs on committed rows in a database of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_bdd import given, parsers, then, when
from sqlmodel import Session

from duban.core.db import build_engine
from duban.tasks.enums import TaskState
from duban.tasks.models import Plan, Task, TaskEvent
from tests.conftest import APP_ROLE, database_url_for

_ROWS = sa.text("SELECT id, task_id, kind, reason, to_state FROM task_event ORDER BY id")


def _attempt(connection: sa.Connection, context: dict[str, Any], statement: str) -> None:
    """Run `statement` in a savepoint (rolled back whatever happens); keep the refusal, if any."""
    context["audit_before"] = context["audit_rows"]()
    context["refusal"] = None
    savepoint = connection.begin_nested()
    try:
        connection.execute(sa.text(statement), {"task": context.get("task_id")})
    except sa.exc.DBAPIError as error:
        context["refusal"] = error
    finally:
        if savepoint.is_active:
            savepoint.rollback()


def _as_application(session: Session, context: dict[str, Any], statement: str) -> None:
    connection = session.connection()
    context["audit_rows"] = lambda: [tuple(row) for row in connection.execute(_ROWS)]
    _attempt(connection, context, statement)
    context["audit_after"] = context["audit_rows"]()


def _truncate(connection: sa.Connection) -> str:
    # SQLite has no TRUNCATE: DELETE without WHERE is how it empties a table.
    return "TRUNCATE task_event" if connection.dialect.name == "postgresql" else "DELETE FROM task_event"


@when("应用修改该任务的审计记录")
def application_updates(session: Session, context: dict[str, Any]) -> None:
    _as_application(session, context, "UPDATE task_event SET reason = '改写' WHERE task_id = :task")


@when("应用删除该任务的审计记录")
def application_deletes(session: Session, context: dict[str, Any]) -> None:
    _as_application(session, context, "DELETE FROM task_event WHERE task_id = :task")


@when("应用清空审计记录")
def application_truncates(session: Session, context: dict[str, Any]) -> None:
    _as_application(session, context, _truncate(session.connection()))


@pytest.fixture
def owner_database(session: Session, tmp_path: Path) -> Iterator[str]:
    """A database of its own, of the session's backend, as its owner sees it (committed rows cannot go into
    the shared test database, and the test's open transaction would hold up a TRUNCATE there)."""
    backend = "postgres" if session.connection().dialect.name == "postgresql" else "sqlite"
    yield from database_url_for(backend, tmp_path, as_owner=True)


@given("数据库中已提交了一项任务的审计记录")
def committed_event(owner_database: str, context: dict[str, Any]) -> None:
    engine = build_engine(owner_database)
    try:
        with Session(engine) as owner:
            plan = Plan(key=uuid.uuid4().hex, title="规划", content_hash="h")
            owner.add(plan)
            owner.flush()
            assert plan.id is not None
            task = Task(plan_id=plan.id, title="任务", state=TaskState.draft)
            owner.add(task)
            owner.flush()
            assert task.id is not None
            owner.add(TaskEvent(task_id=task.id, kind="issue", from_state="draft", to_state="assigned"))
            owner.commit()
    finally:
        engine.dispose()


@when("数据库所有者清空审计记录")
def owner_truncates(owner_database: str, context: dict[str, Any]) -> None:
    engine = build_engine(owner_database)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                assert conn.execute(sa.text("SELECT current_user")).scalar_one() != APP_ROLE
            context["audit_rows"] = lambda: [tuple(row) for row in conn.execute(_ROWS)]
            _attempt(conn, context, _truncate(conn))
            context["audit_after"] = context["audit_rows"]()
    finally:
        engine.dispose()


@then("数据库拒绝，审计记录不变")
def refused_and_unchanged(context: dict[str, Any]) -> None:
    refusal = context["refusal"]
    assert refusal is not None, "the database accepted the change"
    # The application role lacks the privilege (42501); the owner, and SQLite, meet the trigger.
    assert getattr(refusal.orig, "sqlstate", None) == "42501" or "append-only" in str(refusal.orig), refusal
    assert context["audit_before"], "there was nothing to change"
    assert context["audit_after"] == context["audit_before"]


@then(parsers.parse("该任务的审计记录多了 {count:d} 条"))
def one_more_event(context: dict[str, Any], count: int) -> None:
    assert context["response"].status_code == 200, context["response"].text
    assert len(context["audit_rows"]()) == len(context["audit_before"]) + count
