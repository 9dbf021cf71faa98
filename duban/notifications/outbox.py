"""The outbox: notices inserted set-based with ON CONFLICT DO NOTHING, and the sweep that fills it.

A sweep is one transaction: freeze the policy onto tasks issued without one, insert every rule's due
notices (one INSERT … SELECT per rule and policy version), climb the ladder of the tasks whose notices
*this* sweep inserted (a concurrent sweep's conflicting rows come back empty, so it moves nothing), and
queue the immediate notices for delivery after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import dml as postgresql_dml
from sqlalchemy.dialects.sqlite import dml as sqlite_dml
from sqlmodel import Session

from duban.core import clock
from duban.core.types import JSONType
from duban.notifications.calendars import working_calendar
from duban.notifications.delivery import enqueue_delivery
from duban.notifications.models import NotificationOutbox, OutboxKind
from duban.notifications.schedule import office_open
from duban.tasks.models import Department
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.errors import WorkflowError
from duban.workflow.machines import Rung
from duban.workflow.policy import (
    CHASED_STATES,
    EscalationPolicy,
    Step,
    bundled_policy,
    frozen_version,
    parse_policy,
    task_t,
)
from duban.workflow.policy_store import freeze_policy, snapshot_of
from duban.workflow.sweep import (
    LadderTarget,
    NoticeQuery,
    RuleContext,
    Thresholds,
    frequencies_in_use,
    notice_queries,
    raise_levels,
)

log = logging.getLogger("duban.sweep")

outbox_t: Final = NotificationOutbox.__table__  # type: ignore[attr-defined]
department_t: Final = Department.__table__  # type: ignore[attr-defined]
LADDER_RULES: Final = frozenset({"deadline", "accept", "report"})


@dataclass(frozen=True, slots=True)
class InsertedNotice:
    """An outbox row this transaction inserted."""

    id: int
    task_id: int
    department_id: int
    rule: str
    step: str
    period: str
    delivery: str
    channel: str


@dataclass
class SweepResult:
    """What one sweep did."""

    today: dt.date
    frozen: int = 0
    notices: int = 0
    moved: int = 0
    queued: int = 0
    by_step: Counter[str] = field(default_factory=Counter)
    versions: list[int] = field(default_factory=list)


# The dialects' INSERT … ON CONFLICT constructs opt out of SQLAlchemy's compiled cache, and compiling the
# sweep's nested SELECTs costs tens of milliseconds. These subclasses opt back in: each is only ever built
# by `dedupe_insert`, always with DO NOTHING on one fixed key per table, so the cache key (table, SELECT)
# cannot confuse two different statements.
class _PostgresDedupeInsert(postgresql.Insert):
    inherit_cache = True


class _PostgresDoNothing(postgresql_dml.OnConflictDoNothing):
    _traverse_internals = []  # noqa: RUF012  (SQLAlchemy reads it from the class)


class _SqliteDedupeInsert(sqlite.Insert):
    inherit_cache = True


class _SqliteDoNothing(sqlite_dml.OnConflictDoNothing):
    _traverse_internals = []  # noqa: RUF012  (SQLAlchemy reads it from the class)


# The order every sweep inserts in.
LOCK_ORDER: Final = ("task_id", "rule", "step", "period", "department_id", "channel")


def dedupe_insert(conn: sa.Connection, table: sa.Table, key: str = "dedupe_key") -> Any:
    """A cacheable INSERT on `table` that skips rows whose `key` is already there (one key per table)."""
    if conn.dialect.name == "postgresql":
        statement: Any = _PostgresDedupeInsert(table)
        statement._post_values_clause = _PostgresDoNothing(index_elements=[key])
    else:
        statement = _SqliteDedupeInsert(table)
        statement._post_values_clause = _SqliteDoNothing(index_elements=[key])
    return statement


def _channels() -> sa.Subquery:
    """The two channels as a two-row constant table (a UNION of literals, which SQLite accepts too)."""
    email = sa.select(sa.literal("email").label("channel"))
    webhook = sa.select(sa.literal("webhook").label("channel"))
    return sa.union_all(email, webhook).subquery("channel_kind")


def notice_insert(conn: sa.Connection, due: sa.Select[Any], now: dt.datetime, *, queued: bool = False) -> Any:
    """The INSERT … SELECT of due notices (NOTICE_COLUMNS), one row per channel, RETURNING what the sweep
    keeps; with `queued`, immediate rows are written already marked queued at `now`."""
    # OFFSET 0 (PostgreSQL does not merge such a subquery into the query around it): the addressee, often a
    # CASE, is computed once per notice, not again in every comparison of a join or of the sort.
    notices = due.offset(0).subquery("due_notice")
    # Each notice finds its department by primary key and goes out once per channel it has: mail always (the
    # address, or '' if none), the webhook when there is one. Joined after the notices are computed, so they
    # are computed once, not per channel; and never a scan of the department table per notice.
    channels = _channels()
    has_webhook = sa.and_(department_t.c.webhook.is_not(None), department_t.c.webhook != "")
    recipient = sa.case(
        (channels.c.channel == "email", sa.func.coalesce(department_t.c.email, "")),
        else_=department_t.c.webhook,
    )
    columns = [notices.c[name] for name in ("task_id", "department_id", "rule", "step", "period", "due")]
    columns += [notices.c.urgency, notices.c.delivery]
    rows = (
        sa.select(*columns, channels.c.channel, recipient.label("recipient"))
        .join_from(notices, department_t, department_t.c.id == notices.c.department_id)
        .join(channels, sa.or_(channels.c.channel == "email", has_webhook))
        .subquery("addressed")
    )
    key = (
        sa.literal("n:")
        + sa.cast(rows.c.task_id, sa.String)
        + ":"
        + rows.c.rule
        + ":"
        + rows.c.step
        + ":"
        + rows.c.period
        + ":"
        + sa.cast(rows.c.department_id, sa.String)
        + ":"
        + rows.c.channel
    )
    moment = sa.literal(now, outbox_t.c.queued_at.type)
    queued_at = sa.case((rows.c.delivery == "immediate", moment), else_=sa.null()) if queued else sa.null()
    select = (
        sa.select(
            key.label("dedupe_key"),
            sa.literal(OutboxKind.notice.value).label("kind"),
            rows.c.task_id,
            rows.c.rule,
            rows.c.step,
            rows.c.period,
            rows.c.due,
            rows.c.department_id,
            rows.c.urgency,
            rows.c.delivery,
            rows.c.channel,
            rows.c.recipient,
            sa.literal("pending").label("status"),
            sa.literal(0).label("attempts"),
            sa.literal(now, outbox_t.c.next_attempt_at.type).label("next_attempt_at"),
            sa.type_coerce(queued_at, outbox_t.c.queued_at.type).label("queued_at"),
            sa.literal({}, JSONType).label("payload"),
            sa.literal("").label("last_error"),
            sa.literal(now, outbox_t.c.created_at.type).label("created_at"),
        )
        .where(sa.true())
        # One order for every sweep, so two concurrent ones take the unique index's locks in the same order
        # (the period too: one report statement covers several periods of a task).
        .order_by(*(rows.c[name] for name in LOCK_ORDER))
    )
    names = [column.name for column in select.selected_columns]
    return (
        dedupe_insert(conn, outbox_t)
        .from_select(names, select)
        .returning(
            outbox_t.c.id,
            outbox_t.c.task_id,
            outbox_t.c.department_id,
            outbox_t.c.rule,
            outbox_t.c.step,
            outbox_t.c.period,
            outbox_t.c.delivery,
            outbox_t.c.channel,
        )
    )


def insert_notices(session: Session, due: sa.Select[Any], now: dt.datetime) -> list[InsertedNotice]:
    """Insert a SELECT of due notices (NOTICE_COLUMNS) once per channel; rows already there are skipped."""
    conn = session.connection()
    return [InsertedNotice(*row) for row in conn.execute(notice_insert(conn, due, now))]


def policies_in_use(session: Session, current: EscalationPolicy) -> dict[int, EscalationPolicy]:
    """The policy versions frozen onto chased tasks (each found as the least one above the last, which the
    index of migration 0016 answers without reading every task), the rules kept for each version."""
    conn = session.connection()
    version = frozen_version()
    chased = task_t.c.state.in_(CHASED_STATES)
    versions: list[int] = []
    found = conn.execute(sa.select(sa.func.min(version)).where(chased)).scalar()
    while found is not None:
        versions.append(int(found))
        found = conn.execute(sa.select(sa.func.min(version)).where(chased, version > found)).scalar()
    policies: dict[int, EscalationPolicy] = {}
    for v in versions:
        if v == current.version:
            policies[v] = current
            continue
        try:
            policies[v] = parse_policy(snapshot_of(conn, v))
        except WorkflowError:
            log.exception("tasks frozen with policy version %s have unreadable rules; skipped", v)
    return policies


def office_department_id(session: Session, code: str) -> int | None:
    """The id of the committee office's department (None, logged, when the registry lacks it)."""
    found = (
        session.connection().execute(sa.select(department_t.c.id).where(department_t.c.code == code)).first()
    )
    if found is None:
        log.error(
            "office department %r is not in the registry: 约谈/问责 proposals cannot be addressed", code
        )
        return None
    return int(found.id)


