"""交办 of a whole plan at once: every draft task issued in one set-based UPDATE, one event each.

Deadlines already past on the issue date are real history for an old plan, or a slip for a new one: the
office sees them first (`past_deadlines`), sets new ones in bulk or confirms them as they are. A task issued
after its deadline starts its ladder from the issue date (see ``sweep.rules``), and its issue event says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock, jobs
from duban.core.db import Unit
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import Measure, PlanStatus, TaskEvent
from duban.tasks.review import TaskEdit, bulk_edit
from duban.tasks.units import blocking_tasks
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.errors import ActionForbidden, WorkflowError
from duban.workflow.machines import Actor
from duban.workflow.policy import bundled_policy, policy_on_issue
from duban.workflow.policy_store import register_policy
from duban.workflow.service import EVENT_COLUMNS, event_t, issue_refusal, plan_t, task_t

measure_t: Final = Measure.__table__  # type: ignore[attr-defined]
_SHOWN: Final = 5


@dataclass(frozen=True, slots=True)
class PastDeadline:
    """A draft task whose deadline is before the issue date."""

    task_id: int
    title: str
    path: str
    version: int
    deadline: dt.date
    working_days_overdue: int

    def message(self) -> tuple[str, str]:
        """The task and how far past its deadline it is, Chinese and English."""
        where = f"措施 {self.path}" if self.path else f"任务 {self.task_id}"
        where_en = f"measure {self.path}" if self.path else f"task {self.task_id}"
        return (
            f"{where} 的完成时限 {self.deadline.isoformat()} 已过 {self.working_days_overdue} 个工作日",
            f"the deadline {self.deadline.isoformat()} of {where_en} passed "
            f"{self.working_days_overdue} working days ago",
        )

    def to_json(self) -> dict[str, Any]:
        """The task as the warning lists it."""
        zh, en = self.message()
        return {
            "id": self.task_id,
            "title": self.title,
            "path": self.path,
            "version": self.version,
            "deadline": self.deadline.isoformat(),
            "working_days_overdue": self.working_days_overdue,
            "message_zh": zh,
            "message_en": en,
        }


class PastDeadlinesFound(WorkflowError):
    """Drafts whose deadline is before the issue date, not confirmed by the office (409); `tasks` lists
    them."""

    code = "past_deadlines"


def past_deadlines(
    session: Unit, plan_id: int, calendar: WorkingCalendar, today: dt.date | None = None
) -> list[PastDeadline]:
    """The plan's draft tasks whose deadline is before `today` (the issue date), oldest deadline first."""
    day = today or clock.today()
    rows = session.connection().execute(
        sa.select(task_t.c.id, task_t.c.title, task_t.c.version, task_t.c.deadline, measure_t.c.path)
        .select_from(task_t.outerjoin(measure_t, measure_t.c.id == task_t.c.measure_id))
        .where(
            task_t.c.plan_id == plan_id,
            task_t.c.state == TaskState.draft.value,
            task_t.c.deadline < day,
        )
        .order_by(task_t.c.deadline, task_t.c.id)
    )
    return [
        PastDeadline(
            row.id,
            row.title,
            " ".join(row.path or []),
            row.version,
            row.deadline,
            calendar.working_days_between(row.deadline, day),
        )
        for row in rows
    ]


def past_deadline_refusal(found: Sequence[PastDeadline]) -> PastDeadlinesFound:
    """The warning naming every draft whose deadline has passed, and what the office can do."""
    shown = [item.message() for item in found[:_SHOWN]]
    more_zh = f"等 {len(found)} 项" if len(found) > _SHOWN else ""
    more_en = f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
    return PastDeadlinesFound(
        f"有 {len(found)} 项任务的完成时限早于交办日期，未交办：{'；'.join(z for z, _ in shown)}{more_zh}。"
        "请设置新的完成时限，或确认按原时限交办（督办从交办之日起计）",
        f"{len(found)} tasks have a deadline before the issue date; nothing was issued: "
        f"{'; '.join(e for _, e in shown)}{more_en}. Set new deadlines, or confirm them as they are "
        "(supervision then counts from the issue date)",
        tasks=[item.to_json() for item in found],
    )


def set_deadlines(
    session: Session,
    plan_id: int,
    deadlines: Mapping[int, dt.date],
    *,
    versions: Mapping[int, int] | None = None,
    actor_user_id: int | None = None,
    actor_label: str = "委员会办公室 / office",
    remark: str = "",
) -> list[int]:
    """New deadlines for many drafts of a plan at once, all or nothing, each audited as a draft edit (the
    review's bulk edit); returns the tasks whose deadline changed."""
    outcomes = bulk_edit(
        session,
        plan_id,
        [
            TaskEdit(
                task_id, deadline=deadline, expected_version=(versions or {}).get(task_id), remark=remark
            )
            for task_id, deadline in deadlines.items()
        ],
        actor_user_id=actor_user_id,
        actor_label=actor_label,
    )
    return [outcome.task_id for outcome in outcomes if outcome.changed]


