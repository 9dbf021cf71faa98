"""The daily digest per department (every item by urgency, 督办 on top) and the office's weekly summary.

Both are outbox rows with their content frozen into the payload when composed, so a repeat after a
crash says exactly what the first attempt said. Their dedupe keys (department/day/channel, ISO
week/channel) make them once-only however many dispatchers run.
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
from duban.notifications.messages import EVENT_LABELS, is_obsolete, item_of, load_items, outbox_t
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


def compose_digests(session: Session, now: dt.datetime, calendar: WorkingCalendar) -> list[int]:
    """Today's digest for every department and channel with digest items waiting (once a day each)."""
    if not office_open(now, calendar):
        return []
    conn = session.connection()
    day = now.astimezone(clock.TZ).date()
    unlisted = sa.and_(
        outbox_t.c.kind == OutboxKind.notice.value,
        outbox_t.c.digest_id.is_(None),
        outbox_t.c.created_at <= now,
        outbox_t.c.status.not_in([OutboxStatus.skipped.value, OutboxStatus.digested.value]),
    )
    groups = conn.execute(
        sa.select(outbox_t.c.department_id, outbox_t.c.channel, sa.func.max(outbox_t.c.recipient).label("to"))
        .where(unlisted, outbox_t.c.delivery == "digest", outbox_t.c.status == OutboxStatus.pending.value)
        .group_by(outbox_t.c.department_id, outbox_t.c.channel)
        .order_by(outbox_t.c.department_id, outbox_t.c.channel)
    ).all()
    base_url = get_settings().base_url.rstrip("/")
    created: list[int] = []
    for group in groups:
        key = f"d:{group.department_id}:{day.isoformat()}:{group.channel}"
        digest_id = _insert_message(
            session, key, OutboxKind.digest, group.department_id, group.channel, group.to, now
        )
        if digest_id is None:
            continue  # today's digest went out already; these items wait for tomorrow's
        rows = load_items(
            session,
            [unlisted, outbox_t.c.department_id == group.department_id, outbox_t.c.channel == group.channel],
        )
        stale = [row["id"] for row in rows if is_obsolete(row)]
        items = [item_of(row, calendar, base_url) for row in rows if not is_obsolete(row)]
        _mark(conn, stale, status=OutboxStatus.skipped.value)
        listed = [item["outbox_id"] for item in items]
        for start in range(0, len(listed), 5000):
            conn.execute(
                outbox_t.update()
                .where(outbox_t.c.id.in_(listed[start : start + 5000]))
                .values(
                    digest_id=digest_id,
                    status=sa.case(
                        (outbox_t.c.delivery == "digest", OutboxStatus.digested.value),
                        else_=outbox_t.c.status,
                    ),
                )
            )
        supervised = sum(1 for item in items if item["urgency"] >= 3)
        payload = {
            "subject": f"【每日督办摘要】{day.isoformat()} 共 {len(items)} 项"
            + (f"，督办 {supervised} 项" if supervised else ""),
            "day": day.isoformat(),
            "items": items,
            "board_link": f"{base_url}/tasks",
        }
        conn.execute(
            outbox_t.update()
            .where(outbox_t.c.id == digest_id)
            .values(
                payload=payload, status=OutboxStatus.pending.value if items else OutboxStatus.skipped.value
            )
        )
        if items:
            created.append(digest_id)
    return created


def _mark(conn: sa.Connection, ids: list[int], *, status: str) -> None:
    for start in range(0, len(ids), 5000):
        conn.execute(
            outbox_t.update().where(outbox_t.c.id.in_(ids[start : start + 5000])).values(status=status)
        )


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