def ladder_rungs(steps: Mapping[tuple[str, str], Step]) -> dict[tuple[str, str], Rung]:
    """Per ladder step, the highest rung among its rule's steps up to it (a task that missed sweeps and is
    first seen at its 约谈 proposal still climbs to the red notice)."""
    rungs: dict[tuple[str, str], Rung] = {}
    for (rule, name), step in steps.items():
        if rule not in LADDER_RULES:
            continue
        reached = [s.rung for (r, _), s in steps.items() if r == rule and s.rung and s.offset <= step.offset]
        if reached:
            rungs[(rule, name)] = max(reached, key=lambda r: r.rank)
    return rungs


@dataclass
class _Tally:
    """What a sweep keeps of the rows it inserts, folded row by row (the rows themselves are not kept)."""

    rungs: dict[tuple[str, str], Rung]
    count: int = 0
    by_step: Counter[str] = field(default_factory=Counter)
    targets: dict[int, LadderTarget] = field(default_factory=dict)
    immediate: list[int] = field(default_factory=list)
    # One string object per distinct rule, step and period, however many targets name it.
    _names: dict[str, str] = field(default_factory=dict)

    def add(self, notice_id: int, task_id: int, rule: str, step: str, period: str, delivery: str) -> None:
        """Count one inserted notice; keep its id if immediate and its task's highest ladder target."""
        self.count += 1
        self.by_step[f"{rule}:{step}"] += 1
        if delivery == "immediate":
            self.immediate.append(notice_id)
        rung = self.rungs.get((rule, step))
        if rung is None:
            return
        known = self.targets.get(task_id)
        if known is None or rung.rank > known.rung.rank:
            names = self._names
            self.targets[task_id] = LadderTarget(
                rung,
                names.setdefault(rule, rule),
                names.setdefault(step, step),
                names.setdefault(period, period),
            )


