"""The one service that applies task actions: role and department checks, the machine, the event.

The hot path is two prepared statements (read the task with its holders; the guarded UPDATE on the
version with the event's INSERT), so an action costs about what the bare SQL costs; the request commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NoReturn

import sqlalchemy as sa

from duban.core import clock, jobs
from duban.core.db import Unit
from duban.core.prepared import Prepared
from duban.tasks.enums import AssignmentRole, LeadSource, Role, TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import (
    REQUEST_USER_COLUMNS,
    Department,
    Plan,
    Task,
    TaskAssignment,
    TaskEvent,
    User,
    user_from_row,
)
from duban.tasks.units import Blocker, blocking_tasks, unresolved_leads
from duban.workflow.errors import ActionForbidden, TransitionNotAllowed, WorkflowError
from duban.workflow.evidence.completion import check_completion
from duban.workflow.machines import Actor, TaskRelation, actor_kind, allowed_actions, check_action
from duban.workflow.policy import bundled_policy, policy_on_issue
from duban.workflow.policy_store import register_policy

task_t = Task.__table__  # type: ignore[attr-defined]
assignment_t = TaskAssignment.__table__  # type: ignore[attr-defined]
event_t = TaskEvent.__table__  # type: ignore[attr-defined]
plan_t = Plan.__table__  # type: ignore[attr-defined]
user_t = User.__table__  # type: ignore[attr-defined]

TIMESTAMP_OF = {
    TaskState.assigned: "issued_at",
    TaskState.in_progress: "accepted_at",
    TaskState.submitted: "submitted_at",
    TaskState.completed: "completed_at",
}


class StaleVersion(WorkflowError):
    """The client's If-Match names an older version of the task (412)."""

    code = "stale_version"


class IssueRefused(WorkflowError):
    """A task cannot be issued without a resolved lead and a deadline (422); `tasks` lists each one."""

    code = "issue_incomplete"


def issue_refusal(blockers: Sequence[Blocker]) -> IssueRefused:
    """The refusal naming every task that stands in the way, its measure and its unresolved lead."""
    unresolved = any(blocker.unresolved for blocker in blockers)
    shown = [blocker.message() for blocker in blockers[:5]]
    more_zh = f"等 {len(blockers)} 项" if len(blockers) > 5 else ""
    more_en = f" and {len(blockers) - 5} more" if len(blockers) > 5 else ""
    zh = "；".join(z for z, _ in shown) + more_zh
    en = "; ".join(e for _, e in shown) + more_en
    if len(blockers) == 1 and unresolved:
        message_zh = f"{zh}，请先在规划审定页确认"
        message_en = f"{en}: map it on the plan review page first"
    elif unresolved:
        message_zh = (
            f"有 {len(blockers)} 项任务缺少牵头单位或完成时限、或牵头单位尚未对应到部门，不能交办：{zh}。"
            "请先在规划审定页确认"
        )
        message_en = (
            f"{len(blockers)} tasks lack a lead or a deadline, or their lead is not mapped to a department; "
            f"nothing was issued: {en}"
        )
    else:
        message_zh = f"有 {len(blockers)} 项任务缺少牵头单位或完成时限，不能交办：{zh}"
        message_en = f"{len(blockers)} tasks lack a lead or a deadline; nothing was issued: {en}"
    return IssueRefused(
        message_zh,
        message_en,
        code="lead_unresolved" if unresolved else IssueRefused.code,
        tasks=[blocker.to_json() for blocker in blockers],
        missing=sorted({m for blocker in blockers for m in blocker.missing}),
    )


@dataclass(frozen=True)
class TaskHeader:
    """What an action needs to know about a task, read in one round trip."""

    id: int
    state: TaskState
    version: int
    lead_ids: frozenset[int]
    cooperating_ids: frozenset[int]
    deadline_set: bool


@dataclass(frozen=True)
class ActionOutcome:
    """An accepted action."""

    task_id: int
    action: str
    from_state: TaskState
    to_state: TaskState
    version: int
    event_id: int
    header: TaskHeader  # the task as the action left it


# Built once and run on the driver's cursor (see duban.core.prepared): every action runs these.
_HEADER_COLUMNS = (
    task_t.c.state,
    task_t.c.version,
    task_t.c.deadline.is_not(None).label("has_deadline"),
    assignment_t.c.department_id,
    assignment_t.c.role,
)
_TASK_AND_HOLDERS = task_t.outerjoin(assignment_t, assignment_t.c.task_id == task_t.c.id)
_HEADER = Prepared(
    sa.select(*_HEADER_COLUMNS).select_from(_TASK_AND_HOLDERS).where(task_t.c.id == sa.bindparam("task_id"))
)
EVENT_COLUMNS = (
    "task_id",
    "kind",
    "actor_user_id",
    "actor_department_id",
    "actor_label",
    "from_state",
    "to_state",
    "reason",
    "data",
    "request_id",
    "created_at",
)
_RECORD = Prepared(
    event_t.insert()
    .values({name: sa.bindparam(name, type_=event_t.c[name].type) for name in EVENT_COLUMNS})
    .returning(event_t.c.id)
)


