"""Scoring inputs per lead department, computed set-based in SQL from tasks, assignments, events, extensions.

Scope: issued tasks (not draft, not cancelled) whose *original* deadline falls in [start, end]; each lead
department of such a task answers for it. Days are Asia/Shanghai calendar dates.

- completed on time: completed, and the completion date is on or before the original deadline;
- due: completed, or still open after its original deadline; on_time_rate = completed on time / due;
- late (days_late_*): days from the original deadline to the completion date (open tasks: to today) —
  extensions do not erase lateness, they are counted beside it (extensions_requested / _granted);
- overdue now: open and past the deadline in force (a granted extension moves it), with its days;
- returns: "return" events; highest_level: the highest supervision level held now or in any event.

Working days are counted by joining a VALUES table of the working days of the span that matters, built
once from the WorkingCalendar, so the database counts for every task at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from duban.core import clock
from duban.tasks.enums import AssignmentRole, SupervisionLevel, TaskState
from duban.tasks.models import Department, TaskAssignment
from duban.workflow.calendar import MAX_YEAR, MIN_YEAR, WorkingCalendar
from duban.workflow.models import ExtensionStatus
from duban.workflow.records._common import event_t, extension_t, task_t

assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]
department_t: Final = Department.__table__  # type: ignore[attr-defined]

LEVEL_RANK: Final = {level.value: rank for rank, level in enumerate(SupervisionLevel)}
_LEVEL_AT: Final = {rank: SupervisionLevel(level) for level, rank in LEVEL_RANK.items()}
_CALENDAR_FIRST: Final = dt.date(MIN_YEAR, 1, 1)
_CALENDAR_LAST: Final = dt.date(MAX_YEAR, 12, 31)
SHANGHAI_OFFSET_HOURS: Final = 8  # Asia/Shanghai has kept UTC+8 without daylight saving since 1991


@dataclass(frozen=True, slots=True)
class DepartmentStats:
    """One lead department's scoring inputs over the period (see the module text for the definitions)."""

    department_id: int
    code: str
    name: str
    tasks_led: int
    completed: int
    completed_on_time: int
    due: int
    on_time_rate: float | None
    overdue_now: int
    overdue_now_days: int
    overdue_now_working_days: int
    late_tasks: int
    days_late_total: int
    days_late_avg: float | None
    working_days_late_total: int
    returns: int
    extensions_requested: int
    extensions_granted: int
    highest_level: SupervisionLevel


def days_between(dialect: str, start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[int]:
    """end − start in calendar days as SQL: julianday() on SQLite, date subtraction elsewhere."""
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(end) - sa.func.julianday(start), sa.Integer)
    return sa.cast(end - start, sa.Integer)


def local_date(dialect: str, moment: ColumnElement[Any]) -> ColumnElement[dt.date]:
    """The Asia/Shanghai calendar date of a stored UTC timestamp, as SQL for the dialect."""
    if dialect == "sqlite":
        return sa.func.date(moment, f"+{SHANGHAI_OFFSET_HOURS} hours", type_=sa.Date)
    return sa.cast(sa.func.timezone(clock.TZ.key, moment), sa.Date)


