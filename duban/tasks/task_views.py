"""Read side of tasks: filtered, department-scoped, keyset-paged listings with overdue computed in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.enums import AssignmentRole, NoticeColour, SupervisionLevel, TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Department, Measure, Milestone, Plan, Task, TaskAssignment, TaskEvent
from duban.tasks.plan_views import AssignedDepartment, task_briefs, task_readable_by

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


def is_overdue(deadline: dt.date | None, state: TaskState, today: dt.date) -> bool:
    """Open and past its deadline (the Python twin of `overdue_clause`)."""
    return bool(deadline and deadline < today and state in OPEN_STATES)


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


def lead_name() -> sa.ScalarSelect[Any]:
    """SQL for the name of the task's lead department (the first by name if there are several)."""
    lead = _assignment_t.alias("lead_of")
    name = _department_t.alias("lead_name")
    return (
        sa.select(sa.func.min(name.c.name))
        .join_from(lead, name, name.c.id == lead.c.department_id)
        .where(lead.c.task_id == _task_t.c.id, lead.c.role == AssignmentRole.lead.value)
        .scalar_subquery()
    )


def list_tasks(session: Session, flt: TaskFilter, scope_department: int | None = None) -> TaskPage:
    """Tasks matching the filter; `scope_department` limits a department to the issued tasks it holds."""
    today = clock.today()
    query = select(Task)
    if scope_department is not None:  # drafts never issued are the office's (plan_views.task_readable_by)
        query = query.where(task_readable_by(scope_department))
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
    overdue = is_overdue(task.deadline, task.state, today)
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


_task_t = Task.__table__  # type: ignore[attr-defined]
_plan_t = Plan.__table__  # type: ignore[attr-defined]
_measure_t = Measure.__table__  # type: ignore[attr-defined]
_assignment_t = TaskAssignment.__table__  # type: ignore[attr-defined]
_department_t = Department.__table__  # type: ignore[attr-defined]
_milestone_t = Milestone.__table__  # type: ignore[attr-defined]

# Built once: the detail is on every action's response; building statements costs more than running them.
_DETAIL = (
    sa.select(
        # Named columns: the frozen policy's version is not part of the detail.
        *(column for column in _task_t.c if column.name != "policy_version"),
        _plan_t.c.title.label("plan_title"),
        _measure_t.c.body.label("measure_text"),
        _measure_t.c.path.label("measure_path"),
    )
    .select_from(
        _task_t.join(_plan_t, _plan_t.c.id == _task_t.c.plan_id).outerjoin(
            _measure_t, _measure_t.c.id == _task_t.c.measure_id
        )
    )
    .where(_task_t.c.id == sa.bindparam("task_id"))
)
_HOLDERS = (
    sa.select(
        _assignment_t.c.role,
        _assignment_t.c.source,
        _assignment_t.c.evidence,
        _department_t.c.id,
        _department_t.c.code,
        _department_t.c.name,
    )
    .join_from(_assignment_t, _department_t, _department_t.c.id == _assignment_t.c.department_id)
    .where(_assignment_t.c.task_id == sa.bindparam("task_id"))
    .order_by(_assignment_t.c.position)
)
_MILESTONES = (
    sa.select(_milestone_t.c.due, _milestone_t.c.text)
    .where(_milestone_t.c.task_id == sa.bindparam("task_id"))
    .order_by(_milestone_t.c.due)
)


def task_detail(session: Session, task_id: int, allowed: list[str]) -> TaskDetail:
    """One task in full, in three statements (task with plan and measure, holders, milestones)."""
    conn = session.connection()
    row = conn.execute(_DETAIL, {"task_id": task_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"任务 {task_id} 不存在", f"Task {task_id} does not exist", code="not_found")
    holders: dict[AssignmentRole, list[AssignedDepartment]] = {role: [] for role in AssignmentRole}
    for holder in conn.execute(_HOLDERS, {"task_id": task_id}):
        role = AssignmentRole(holder.role)
        holders[role].append(
            AssignedDepartment(
                department_id=holder.id,
                code=holder.code,
                name=holder.name,
                role=role,
                source=getattr(holder.source, "value", holder.source),
                evidence=holder.evidence,
            )
        )
    state = TaskState(row["state"])
    return TaskDetail(
        id=task_id,
        plan_id=row["plan_id"],
        path=list(row["measure_path"] or []),
        title=row["title"],
        state=state,
        supervision_level=row["supervision_level"],
        notice_colour=row["notice_colour"],
        deadline=row["deadline"],
        original_deadline=row["original_deadline"],
        deadline_source=row["deadline_source"],
        overdue=is_overdue(row["deadline"], state, clock.today()),
        version=row["version"],
        lead=holders[AssignmentRole.lead],
        cooperating=holders[AssignmentRole.cooperating],
        plan_title=row["plan_title"] or "",
        measure_text=row["measure_text"] or "",
        deadline_note=row["deadline_note"],
        guidance=holders[AssignmentRole.guidance],
        milestones=[
            {"date": m.due.isoformat(), "text": m.text}
            for m in conn.execute(_MILESTONES, {"task_id": task_id})
        ],
        allowed_actions=allowed,
        issued_at=row["issued_at"],
        accepted_at=row["accepted_at"],
        submitted_at=row["submitted_at"],
        completed_at=row["completed_at"],
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
