"""Batch work on the pages: a department's 批量签收 on 我的任务 (a refused row listed with the reason, the others
signed), the office's 批量催办 / 批量升级督办 / 批量批准延期 from the board's selection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.models import Task, TaskEvent
from duban.workflow.models import ExtensionRequest, ExtensionStatus
from duban.workflow.records import request_extension
from tests.api.pages.helpers import PageClient, text_of
from tests.fixtures.tasks import TaskWorld


def _task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id, populate_existing=True)
    assert task is not None
    return task


def _kinds(session: Session, task_id: int) -> list[str]:
    return list(session.exec(select(TaskEvent.kind).where(TaskEvent.task_id == task_id)).all())


def test_a_department_signs_for_many_at_once_and_sees_the_refused_row(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    clock_at("2026-03-02T09:00")
    tasks = [world.task_in(TaskState.assigned) for _ in range(3)]
    lead = signed_in("lead")
    page = lead.get("/tasks", bucket="to_sign").text
    assert 'id="batch-accept-selected"' in page and 'id="batch-accept-all"' in page
    for task_id in tasks:
        assert f'value="{task_id}:{_task(world.session, task_id).version}" form="batch-accept"' in page
    stale = tasks[1]
    chosen = [f"{t}:{_task(world.session, t).version - (1 if t == stale else 0)}" for t in tasks]
    answer = lead.post(
        "/tasks/batch/accept?bucket=to_sign", {"task": chosen, "back": "/tasks?bucket=to_sign"}
    )
    assert answer.status_code == 200  # a refused row: the list again, with the report
    report = text_of(answer.text.split('id="batch-report"')[1].split("</section>")[0])
    assert "已签收 2 项；1 项未能办理" in report and "任务已被修改" in report
    assert f'href="/tasks/{stale}"' in answer.text and 'class="refused"' in answer.text
    assert [_task(world.session, t).state for t in tasks] == [
        TaskState.in_progress,
        TaskState.assigned,
        TaskState.in_progress,
    ]
    assert _kinds(world.session, tasks[0]).count("accept") == 1 and "accept" not in _kinds(
        world.session, stale
    )
    again = lead.post("/tasks/batch/accept", {"task": [f"{stale}:{_task(world.session, stale).version}"]})
    assert "已签收 1 项任务" in lead.follow(again).text
    nothing = lead.post("/tasks/batch/accept", {"back": "/tasks"})
    assert "请先勾选要办理的任务" in lead.follow(nothing).text
    assert signed_in("office").post("/tasks/batch/accept", {"task": [f"{stale}:"]}).status_code == 403


def test_the_office_urges_escalates_and_grants_from_the_boards_selection(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    clock_at("2026-03-02T09:00")
    tasks = [world.task_in(TaskState.in_progress) for _ in range(2)]
    for task_id in tasks:
        request_extension(world.session, task_id, world.actor("lead"), dt.date(2027, 3, 31), "汛期影响施工")
    world.session.flush()
    clock_at("2027-01-11T09:00")  # past the December deadline: red on the board
    office = signed_in("office")
    board = office.get("/overdue").text
    assert 'id="board-batch"' in board and 'id="batch-urge"' in board
    chosen = [f"{t}:{_task(world.session, t).version}" for t in tasks]
    urged = office.post("/overdue/batch", {"action": "urge", "task": chosen, "reason": "请加快进度"})
    assert "已催办 2 项任务" in office.follow(urged).text
    assert {_task(world.session, t).supervision_level for t in tasks} == {SupervisionLevel.urged}
    stale = [f"{t}:{_task(world.session, t).version - (1 if t == tasks[0] else 0)}" for t in tasks]
    escalated = office.post("/overdue/batch?light=red", {"action": "supervise", "task": stale})
    assert escalated.status_code == 200 and "1 项未能办理" in text_of(escalated.text)
    assert _task(world.session, tasks[1]).supervision_level is SupervisionLevel.supervised
    assert _task(world.session, tasks[0]).supervision_level is SupervisionLevel.urged
    chosen = [f"{t}:{_task(world.session, t).version}" for t in tasks]
    granted = office.post("/overdue/batch", {"action": "grant_extension", "task": chosen})
    assert "已批准延期 2 项任务" in office.follow(granted).text
    for task_id in tasks:
        assert _task(world.session, task_id).deadline == dt.date(2027, 3, 31)
        extension = world.session.exec(
            select(ExtensionRequest).where(ExtensionRequest.task_id == task_id)
        ).one()
        world.session.refresh(extension)
        assert extension.status is ExtensionStatus.granted
    fresh = [f"{tasks[0]}:{_task(world.session, tasks[0]).version}"]
    none_pending = office.post("/overdue/batch", {"action": "grant_extension", "task": fresh})
    assert "没有待审批的延期申请" in text_of(none_pending.text)
    assert office.get("/overdue/batch?light=red").headers["location"] == "/overdue?light=red"
