"""The board's rules as SQL: the day's thresholds, the light (红黄绿灯) of a task, who holds it, and the
我的任务 buckets. Thresholds are dates computed once per request, so each rule is one SQL expression."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from duban.core import clock
from duban.tasks.enums import AssignmentRole, TaskState
from duban.tasks.models import Measure, TaskAssignment
from duban.tasks.task_views import OPEN_STATES
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.models import ReportKind
from duban.workflow.policy import EscalationPolicy, bundled_policy, task_t
from duban.workflow.records._common import report_t
from duban.workflow.sweep import day_start, period_containing

assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]
measure_t: Final = Measure.__table__  # type: ignore[attr-defined]

Light = Literal["red", "yellow", "green"]
LIGHTS: Final[tuple[Light, ...]] = ("red", "yellow", "green")
DUE_SOON_WORKING_DAYS: Final = 5
BUCKETS: Final = ("to_sign", "due_soon", "overdue", "waiting", "contribute", "all")
OPEN_VALUES: Final = tuple(s.value for s in OPEN_STATES)
_WORKING: Final = (TaskState.assigned.value, TaskState.in_progress.value, TaskState.returned.value)


@dataclass(frozen=True)
class BoardDay:
    """The day's thresholds: today, the due-soon limit, and each recurring report's check."""

    today: dt.date
    calendar: WorkingCalendar
    due_soon: dt.date
    reports: tuple[tuple[str, dt.datetime, dt.date, dt.datetime], ...]  # frequency, issued before, …


def board_day(
    calendar: WorkingCalendar, today: dt.date | None = None, policy: EscalationPolicy | None = None
) -> BoardDay:
    """The thresholds of `today` (default: the clock's) under the policy's report rules."""
    day = today or clock.today()
    rules = policy or bundled_policy()
    checks = []
    for frequency, due_after in rules.reports.items():
        period = period_containing(frequency, day)
        due = calendar.add_working_days(period.end, due_after).date
        while due >= day:  # the latest period whose report due date has passed
            period = period_containing(frequency, period.start - dt.timedelta(days=1))
            due = calendar.add_working_days(period.end, due_after).date
        previous = period_containing(frequency, period.start - dt.timedelta(days=1))
        previous_due = calendar.add_working_days(previous.end, due_after).date
        checks.append(
            (
                frequency,
                day_start(period.end + dt.timedelta(days=1)),
                period.start,
                day_start(previous_due + dt.timedelta(days=1)),
            )
        )
    limit = calendar.add_working_days(day, DUE_SOON_WORKING_DAYS).date
    return BoardDay(day, calendar, limit, tuple(checks))


def behind_on_reports(day: BoardDay) -> ColumnElement[bool]:
    """SQL: the task's recurring report for the last period that fell due has not come."""
    if not day.reports:
        return sa.false()
    frequency = measure_t.c.recurrence["frequency"].as_string()
    per_frequency = []
    for name, issued_before, period_start, since in day.reports:
        reported = (
            sa.select(report_t.c.id)
            .where(
                report_t.c.task_id == task_t.c.id,
                report_t.c.kind == ReportKind.progress.value,
                report_t.c.created_at >= since,
            )
            .exists()
        )
        per_frequency.append(
            sa.and_(
                frequency == name,
                task_t.c.issued_at < issued_before,
                sa.or_(task_t.c.deadline.is_(None), task_t.c.deadline >= period_start),
                ~reported,
            )
        )
    return (
        sa.select(measure_t.c.id)
        .where(measure_t.c.id == task_t.c.measure_id, sa.or_(*per_frequency))
        .exists()
    )


def light_of(day: BoardDay) -> ColumnElement[Any]:
    """SQL: the task's light ('red', 'yellow', 'green'; NULL when not open)."""
    open_ = task_t.c.state.in_(OPEN_VALUES)
    soon = sa.and_(task_t.c.deadline >= day.today, task_t.c.deadline <= day.due_soon)
    return sa.case(
        (~open_, sa.null()),
        (task_t.c.deadline < day.today, sa.literal("red")),
        (sa.or_(soon, behind_on_reports(day)), sa.literal("yellow")),
        else_=sa.literal("green"),
    )


def holds(department_id: int, *roles: AssignmentRole) -> ColumnElement[bool]:
    """SQL: the department holds the task in one of these roles."""
    return (
        sa.select(assignment_t.c.id)
        .where(
            assignment_t.c.task_id == task_t.c.id,
            assignment_t.c.department_id == department_id,
            assignment_t.c.role.in_([r.value for r in roles]),
        )
        .exists()
    )


def _no_contribution(department: ColumnElement[Any]) -> ColumnElement[bool]:
    return ~(
        sa.select(report_t.c.id)
        .where(
            report_t.c.task_id == task_t.c.id,
            report_t.c.kind == ReportKind.contribution.value,
            report_t.c.department_id == department,
            report_t.c.created_at >= task_t.c.issued_at,
        )
        .exists()
    )


def bucket_clause(bucket: str, department_id: int, day: BoardDay) -> ColumnElement[bool]:
    """SQL of a 我的任务 bucket: to sign, due soon, overdue, waiting for cooperating units, to contribute."""
    lead = holds(department_id, AssignmentRole.lead)
    working = task_t.c.state.in_(_WORKING)
    if bucket == "to_sign":
        return sa.and_(lead, task_t.c.state == TaskState.assigned.value)
    if bucket == "due_soon":
        return sa.and_(lead, working, task_t.c.deadline >= day.today, task_t.c.deadline <= day.due_soon)
    if bucket == "overdue":
        return sa.and_(lead, task_t.c.state.in_(OPEN_VALUES), task_t.c.deadline < day.today)
    if bucket == "waiting":
        coop = assignment_t.alias("waiting_for")
        silent = (
            sa.select(coop.c.id)
            .where(
                coop.c.task_id == task_t.c.id,
                coop.c.role == AssignmentRole.cooperating.value,
                _no_contribution(coop.c.department_id),
            )
            .exists()
        )
        return sa.and_(lead, working, silent)
    if bucket == "contribute":
        mine = sa.literal(department_id, sa.Integer)
        return sa.and_(holds(department_id, AssignmentRole.cooperating), working, _no_contribution(mine))
    return holds(department_id, AssignmentRole.lead, AssignmentRole.cooperating)