def load_header(session: Unit, task_id: int) -> TaskHeader:
    """The task's state, version and holders in one statement (404 if it does not exist)."""
    rows = _HEADER.rows(session.connection(), {"task_id": task_id})
    if not rows:
        raise NotFoundError(f"任务 {task_id} 不存在", f"Task {task_id} does not exist", code="not_found")
    return header_of(task_id, rows)


def header_of(task_id: int, rows: Sequence[Sequence[Any]]) -> TaskHeader:
    """The header from rows of (state, version, has deadline, holder's department, holder's role)."""
    state, version, has_deadline = rows[0][:3]
    leads = frozenset(row[3] for row in rows if row[4] == AssignmentRole.lead.value)
    cooperating = frozenset(row[3] for row in rows if row[4] == AssignmentRole.cooperating.value)
    return TaskHeader(task_id, TaskState(state), version, leads, cooperating, bool(has_deadline))


_CALLER_AND_HEADER = Prepared(
    sa.select(*(user_t.c[name] for name in REQUEST_USER_COLUMNS), *_HEADER_COLUMNS)
    .select_from(user_t.outerjoin(_TASK_AND_HOLDERS, task_t.c.id == sa.bindparam("task_id")))
    .where(user_t.c.id == sa.bindparam("user_id"))
)


def load_caller_and_header(
    session: Unit, user_id: int, task_id: int
) -> tuple[User | None, TaskHeader | None]:
    """The caller and the task's header in one round trip, the action path's first read: no user, or
    no task (then `apply_action` answers 404), is None."""
    rows = _CALLER_AND_HEADER.rows(session.connection(), {"user_id": user_id, "task_id": task_id})
    if not rows:
        return None, None
    split = len(REQUEST_USER_COLUMNS)
    user = user_from_row(rows[0][:split])
    if rows[0][split] is None:  # the task's state: NULL when the outer join found no task
        return user, None
    return user, header_of(task_id, [row[split:] for row in rows])


def _update_for(target: TaskState) -> sa.Update:
    """The guarded UPDATE that moves a task to `target` (stamping its time column)."""
    values: dict[str, Any] = {
        "state": target.value,
        "version": sa.bindparam("new_version"),
        "updated_at": sa.bindparam("now", type_=task_t.c.updated_at.type),
    }
    stamp = TIMESTAMP_OF.get(target)
    if stamp:
        values[stamp] = sa.bindparam("now", type_=task_t.c.updated_at.type)
    if target is TaskState.assigned:  # issue and reassign freeze the policy in force, in the same statement
        values["policy_version"] = policy_on_issue(sa.bindparam("policy_version", type_=sa.Integer))
    statement: sa.Update = (
        task_t.update()
        .where(task_t.c.id == sa.bindparam("task_id"), task_t.c.version == sa.bindparam("old_version"))
        .values(**values)
    )
    return statement


@cache
def _write_for(target: TaskState, together: bool) -> tuple[Prepared, ...]:
    """The move to `target` and its event: one statement where the database takes an UPDATE in a WITH
    (PostgreSQL; no event when no row moved), else the UPDATE and then the INSERT."""
    if not together:
        return (Prepared(_update_for(target)), _RECORD)
    moved = _update_for(target).returning(task_t.c.id).cte("moved")
    types = {name: event_t.c[name].type for name in EVENT_COLUMNS}
    values = [sa.cast(sa.bindparam(name, type_=types[name]), types[name]) for name in EVENT_COLUMNS[1:]]
    record = (
        event_t.insert()
        .from_select(list(EVENT_COLUMNS), sa.select(moved.c.id, *values))
        .returning(event_t.c.id)
    )
    return (Prepared(record),)


def stale(current_version: int) -> StaleVersion:
    """The 412 for a client that named an older version."""
    return StaleVersion(
        f"任务已被修改（当前版本 {current_version}），请刷新后重试",
        f"The task changed (version {current_version}); reload and retry",
        current_version=current_version,
    )


def check_version(current_version: int, expected_version: int | None) -> None:
    """412 when the client's If-Match names another version than the current one."""
    if expected_version is not None and expected_version != current_version:
        raise stale(current_version)


def kind_of(actor: Actor, header: TaskHeader) -> str:
    """The actor's relation to the task: office, admin, lead, cooperating or other."""
    return actor_kind(actor, TaskRelation.of(actor.department_id, header.lead_ids, header.cooperating_ids))


def ensure_visible(actor: Actor, header: TaskHeader) -> str:
    """The actor's kind; departments with no part in the task get 403."""
    kind = kind_of(actor, header)
    if kind == "other":
        raise ActionForbidden(
            "本单位不是此任务的牵头或配合单位", "Your department neither leads nor cooperates on this task"
        )
    return kind


def actions_for(actor: Actor, header: TaskHeader) -> list[str]:
    """The actions the actor may take on the task now."""
    return allowed_actions(header.state, kind_of(actor, header))