def ladder_targets(
    inserted: Iterable[InsertedNotice], steps: dict[tuple[str, str], Step]
) -> dict[int, LadderTarget]:
    """Per task, the highest rung of the steps that have come with the notices inserted."""
    tally = _Tally(ladder_rungs(steps))
    for n in inserted:
        tally.add(n.id, n.task_id, n.rule, n.step, n.period, n.delivery)
    return tally.targets


def queue_delivery(session: Session, ids: Sequence[int], now: dt.datetime, calendar: WorkingCalendar) -> int:
    """Queue delivery jobs after commit while the office is open (else the relay queues them at opening)."""
    if not ids or not office_open(now, calendar):
        return 0
    return enqueue_delivery(session, ids, now)


def run_sweep(
    session: Session,
    now: dt.datetime | None = None,
    *,
    calendar: WorkingCalendar | None = None,
    policy: EscalationPolicy | None = None,
) -> SweepResult:
    """One reminder/escalation sweep in the caller's transaction (the caller commits)."""
    moment = now or clock.now()
    today = moment.astimezone(clock.TZ).date()
    cal = calendar or working_calendar(session)
    current = policy or bundled_policy()
    if session.connection().dialect.name == "postgresql":
        # JIT would compile each rule's large CASE expressions again for every statement of every sweep,
        # seconds that the simple per-row work never wins back; for this transaction only.
        session.connection().exec_driver_sql("SET LOCAL jit = off")
    result = SweepResult(today=today)
    result.frozen = freeze_policy(session, policy=current)
    policies = policies_in_use(session, current)
    result.versions = sorted(policies)
    thresholds = Thresholds(cal, today)
    dialect = session.connection().dialect.name
    queries: list[NoticeQuery] = []
    frequencies = frequencies_in_use(session.connection()) if policies else frozenset()
    for version in result.versions:
        rules = policies[version]
        context = RuleContext(
            rules,
            thresholds,
            dialect,
            office_department_id(session, rules.office),
            only_this_version=len(policies) > 1,
            frequencies=frequencies,
        )
        queries.extend(notice_queries(context))
    steps = {(step.rule, step.name): step for query in queries for step in query.steps}
    # Immediate notices are written already marked queued when their jobs go out after this commit.
    queued = office_open(moment, cal)
    tally = _Tally(ladder_rungs(steps))
    conn = session.connection()
    for query in queries:
        for row in conn.execute(notice_insert(conn, query.select, moment, queued=queued)):
            tally.add(row.id, row.task_id, row.rule, row.step, row.period, row.delivery)
    result.notices = tally.count
    result.by_step = tally.by_step
    result.moved = raise_levels(session, tally.targets, moment)
    if queued and tally.immediate:
        result.queued = enqueue_delivery(session, tally.immediate, moment, mark=False)
    log.info(
        "sweep %s: %d notices, %d ladder moves, %d queued", today, result.notices, result.moved, result.queued
    )
    return result
