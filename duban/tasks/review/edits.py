"""Office review before issuing: edit a draft task's lead, cooperating units and deadline, one or in bulk.

Every change is checked in full before anything is written (a bulk edit is all-or-nothing), written with a
guarded UPDATE on the task's version, and recorded as a TaskEvent of kind "edit" whose data holds the
before and after; the edited roles' assignments take the source "office".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.enums import AssignmentRole, LeadSource, TaskState
from duban.tasks.errors import (
    BulkEditInvalid,
    EditNotAllowed,
    NotFoundError,
    StaleTaskVersion,
    TasksError,
)
from duban.tasks.models import Task, TaskAssignment, TaskEvent
from duban.tasks.review.departments import DepartmentIndex

OFFICE_NOTE = "办公室审定的时限 / deadline set by the committee office"
EditVia = Literal["api", "bulk", "division"]
_ROLES = (AssignmentRole.lead, AssignmentRole.cooperating)


@dataclass(frozen=True)
class TaskEdit:
    """What the office changes on one task; None leaves a field as it is."""

    task_id: int
    lead: Sequence[str] | None = None
    cooperating: Sequence[str] | None = None
    deadline: dt.date | None = None
    expected_version: int | None = None
    remark: str = ""


@dataclass
class PlannedEdit:
    """A checked edit, ready to write: the task, its holders before and after, the new deadline."""

    task: Task
    before: dict[AssignmentRole, list[str]]
    after: dict[AssignmentRole, list[str]]
    deadline: dt.date | None
    changed: list[str] = field(default_factory=list)

    def snapshot(self, which: Literal["before", "after"]) -> dict[str, Any]:
        """The audited view of one side of the edit."""
        holders = self.before if which == "before" else self.after
        deadline = self.task.deadline if which == "before" else self.deadline
        return {
            "lead": holders[AssignmentRole.lead],
            "cooperating": holders[AssignmentRole.cooperating],
            "deadline": deadline.isoformat() if deadline else None,
        }


@dataclass(frozen=True)
class EditOutcome:
    """A written edit: the task's new version and its event (None when nothing changed)."""

    task_id: int
    version: int
    event_id: int | None
    changed: list[str]


def holders(
    session: Session, task_ids: Sequence[int], index: DepartmentIndex
) -> dict[int, dict[AssignmentRole, list[str]]]:
    """Lead and cooperating codes per task, in position order."""
    result: dict[int, dict[AssignmentRole, list[str]]] = {t: {r: [] for r in _ROLES} for t in task_ids}
    if not task_ids:
        return result
    rows = session.exec(
        select(TaskAssignment)
        .where(col(TaskAssignment.task_id).in_(task_ids), col(TaskAssignment.role).in_(list(_ROLES)))
        .order_by(col(TaskAssignment.position), col(TaskAssignment.id))
    ).all()
    for row in rows:
        code = index.codes.get(row.department_id)
        if code is not None:
            result[row.task_id][row.role].append(code)
    return result


def _codes(index: DepartmentIndex, given: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(index.resolve(name) for name in given if name.strip()))


def plan_edit(
    task: Task | None,
    edit: TaskEdit,
    before: dict[AssignmentRole, list[str]],
    index: DepartmentIndex,
) -> PlannedEdit:
    """Check one edit against its task (draft, version, departments, dates) without writing anything."""
    if task is None:
        raise NotFoundError(f"任务 {edit.task_id} 不存在", f"Task {edit.task_id} does not exist")
    if task.state is not TaskState.draft:
        raise EditNotAllowed(
            f"只有拟办任务可以修改分工（当前：{task.state.label}），已交办的任务请用改派",
            f"Only a draft task can be edited (it is {task.state.value}); use reassign once issued",
            state=task.state.value,
        )
    if edit.expected_version is not None and edit.expected_version != task.version:
        raise StaleTaskVersion(
            f"任务已被修改（当前版本 {task.version}），请刷新后重试",
            f"The task changed (version {task.version}); reload and retry",
            current_version=task.version,
        )
    after = {role: list(codes) for role, codes in before.items()}
    if edit.lead is not None:
        lead = _codes(index, edit.lead)
        if not lead:
            raise TasksError("牵头单位不能为空", "A task needs at least one lead", code="lead_required")
        after[AssignmentRole.lead] = lead
        if edit.cooperating is None:
            after[AssignmentRole.cooperating] = [
                c for c in after[AssignmentRole.cooperating] if c not in lead
            ]
    if edit.cooperating is not None:
        cooperating = _codes(index, edit.cooperating)
        both = [c for c in cooperating if c in after[AssignmentRole.lead]]
        if both:
            raise TasksError(
                f"同一单位不能既牵头又配合：{'、'.join(index.names[c] for c in both)}",
                "A department cannot both lead and cooperate on one task",
                code="lead_and_cooperating",
            )
        after[AssignmentRole.cooperating] = cooperating
    deadline = edit.deadline if edit.deadline is not None else task.deadline
    if edit.deadline is not None and not 2000 <= edit.deadline.year <= 2100:
        raise TasksError(
            "完成时限应在 2000 至 2100 年之间", "The deadline must be in 2000–2100", code="bad_date"
        )
    planned = PlannedEdit(task, before, after, deadline)
    for role, name in ((AssignmentRole.lead, "lead"), (AssignmentRole.cooperating, "cooperating")):
        if after[role] != before[role]:
            planned.changed.append(name)
    if deadline != task.deadline:
        planned.changed.append("deadline")
    return planned


