"""Read side of tasks: filtered, department-scoped, keyset-paged listings with overdue computed in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.enums import AssignmentRole, NoticeColour, SupervisionLevel, TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Department, Measure, Plan, Task, TaskAssignment, TaskEvent
from duban.tasks.plan_views import AssignedDepartment, task_briefs

OPEN_STATES = (TaskState.assigned, TaskState.in_progress, TaskState.submitted, TaskState.returned)


@dataclass(frozen=True)
class TaskFilter:
    """What a listing asks for."""

    state: tuple[TaskState, ...] = ()
    lead: int | None = None
    department: int | None = None
    plan_id: int | None = None
    overdue: bool | None = None
    due_before: dt.date | None = None
    after_id: int | None = None
    limit: int = 50


class TaskItem(BaseModel):
    """A task in a listing."""

    id: int
    plan_id: int
    path: list[str]
    title: str
    state: TaskState
    supervision_level: SupervisionLevel
    notice_colour: NoticeColour | None
    deadline: dt.date | None
    original_deadline: dt.date | None
    deadline_source: str | None
    overdue: bool
    version: int
    lead: list[AssignedDepartment]
    cooperating: list[AssignedDepartment]


class TaskPage(BaseModel):
    """One page of a listing; pass `next_after_id` as `after_id` for the next."""

    items: list[TaskItem]
    next_after_id: int | None


class TaskDetail(TaskItem):
    """One task with its measure's text, the plan, and what the caller may do."""

    plan_title: str
    measure_text: str
    deadline_note: str | None
    guidance: list[AssignedDepartment]
    milestones: list[dict[str, str]]
    allowed_actions: list[str]
    issued_at: dt.datetime | None
    accepted_at: dt.datetime | None
    submitted_at: dt.datetime | None
    completed_at: dt.datetime | None


class EventView(BaseModel):
    """An entry of a task's audit log."""

    id: int
    kind: str
    actor_user_id: int | None
    actor_department_id: int | None
    actor_label: str
    from_state: str | None
    to_state: str | None
    from_level: str | None
    to_level: str | None
    reason: str
    data: dict[str, object]
    request_id: str | None
    created_at: dt.datetime


def overdue_clause(today: dt.date) -> sa.ColumnElement[bool]:
    """SQL for "open and past its deadline"."""
    return sa.and_(col(Task.deadline) < today, col(Task.state).in_([s.value for s in OPEN_STATES]))


def holds(department_id: int, roles: tuple[AssignmentRole, ...]) -> sa.ColumnElement[bool]:
    """SQL for "the department holds the task in one of these roles"."""
    return (
        sa.select(col(TaskAssignment.id))
        .where(
            col(TaskAssignment.task_id) == col(Task.id),
            col(TaskAssignment.department_id) == department_id,
            col(TaskAssignment.role).in_([r.value for r in roles]),
        )
        .exists()
    )


def list_tasks(session: Session, flt: TaskFilter, scope_department: int | None = None) -> TaskPage:
    """Tasks matching the filter; `scope_department` limits a department to the tasks it holds."""
    today = clock.today()
    query = select(Task)
    if scope_department is not None:
        query = query.where(holds(scope_department, (AssignmentRole.lead, AssignmentRole.cooperating)))
    if flt.state:
        query = query.where(col(Task.state).in_([s.value for s in flt.state]))
    if flt.lead is not None:
        query = query.where(holds(flt.lead, (AssignmentRole.lead,)))
    if flt.department is not None:
        query = query.where(holds(flt.department, (AssignmentRole.lead, AssignmentRole.cooperating)))
    if flt.plan_id is not None:
        query = query.where(Task.plan_id == flt.plan_id)
    if flt.overdue is True:
        query = query.where(overdue_clause(today))
    elif flt.overdue is False:
        query = query.where(sa.not_(overdue_clause(today)))
    if flt.due_before is not None:
        query = query.where(col(Task.deadline) < flt.due_before)
    if flt.after_id is not None:
        query = query.where(col(Task.id) > flt.after_id)
    rows = session.exec(query.order_by(col(Task.id)).limit(flt.limit + 1)).all()
    more = len(rows) > flt.limit
    rows = rows[: flt.limit]
    items = [_item(task, brief, today) for task, brief in zip(rows, task_briefs(session, rows), strict=True)]
    return TaskPage(items=items, next_after_id=items[-1].id if more and items else None)


def _item(task: Task, brief: object, today: dt.date) -> TaskItem:
    assert task.id is not None
    overdue = bool(task.deadline and task.deadline < today and task.state in OPEN_STATES)
    return TaskItem(
        id=task.id,
        plan_id=task.plan_id,
        path=brief.path,  # type: ignore[attr-defined]
        title=task.title,
        state=task.state,
        supervision_level=task.supervision_level,
        notice_colour=task.notice_colour,
        deadline=task.deadline,
        original_deadline=task.original_deadline,
        deadline_source=task.deadline_source,
        overdue=overdue,
        version=task.version,
        lead=brief.lead,  # type: ignore[attr-defined]
        cooperating=brief.cooperating,  # type: ignore[attr-defined]
    )


def get_task(session: Session, task_id: int) -> Task:
    """The task, or NotFoundError."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFoundError(f"任务 {task_id} 不存在", f"Task {task_id} does not exist", code="not_found")
    return task


def task_detail(session: Session, task: Task, allowed: list[str]) -> TaskDetail:
    """One task in full."""
    from duban.tasks.models import Milestone

    brief = task_briefs(session, [task])[0]
    item = _item(task, brief, clock.today())
    plan = session.get(Plan, task.plan_id)
    measure = session.get(Measure, task.measure_id) if task.measure_id else None
    milestones = session.exec(
        select(Milestone).where(Milestone.task_id == task.id).order_by(col(Milestone.due))
    ).all()
    return TaskDetail(
        **item.model_dump(),
        plan_title=plan.title if plan else "",
        measure_text=(measure.body if measure else ""),
        deadline_note=task.deadline_note,
        guidance=brief.guidance,
        milestones=[{"date": m.due.isoformat(), "text": m.text} for m in milestones],
        allowed_actions=allowed,
        issued_at=task.issued_at,
        accepted_at=task.accepted_at,
        submitted_at=task.submitted_at,
        completed_at=task.completed_at,
    )


def task_events(
    session: Session, task_id: int, after_id: int | None = None, limit: int = 200
) -> list[EventView]:
    """A task's audit log in order."""
    query = select(TaskEvent).where(TaskEvent.task_id == task_id)
    if after_id is not None:
        query = query.where(col(TaskEvent.id) > after_id)
    rows = session.exec(query.order_by(col(TaskEvent.id)).limit(limit)).all()
    return [EventView.model_validate(row, from_attributes=True) for row in rows]


def department_by_code(session: Session, code: str) -> int | None:
    """A department's id from its code (None if unknown)."""
    return session.exec(select(Department.id).where(Department.code == code)).first()