def writes_in_one_statement(action: str, backend: str) -> bool:
    """Whether `apply_action` writes `action` in one statement, and so needs no transaction around it:
    on PostgreSQL the move and its event are one `WITH … UPDATE … INSERT`; reassign first rewrites the
    holders, and SQLite takes the move and the event as two statements."""
    return _move_with_event(backend) and action != "reassign"


def _move_with_event(backend: str) -> bool:
    """Whether the database takes the move and its event as one statement (an UPDATE inside a WITH)."""
    return backend == "postgresql"


def apply_action(
    session: Unit,
    task_id: int,
    action: str,
    actor: Actor,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    request_id: str | None = None,
    new_lead_id: int | None = None,
    actor_label: str = "",
    header: TaskHeader | None = None,
) -> ActionOutcome:
    """Apply one action: check, move, write the event; the caller's boundary commits. `header`: the
    task as just read in this unit (else it is read here)."""
    header = header if header is not None else load_header(session, task_id)
    kind = kind_of(actor, header)
    check_version(header.version, expected_version)
    target = check_action(header.state, action, kind, reason)
    if action == "issue":
        _check_issuable(session, header)
    if action == "submit":  # what 办结 needs, as the task's frozen policy states it
        check_completion(session, header)
    if action == "reassign":
        _reassign(session, task_id, new_lead_id)
    now = clock.now()
    conn = session.connection()
    params: dict[str, Any] = {
        "task_id": task_id,
        "old_version": header.version,
        "new_version": header.version + 1,
        "now": now,
        "kind": action,
        "actor_user_id": actor.user_id,
        "actor_department_id": actor.department_id,
        "actor_label": actor_label,
        "from_state": header.state.value,
        "to_state": target.value,
        "reason": reason or "",
        "data": {"new_lead_id": new_lead_id} if new_lead_id else {},
        "request_id": request_id,
        "created_at": now,
    }
    if target is TaskState.assigned:
        register_policy(conn, bundled_policy())
        params["policy_version"] = bundled_policy().version
    statements = _write_for(target, _move_with_event(conn.dialect.name))
    if len(statements) == 2 and statements[0].rowcount(conn, params) != 1:
        _lost_race(session, task_id, actor, expected_version)
    row = statements[-1].first(conn, params)
    if row is None:
        _lost_race(session, task_id, actor, expected_version)
    event_id = int(row[0])
    jobs.enqueue_batched(session, "duban.notify_task_event", event_id)
    after = (
        load_header(session, task_id)
        if action == "reassign"
        else dataclasses.replace(header, state=target, version=header.version + 1)
    )
    return ActionOutcome(task_id, action, header.state, target, header.version + 1, event_id, after)


def _lost_race(session: Unit, task_id: int, actor: Actor, expected_version: int | None) -> NoReturn:
    """Another action won between our read and our write: 412 if the client named a version, else 409."""
    current = load_header(session, task_id)
    if expected_version is not None:
        raise stale(current.version)
    raise TransitionNotAllowed(
        f"任务刚被他人处理，当前状态为{current.state.label}",
        f"Someone else acted first; the task is now {current.state.value}",
        code="conflict",
        allowed_actions=actions_for(actor, current),
    )


def _check_issuable(session: Unit, header: TaskHeader) -> None:
    """Refuse to issue a task without a lead, with a written lead not yet mapped to a department, or without
    a deadline (one indexed read when nothing is wrong)."""
    conn = session.connection()
    if header.lead_ids and header.deadline_set and not unresolved_leads(conn, [header.id]):
        return
    blockers = blocking_tasks(conn, task_id=header.id)
    if blockers:
        raise issue_refusal(blockers)


def _reassign(session: Unit, task_id: int, new_lead_id: int | None) -> None:
    conn = session.connection()
    if getattr(conn.connection.dbapi_connection, "autocommit", False) is True:
        raise RuntimeError("reassign rewrites the holders, then moves the task: it needs a transaction")
    department_t = Department.__table__  # type: ignore[attr-defined]
    exists = sa.select(department_t.c.id).where(department_t.c.id == new_lead_id)
    if new_lead_id is None or conn.execute(exists).first() is None:
        raise WorkflowError(
            "改派须指定新的牵头单位（new_lead_id）",
            "reassign needs an existing new lead department (new_lead_id)",
            code="new_lead_required",
        )
    conn.execute(
        assignment_t.delete().where(
            assignment_t.c.task_id == task_id,
            sa.or_(
                assignment_t.c.role == AssignmentRole.lead.value,
                assignment_t.c.department_id == new_lead_id,
            ),
        )
    )
    conn.execute(
        assignment_t.insert().values(
            task_id=task_id,
            department_id=new_lead_id,
            role=AssignmentRole.lead.value,
            source=LeadSource.office.value,
            evidence=[],
            position=0,
        )
    )


def office_actor(user_id: int | None = None) -> Actor:
    """An office actor (for the CLI and jobs acting for the office)."""
    return Actor(role=Role.office, department_id=None, user_id=user_id)
