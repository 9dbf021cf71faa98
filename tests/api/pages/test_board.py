"""逾期督办: lights, filters, sorting, the row actions (约谈, escalate, extension), and set-based reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.models import Department, Measure, Task, TaskEvent
from duban.workflow.board import BoardFilter, board_page
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.records import add_progress, request_extension
from duban.workflow.service import office_actor
from duban.workflow.sweep import apply_ladder_action
from tests.api.pages.helpers import PageClient
from tests.fixtures.tasks import TaskWorld

LATE = "2027-03-01T09:00"  # the fixture plan's first deadline, 2026-12-31, has passed


def _escalate(session: Session, task_id: int, times: int) -> None:
    for _ in range(times):
        apply_ladder_action(session, task_id, "supervise", office_actor())
    session.flush()


def _overdue(world: TaskWorld, clock_at: Callable[[Any], None], escalated: int) -> int:
    """A task in progress, past its deadline (the clock at LATE), escalated `escalated` rungs."""
    task_id = world.task_in(TaskState.in_progress)
    clock_at(LATE)
    _escalate(world.session, task_id, escalated)
    return task_id


def _level(session: Session, task_id: int) -> SupervisionLevel:
    task = session.get(Task, task_id, populate_existing=True)
    assert task is not None
    return task.supervision_level


def test_the_board_shows_overdue_tasks_with_light_level_days_and_holders(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    quiet, escalated = world.task_in(TaskState.in_progress), world.task_in(TaskState.assigned)
    done = world.task_in(TaskState.completed)
    clock_at(LATE)
    _escalate(world.session, escalated, 2)
    page = signed_in("office").get("/overdue")
    assert page.status_code == 200
    rows = {task_id: _row(page.text, task_id) for task_id in (quiet, escalated)}
    assert all("light-red" in row for row in rows.values())
    assert "督办（橙）" in rows[escalated] and "确认约谈" in rows[escalated]
    assert "自治区生态环境厅" in rows[quiet] and "自治区发展改革委" in rows[quiet]
    days = WorkingCalendar.from_bundled().working_days_between(dt.date(2026, 12, 31), dt.date(2027, 3, 1))
    assert f'<td class="num">{days}' in rows[quiet]
    assert f'id="task-{done}"' not in page.text  # closed tasks have no light


def _row(page: str, task_id: int) -> str:
    start = page.index(f'id="task-{task_id}"')
    return page[start : page.index("</tr>", start)]


def test_filters_and_sorting(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    first, second = world.task_in(TaskState.in_progress), world.task_in(TaskState.assigned)
    clock_at(LATE)
    _escalate(world.session, second, 1)
    office = signed_in("office")
    plan_of_second = world.session.get(Task, second)
    assert plan_of_second is not None
    by_plan = office.get("/overdue", plan=plan_of_second.plan_id).text
    assert f'id="task-{second}"' in by_plan and f'id="task-{first}"' not in by_plan
    by_level = office.get("/overdue", level="supervised").text
    assert f'id="task-{second}"' in by_level and f'id="task-{first}"' not in by_level
    theirs = office.get("/overdue", department=world.other_id).text
    assert "没有符合条件的任务" in theirs
    league = world.session.exec(select(Department.id).where(Department.code == "hhht")).first()
    if league is not None:
        assert "没有符合条件的任务" in office.get("/overdue", region=league).text
    ordered = office.get("/overdue", sort="level").text
    assert ordered.index(f'id="task-{second}"') < ordered.index(f'id="task-{first}"')
    only_green = office.get("/overdue", light="green").text
    assert f'id="task-{first}"' not in only_green
    garbage = office.get("/overdue", plan="x'1", level="<b>", light="purple", page="-3", per_page="9999")
    assert garbage.status_code == 200 and "规划筛选无效，已忽略" in garbage.text


def test_office_confirms_an_interview_from_the_row(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    task_id = _overdue(world, clock_at, escalated=3)
    office = signed_in("office")
    version = world.session.get(Task, task_id, populate_existing=True).version  # type: ignore[union-attr]
    back = "/overdue?sort=level"
    response = office.post(
        f"/overdue/{task_id}/ladder/interview",
        {"reason": "经主任办公会研究同意约谈", "version": version, "back": back},
    )
    assert response.status_code == 303 and response.headers["location"] == back
    assert _level(world.session, task_id) is SupervisionLevel.interviewed
    event = world.session.exec(
        select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.kind == "interview")
    ).one()
    assert event.reason == "经主任办公会研究同意约谈" and event.actor_label == "page-office 经办人"
    after = office.follow(response)
    assert "督办（红） → 约谈" in after.text and "确认问责" in _row(after.text, task_id)


def test_a_stale_row_is_refused_with_a_message_and_nothing_changes(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    task_id = _overdue(world, clock_at, escalated=1)
    office = signed_in("office")
    response = office.post(f"/overdue/{task_id}/ladder/interview", {"version": 1, "back": "/overdue"})
    assert response.status_code == 303
    assert _level(world.session, task_id) is SupervisionLevel.supervised
    assert "任务已被修改" in office.follow(response).text
    wrong_rung = office.post(f"/overdue/{task_id}/ladder/hold_accountable", {"back": "/overdue"})
    assert "flash error" in office.follow(wrong_rung).text
    assert _level(world.session, task_id) is SupervisionLevel.supervised


def test_office_escalates_and_grants_an_extension_from_the_board(
    signed_in: Callable[[str], PageClient], world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    task_id = world.task_in(TaskState.in_progress)
    clock_at("2026-12-28T09:00")  # due within 5 working days: yellow
    asked = request_extension(world.session, task_id, world.actor("lead"), dt.date(2027, 6, 30), "工程量增加")
    world.session.flush()
    office = signed_in("office")
    row = _row(office.get("/overdue").text, task_id)
    assert "light-yellow" in row and "批准延期" in row and "工程量增加" in row
    response = office.post(
        f"/extensions/{asked.id}/decision",
        {"grant": "1", "granted_deadline": "2027-05-31", "back": "/overdue"},
    )
    assert "已批准延期至 2027-05-31" in office.follow(response).text
    task = world.session.get(Task, task_id, populate_existing=True)
    assert task is not None and task.deadline == dt.date(2027, 5, 31)
    assert task.original_deadline == dt.date(2026, 12, 31)
    escalate = office.post(f"/overdue/{task_id}/ladder/supervise", {"back": "/overdue"})
    assert escalate.status_code == 303
    assert _level(world.session, task_id) is SupervisionLevel.supervised


def test_departments_cannot_open_the_board(signed_in: Callable[[str], PageClient], world: TaskWorld) -> None:
    task_id = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    page = lead.get("/overdue")
    assert page.status_code == 403 and "仅供委员会办公室" in page.text
    refused = lead.post(f"/overdue/{task_id}/ladder/supervise", {"back": "/overdue"})
    assert refused.status_code == 403
    assert _level(world.session, task_id) is SupervisionLevel.none


def test_a_missing_recurring_report_lights_yellow_until_reported(
    world: TaskWorld, clock_at: Callable[[Any], None]
) -> None:
    clock_at("2026-01-05T09:00")
    task_id = world.task_in(TaskState.in_progress)
    task = world.session.get(Task, task_id)
    assert task is not None and task.measure_id is not None
    world.session.execute(
        sa.update(Measure)
        .where(Measure.id == task.measure_id)  # type: ignore[arg-type]
        .values(recurrence={"frequency": "quarterly", "text": "每季度报送"})
    )
    calendar = WorkingCalendar.from_bundled()
    clock_at("2026-05-06T09:00")  # Q1's report was due 10 working days after 03-31
    (row,) = board_page(world.session, BoardFilter(task_ids=(task_id,)), calendar).rows
    assert (row.light, row.behind_on_reports) == ("yellow", True)
    add_progress(world.session, task_id, world.actor("lead"), 40, "一季度完成 40 台锅炉改造")
    world.session.flush()
    (row,) = board_page(world.session, BoardFilter(task_ids=(task_id,)), calendar).rows
    assert (row.light, row.behind_on_reports) == ("green", False)
    assert row.last_report is not None and row.last_report.percent == 40


def test_the_board_reads_a_fixed_number_of_statements_whatever_the_rows(
    signed_in: Callable[[str], PageClient],
    world: TaskWorld,
    clock_at: Callable[[Any], None],
) -> None:
    office = signed_in("office")
    counts = []
    for _ in range(2):
        for _ in range(4):
            world.task_in(TaskState.in_progress)
        clock_at(LATE)
        counts.append(_statements(world.session, lambda: office.get("/overdue", per_page="25")))
        clock_at(None)
    assert counts[0] == counts[1], counts


def _statements(session: Session, action: Callable[[], Any]) -> int:
    engine = session.get_bind()
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2])[:60])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert action().status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen)


@pytest.mark.parametrize("per_page", [25, 50])
def test_paging_splits_rows_and_keeps_the_filters(
    world: TaskWorld, clock_at: Callable[[Any], None], per_page: int
) -> None:
    made = {world.task_in(TaskState.in_progress) for _ in range(3)}
    clock_at(LATE)
    calendar = WorkingCalendar.from_bundled()
    seen: list[int] = []
    for number in (1, 2, 3):
        page = board_page(world.session, BoardFilter(lights=("red",), page=number, per_page=1), calendar)
        seen.extend(row.id for row in page.rows)
        assert page.total >= 3 and page.pages == page.total
    assert len(set(seen)) == 3
    everything = board_page(world.session, BoardFilter(lights=("red",), per_page=per_page), calendar)
    assert made <= {row.id for row in everything.rows}
