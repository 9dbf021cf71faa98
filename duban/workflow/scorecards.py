"""Scorecard inputs beside `department_stats`: 督办单 issued by colour per lead department, and each plan's
progress (tasks by state, overdue now) — grouped SQL, one query each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.tasks.enums import AssignmentRole, NoticeColour, SupervisionLevel, TaskState
from duban.tasks.models import TaskAssignment
from duban.tasks.task_views import OPEN_STATES
from duban.workflow.policy import task_t
from duban.workflow.records._common import event_t

assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PlanProgress:
    """A plan's tasks by state, and how many are open past their deadline."""

    plan_id: int
    total: int
    by_state: dict[str, int]
    overdue: int

    @property
    def completed(self) -> int:
        """Tasks approved (销号)."""
        return self.by_state.get(TaskState.completed.value, 0)

    @property
    def issued(self) -> int:
        """Tasks issued (neither draft nor cancelled)."""
        return sum(
            n for s, n in self.by_state.items() if s not in (TaskState.draft.value, TaskState.cancelled.value)
        )

    @property
    def percent_completed(self) -> float:
        """Completed out of issued, in percent (0 when nothing is issued)."""
        return round(100 * self.completed / self.issued, 1) if self.issued else 0.0


def plan_progress(session: Session, plan_ids: Sequence[int]) -> dict[int, PlanProgress]:
    """Each plan's tasks grouped by state, with its open tasks past the deadline."""
    if not plan_ids:
        return {}
    overdue = sa.and_(
        task_t.c.state.in_([s.value for s in OPEN_STATES]),
        task_t.c.deadline < sa.literal(clock.today(), sa.Date),
    )
    rows = session.connection().execute(
        sa.select(
            task_t.c.plan_id,
            task_t.c.state,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((overdue, 1), else_=0)), 0),
        )
        .where(task_t.c.plan_id.in_(list(plan_ids)))
        .group_by(task_t.c.plan_id, task_t.c.state)
    )
    found: dict[int, dict[str, int]] = {}
    late: dict[int, int] = {}
    for plan_id, state, count, past in rows:
        found.setdefault(plan_id, {})[str(state)] = int(count)
        late[plan_id] = late.get(plan_id, 0) + int(past)
    return {
        plan_id: PlanProgress(plan_id, sum(states.values()), states, late.get(plan_id, 0))
        for plan_id, states in found.items()
    }


def notices_by_colour(
    session: Session, start: dt.date | None = None, end: dt.date | None = None
) -> dict[int, dict[NoticeColour, int]]:
    """督办单 issued per lead department and colour: ladder events landing on 督办 (scheduler or office),
    on tasks whose original deadline is within [start, end] (the scorecard's period)."""
    colour = event_t.c.data["colour"].as_string()
    original = sa.func.coalesce(task_t.c.original_deadline, task_t.c.deadline)
    query = (
        sa.select(assignment_t.c.department_id, colour.label("colour"), sa.func.count())
        .join_from(event_t, task_t, task_t.c.id == event_t.c.task_id)
        .join(
            assignment_t,
            sa.and_(assignment_t.c.task_id == task_t.c.id, assignment_t.c.role == AssignmentRole.lead.value),
        )
        .where(
            event_t.c.to_level == SupervisionLevel.supervised.value,
            colour.in_([c.value for c in NoticeColour]),
        )
        .group_by(assignment_t.c.department_id, colour)
    )
    if start is not None:
        query = query.where(original >= sa.literal(start, sa.Date))
    if end is not None:
        query = query.where(original <= sa.literal(end, sa.Date))
    counts: dict[int, dict[NoticeColour, int]] = {}
    for department_id, name, count in session.connection().execute(query):
        counts.setdefault(department_id, {})[NoticeColour(name)] = int(count)
    return counts
