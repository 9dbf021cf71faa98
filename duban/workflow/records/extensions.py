"""延期申请: the lead asks before the deadline; the office grants (re-timing the task) or refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from duban.core import clock
from duban.tasks.enums import Role, SupervisionLevel, TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Task
from duban.workflow.errors import ActionForbidden, RecordNotAllowed, WorkflowError
from duban.workflow.evidence.files import attach
from duban.workflow.machines import Actor
from duban.workflow.models import ExtensionRequest, ExtensionStatus
from duban.workflow.records._common import (
    MAX_REASON_CHARS,
    check_text,
    extension_t,
    invalid,
    lock_task,
    task_t,
    write_event,
)
from duban.workflow.service import ensure_visible, load_header

REQUEST_STATES: Final = frozenset({TaskState.assigned, TaskState.in_progress, TaskState.returned})
CLOSED_STATES: Final = frozenset({TaskState.completed, TaskState.cancelled})
LATEST_DEADLINE: Final = dt.date(2099, 12, 31)  # the working-day calendar's last day


def request_extension(
    session: Session,
    task_id: int,
    actor: Actor,
    requested_deadline: dt.date,
    reason: str,
    *,
    request_id: str | None = None,
    actor_label: str = "",
    file_ids: Sequence[int] = (),
) -> ExtensionRequest:
    """The lead asks, on or before the current deadline, for a later one; one pending request per task;
    `file_ids`: evidence the lead uploaded for the task, carried by the request."""
    header = load_header(session, task_id)
    if ensure_visible(actor, header) != "lead":
        raise ActionForbidden(
            "只有牵头单位可以申请延期", "Only the lead department asks for an extension", action="extension"
        )
    task = lock_task(session, task_id)
    state = TaskState(task.state)
    if state not in REQUEST_STATES:
        raise RecordNotAllowed(
            f"任务当前为“{state.label}”，只有“已交办”“办理中”“已退回”的任务可以申请延期",
            f"The task is {state.value}; extensions are asked while it is assigned, in_progress or returned",
            code="extension_not_allowed",
            state=state.value,
        )
    deadline: dt.date | None = task.deadline
    today = clock.today()
    if deadline is None:
        raise invalid(
            "任务没有完成时限，无需延期", "The task has no deadline to extend", "extension_no_deadline"
        )
    if today > deadline:
        raise invalid(
            f"完成时限 {deadline.isoformat()} 已过，须在时限届满前申请延期",
            f"The deadline {deadline.isoformat()} has passed; extensions must be asked before it",
            "extension_too_late",
            deadline=deadline.isoformat(),
        )
    if not deadline < requested_deadline <= LATEST_DEADLINE:
        raise invalid(
            f"申请的时限须晚于当前时限 {deadline.isoformat()}",
            f"The requested deadline must be later than the current one, {deadline.isoformat()}",
            "extension_not_later",
            deadline=deadline.isoformat(),
        )
    cleaned = check_text(reason, "reason", limit=MAX_REASON_CHARS)
    pending = (
        session.connection()
        .execute(
            sa.select(extension_t.c.id).where(
                extension_t.c.task_id == task_id, extension_t.c.status == ExtensionStatus.pending.value
            )
        )
        .first()
    )
    if pending is not None:
        raise RecordNotAllowed(
            f"此任务已有待审批的延期申请（编号 {pending.id}）",
            f"The task already has a pending extension request ({pending.id})",
            code="extension_pending",
            extension_id=pending.id,
        )
    assert actor.department_id is not None
    extension = ExtensionRequest(
        task_id=task_id,
        department_id=actor.department_id,
        requested_by_user_id=actor.user_id,
        current_deadline=deadline,
        requested_deadline=requested_deadline,
        reason=cleaned,
    )
    session.add(extension)
    session.flush()
    assert extension.id is not None
    files = attach(session, task_id, actor, file_ids, "extension", extension.id)
    write_event(
        session,
        task_id,
        "extension_requested",
        actor,
        reason=cleaned,
        data={
            "extension_id": extension.id,
            "current_deadline": deadline.isoformat(),
            "requested_deadline": requested_deadline.isoformat(),
            "files": files,
        },
        request_id=request_id,
        actor_label=actor_label,
    )
    return extension


def decide_extension(
    session: Session,
    extension_id: int,
    actor: Actor,
    grant: bool,
    reason: str = "",
    granted_deadline: dt.date | None = None,
    *,
    request_id: str | None = None,
    actor_label: str = "",
) -> ExtensionRequest:
    """The office grants (deadline moves, original stays, ladder re-times) or refuses with a reason."""
    if actor.role not in (Role.office, Role.admin):
        raise ActionForbidden(
            "只有委员会办公室可以审批延期申请",
            "Only the committee office decides extensions",
            action="decide",
        )
    extension = session.get(ExtensionRequest, extension_id)
    if extension is None:
        raise NotFoundError(
            f"延期申请 {extension_id} 不存在",
            f"Extension request {extension_id} does not exist",
            code="not_found",
        )
    task = lock_task(session, extension.task_id)
    session.refresh(extension)
    if extension.status is not ExtensionStatus.pending:
        raise RecordNotAllowed(
            f"此延期申请已{'批准' if extension.status is ExtensionStatus.granted else '驳回'}，不能再次审批",
            f"This extension request was already {extension.status.value}",
            code="extension_already_decided",
            extension_status=extension.status.value,
        )
    cleaned = check_text(reason, "reason", required=not grant, limit=MAX_REASON_CHARS)
    if granted_deadline is not None and not grant:
        raise invalid(
            "驳回延期申请时不能指定批准时限",
            "granted_deadline goes only with a grant",
            "granted_deadline_unexpected",
        )
    now = clock.now()
    final_deadline = (granted_deadline or extension.requested_deadline) if grant else None
    level_change: tuple[str, str] | None = None
    data: dict[str, object] = {
        "extension_id": extension.id,
        "requested_deadline": extension.requested_deadline.isoformat(),
    }
    if final_deadline is not None:
        level_change = _re_time(session, task, final_deadline, now)
        data |= {
            "previous_deadline": task.deadline.isoformat() if task.deadline else None,
            "granted_deadline": final_deadline.isoformat(),
            "original_deadline": (task.original_deadline or task.deadline or final_deadline).isoformat(),
            "version": task.version + 1,
        }
    updated = session.connection().execute(
        extension_t.update()
        .where(extension_t.c.id == extension_id, extension_t.c.status == ExtensionStatus.pending.value)
        .values(
            status=(ExtensionStatus.granted if grant else ExtensionStatus.refused).value,
            decided_by_user_id=actor.user_id,
            decided_at=now,
            granted_deadline=final_deadline,
            decision_reason=cleaned,
        )
    )
    if updated.rowcount != 1:
        raise _conflict()
    write_event(
        session,
        extension.task_id,
        "extension_granted" if grant else "extension_refused",
        actor,
        reason=cleaned,
        data=data,
        from_level=level_change[0] if level_change else None,
        to_level=level_change[1] if level_change else None,
        request_id=request_id,
        actor_label=actor_label,
    )
    session.refresh(extension)
    return extension


def _re_time(
    session: Session, task: sa.Row[Any], new_deadline: dt.date, now: dt.datetime
) -> tuple[str, str] | None:
    """Move the deadline (keeping the original), bump the version; a future deadline restarts the ladder."""
    state = TaskState(task.state)
    if state in CLOSED_STATES:
        raise RecordNotAllowed(
            f"任务已{state.label}，不能再延期（可驳回此申请）",
            f"The task is {state.value}; it can no longer be extended (refuse the request instead)",
            code="extension_not_allowed",
            state=state.value,
        )
    current: dt.date | None = task.deadline
    if current is not None and not current < new_deadline <= LATEST_DEADLINE:
        raise invalid(
            f"批准的时限须晚于当前时限 {current.isoformat()}",
            f"The granted deadline must be later than the current one, {current.isoformat()}",
            "extension_not_later",
            deadline=current.isoformat(),
        )
    values: dict[str, object] = {
        "deadline": new_deadline,
        "original_deadline": sa.func.coalesce(task_t.c.original_deadline, task_t.c.deadline),
        "version": task.version + 1,
        "updated_at": now,
    }
    level = SupervisionLevel(task.supervision_level)
    change = None
    if new_deadline > clock.today() and level is not SupervisionLevel.none:
        values |= {"supervision_level": SupervisionLevel.none.value, "notice_colour": None}
        change = (level.value, SupervisionLevel.none.value)
    updated = session.connection().execute(
        task_t.update().where(task_t.c.id == task.id, task_t.c.version == task.version).values(**values)
    )
    if updated.rowcount != 1:
        raise _conflict()
    stale = session.identity_map.get(identity_key(Task, task.id))
    if stale is not None:
        session.expire(stale)  # the row changed under the ORM's copy
    return change


def _conflict() -> WorkflowError:
    return RecordNotAllowed(
        "任务或申请刚被他人修改，请刷新后重试",
        "The task or the request changed meanwhile; reload and retry",
        code="conflict",
    )


def list_extensions(
    session: Session,
    actor: Actor,
    *,
    task_id: int | None = None,
    status: ExtensionStatus | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[ExtensionRequest]:
    """Extension requests, oldest first: the office sees all; a department those of tasks it has a part in."""
    query = select(ExtensionRequest)
    if task_id is not None:
        header = load_header(session, task_id)
        ensure_visible(actor, header)
        query = query.where(ExtensionRequest.task_id == task_id)
    elif actor.role not in (Role.office, Role.admin):
        query = query.where(ExtensionRequest.department_id == actor.department_id)
    if status is not None:
        query = query.where(col(ExtensionRequest.status) == status)
    if after_id is not None:
        query = query.where(col(ExtensionRequest.id) > after_id)
    return list(session.exec(query.order_by(col(ExtensionRequest.id)).limit(max(1, min(limit, 1000)))).all())
