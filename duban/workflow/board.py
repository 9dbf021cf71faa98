"""The supervision board's read side: tasks with their light, level, holders and last report, set-based and
paged. The office's 逾期督办 board, a department's 我的任务 and the 台账 export all read through here.

The light (红黄绿灯, rules in `board_rules`): red — open and past the deadline in force; yellow — open and due
within 5 working days, or behind on a recurring report (定期报送) whose due date has passed with no progress
report since the previous one fell due (the sweep's own rule); green — open otherwise. Closed and draft tasks
have no light. Every threshold is a date computed once, so the database decides each task's light in one
CASE; only the rows of the page asked for are read into Python.

The 督办级别 column never says 无 beside an overdue task: until the sweep's first 催办 reaches it (the next
working day, counted from the issue date for a task issued after its deadline) it says 待催办.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from duban.tasks.enums import AssignmentRole, NoticeColour, SupervisionLevel, TaskState
from duban.tasks.models import Department, Plan, TaskAssignment
from duban.tasks.task_views import OPEN_STATES, lead_name
from duban.workflow.board_rules import (
    BUCKETS,
    OPEN_VALUES,
    BoardDay,
    Light,
    behind_on_reports,
    board_day,
    bucket_clause,
    holds,
    light_of,
)
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.machines import Rung, rung_of
from duban.workflow.models import ExtensionStatus, ReportKind
from duban.workflow.policy import task_t
from duban.workflow.records._common import extension_t, report_t

assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]
department_t: Final = Department.__table__  # type: ignore[attr-defined]
plan_t: Final = Plan.__table__  # type: ignore[attr-defined]

SORTS: Final = ("overdue", "level", "light", "plan", "lead", "title")
ISSUED: Final = (*OPEN_STATES, TaskState.completed)
_RUNG_RANK: Final = {rung: rung.rank for rung in Rung}


@dataclass(frozen=True)
class BoardFilter:
    """What a board, a department's list or the 台账 asks for."""

    plan_id: int | None = None
    department_id: int | None = None
    level: SupervisionLevel | None = None
    region_id: int | None = None
    lights: tuple[Light, ...] = ()
    states: tuple[TaskState, ...] = OPEN_STATES
    scope_department: int | None = None
    bucket: str | None = None
    task_ids: tuple[int, ...] = ()
    sort: str = "overdue"
    descending: bool = False
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class LastReport:
    """A task's latest progress report."""

    at: dt.datetime
    percent: int | None
    text: str


@dataclass(frozen=True)
class PendingExtension:
    """An extension request waiting for the office."""

    id: int
    requested_deadline: dt.date
    reason: str


class PendingRung(StrEnum):
    """What the board shows for an overdue task not yet on the ladder (level none): 待催办."""

    urge_due = "urge_due"

    @property
    def label(self) -> str:
        """Chinese name, as a rung's."""
        return "待催办"


@dataclass(frozen=True)
class BoardRow:
    """One task as the board shows it."""

    id: int
    plan_id: int
    plan_title: str
    title: str
    state: TaskState
    level: SupervisionLevel
    colour: NoticeColour | None
    deadline: dt.date | None
    original_deadline: dt.date | None
    light: Light | None
    behind_on_reports: bool
    version: int
    lead: list[tuple[int, str]]
    cooperating: list[tuple[int, str]]
    working_days_overdue: int
    working_days_left: int | None
    last_report: LastReport | None = None
    pending_extension: PendingExtension | None = None

    @property
    def rung(self) -> Rung | PendingRung:
        """The 督办级别 shown: the task's rung, or 待催办 for an overdue task the ladder has not reached."""
        rung = rung_of(self.level, self.colour)
        if rung is Rung.none and self.light == "red":  # open and past its deadline in force
            return PendingRung.urge_due
        return rung


@dataclass(frozen=True)
class BoardPage:
    """One page of rows and how many match in all."""

    rows: list[BoardRow]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))


