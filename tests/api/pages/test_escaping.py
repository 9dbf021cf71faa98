"""Hostile text — `<script>`, quotes, ampersands — in task and plan titles, reports and reasons is shown
escaped on every page and in every mail (notice, digest, weekly summary) rendered by the real pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.core import clock
from duban.notifications.calendars import working_calendar
from duban.notifications.delivery import render_row
from duban.notifications.digest import compose_digests, compose_weekly
from duban.notifications.events import notify_task_event
from duban.notifications.messages import freeze_digests, load_items, outbox_t
from duban.tasks.enums import TaskState
from duban.tasks.models import Department, Plan, Task, TaskEvent
from duban.workflow.policy import bundled_policy
from duban.workflow.records import add_progress, request_extension
from duban.workflow.service import apply_action, office_actor
from tests.api.pages.helpers import PageClient
from tests.fixtures.tasks import TaskWorld

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> "引号" & \'单引号\''
RAW = ("<script>", "<img src=x")
ESCAPED = "&lt;script&gt;"


@pytest.fixture
def hostile(world: TaskWorld, clock_at: Callable[[Any], None]) -> dict[str, int]:
    """A plan and tasks whose title, reports, reasons and a department's name are hostile text."""
    clock_at("2026-11-02T10:00")  # a Monday, office hours
    open_id = world.task_in(TaskState.in_progress)
    returned_id = world.task_in(TaskState.submitted)
    session = world.session
    for task_id in (open_id, returned_id):
        task = session.get(Task, task_id)
        assert task is not None
        session.execute(sa.update(Task).where(Task.id == task_id).values(title=f"{HOSTILE} 推进锅炉整治"))  # type: ignore[arg-type]
        session.execute(sa.update(Plan).where(Plan.id == task.plan_id).values(title=f"{HOSTILE} 工作方案"))  # type: ignore[arg-type]
    for department_id in (world.lead_id, world.cooperating_id):
        session.execute(
            sa.update(Department)
            .where(col(Department.id) == department_id)
            .values(name=f"{HOSTILE} 厅{department_id}")
        )
    add_progress(session, open_id, world.actor("lead"), 50, f"{HOSTILE} 进展")
    request_extension(session, open_id, world.actor("lead"), dt.date(2027, 6, 30), f"{HOSTILE} 理由")
    apply_action(session, returned_id, "return", office_actor(), reason=f"{HOSTILE} 退回理由")
    session.expire_all()
    session.flush()
    return {"open": open_id, "returned": returned_id}


def _assert_escaped(body: str, where: str) -> None:
    for raw in RAW:
        assert raw not in body, f"raw {raw!r} in {where}"
    assert ESCAPED in body, f"nothing escaped in {where}: is the hostile text shown at all?"


def test_every_page_escapes_hostile_text(
    signed_in: Callable[[str], PageClient], world: TaskWorld, hostile: dict[str, int]
) -> None:
    office, lead = signed_in("office"), signed_in("lead")
    plan_id = world.session.get(Task, hostile["open"]).plan_id  # type: ignore[union-attr]
    clock.set_now("2027-02-01T10:00")  # both overdue: on the board
    pages = {
        "board": office.get("/overdue"),
        "task (office)": office.get(f"/tasks/{hostile['open']}"),
        "returned task": office.get(f"/tasks/{hostile['returned']}"),
        "plans": office.get("/plans"),
        "plan review": office.get(f"/plans/{plan_id}"),
        "scorecards": office.get("/scorecards"),
        "my tasks": lead.get("/tasks", bucket="all"),
        "task (lead)": lead.get(f"/tasks/{hostile['open']}"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        _assert_escaped(response.text, name)
    assert (
        "&#34;引号&#34;" in pages["task (office)"].text or "&quot;引号&quot;" in pages["task (office)"].text
    )
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        in pages["task (office)"].text
    )
    assert "退回理由" in pages["returned task"].text
    english = office.get("/lang/en", next="/overdue")
    _assert_escaped(office.follow(english).text, "board in English")


def test_every_mail_escapes_hostile_text(session: Session, world: TaskWorld, hostile: dict[str, int]) -> None:
    events = session.exec(
        select(TaskEvent.id).where(
            TaskEvent.task_id.in_(list(hostile.values())),  # type: ignore[attr-defined]
            TaskEvent.kind.in_(["issue", "return", "extension_requested"]),  # type: ignore[attr-defined]
        )
    ).all()
    for event_id in events:
        assert event_id is not None
        notify_task_event(session, event_id)
    clock.set_now("2027-01-04T10:00")  # a working Monday after the deadline: the weekly lists laggards
    now = clock.now()
    calendar = working_calendar(session)
    compose_digests(session, now, calendar)
    compose_weekly(session, now, calendar, bundled_policy())
    rows = [dict(r) for r in session.connection().execute(sa.select(outbox_t)).mappings()]
    items = {item["id"]: item for item in load_items(session, [outbox_t.c.id.in_([r["id"] for r in rows])])}
    names = {key: name for key, name in session.exec(select(Department.id, Department.name)).all() if key}
    frozen = freeze_digests(session, rows, names, calendar)  # what a digest shows, as its first claim does
    rows = [{**row, "payload": frozen[row["id"]]} if row["id"] in frozen else row for row in rows]
    rendered = {
        (row["kind"], row["step"], row["id"]): render_row(
            row, items.get(row["id"]), names.get(row["department_id"], ""), calendar
        )
        for row in rows
    }
    kinds = {kind for kind, _, _ in rendered}
    assert {"notice", "digest", "weekly"} <= kinds, kinds
    for key, message in rendered.items():
        if message is None:
            continue
        _assert_escaped(message.html, f"{key} html")
        assert "\n" not in message.subject and "<script>" not in message.markdown
    returned = [m for (k, step, _), m in rendered.items() if k == "notice" and step == "return" and m]
    assert returned and "退回理由" in returned[0].html
