"""The daily digest per department (every item by urgency, 督办 on top) and the office's weekly summary.

Both are outbox rows whose dedupe keys (department/day/channel, ISO week/channel) make them once-only
however many dispatchers run. A digest is composed set-based: one INSERT … SELECT … GROUP BY department
and channel a day, each row recording the id window of its items — its department's notices on its
channel past the last digest's window, up to the highest outbox id when it was composed. Nothing is
written on the items. What a digest shows is frozen into its payload when it is first claimed
(`delivery.claim`), so a repeat after a crash says exactly what the first attempt said; the weekly
summary's is frozen when composed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.core.config import get_settings
from duban.core.types import JSONType
from duban.notifications.delivery import relay
from duban.notifications.events import notify_missed_events
from duban.notifications.messages import EVENT_LABELS, outbox_t
from duban.notifications.models import Channel, OutboxKind, OutboxStatus
from duban.notifications.outbox import dedupe_insert, department_t, office_department_id
from duban.notifications.schedule import office_open
from duban.tasks.enums import AssignmentRole
from duban.tasks.models import TaskAssignment
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.machines import Rung, rung_of
from duban.workflow.policy import CHASED_STATES, ISSUED_STATES, LADDER_KINDS, EscalationPolicy, task_t

assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]
STEP_LABELS: Final = {
    "accept": "签收提醒",
    **{name: kind.label for name, kind in LADDER_KINDS.items()},
}


def _insert_message(
    session: Session,
    key: str,
    kind: OutboxKind,
    department_id: int,
    channel: str,
    recipient: str,
    now: dt.datetime,
) -> int | None:
    conn = session.connection()
    statement = (
        dedupe_insert(conn, outbox_t)
        .values(
            dedupe_key=key,
            kind=kind.value,
            department_id=department_id,
            delivery="immediate",
            channel=channel,
            recipient=recipient,
            status=OutboxStatus.pending.value,
            attempts=0,
            next_attempt_at=now,
            payload={},
            last_error="",
            created_at=now,
            urgency=0,
            rule="",
            step=kind.value,
            period="",
        )
        .returning(outbox_t.c.id)
    )
    return conn.execute(statement).scalar()


def _digest_pairs(day: dt.date | None) -> sa.CTE:
    """Each department and channel (without a digest on `day`, if given), with where its last digest's
    items ended."""
    channels = sa.union_all(
        sa.select(sa.literal(Channel.email.value).label("channel")),
        sa.select(sa.literal(Channel.webhook.value).label("channel")),
    ).subquery("digest_channel")
    stamp = day.isoformat() if day is not None else ""
    key = sa.literal("d:") + sa.cast(department_t.c.id, sa.String) + f":{stamp}:" + channels.c.channel
    last = outbox_t.alias("last_digest")
    last_through = (
        sa.select(last.c.items_through)
        .where(
            last.c.department_id == department_t.c.id,
            last.c.channel == channels.c.channel,
            last.c.kind == OutboxKind.digest.value,
        )
        .order_by(last.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    today = outbox_t.alias("today_digest")
    pairs = sa.select(
        department_t.c.id.label("department_id"),
        channels.c.channel,
        key.label("dedupe_key"),
        sa.func.coalesce(last_through, 0).label("items_after"),
    ).join_from(department_t, channels, sa.true())
    if day is not None:
        pairs = pairs.where(~sa.select(today.c.id).where(today.c.dedupe_key == key).exists())
    # Materialized: a few hundred pairs, each then reading its own notices past its window by index.
    # Inlined, the planner ran the last-digest lookup once per notice.
    return pairs.cte("digest_pair").prefix_with("MATERIALIZED")


def digest_items_waiting() -> sa.Select[tuple[int]]:
    """SQL: how many pending digest notices no digest lists yet (each department's past its last)."""
    pairs = _digest_pairs(None)
    return sa.select(sa.func.count()).select_from(
        pairs.join(
            outbox_t,
            sa.and_(
                outbox_t.c.department_id == pairs.c.department_id,
                outbox_t.c.channel == pairs.c.channel,
                outbox_t.c.id > pairs.c.items_after,
                outbox_t.c.kind == OutboxKind.notice.value,
                outbox_t.c.delivery == "digest",
                outbox_t.c.status == OutboxStatus.pending.value,
            ),
        )
    )


def _digest_rows(day: dt.date, now: dt.datetime, through: int | None) -> sa.Select[Any]:
    """One digest row per department and channel with notices past its last digest (up to `through`)."""
    pairs = _digest_pairs(day)
    items = [
        outbox_t.c.kind == OutboxKind.notice.value,
        outbox_t.c.status.not_in([OutboxStatus.skipped.value, OutboxStatus.digested.value]),
    ]
    if through is not None:
        items.append(outbox_t.c.id <= through)
    return (
        sa.select(
            pairs.c.dedupe_key,
            sa.literal(OutboxKind.digest.value).label("kind"),
            pairs.c.department_id,
            sa.literal("immediate").label("delivery"),
            pairs.c.channel,
            sa.func.max(outbox_t.c.recipient).label("recipient"),
            sa.literal(OutboxStatus.pending.value).label("status"),
            sa.literal(0).label("attempts"),
            sa.literal(now, outbox_t.c.next_attempt_at.type).label("next_attempt_at"),
            sa.literal({}, JSONType).label("payload"),
            sa.literal("").label("last_error"),
            sa.literal(now, outbox_t.c.created_at.type).label("created_at"),
            sa.literal(0).label("urgency"),
            sa.literal("").label("rule"),
            sa.literal(OutboxKind.digest.value).label("step"),
            sa.literal("").label("period"),
            pairs.c.items_after,
            sa.literal(through or 0).label("items_through"),
        )
        .join_from(
            pairs,
            outbox_t,
            sa.and_(
                outbox_t.c.department_id == pairs.c.department_id,
                outbox_t.c.channel == pairs.c.channel,
                outbox_t.c.id > pairs.c.items_after,
            ),
        )
        .where(*items)
        .group_by(pairs.c.dedupe_key, pairs.c.department_id, pairs.c.channel, pairs.c.items_after)
        # Immediate notices (mailed on their own) are listed too, but only digest items call for a digest.
        .having(sa.func.max(sa.case((outbox_t.c.delivery == "digest", 1), else_=0)) == 1)
        .order_by(pairs.c.department_id, pairs.c.channel)
    )


def compose_digests(session: Session, now: dt.datetime, calendar: WorkingCalendar) -> list[int]:
    """Today's digest for every department and channel with notices past its last digest (once a day
    each), in one INSERT … SELECT; each records the id window of its items and freezes nothing yet."""
    if not office_open(now, calendar):
        return []
    conn = session.connection()
    day = now.astimezone(clock.TZ).date()
    if conn.execute(_digest_rows(day, now, None).limit(1)).first() is None:
        return []
    if conn.dialect.name == "postgresql":
        # Wait for every transaction writing the outbox and hold off new ones until this commits: then no
        # notice with an id at or below `through` can still commit after the digests' windows are fixed.
        # (SQLite has one writer at a time.)
        conn.execute(sa.text("LOCK TABLE notification_outbox IN SHARE ROW EXCLUSIVE MODE"))
    through = conn.execute(sa.select(sa.func.max(outbox_t.c.id))).scalar_one()
    select = _digest_rows(day, now, int(through))
    names = [column.name for column in select.selected_columns]
    statement = dedupe_insert(conn, outbox_t).from_select(names, select).returning(outbox_t.c.id)
    return sorted(int(row.id) for row in conn.execute(statement))


def weekly_summary(session: Session, today: dt.date) -> dict[str, Any]:
    """The office's weekly figures (set-based): open, overdue, levels, last week's notices, laggards."""
    conn = session.connection()
    monday = today - dt.timedelta(days=today.weekday())
    last_monday = monday - dt.timedelta(days=7)
    start_at = dt.datetime.combine(last_monday, dt.time(), tzinfo=clock.TZ)
    end_at = dt.datetime.combine(monday, dt.time(), tzinfo=clock.TZ)
    overdue = sa.and_(task_t.c.state.in_(CHASED_STATES), task_t.c.deadline < today)
    open_tasks, overdue_tasks, completed = conn.execute(
        sa.select(
            sa.func.count().filter(task_t.c.state.in_(ISSUED_STATES)),
            sa.func.count().filter(overdue),
            sa.func.count().filter(task_t.c.completed_at >= start_at, task_t.c.completed_at < end_at),
        )
    ).one()
    level_counts: Counter[Rung] = Counter()
    for level, colour, count in conn.execute(
        sa.select(task_t.c.supervision_level, task_t.c.notice_colour, sa.func.count())
        .where(task_t.c.state.in_(ISSUED_STATES))
        .group_by(task_t.c.supervision_level, task_t.c.notice_colour)
    ):
        level_counts[rung_of(level, colour)] += int(count)
    step_counts: Counter[str] = Counter()
    for rule, step, count in conn.execute(
        sa.select(outbox_t.c.rule, outbox_t.c.step, sa.func.count())
        .where(
            outbox_t.c.kind == OutboxKind.notice.value,
            outbox_t.c.channel == Channel.email.value,
            outbox_t.c.created_at >= start_at,
            outbox_t.c.created_at < end_at,
        )
        .group_by(outbox_t.c.rule, outbox_t.c.step)
    ):
        label = EVENT_LABELS.get(step, step) if rule == "event" else STEP_LABELS.get(step, "")
        if not label:
            label = "临近提醒" if "remind" in step else ("催办" if "urge" in step else step)
        step_counts[label] += int(count)
    laggards = conn.execute(
        sa.select(department_t.c.name, sa.func.count().label("n"))
        .select_from(
            task_t.join(
                assignment_t,
                sa.and_(
                    assignment_t.c.task_id == task_t.c.id, assignment_t.c.role == AssignmentRole.lead.value
                ),
            ).join(department_t, department_t.c.id == assignment_t.c.department_id)
        )
        .where(overdue)
        .group_by(department_t.c.name)
        .order_by(sa.func.count().desc(), department_t.c.name)
        .limit(10)
    ).all()
    iso = last_monday.isocalendar()  # the week the summary reports on, whose dates it prints
    return {
        "week": f"{iso.year}-W{iso.week:02d}",
        "week_label": f"{iso.year}年第{iso.week}周",
        "start": last_monday.isoformat(),
        "end": (monday - dt.timedelta(days=1)).isoformat(),
        "open_tasks": int(open_tasks),
        "overdue_tasks": int(overdue_tasks),
        "completed_last_week": int(completed),
        "levels": [
            {"label": "未督办" if rung is Rung.none else rung.label, "count": level_counts[rung]}
            for rung in Rung
        ],
        "steps": [{"label": label, "count": count} for label, count in step_counts.most_common()],
        "departments": [{"name": name, "overdue": int(n)} for name, n in laggards],
    }


def compose_weekly(
    session: Session, now: dt.datetime, calendar: WorkingCalendar, policy: EscalationPolicy
) -> list[int]:
    """This ISO week's summary to the committee office, on its first working day in office hours."""
    if not office_open(now, calendar):
        return []
    office_id = office_department_id(session, policy.office)
    if office_id is None:
        return []
    conn = session.connection()
    office = conn.execute(
        sa.select(department_t.c.email, department_t.c.webhook).where(department_t.c.id == office_id)
    ).one()
    today = now.astimezone(clock.TZ).date()
    iso = today.isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    created: list[int] = []
    for channel, recipient in (
        (Channel.email.value, office.email or ""),
        (Channel.webhook.value, office.webhook),
    ):
        if channel == Channel.webhook.value and not recipient:
            continue
        found = _insert_message(
            session, f"w:{week}:{channel}", OutboxKind.weekly, office_id, channel, recipient, now
        )
        if found is not None:
            created.append(found)
    if created:
        summary = weekly_summary(session, today)
        payload = {
            **summary,
            "subject": f"【每周督办汇总】{summary['week_label']}：逾期 {summary['overdue_tasks']} 项",
            "board_link": f"{get_settings().base_url.rstrip('/')}/overdue",
        }
        conn.execute(
            outbox_t.update().where(outbox_t.c.id.in_(created)).values(payload=sa.literal(payload, JSONType))
        )
    return created


def dispatch(
    session: Session, now: dt.datetime | None, calendar: WorkingCalendar, policy: EscalationPolicy
) -> dict[str, int]:
    """What beat runs every minute: catch up on events whose job was lost, compose today's digests and
    this week's summary, then relay."""
    moment = now or clock.now()
    caught_up = notify_missed_events(session, moment)
    digests = compose_digests(session, moment, calendar)
    weekly = compose_weekly(session, moment, calendar, policy)
    queued = relay(session, moment)
    return {"caught_up": caught_up, "digests": len(digests), "weekly": len(weekly), "queued": len(queued)}