def write_edit(
    session: Session,
    planned: PlannedEdit,
    index: DepartmentIndex,
    *,
    actor_user_id: int | None,
    actor_label: str,
    via: EditVia,
    reason: str = "",
    extra: dict[str, Any] | None = None,
) -> EditOutcome:
    """Write a checked edit: assignments of the edited roles (source office), deadline, version, event."""
    task = planned.task
    assert task.id is not None
    if not planned.changed:
        return EditOutcome(task.id, task.version, None, [])
    now = clock.now()
    values: dict[str, Any] = {"version": task.version + 1, "updated_at": now}
    if "deadline" in planned.changed:
        values.update(
            deadline=planned.deadline,
            original_deadline=planned.deadline,
            deadline_source=LeadSource.office.value,
            deadline_note=OFFICE_NOTE,
        )
    table = Task.__table__  # type: ignore[attr-defined]
    updated = session.connection().execute(
        table.update().where(table.c.id == task.id, table.c.version == task.version).values(**values)
    )
    if updated.rowcount != 1:
        raise StaleTaskVersion(
            "任务刚被他人修改，请刷新后重试", "Someone else changed the task; reload and retry"
        )
    roles = [r for r in _ROLES if planned.after[r] != planned.before[r]]
    if roles:
        session.connection().execute(
            sa.delete(TaskAssignment.__table__).where(  # type: ignore[attr-defined]
                col(TaskAssignment.task_id) == task.id,
                col(TaskAssignment.role).in_([r.value for r in roles]),
            )
        )
        evidence = [{"kind": "office", "via": via, "by": actor_label, "at": now.isoformat()}]
        session.add_all(
            TaskAssignment(
                task_id=task.id,
                department_id=index.ids[code],
                role=role,
                source=LeadSource.office,
                evidence=evidence,
                position=position,
            )
            for role in roles
            for position, code in enumerate(planned.after[role])
        )
    event = TaskEvent(
        task_id=task.id,
        kind="edit",
        actor_user_id=actor_user_id,
        actor_label=actor_label,
        from_state=task.state.value,
        to_state=task.state.value,
        reason=reason,
        data={
            "before": planned.snapshot("before"),
            "after": planned.snapshot("after"),
            "changed": planned.changed,
            "via": via,
            **(extra or {}),
        },
        created_at=now,
    )
    session.add(event)
    session.flush()
    session.refresh(task)
    return EditOutcome(task.id, task.version, event.id, planned.changed)


def edit_task(
    session: Session,
    edit: TaskEdit,
    *,
    actor_user_id: int | None = None,
    actor_label: str = "委员会办公室 / office",
    index: DepartmentIndex | None = None,
) -> EditOutcome:
    """Edit one draft task (PATCH /api/v1/tasks/{id})."""
    index = index or DepartmentIndex(session)
    task = session.get(Task, edit.task_id, populate_existing=True)
    before = holders(session, [edit.task_id], index)[edit.task_id]
    planned = plan_edit(task, edit, before, index)
    return write_edit(
        session,
        planned,
        index,
        actor_user_id=actor_user_id,
        actor_label=actor_label,
        via="api",
        reason=edit.remark,
    )


def _problem(position: int, edit: TaskEdit, error: TasksError) -> dict[str, Any]:
    item = {
        "index": position,
        "task_id": edit.task_id,
        "code": error.code,
        "message_zh": error.message_zh,
        "message_en": error.message_en,
    }
    item.update({k: v for k, v in error.extra.items() if k in ("suggestions", "value", "current_version")})
    return item


def bulk_edit(
    session: Session,
    plan_id: int,
    edits: Sequence[TaskEdit],
    *,
    actor_user_id: int | None = None,
    actor_label: str = "委员会办公室 / office",
) -> list[EditOutcome]:
    """Edit many draft tasks of one plan, all or nothing: every edit is checked before any is written."""
    index = DepartmentIndex(session)
    ids = [edit.task_id for edit in edits]
    tasks = {
        t.id: t
        for t in session.exec(
            select(Task).where(col(Task.id).in_(ids)).execution_options(populate_existing=True)
        ).all()
    }
    before = holders(session, [i for i in ids if i in tasks], index)
    problems: list[dict[str, Any]] = []
    planned: list[PlannedEdit] = []
    seen: set[int] = set()
    for position, edit in enumerate(edits):
        try:
            task = tasks.get(edit.task_id)
            if task is not None and task.plan_id != plan_id:
                raise TasksError(
                    f"任务 {edit.task_id} 不属于规划 {plan_id}",
                    f"Task {edit.task_id} is not in plan {plan_id}",
                    code="wrong_plan",
                )
            if edit.task_id in seen:
                raise TasksError("同一任务出现两次", "The task appears twice", code="duplicate_task")
            seen.add(edit.task_id)
            planned.append(plan_edit(task, edit, before.get(edit.task_id, {r: [] for r in _ROLES}), index))
        except TasksError as error:
            problems.append(_problem(position, edit, error))
    if problems:
        raise BulkEditInvalid(
            f"批量修改有 {len(problems)} 处错误，未作任何修改",
            f"{len(problems)} of the edits are invalid; nothing was changed",
            errors=problems,
        )
    return [
        write_edit(
            session,
            item,
            index,
            actor_user_id=actor_user_id,
            actor_label=actor_label,
            via="bulk",
            reason=edit.remark,
        )
        for item, edit in zip(planned, edits, strict=True)
    ]
