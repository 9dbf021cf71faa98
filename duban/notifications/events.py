"""Notices of what people did (the jobs the action service queues): 交办, 退回, 延期, 约谈, 问责 …

An event's notices are keyed by the event id, so running a job twice inserts nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.notifications.calendars import working_calendar
from duban.notifications.outbox import (
    InsertedNotice,
    insert_notices,
    office_department_id,
    outbox_t,
    queue_delivery,
)
from duban.tasks.enums import AssignmentRole, TaskState
from duban.tasks.models import TaskAssignment, TaskEvent
from duban.workflow.policy import bundled_policy, task_t
from duban.workflow.policy_store import freeze_policy
from duban.workflow.sweep.ladder import SCHEDULER_LABEL

event_t: Final = TaskEvent.__table__  # type: ignore[attr-defined]
assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]
COLOUR_URGENCY: Final = {"blue": 3, "orange": 4, "red": 5}
COLOUR_ZH: Final = {"blue": "蓝", "orange": "橙", "red": "红"}


@dataclass(frozen=True, slots=True)
class Route:
    """Who hears of an event kind, how urgently, and whether it is mailed at once."""

    audience: str
    urgency: int
    immediate: bool = False


ROUTES: Final[dict[str, Route]] = {
    "issue": Route("lead", 0),
    "reassign": Route("lead", 0),
    "return": Route("lead", 0),
    "approve": Route("lead", 0),
    "cancel": Route("lead", 0),
    "extension_granted": Route("lead", 0),
    "extension_refused": Route("lead", 0),
    "submit": Route("office", 0),
    "dispute": Route("office", 0),
    "extension_requested": Route("office", 0),
    "remind": Route("lead", 1),
    "urge": Route("lead", 2),
    "supervise": Route("lead", 3, immediate=True),
    "interview": Route("lead", 6, immediate=True),
    "hold_accountable": Route("lead", 7, immediate=True),
}


def headline(kind: str, data: dict[str, Any]) -> str:
    """The one sentence a notice of this event kind says."""
    within = bundled_policy().accept_within
    lines = {
        "issue": f"委员会办公室已交办本任务，请在 {within} 个工作日内签收，或对牵头单位提出异议。",
        "reassign": "本任务已改派由贵单位牵头办理，请及时签收。",
        "return": "办结报送已被退回，请按意见补充完善后重新报送。",
        "approve": "本任务已审核通过，予以销号。",
        "cancel": "本任务已由委员会办公室撤销。",
        "extension_granted": f"延期申请已批准，完成时限调整为 {data.get('granted_deadline', '')}。",
        "extension_refused": "延期申请未获批准，请按原定时限办理。",
        "submit": "牵头单位已报送办结，请审核。",
        "dispute": "牵头单位对交办提出异议，请重新确定牵头单位后交办。",
        "extension_requested": f"牵头单位申请将完成时限延至 {data.get('requested_deadline', '')}，请审批。",
        "remind": "委员会办公室提醒：请抓紧办理本任务。",
        "urge": "委员会办公室催办：请尽快办理并报送进展。",
        "supervise": f"委员会办公室发出督办单（{COLOUR_ZH.get(str(data.get('colour')), '')}），"
        "请立即办理并报送整改情况。",
        "interview": "经委员会办公室确认，将就本任务逾期未办结约谈贵单位负责同志，请做好准备。",
        "hold_accountable": "经委员会办公室确认，本任务逾期未办结问题已移交问责。",
    }
    return lines.get(kind, "任务有新的办理情况，请查看。")


def _event_notices(events: sa.Select[Any], route: Route, kind: str, office_id: int | None) -> sa.Select[Any]:
    """Due-notice rows (NOTICE_COLUMNS) for the events the select names (columns: id, task_id)."""
    chosen = events.subquery("chosen_event")
    common = (
        chosen.c.task_id,
        sa.literal("event").label("rule"),
        sa.literal(kind).label("step"),
        sa.cast(chosen.c.id, sa.String).label("period"),
        task_t.c.deadline.label("due"),
        sa.literal(route.urgency).label("urgency"),
        sa.literal("immediate" if route.immediate else "digest").label("delivery"),
    )
    if route.audience == "office":
        return sa.select(
            common[0], sa.literal(office_id, sa.Integer).label("department_id"), *common[1:]
        ).join_from(chosen, task_t, task_t.c.id == chosen.c.task_id)
    lead = assignment_t.alias("event_lead")
    return (
        sa.select(common[0], lead.c.department_id.label("department_id"), *common[1:])
        .join_from(chosen, task_t, task_t.c.id == chosen.c.task_id)
        .join(lead, sa.and_(lead.c.task_id == chosen.c.task_id, lead.c.role == AssignmentRole.lead.value))
    )


def _insert_for(
    session: Session, events: sa.Select[Any], kind: str, data: dict[str, Any], reason: str, now: dt.datetime
) -> list[InsertedNotice]:
    route = ROUTES[kind]
    office_id = office_department_id(session, bundled_policy().office) if route.audience == "office" else None
    if route.audience == "office" and office_id is None:
        return []
    urgency = (
        COLOUR_URGENCY.get(str(data.get("colour")), route.urgency) if kind == "supervise" else route.urgency
    )
    route = Route(route.audience, urgency, route.immediate)
    inserted = insert_notices(session, _event_notices(events, route, kind, office_id), now)
    if inserted:
        payload = {"headline": headline(kind, data), "reason": reason, "colour": data.get("colour")}
        conn = session.connection()
        conn.execute(
            outbox_t.update().where(outbox_t.c.id.in_([n.id for n in inserted])).values(payload=payload)
        )
        immediate = [n.id for n in inserted if n.delivery == "immediate"]
        queue_delivery(session, immediate, now, working_calendar(session))
    return inserted


def notify_task_event(session: Session, event_id: int, now: dt.datetime | None = None) -> int:
    """The notices one task event calls for (none for most kinds); returns how many were inserted."""
    moment = now or clock.now()
    query = sa.select(event_t.c.id, event_t.c.task_id, event_t.c.kind, event_t.c.reason, event_t.c.data)
    event = session.connection().execute(query.where(event_t.c.id == event_id)).first()
    if event is None or event.kind not in ROUTES:
        return 0
    if event.kind == "issue":
        freeze_policy(session, [event.task_id])
    events = sa.select(event_t.c.id, event_t.c.task_id).where(event_t.c.id == event_id)
    return len(_insert_for(session, events, event.kind, dict(event.data or {}), event.reason or "", moment))


CATCH_UP_GRACE: Final = dt.timedelta(minutes=5)  # the event's own job normally runs within seconds
CATCH_UP_WINDOW: Final = dt.timedelta(days=3)
CATCH_UP_LIMIT: Final = 1000


def notify_missed_events(session: Session, now: dt.datetime | None = None) -> int:
    """Notices for people's events whose job never ran (the broker was down at commit): the dispatcher
    runs this every minute, so a broker outage delays an event's notice and never loses it."""
    moment = now or clock.now()
    has_notice = (
        sa.select(outbox_t.c.id)
        .where(
            outbox_t.c.task_id == event_t.c.task_id,
            outbox_t.c.rule == "event",
            outbox_t.c.period == sa.cast(event_t.c.id, sa.String),
        )
        .exists()
    )
    missed = session.connection().execute(
        sa.select(event_t.c.id)
        .where(
            event_t.c.kind.in_(list(ROUTES)),
            event_t.c.actor_label != SCHEDULER_LABEL,  # the sweep writes its own notices with its events
            event_t.c.created_at >= moment - CATCH_UP_WINDOW,
            event_t.c.created_at <= moment - CATCH_UP_GRACE,
            ~has_notice,
        )
        .order_by(event_t.c.id)
        .limit(CATCH_UP_LIMIT)
    )
    return sum(notify_task_event(session, event_id, moment) for event_id in list(missed.scalars()))


def notify_plan_issued(session: Session, plan_id: int, now: dt.datetime | None = None) -> int:
    """Freeze the policy onto a plan's newly issued tasks and tell each lead (one 交办通知 per task)."""
    moment = now or clock.now()
    conn = session.connection()
    issued = [
        row.id
        for row in conn.execute(
            sa.select(task_t.c.id).where(
                task_t.c.plan_id == plan_id, task_t.c.state == TaskState.assigned.value
            )
        )
    ]
    freeze_policy(session, issued)
    events = (
        sa.select(event_t.c.id, event_t.c.task_id)
        .join_from(event_t, task_t, task_t.c.id == event_t.c.task_id)
        .where(task_t.c.plan_id == plan_id, event_t.c.kind == "issue")
    )
    return len(_insert_for(session, events, "issue", {}, "", moment))