def level_rank(column: ColumnElement[Any]) -> ColumnElement[int]:
    """The height of a stored supervision level on the ladder (0 for none or unknown)."""
    return sa.case(LEVEL_RANK, value=column, else_=0)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def department_stats(
    session: Session,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    department_id: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[DepartmentStats]:
    """Scoring inputs of every department that leads a task due (original deadline) within [start, end]."""
    conn = session.connection()
    dialect = conn.dialect.name
    today = sa.literal(clock.today(), sa.Date)
    original = sa.func.coalesce(task_t.c.original_deadline, task_t.c.deadline)
    scope_query = (
        sa.select(
            assignment_t.c.department_id.label("department_id"),
            task_t.c.id.label("task_id"),
            task_t.c.state.label("state"),
            task_t.c.deadline.label("deadline"),
            original.label("od"),
            local_date(dialect, task_t.c.completed_at).label("done_day"),
            task_t.c.supervision_level.label("level"),
        )
        .join_from(
            task_t,
            assignment_t,
            sa.and_(assignment_t.c.task_id == task_t.c.id, assignment_t.c.role == AssignmentRole.lead.value),
        )
        .where(
            task_t.c.state.not_in([TaskState.draft.value, TaskState.cancelled.value]),
            original.is_not(None),
        )
    )
    if start is not None:
        scope_query = scope_query.where(original >= sa.literal(start, sa.Date))
    if end is not None:
        scope_query = scope_query.where(original <= sa.literal(end, sa.Date))
    if department_id is not None:
        scope_query = scope_query.where(assignment_t.c.department_id == department_id)
    scope = scope_query.cte("scope")
    completed = scope.c.state == TaskState.completed.value
    end_day = sa.case((completed, sa.func.coalesce(scope.c.done_day, scope.c.od)), else_=today)
    judged = sa.select(
        scope,
        end_day.label("end_day"),
        sa.case((end_day > scope.c.od, days_between(dialect, scope.c.od, end_day)), else_=0).label(
            "late_days"
        ),
        sa.case(
            (sa.and_(~completed, scope.c.deadline < today), days_between(dialect, scope.c.deadline, today)),
            else_=0,
        ).label("overdue_days"),
    ).cte("judged")
    done = judged.c.state == TaskState.completed.value
    main = (
        sa.select(
            judged.c.department_id,
            sa.func.count().label("tasks_led"),
            _count_if(done).label("completed"),
            _count_if(sa.and_(done, judged.c.end_day <= judged.c.od)).label("completed_on_time"),
            _count_if(sa.or_(done, judged.c.od < today)).label("due"),
            _count_if(judged.c.overdue_days > 0).label("overdue_now"),
            sa.func.coalesce(sa.func.sum(judged.c.overdue_days), 0).label("overdue_now_days"),
            _count_if(judged.c.late_days > 0).label("late_tasks"),
            sa.func.coalesce(sa.func.sum(judged.c.late_days), 0).label("days_late_total"),
            sa.func.max(level_rank(judged.c.level)).label("level_now"),
        )
        .group_by(judged.c.department_id)
        .subquery("main")
    )
    returns = (
        sa.select(judged.c.department_id, sa.func.count(event_t.c.id).label("n"))
        .join_from(
            judged, event_t, sa.and_(event_t.c.task_id == judged.c.task_id, event_t.c.kind == "return")
        )
        .group_by(judged.c.department_id)
        .subquery("returns")
    )
    ladder = (
        sa.select(
            judged.c.department_id,
            # a level left by a reset (extension granted) is recorded as from_level only
            sa.func.max(level_rank(event_t.c.to_level)).label("to_rank"),
            sa.func.max(level_rank(event_t.c.from_level)).label("from_rank"),
        )
        .join_from(
            judged,
            event_t,
            sa.and_(
                event_t.c.task_id == judged.c.task_id,
                sa.or_(event_t.c.to_level.is_not(None), event_t.c.from_level.is_not(None)),
            ),
        )
        .group_by(judged.c.department_id)
        .subquery("ladder")
    )
    extensions = (
        sa.select(
            judged.c.department_id,
            sa.func.count(extension_t.c.id).label("requested"),
            _count_if(extension_t.c.status == ExtensionStatus.granted.value).label("granted"),
        )
        .join_from(
            judged,
            extension_t,
            sa.and_(
                extension_t.c.task_id == judged.c.task_id,
                extension_t.c.department_id == judged.c.department_id,
            ),
        )
        .group_by(judged.c.department_id)
        .subquery("extensions")
    )
    working = _working_days(conn, judged, calendar)
    columns: list[Any] = [
        main,
        department_t.c.code,
        department_t.c.name,
        sa.func.coalesce(returns.c.n, 0).label("returns"),
        sa.func.coalesce(ladder.c.to_rank, 0).label("level_reached"),
        sa.func.coalesce(ladder.c.from_rank, 0).label("level_left"),
        sa.func.coalesce(extensions.c.requested, 0).label("extensions_requested"),
        sa.func.coalesce(extensions.c.granted, 0).label("extensions_granted"),
    ]
    joined = (
        main.join(department_t, department_t.c.id == main.c.department_id)
        .outerjoin(returns, returns.c.department_id == main.c.department_id)
        .outerjoin(ladder, ladder.c.department_id == main.c.department_id)
        .outerjoin(extensions, extensions.c.department_id == main.c.department_id)
    )
    for name, counts in working.items():
        if counts is None:
            columns.append(sa.literal(0, sa.Integer).label(name))
            continue
        columns.append(sa.func.coalesce(counts.c.n, 0).label(name))
        joined = joined.outerjoin(counts, counts.c.department_id == main.c.department_id)
    rows = conn.execute(sa.select(*columns).select_from(joined).order_by(department_t.c.code)).all()
    return [_stats_of(row) for row in rows]


def _working_days(
    conn: sa.Connection, judged: sa.CTE, calendar: WorkingCalendar | None
) -> dict[str, sa.Subquery | None]:
    """Per department: working days late (past the original deadline), overdue now (past the current one).

    One VALUES table holds the working days of the whole span that matters; each count is a range join on it.
    """
    spans = {
        "working_days_late": (judged.c.od, judged.c.end_day, judged.c.late_days),
        "overdue_now_working_days": (
            judged.c.deadline,
            sa.literal(clock.today(), sa.Date),
            judged.c.overdue_days,
        ),
    }
    bounds = conn.execute(
        sa.select(
            sa.func.min(sa.case((judged.c.late_days > 0, judged.c.od))),
            sa.func.min(sa.case((judged.c.overdue_days > 0, judged.c.deadline))),
            sa.func.max(sa.case((judged.c.late_days > 0, judged.c.end_day))),
        )
    ).one()
    starts = [day for day in (_as_date(bounds[0]), _as_date(bounds[1])) if day is not None]
    last = max([day for day in (_as_date(bounds[2]), clock.today()) if day is not None])
    days: list[dt.date] = []
    if starts:
        first = max(min(starts) + dt.timedelta(days=1), _CALENDAR_FIRST)
        days = (calendar or WorkingCalendar.from_bundled()).working_days_in(first, min(last, _CALENDAR_LAST))
    if not days:
        return dict.fromkeys(spans)
    table = (
        sa.values(sa.column("day", sa.Date), name="working_day")
        .data([(day,) for day in days])
        .cte("working_day")
    )
    return {
        name: sa.select(judged.c.department_id, sa.func.count(table.c.day).label("n"))
        .join_from(judged, table, sa.and_(table.c.day > begin, table.c.day <= until))
        .where(amount > 0)
        .group_by(judged.c.department_id)
        .subquery(name)
        for name, (begin, until, amount) in spans.items()
    }


def _as_date(value: object) -> dt.date | None:
    """A date from a driver value (SQLite hands back text for computed date expressions)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _stats_of(row: sa.Row[Any]) -> DepartmentStats:
    due, on_time, late = int(row.due), int(row.completed_on_time), int(row.late_tasks)
    total = int(row.days_late_total)
    return DepartmentStats(
        department_id=row.department_id,
        code=row.code,
        name=row.name,
        tasks_led=int(row.tasks_led),
        completed=int(row.completed),
        completed_on_time=on_time,
        due=due,
        on_time_rate=round(on_time / due, 4) if due else None,
        overdue_now=int(row.overdue_now),
        overdue_now_days=int(row.overdue_now_days),
        overdue_now_working_days=int(row.overdue_now_working_days),
        late_tasks=late,
        days_late_total=total,
        days_late_avg=round(total / late, 2) if late else None,
        working_days_late_total=int(row.working_days_late),
        returns=int(row.returns),
        extensions_requested=int(row.extensions_requested),
        extensions_granted=int(row.extensions_granted),
        highest_level=_LEVEL_AT[max(int(row.level_now), int(row.level_reached), int(row.level_left))],
    )
