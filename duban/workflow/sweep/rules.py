"""Each rule of the policy as one SELECT of the notices due today (task, department, rule, step, period).

No task is loaded into Python: the thresholds are dates computed once (see ``thresholds``) and each rule
is a CASE over the due-date column that names the *latest* step that has come, so a task that missed a
sweep gets the step it stands at, not every step it passed. The caller inserts the rows into the outbox
with ON CONFLICT DO NOTHING on the dedupe key (task, rule, step, period, department, channel).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from duban.tasks.enums import AssignmentRole
from duban.tasks.models import Measure, TaskAssignment
from duban.workflow.models import ReportKind, TaskReport
from duban.workflow.policy import (
    CHASED_STATES,
    RULE_ACCEPT,
    RULE_CONTRIBUTION,
    RULE_DEADLINE,
    RULE_REPORT,
    EscalationPolicy,
    Step,
    frozen_version,
    task_t,
)
from duban.workflow.records.stats import local_date
from duban.workflow.sweep.periods import periods_of
from duban.workflow.sweep.thresholds import ONE_DAY, Thresholds, day_start

assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]
measure_t: Final = Measure.__table__  # type: ignore[attr-defined]
report_t: Final = TaskReport.__table__  # type: ignore[attr-defined]

NOTICE_COLUMNS: Final = ("task_id", "department_id", "rule", "step", "period", "due", "urgency", "delivery")


@dataclass(frozen=True)
class RuleContext:
    """What every rule needs: the policy version it applies, today's thresholds, the SQL dialect."""

    policy: EscalationPolicy
    thresholds: Thresholds
    dialect: str
    office_id: int | None
    only_this_version: bool = False
    frequencies: frozenset[str] = frozenset()

    def scope(self) -> ColumnElement[bool]:
        """Tasks the scheduler chases, under this policy version when several are in use."""
        chased: ColumnElement[bool] = task_t.c.state.in_(CHASED_STATES)
        if not self.only_this_version:
            return chased
        same: ColumnElement[bool] = frozen_version() == self.policy.version
        return sa.and_(chased, same)

    def issue_day(self) -> ColumnElement[dt.date]:
        """The Asia/Shanghai date a task was issued."""
        return local_date(self.dialect, task_t.c.issued_at)


@dataclass(frozen=True)
class NoticeQuery:
    """A SELECT of due notices (columns NOTICE_COLUMNS) and the steps it may name."""

    rule: str
    select: sa.Select[Any]
    steps: tuple[Step, ...]


def _step_case(
    steps: Sequence[Step], due: ColumnElement[Any], th: Thresholds, issue_day: ColumnElement[Any] | None
) -> ColumnElement[Any]:
    """The name of the latest step that has come for `due` (NULL if none).

    A reminder is only ever sent before its due date has passed. With `issue_day`, a task issued after its
    due date counts its ladder from the issue day, and gets no reminders meant for a due date it never saw.

    The rules select it in a subquery with OFFSET 0, which PostgreSQL does not merge into the query around
    it: merged, this CASE (a time-zone conversion per WHEN) would be evaluated again wherever the step is
    used (the addressee, the urgency, the delivery, the dedupe key, the order), several times per row.
    """
    whens: list[tuple[ColumnElement[bool], str]] = []
    for step in sorted(steps, key=lambda s: -s.offset):
        limit = th.last_due(step.offset)
        condition: ColumnElement[bool] = due <= limit
        if step.offset < 0:
            condition = sa.and_(condition, due >= th.today)
        if issue_day is not None:
            guard = issue_day <= limit if step.offset > 0 else issue_day <= due
            condition = sa.and_(condition, guard)
        whens.append((condition, step.name))
    return sa.case(*whens, else_=sa.null())


def _horizon(steps: Sequence[Step], policy: EscalationPolicy) -> int:
    """Offset beyond which a rule's last step is no longer sent late."""
    last = max(step.offset for step in steps)
    horizon = last + policy.catch_up_working_days
    return horizon if horizon != 0 else 1


