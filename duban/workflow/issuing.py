"""交办 of a whole plan at once: every draft task issued in one set-based UPDATE, one event each."""

from __future__ import annotations

import sqlalchemy as sa

from duban.core import clock, jobs
from duban.core.db import Unit
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import PlanStatus, TaskEvent
from duban.tasks.units import blocking_tasks
from duban.workflow.errors import ActionForbidden
from duban.workflow.machines import Actor
from duban.workflow.policy import bundled_policy, policy_on_issue
from duban.workflow.service import EVENT_COLUMNS, event_t, issue_refusal, plan_t, task_t


def issue_plan(session: Unit, plan_id: int, actor: Actor, request_id: str | None = None) -> list[int]:
    """Issue every draft task of a plan at once (set-based); refused, with the list and nothing written, while
    any lacks a lead or a deadline or has a written lead not yet mapped to a department. Returns the issued
    task ids."""
    if actor.role not in (Role.office, Role.admin):
        raise ActionForbidden("只有委员会办公室可以交办", "Only the committee office issues tasks")
    conn = session.connection()
    # The plan's row first, as an import or revision of the plan takes it: the same lock order, no deadlock.
    conn.execute(sa.select(plan_t.c.id).where(plan_t.c.id == plan_id).with_for_update())
    blockers = blocking_tasks(conn, plan_id=plan_id)
    if blockers:
        raise issue_refusal(blockers)
    drafts = sa.and_(task_t.c.plan_id == plan_id, task_t.c.state == TaskState.draft.value)
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
                list(EVENT_COLUMNS),
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
