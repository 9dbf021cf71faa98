"""Prepared statements: the same values, errors and listeners as a Core execute, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.core.prepared import Prepared
from duban.tasks.enums import TaskState
from duban.tasks.models import TaskEvent
from tests.fixtures.tasks import TaskWorld

event_t = TaskEvent.__table__  # type: ignore[attr-defined]
COLUMNS = ("task_id", "kind", "actor_label", "reason", "data", "created_at")
INSERT = Prepared(
    event_t.insert()
    .values({name: sa.bindparam(name, type_=event_t.c[name].type) for name in COLUMNS})
    .returning(event_t.c.id)
)


def _values(task_id: int) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "kind": "note",
        "actor_label": "测试",
        "reason": "“引号”与 % 百分号",
        "data": {"指标": [1, 2.5, "三"]},
        "created_at": clock.now(),
    }


def test_values_are_stored_as_a_core_insert_stores_them(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.draft)
    conn = world.session.connection()
    values = _values(task_id)
    row = INSERT.first(conn, values)
    assert row is not None
    core_id = conn.execute(event_t.insert().values(values).returning(event_t.c.id)).scalar_one()
    stored = {
        r.id: r
        for r in conn.execute(sa.select(event_t).where(event_t.c.id.in_([row[0], core_id]))).mappings()
    }
    ours, theirs = stored[row[0]], stored[core_id]
    assert {k: ours[k] for k in COLUMNS} == {k: theirs[k] for k in COLUMNS}
    assert ours["data"] == {"指标": [1, 2.5, "三"]}


def test_a_driver_error_becomes_sqlalchemys_exception(session: Session) -> None:
    conn = session.connection()
    with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
        INSERT.first(conn, _values(2**31 - 1))  # no such task: the foreign key refuses it


def test_statement_listeners_see_prepared_statements(world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.draft)
    conn = world.session.connection()
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        INSERT.first(conn, _values(task_id))
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO task_event")


def test_in_lists_are_refused_at_compile_time(session: Session) -> None:
    statement = Prepared(sa.select(event_t.c.id).where(event_t.c.id.in_(sa.bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="IN lists"):
        statement.rows(session.connection(), {"ids": [1, 2]})