def _meta(steps: Sequence[Step], step: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    urgency = sa.case({s.name: s.urgency for s in steps}, value=step, else_=0)
    delivery = sa.case(
        {s.name: ("immediate" if s.immediate else "digest") for s in steps}, value=step, else_="digest"
    )
    return urgency, delivery


def _fan_out(inner: sa.Subquery, rule: str, steps: Sequence[Step], ctx: RuleContext) -> sa.Select[Any]:
    """Address each due step: lead steps to every lead department, office steps to the office.

    With office steps, one outer join instead of a UNION, so the due steps are computed once whoever they
    go to: an office step matches no lead row and takes the office's id; a lead step without a lead is
    dropped, as the inner join drops it.

    No filter compares the computed step with a list of names: PostgreSQL has no statistics for it and
    guesses half a percent a name, so at 1,000,000 tasks it expected 480 rows of 125,000 and joined the
    channels by a nested loop that evaluated the addressee's CASE 12 million times. Only `IS NOT NULL`
    tests remain, which it takes to keep nearly every row; the rows kept are the same.
    """
    urgency, delivery = _meta(steps, inner.c.step)
    lead_steps = [s.name for s in steps if s.audience == "lead"]
    office_steps = [s.name for s in steps if s.audience == "office"]
    lead = assignment_t.alias("lead")
    on_lead = sa.and_(lead.c.task_id == inner.c.task_id, lead.c.role == AssignmentRole.lead.value)
    department_id: ColumnElement[Any] = lead.c.department_id
    if len(lead_steps) == len(steps):
        # The step is NULL or one of the lead steps: every named step goes to the leads.
        wanted: ColumnElement[bool] = inner.c.step.is_not(None)
        outer = False
    else:
        # A step that is not a lead step joins no lead row; an office step takes the office's id.
        on_lead = sa.and_(on_lead, inner.c.step.in_(lead_steps))
        if office_steps and ctx.office_id is not None:
            department_id = sa.case(
                (inner.c.step.in_(office_steps), sa.literal(ctx.office_id, sa.Integer)),
                else_=lead.c.department_id,
            )
        wanted = department_id.is_not(None)
        outer = True
    return (
        sa.select(
            inner.c.task_id,
            department_id.label("department_id"),
            sa.literal(rule).label("rule"),
            inner.c.step,
            inner.c.period,
            inner.c.due,
            urgency.label("urgency"),
            delivery.label("delivery"),
        )
        .join_from(inner, lead, on_lead, isouter=outer)
        .where(wanted)
    )


def deadline_notices(ctx: RuleContext) -> NoticeQuery:
    """Reminders before the deadline and the ladder after it, for every chased task."""
    steps = ctx.policy.deadline_steps()
    th = ctx.thresholds
    due = task_t.c.deadline
    issue_day = ctx.issue_day()
    limit = th.last_due(_horizon(steps, ctx.policy))
    inner = (
        sa.select(
            task_t.c.id.label("task_id"),
            _step_case(steps, due, th, issue_day).label("step"),
            sa.cast(due, sa.String).label("period"),
            due.label("due"),
        )
        .where(
            ctx.scope(),
            due.is_not(None),
            due <= th.last_due(min(s.offset for s in steps)),
            sa.or_(due > limit, issue_day > limit),
        )
        .offset(0)  # see _step_case: the step computed once per row
        .subquery("deadline_due")
    )
    return NoticeQuery(RULE_DEADLINE, _fan_out(inner, RULE_DEADLINE, steps, ctx), steps)


def accept_notices(ctx: RuleContext) -> NoticeQuery:
    """签收提醒 for tasks still waiting to be signed for."""
    steps = ctx.policy.accept_steps()
    (step,) = steps
    th = ctx.thresholds
    newest = th.last_due(step.offset)
    oldest = th.last_due(_horizon(steps, ctx.policy))
    issue_day = ctx.issue_day()
    inner = (
        sa.select(
            task_t.c.id.label("task_id"),
            sa.literal(step.name).label("step"),
            sa.cast(issue_day, sa.String).label("period"),
            issue_day.label("due"),
        )
        .where(
            ctx.scope(),
            task_t.c.state == "assigned",
            task_t.c.issued_at < day_start(newest + ONE_DAY),
            task_t.c.issued_at >= day_start(oldest + ONE_DAY),
        )
        .offset(0)  # see _step_case: the step computed once per row
        .subquery("accept_due")
    )
    return NoticeQuery(RULE_ACCEPT, _fan_out(inner, RULE_ACCEPT, steps, ctx), steps)


def contribution_notices(ctx: RuleContext) -> NoticeQuery:
    """Reminders and 催办 to each cooperating unit that has sent no contribution since the task was issued."""
    steps = ctx.policy.contribution_steps()
    th = ctx.thresholds
    due = task_t.c.deadline
    coop = assignment_t.alias("coop")
    sent = (
        sa.select(report_t.c.id)
        .where(
            report_t.c.task_id == task_t.c.id,
            report_t.c.kind == ReportKind.contribution.value,
            report_t.c.department_id == coop.c.department_id,
            report_t.c.created_at >= task_t.c.issued_at,
        )
        .exists()
    )
    step = _step_case(steps, due, th, ctx.issue_day())
    limit = th.last_due(_horizon(steps, ctx.policy))
    inner = (
        sa.select(
            task_t.c.id.label("task_id"),
            coop.c.department_id.label("department_id"),
            sa.literal(RULE_CONTRIBUTION).label("rule"),
            step.label("step"),
            sa.cast(due, sa.String).label("period"),
            due.label("due"),
        )
        .join_from(
            task_t,
            coop,
            sa.and_(coop.c.task_id == task_t.c.id, coop.c.role == AssignmentRole.cooperating.value),
        )
        .where(
            ctx.scope(),
            due.is_not(None),
            due <= th.last_due(min(s.offset for s in steps)),
            due > limit,
            ~sent,
        )
        .offset(0)  # see _step_case: the step computed once per row
        .subquery("contribution_due")
    )
    urgency, delivery = _meta(steps, inner.c.step)
    columns = [inner.c[name] for name in NOTICE_COLUMNS[:6]]
    select = sa.select(*columns, urgency.label("urgency"), delivery.label("delivery")).where(
        inner.c.step.is_not(None)
    )
    return NoticeQuery(RULE_CONTRIBUTION, select, steps)


@dataclass(frozen=True, slots=True)
class LivePeriod:
    """A period of one frequency whose report has a step due today, with the bounds its SQL compares."""

    period: str  # "monthly:2025-10", the outbox's period
    start: dt.date
    issued_before: dt.datetime  # tasks issued before the day after the period owe its report
    reported_since: dt.datetime  # a progress report from the day after the previous period's due date
    step: str
    due: dt.date


def live_periods(ctx: RuleContext, frequency: str, due_after: int, steps: Sequence[Step]) -> list[LivePeriod]:
    """The periods of `frequency` with a step that has come today (the latest such step), oldest first."""
    th = ctx.thresholds
    horizon = _horizon(steps, ctx.policy)
    live: list[LivePeriod] = []
    for period, previous in periods_of(frequency, th.today):
        due = th.calendar.add_working_days(period.end, due_after).date
        if th.has_come(due, horizon):
            continue
        step = next(
            (s for s in reversed(steps) if th.has_come(due, s.offset) and (s.offset > 0 or due >= th.today)),
            None,
        )
        if step is None:
            continue
        previous_due = th.calendar.add_working_days(previous.end, due_after).date
        live.append(
            LivePeriod(
                f"{frequency}:{period.key}",
                period.start,
                day_start(period.end + ONE_DAY),
                day_start(previous_due + ONE_DAY),
                step.name,
                due,
            )
        )
    return live


def report_notices(ctx: RuleContext) -> Iterator[NoticeQuery]:
    """Recurring report obligations: one SELECT per frequency over its live periods, each at its step."""
    steps = ctx.policy.report_steps()
    for frequency, due_after in ctx.policy.reports.items():
        if frequency not in ctx.frequencies:
            continue
        live = live_periods(ctx, frequency, due_after, steps)
        if live:
            yield NoticeQuery(RULE_REPORT, _report_select(ctx, frequency, live, steps), steps)


def _periods_table(frequency: str, live: Sequence[LivePeriod]) -> sa.CTE:
    """The live periods as a small constant table: a VALUES list named in a WITH, which SQLite accepts too
    (it has no column names for a VALUES in FROM). SQLAlchemy does not cache a statement with a VALUES, so
    this one is compiled on every sweep: about 8 ms, one statement per frequency."""
    stamp = task_t.c.issued_at.type  # bound as the columns they are compared with (UTC, naive on SQLite)
    columns = (
        sa.column("period", sa.String),
        sa.column("start", sa.Date),
        sa.column("issued_before", stamp),
        sa.column("reported_since", stamp),
        sa.column("step", sa.String),
        sa.column("due", sa.Date),
    )
    rows = [(p.period, p.start, p.issued_before, p.reported_since, p.step, p.due) for p in live]
    return (
        sa.values(*columns, name=f"report_periods_{frequency}").data(rows).cte(f"report_periods_{frequency}")
    )


def _report_select(
    ctx: RuleContext, frequency: str, live: Sequence[LivePeriod], steps: Sequence[Step]
) -> sa.Select[Any]:
    periods = _periods_table(frequency, live)
    # A period's report is any progress report made after the previous period's report fell due.
    reported = (
        sa.select(report_t.c.id)
        .where(
            report_t.c.task_id == task_t.c.id,
            report_t.c.kind == ReportKind.progress.value,
            report_t.c.created_at >= periods.c.reported_since,
        )
        .exists()
    )
    inner = (
        sa.select(
            task_t.c.id.label("task_id"),
            periods.c.step,
            periods.c.period,
            periods.c.due,
        )
        .join_from(task_t, measure_t, measure_t.c.id == task_t.c.measure_id)
        .join(
            periods,
            sa.and_(
                task_t.c.issued_at < periods.c.issued_before,
                sa.or_(task_t.c.deadline.is_(None), task_t.c.deadline >= periods.c.start),
            ),
        )
        .where(
            ctx.scope(),
            measure_t.c.recurrence["frequency"].as_string() == frequency,
            ~reported,
        )
        .offset(0)  # see _step_case: the step computed once per row
        .subquery(f"report_{frequency}")
    )
    return _fan_out(inner, RULE_REPORT, steps, ctx)


def frequencies_in_use(conn: sa.Connection) -> frozenset[str]:
    """The recurrence frequencies of the measures, so frequencies no measure has build no SQL.

    One DISTINCT over the measures alone, never a read of every task: a frequency whose measures have no
    chased task only runs a report SELECT that finds nothing, so the notices are the same.
    """
    frequency = measure_t.c.recurrence["frequency"].as_string()
    query = sa.select(frequency).where(measure_t.c.recurrence.is_not(None)).distinct()
    return frozenset(str(value) for (value,) in conn.execute(query) if value)


def notice_queries(ctx: RuleContext) -> list[NoticeQuery]:
    """Every rule's SELECT for one policy version."""
    queries = [deadline_notices(ctx), accept_notices(ctx)]
    if ctx.policy.contribution_steps():
        queries.append(contribution_notices(ctx))
    queries.extend(report_notices(ctx))
    return queries