def issue_plan(
    session: Unit,
    plan_id: int,
    actor: Actor,
    request_id: str | None = None,
    *,
    confirm_past_deadlines: bool = True,
    calendar: WorkingCalendar | None = None,
) -> list[int]:
    """Issue every draft task of a plan at once (set-based); refused, with the list and nothing written, while
    any lacks a lead or a deadline or has a written lead not yet mapped to a department, and, with
    confirm_past_deadlines=False, while any deadline is before the issue date. Returns the issued task ids,
    in order."""
    if actor.role not in (Role.office, Role.admin):
        raise ActionForbidden("只有委员会办公室可以交办", "Only the committee office issues tasks")
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # These set-based statements over a plan's tasks are estimated above `jit_above_cost`; compiling
        # them took 2-8 s against about 1.4 s for the statements themselves (bench/analysis/lifecycle.md).
        conn.exec_driver_sql("SET LOCAL jit = off")
    # The plan's row first, as an import or revision of the plan takes it: the same lock order, no deadlock.
    conn.execute(sa.select(plan_t.c.id).where(plan_t.c.id == plan_id).with_for_update())
    blockers = blocking_tasks(conn, plan_id=plan_id)
    if blockers:
        raise issue_refusal(blockers)
    now = clock.now()
    if not confirm_past_deadlines:
        found = past_deadlines(session, plan_id, calendar or WorkingCalendar.from_bundled(), now.date())
        if found:
            raise past_deadline_refusal(found)
    policy = bundled_policy()
    register_policy(conn, policy)
    drafts = sa.and_(task_t.c.plan_id == plan_id, task_t.c.state == TaskState.draft.value)
    move = (
        task_t.update()
        .where(drafts)
        .values(
            state=TaskState.assigned.value,
            version=task_t.c.version + 1,
            issued_at=now,
            updated_at=now,
            policy_version=policy_on_issue(sa.literal(policy.version, sa.Integer)),
        )
    )

    def events_from(source: Any) -> sa.Select[Any]:
        return sa.select(
            source.c.id,
            sa.literal("issue"),
            sa.literal(actor.user_id, sa.Integer),
            sa.literal(actor.department_id, sa.Integer),
            sa.literal("委员会办公室 / office"),
            sa.literal(TaskState.draft.value),
            sa.literal(TaskState.assigned.value),
            sa.literal(""),
            _issue_data(plan_id, now.date(), source.c.deadline),
            sa.literal(request_id, sa.String),
            sa.literal(now, TaskEvent.__table__.c.created_at.type),  # type: ignore[attr-defined]
        )

    if conn.dialect.name == "postgresql":
        # The move and its events in one statement: the events come from the UPDATE's own RETURNING, not
        # from a second scan of the plan's tasks.
        # The ids come back as one array, not a row each: 10,000 rows through the driver and the result
        # layer cost more than the array.
        moved = move.returning(task_t.c.id, task_t.c.deadline).cte("moved")
        recorded = (
            event_t.insert()
            .from_select(list(EVENT_COLUMNS), events_from(moved))
            .returning(event_t.c.task_id)
            .cte("recorded")
        )
        issued = sorted(conn.execute(sa.select(sa.func.array_agg(recorded.c.task_id))).scalar_one() or [])
    else:
        issued = sorted(conn.execute(move.returning(task_t.c.id)).scalars())
        if issued:
            conn.execute(
                event_t.insert().from_select(
                    list(EVENT_COLUMNS),
                    events_from(task_t).where(
                        task_t.c.plan_id == plan_id,
                        task_t.c.state == TaskState.assigned.value,
                        task_t.c.issued_at == now,
                    ),
                )
            )
    if issued:
        conn.execute(plan_t.update().where(plan_t.c.id == plan_id).values(status=PlanStatus.issued.value))
        jobs.enqueue(session, "duban.notify_plan_issued", plan_id)
    return issued


def _issue_data(plan_id: int, issued_on: dt.date, deadline: Any) -> sa.ColumnElement[Any]:
    """The issue event's data; a task issued after its deadline records that its ladder counts from today."""
    json_type = TaskEvent.__table__.c.data.type  # type: ignore[attr-defined]
    late = {"plan_id": plan_id, "past_deadline": True, "ladder_from": issued_on.isoformat()}
    return sa.case(
        (deadline < issued_on, sa.literal(late, json_type)),
        else_=sa.literal({"plan_id": plan_id}, json_type),
    )
