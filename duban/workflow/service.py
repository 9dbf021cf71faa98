"""The one service that applies task actions: role and department checks, the machine, the event.

The hot path is two prepared statements (read the task with its holders; the guarded UPDATE on the
version with the event's INSERT), so an action costs about what the bare SQL costs; the request commits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock, jobs
from duban.core.prepared import Prepared
from duban.tasks.enums import AssignmentRole, LeadSource, Role, TaskState
from duban.tasks.errors import NotFoundError
from duban.tasks.models import Department, Plan, PlanStatus, Task, TaskAssignment, TaskEvent
from duban.workflow.errors import ActionForbidden, TransitionNotAllowed, WorkflowError
from duban.workflow.machines import Actor, TaskRelation, actor_kind, allowed_actions, check_action
from duban.workflow.policy import bundled_policy, policy_on_issue

task_t = Task.__table__  # type: ignore[attr-defined]
assignment_t = TaskAssignment.__table__  # type: ignore[attr-defined]
event_t = TaskEvent.__table__  # type: ignore[attr-defined]
plan_t = Plan.__table__  # type: ignore[attr-defined]

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
    """A task cannot be issued without a lead and a deadline (422)."""

    code = "issue_incomplete"


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
_HEADER = Prepared(
    sa.select(
        task_t.c.state,
        task_t.c.version,
        task_t.c.deadline.is_not(None).label("has_deadline"),
        assignment_t.c.department_id,
        assignment_t.c.role,
    )
    .select_from(task_t.outerjoin(assignment_t, assignment_t.c.task_id == task_t.c.id))
    .where(task_t.c.id == sa.bindparam("task_id"))
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


def load_header(session: Session, task_id: int) -> TaskHeader:
    """The task's state, version and holders in one statement (404 if it does not exist)."""
    rows = _HEADER.rows(session.connection(), {"task_id": task_id})
    if not rows:
        raise NotFoundError(f"任务 {task_id} 不存在", f"Task {task_id} does not exist", code="not_found")
    state, version, has_deadline = rows[0][:3]
    leads = frozenset(row[3] for row in rows if row[4] == AssignmentRole.lead.value)
    cooperating = frozenset(row[3] for row in rows if row[4] == AssignmentRole.cooperating.value)
    return TaskHeader(task_id, TaskState(state), version, leads, cooperating, bool(has_deadline))


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
        values["policy"] = policy_on_issue(sa.bindparam("policy", type_=task_t.c.policy.type))
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


def apply_action(
    session: Session,
    task_id: int,
    action: str,
    actor: Actor,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    request_id: str | None = None,
    new_lead_id: int | None = None,
    actor_label: str = "",
) -> ActionOutcome:
    """Apply one action: check, move, write the event; the caller's boundary commits."""
    header = load_header(session, task_id)
    kind = kind_of(actor, header)
    check_version(header.version, expected_version)
    target = check_action(header.state, action, kind, reason)
    if action == "issue":
        _check_issuable(header)
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
        params["policy"] = bundled_policy().snapshot()
    statements = _write_for(target, conn.dialect.name == "postgresql")
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


def _lost_race(session: Session, task_id: int, actor: Actor, expected_version: int | None) -> NoReturn:
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


def _check_issuable(header: TaskHeader) -> None:
    missing = []
    if not header.lead_ids:
        missing.append(("牵头单位", "a lead"))
    if not header.deadline_set:
        missing.append(("完成时限", "a deadline"))
    if missing:
        raise IssueRefused(
            "交办前须确定" + "和".join(zh for zh, _ in missing),
            "Before it is issued the task needs " + " and ".join(en for _, en in missing),
            missing=[en for _, en in missing],
        )


def _reassign(session: Session, task_id: int, new_lead_id: int | None) -> None:
    if new_lead_id is None or session.get(Department, new_lead_id) is None:
        raise WorkflowError(
            "改派须指定新的牵头单位（new_lead_id）",
            "reassign needs an existing new lead department (new_lead_id)",
            code="new_lead_required",
        )
    conn = session.connection()
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


def issue_plan(session: Session, plan_id: int, actor: Actor, request_id: str | None = None) -> list[int]:
    """Issue every draft task of a plan at once (set-based); refused, with the list, while any lacks a lead
    or a deadline. Returns the issued task ids."""
    if actor.role not in (Role.office, Role.admin):
        raise ActionForbidden("只有委员会办公室可以交办", "Only the committee office issues tasks")
    conn = session.connection()
    has_lead = (
        sa.select(assignment_t.c.id)
        .where(assignment_t.c.task_id == task_t.c.id, assignment_t.c.role == AssignmentRole.lead.value)
        .exists()
    )
    drafts = sa.and_(task_t.c.plan_id == plan_id, task_t.c.state == TaskState.draft.value)
    incomplete = conn.execute(
        sa.select(task_t.c.id, task_t.c.title, has_lead.label("has_lead"), task_t.c.deadline)
        .where(drafts, sa.or_(~has_lead, task_t.c.deadline.is_(None)))
        .order_by(task_t.c.id)
    ).all()
    if incomplete:
        raise IssueRefused(
            f"有 {len(incomplete)} 项任务缺少牵头单位或完成时限，不能交办",
            f"{len(incomplete)} tasks lack a lead or a deadline; nothing was issued",
            tasks=[
                {
                    "id": row.id,
                    "title": row.title[:80],
                    "missing": [
                        name
                        for name, ok in (("lead", row.has_lead), ("deadline", row.deadline is not None))
                        if not ok
                    ],
                }
                for row in incomplete
            ],
        )
    now = clock.now()
    issued = [
        row.id
        for row in conn.execute(
            task_t.update()
            .where(drafts)
            .values(
                state=TaskState.assigned.value,
                version=task_t.c.version + 1,
                issued_at=now,
                updated_at=now,
                policy=policy_on_issue(sa.literal(bundled_policy().snapshot(), task_t.c.policy.type)),
            )
            .returning(task_t.c.id)
        )
    ]
    if issued:
        conn.execute(
            event_t.insert().from_select(
                [
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
                ],
                sa.select(
                    task_t.c.id,
                    sa.literal("issue"),
                    sa.literal(actor.user_id, sa.Integer),
                    sa.literal(actor.department_id, sa.Integer),
                    sa.literal("委员会办公室 / office"),
                    sa.literal(TaskState.draft.value),
                    sa.literal(TaskState.assigned.value),
                    sa.literal(""),
                    sa.literal({"plan_id": plan_id}, TaskEvent.__table__.c.data.type),  # type: ignore[attr-defined]
                    sa.literal(request_id, sa.String),
                    sa.literal(now, TaskEvent.__table__.c.created_at.type),  # type: ignore[attr-defined]
                ).where(
                    task_t.c.plan_id == plan_id,
                    task_t.c.state == TaskState.assigned.value,
                    task_t.c.issued_at == now,
                ),
            )
        )
        conn.execute(plan_t.update().where(plan_t.c.id == plan_id).values(status=PlanStatus.issued.value))
        jobs.enqueue(session, "duban.notify_plan_issued", plan_id)
    return issued