def _where(flt: BoardFilter, day: BoardDay, light: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.states:
        where.append(task_t.c.state.in_([s.value for s in flt.states]))
    if flt.scope_department is not None:
        scope = flt.scope_department
        where.append(holds(scope, AssignmentRole.lead, AssignmentRole.cooperating))
        where.append(task_t.c.issued_at.is_not(None))  # drafts never issued are the office's
        if flt.bucket:
            where.append(bucket_clause(flt.bucket, scope, day))
    if flt.task_ids:
        where.append(task_t.c.id.in_(flt.task_ids))
    if flt.plan_id is not None:
        where.append(task_t.c.plan_id == flt.plan_id)
    if flt.department_id is not None:
        where.append(holds(flt.department_id, AssignmentRole.lead, AssignmentRole.cooperating))
    if flt.region_id is not None:
        where.append(holds(flt.region_id, AssignmentRole.lead, AssignmentRole.cooperating))
    if flt.level is not None:
        where.append(task_t.c.supervision_level == flt.level.value)
    if flt.lights:
        where.append(light.in_(list(flt.lights)))
    return where


def _rung_rank() -> ColumnElement[Any]:
    return sa.case(
        *[
            (
                sa.and_(
                    task_t.c.supervision_level == rung.level.value,
                    task_t.c.notice_colour == rung.colour.value if rung.colour else sa.true(),
                ),
                rank,
            )
            for rung, rank in sorted(_RUNG_RANK.items(), key=lambda item: -item[1])
        ],
        else_=0,
    )


def _order(flt: BoardFilter, light: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    keys: dict[str, list[ColumnElement[Any]]] = {
        "overdue": [sa.case((task_t.c.deadline.is_(None), 1), else_=0), task_t.c.deadline],
        "level": [-_rung_rank(), task_t.c.deadline],
        "light": [sa.case({"red": 0, "yellow": 1, "green": 2}, value=light, else_=3), task_t.c.deadline],
        "plan": [task_t.c.plan_id, task_t.c.deadline],
        "lead": [lead_name(), task_t.c.deadline],
        "title": [task_t.c.title],
    }
    chosen = keys.get(flt.sort, keys["overdue"])
    ordered = [key.desc() if flt.descending else key.asc() for key in chosen]
    return [*ordered, task_t.c.id.desc() if flt.descending else task_t.c.id.asc()]


def _select(flt: BoardFilter, day: BoardDay, light: ColumnElement[Any]) -> sa.Select[Any]:
    return (
        sa.select(
            task_t.c.id,
            task_t.c.plan_id,
            plan_t.c.title.label("plan_title"),
            task_t.c.title,
            task_t.c.state,
            task_t.c.supervision_level,
            task_t.c.notice_colour,
            task_t.c.deadline,
            task_t.c.original_deadline,
            task_t.c.version,
            light.label("light"),
            behind_on_reports(day).label("behind"),
        )
        .join_from(task_t, plan_t, plan_t.c.id == task_t.c.plan_id)
        .where(*_where(flt, day, light))
        .order_by(*_order(flt, light))
    )


def board_page(session: Session, flt: BoardFilter, calendar: WorkingCalendar) -> BoardPage:
    """One page of the board: rows in the asked order, the total, and the count per light."""
    day = board_day(calendar)
    conn = session.connection()
    light = light_of(day)
    where = _where(flt, day, light)
    per_page = max(1, min(flt.per_page, 1000))
    page = max(1, flt.page)
    found = conn.execute(_select(flt, day, light).limit(per_page).offset((page - 1) * per_page)).all()
    unlit = _where(replace(flt, lights=()), day, light)
    grouped = conn.execute(
        sa.select(light.label("light"), sa.func.count()).select_from(task_t).where(*unlit).group_by(light)
    ).all()
    counts = {str(name): int(n) for name, n in grouped if name is not None}
    total = conn.execute(sa.select(sa.func.count()).select_from(task_t).where(*where)).scalar_one()
    return BoardPage(_rows(session, found, day), int(total), page, per_page, counts)


def board_stream(
    session: Session, flt: BoardFilter, calendar: WorkingCalendar, chunk: int = 500
) -> Iterator[list[BoardRow]]:
    """Every matching row in order, `chunk` at a time from one statement (the 台账 export)."""
    day = board_day(calendar)
    result = session.connection().execute(_select(flt, day, light_of(day)).execution_options(yield_per=chunk))
    for part in result.partitions(chunk):
        yield _rows(session, part, day)


def _rows(session: Session, found: Sequence[sa.Row[Any]], day: BoardDay) -> list[BoardRow]:
    ids = [row.id for row in found]
    if not ids:
        return []
    conn = session.connection()
    holders: dict[int, dict[str, list[tuple[int, str]]]] = {i: {"lead": [], "cooperating": []} for i in ids}
    for task_id, role, department_id, name in conn.execute(
        sa.select(assignment_t.c.task_id, assignment_t.c.role, department_t.c.id, department_t.c.name)
        .join_from(assignment_t, department_t, department_t.c.id == assignment_t.c.department_id)
        .where(
            assignment_t.c.task_id.in_(ids),
            assignment_t.c.role.in_([AssignmentRole.lead.value, AssignmentRole.cooperating.value]),
        )
        .order_by(assignment_t.c.position, assignment_t.c.id)
    ):
        holders[task_id][str(role)].append((department_id, name))
    last_ids = (
        sa.select(sa.func.max(report_t.c.id))
        .where(report_t.c.task_id.in_(ids), report_t.c.kind == ReportKind.progress.value)
        .group_by(report_t.c.task_id)
    )
    reports = {
        r.task_id: LastReport(r.created_at, r.percent, r.text)
        for r in conn.execute(
            sa.select(report_t.c.task_id, report_t.c.created_at, report_t.c.percent, report_t.c.text).where(
                report_t.c.id.in_(last_ids)
            )
        )
    }
    pending = {
        e.task_id: PendingExtension(e.id, e.requested_deadline, e.reason)
        for e in conn.execute(
            sa.select(
                extension_t.c.id,
                extension_t.c.task_id,
                extension_t.c.requested_deadline,
                extension_t.c.reason,
            ).where(extension_t.c.task_id.in_(ids), extension_t.c.status == ExtensionStatus.pending.value)
        )
    }
    rows = []
    for row in found:
        deadline: dt.date | None = row.deadline
        is_open = row.state in OPEN_VALUES
        overdue = (
            day.calendar.working_days_between(deadline, day.today)
            if deadline and is_open and deadline < day.today
            else 0
        )
        left = (
            day.calendar.working_days_between(day.today, deadline)
            if deadline and is_open and deadline >= day.today
            else None
        )
        rows.append(
            BoardRow(
                id=row.id,
                plan_id=row.plan_id,
                plan_title=row.plan_title,
                title=row.title,
                state=TaskState(row.state),
                level=SupervisionLevel(row.supervision_level),
                colour=NoticeColour(row.notice_colour) if row.notice_colour else None,
                deadline=deadline,
                original_deadline=row.original_deadline,
                light=row.light,
                behind_on_reports=bool(row.behind) and is_open,
                version=row.version,
                lead=holders[row.id]["lead"],
                cooperating=holders[row.id]["cooperating"],
                working_days_overdue=overdue,
                working_days_left=left,
                last_report=reports.get(row.id),
                pending_extension=pending.get(row.id),
            )
        )
    return rows


def bucket_counts(session: Session, department_id: int, calendar: WorkingCalendar) -> dict[str, int]:
    """How many tasks each 我的任务 bucket holds, in one query."""
    day = board_day(calendar)
    scope = holds(department_id, AssignmentRole.lead, AssignmentRole.cooperating)
    columns = [
        sa.func.coalesce(sa.func.sum(sa.case((bucket_clause(b, department_id, day), 1), else_=0)), 0).label(b)
        for b in BUCKETS
    ]
    row = (
        session.connection()
        .execute(sa.select(*columns).select_from(task_t).where(scope, task_t.c.state.in_(OPEN_VALUES)))
        .one()
    )
    return {b: int(getattr(row, b)) for b in BUCKETS}
