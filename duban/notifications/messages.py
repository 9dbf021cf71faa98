"""What a notice says: one item per outbox notice (headline, labels, link), read set-based; and what a
digest shows, read by its windows and frozen by its first claim."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session

from duban.core import clock
from duban.core.config import Settings, get_settings
from duban.notifications.models import NotificationOutbox, OutboxKind, OutboxStatus
from duban.tasks.enums import TaskState
from duban.tasks.models import Department, Plan, TaskAssignment
from duban.tasks.task_views import lead_name
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.policy import LADDER_KINDS, bundled_policy, task_t
from duban.workflow.policy_store import frozen_rules
from duban.workflow.sweep import period_label

outbox_t: Final = NotificationOutbox.__table__  # type: ignore[attr-defined]
plan_t: Final = Plan.__table__  # type: ignore[attr-defined]
department_t: Final = Department.__table__  # type: ignore[attr-defined]
assignment_t: Final = TaskAssignment.__table__  # type: ignore[attr-defined]

COLOURS: Final = {"supervise_blue": "blue", "supervise_orange": "orange", "supervise_red": "red"}
COLOUR_ZH: Final = {"blue": "蓝", "orange": "橙", "red": "红"}
EVENT_LABELS: Final = {
    "issue": "交办通知",
    "return": "退回通知",
    "approve": "销号通知",
    "cancel": "撤销通知",
    "reassign": "改派通知",
    "submit": "办结待审核",
    "dispute": "交办异议",
    "extension_requested": "延期申请",
    "extension_granted": "延期已批准",
    "extension_refused": "延期未批准",
    "remind": "提醒",
    "urge": "催办",
    "supervise": "督办单",
    "interview": "约谈通知",
    "hold_accountable": "问责通知",
}
CLOSED: Final = (TaskState.completed.value, TaskState.cancelled.value)


def contribution_before() -> sa.ColumnElement[Any]:
    """SQL for the one number of the task's frozen policy a notice shows: when contributions are due."""
    number = frozen_rules()[("contribution", "due_before_deadline")].as_integer()
    before: sa.ColumnElement[Any] = sa.case((outbox_t.c.rule == "contribution", number), else_=sa.null())
    return before


def listed() -> sa.ColumnElement[bool]:
    """SQL: the notice is in a digest — one of its department and channel composed after it (a digest's
    window ends at the highest id when it was composed, below its own id)."""
    digest = outbox_t.alias("listing_digest")
    return (
        sa.select(digest.c.id)
        .where(
            digest.c.department_id == outbox_t.c.department_id,
            digest.c.channel == outbox_t.c.channel,
            digest.c.id > outbox_t.c.id,
            digest.c.kind == "digest",
            digest.c.items_through >= outbox_t.c.id,
        )
        .exists()
    )


def shown_status() -> sa.ColumnElement[Any]:
    """SQL for a notice's status as people read it: `digested` once a digest lists a pending digest item."""
    return sa.case(
        (sa.and_(outbox_t.c.delivery == "digest", outbox_t.c.status == "pending", listed()), "digested"),
        else_=outbox_t.c.status,
    )


def item_query() -> sa.Select[Any]:
    """The outbox notice rows with what their message shows (filter it by id or digest)."""
    return sa.select(
        outbox_t.c.id,
        outbox_t.c.task_id,
        outbox_t.c.rule,
        outbox_t.c.step,
        outbox_t.c.period,
        outbox_t.c.due,
        outbox_t.c.urgency,
        outbox_t.c.delivery,
        outbox_t.c.created_at,
        outbox_t.c.payload,
        task_t.c.title,
        task_t.c.state,
        task_t.c.deadline,
        task_t.c.original_deadline,
        contribution_before().label("contribution_before"),
        plan_t.c.title.label("plan_title"),
        lead_name().label("lead_names"),
    ).select_from(
        outbox_t.join(task_t, task_t.c.id == outbox_t.c.task_id).join(plan_t, plan_t.c.id == task_t.c.plan_id)
    )


def is_obsolete(row: Mapping[str, Any]) -> bool:
    """A notice the task has outrun: closed, re-timed by an extension, or signed for meanwhile."""
    if row["rule"] == "event":
        return False
    if row["state"] in CLOSED:
        return True
    if row["rule"] in ("deadline", "contribution") and row["deadline"] is not None:
        return bool(str(row["period"]) != row["deadline"].isoformat())
    if row["rule"] == "accept":
        return bool(row["state"] != TaskState.assigned.value)
    return False


def _days(calendar: WorkingCalendar, start: dt.date, end: dt.date) -> int:
    return calendar.working_days_between(start, end)


def _headline(row: Mapping[str, Any], calendar: WorkingCalendar, day: dt.date) -> tuple[str, str, str]:
    """(label, headline, action hint) of a notice as of the day it was raised."""
    rule, step, due = row["rule"], row["step"], row["due"]
    overdue = _days(calendar, due, day) if due else 0
    remaining = max(_days(calendar, day, due), 0) if due else 0
    payload = row["payload"] or {}
    if rule == "event":
        label = EVENT_LABELS.get(step, step)
        if step == "supervise" and payload.get("colour"):
            label = f"督办单（{COLOUR_ZH.get(payload['colour'], '')}）"
        return label, payload.get("headline") or f"{label}：请及时查看并办理", ""
    if rule == "accept":
        return "签收提醒", f"本任务已交办 {overdue} 个工作日，尚未签收，请尽快签收或提出异议。", ""
    if rule == "contribution":
        before = row.get("contribution_before") or bundled_policy().contribution_due_before
        contribution_due = calendar.add_working_days(due, -int(before)).date
        if step.startswith("contribution_urge"):
            late = _days(calendar, contribution_due, day)
            return (
                "配合报送催办",
                f"配合情况应于 {contribution_due.isoformat()} 前报送牵头单位，已逾期 {late} 个工作日。",
                "",
            )
        left = max(_days(calendar, day, contribution_due), 0)
        return (
            "配合报送提醒",
            f"请于 {contribution_due.isoformat()} 前向牵头单位报送配合情况（还有 {left} 个工作日）。",
            "",
        )
    what = "完成时限"
    if rule == "report":
        what = f"{period_label(str(row['period']).partition(':')[2])}进展报送时限（{due.isoformat()}）"
    if step.startswith("remind_"):
        return "临近提醒", f"距{what}还有 {remaining} 个工作日，请抓紧办理。", ""
    kind = LADDER_KINDS.get(step)
    label = kind.label if kind else step
    if step == "urge":
        return "催办", f"已超过{what} {overdue} 个工作日，请尽快办理并报送进展。", ""
    if step in COLOURS:
        return label, f"已超过{what} {overdue} 个工作日，现发{label}，请立即办理并报送整改情况。", ""
    if step == "propose_interview":
        return (
            label,
            f"已超过{what} {overdue} 个工作日，建议对牵头单位进行约谈。",
            "请委员会办公室在任务页面确认是否约谈（约谈须经办公室确认后执行）。",
        )
    if step == "propose_accountability":
        return (
            label,
            f"已超过{what} {overdue} 个工作日，建议移交问责。",
            "请委员会办公室在任务页面确认是否问责（问责须经办公室确认后执行）。",
        )
    return label, f"{label}：请及时办理。", ""


def item_of(row: Mapping[str, Any], calendar: WorkingCalendar, base_url: str | None = None) -> dict[str, Any]:
    """A notice as the templates show it (JSON-ready: digests store their items)."""
    base = (base_url or get_settings().base_url).rstrip("/")
    created: dt.datetime = row["created_at"]
    day = created.astimezone(clock.TZ).date()
    label, headline, hint = _headline(row, calendar, day)
    colour = COLOURS.get(row["step"]) or (
        (row["payload"] or {}).get("colour") if row["rule"] == "event" else None
    )
    report_period = str(row["period"]).partition(":")[2] if row["rule"] == "report" else ""
    return {
        "outbox_id": row["id"],
        "task_id": row["task_id"],
        "title": row["title"],
        "plan_title": row["plan_title"] or "",
        "lead_names": row["lead_names"] or "",
        "rule": row["rule"],
        "step": row["step"],
        "step_label": label,
        "headline": headline,
        "action_hint": hint,
        "reason": (row["payload"] or {}).get("reason", ""),
        "urgency": int(row["urgency"]),
        "immediate": row["delivery"] == "immediate",
        "colour": colour,
        "deadline": row["deadline"].isoformat() if row["deadline"] else None,
        "original_deadline": row["original_deadline"].isoformat() if row["original_deadline"] else None,
        "period_label": period_label(report_period) if report_period else "",
        "day": day.isoformat(),
        "link": f"{base}/tasks/{row['task_id']}",
    }


def subject_of(item: Mapping[str, Any]) -> str:
    """The mail subject of a single notice: 【label】title."""
    return f"【{item['step_label']}】{item['title']}"


def load_items(session: Session, where: Iterable[sa.ColumnElement[bool]]) -> list[dict[str, Any]]:
    """Notice rows (with task, plan, lead) matching the conditions, most urgent first."""
    query = item_query().where(*where).order_by(outbox_t.c.urgency.desc(), outbox_t.c.due, outbox_t.c.id)
    return [dict(row) for row in session.connection().execute(query).mappings()]


def digest_item_query() -> sa.Select[Any]:
    """The notice rows with what a digest entry shows (filter it by the digests' windows)."""
    return sa.select(
        outbox_t.c.id,
        outbox_t.c.task_id,
        outbox_t.c.department_id,
        outbox_t.c.channel,
        outbox_t.c.rule,
        outbox_t.c.step,
        outbox_t.c.period,
        outbox_t.c.due,
        outbox_t.c.urgency,
        outbox_t.c.created_at,
        outbox_t.c.payload,
        task_t.c.title,
        task_t.c.state,
        task_t.c.deadline,
        contribution_before().label("contribution_before"),
    ).select_from(outbox_t.join(task_t, task_t.c.id == outbox_t.c.task_id))


def digest_entry(row: Mapping[str, Any], calendar: WorkingCalendar) -> dict[str, Any]:
    """What a digest shows of one notice (JSON-ready: frozen into the digest when it is first claimed)."""
    day = row["created_at"].astimezone(clock.TZ).date()
    label, headline, _ = _headline(row, calendar, day)
    colour = COLOURS.get(row["step"]) or (
        (row["payload"] or {}).get("colour") if row["rule"] == "event" else None
    )
    return {
        "outbox_id": row["id"],
        "task_id": row["task_id"],
        "title": row["title"],
        "step_label": label,
        "headline": headline,
        "urgency": int(row["urgency"]),
        "colour": colour,
        "deadline": row["deadline"].isoformat() if row["deadline"] else None,
    }


def is_frozen(row: Mapping[str, Any]) -> bool:
    """Whether a digest row's payload holds what it shows (written by its first claim)."""
    return "items" in (row["payload"] or {})


def freeze_digests(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    calendar: WorkingCalendar,
    settings: Settings | None = None,
) -> dict[int, dict[str, Any]]:
    """What each of these digest rows shows, from the notices in its id window (one query for all):
    ids and the shown fields of the items still current, by urgency, and the digest's own lines."""
    wanted = [row for row in rows if row["kind"] == OutboxKind.digest.value and not is_frozen(row)]
    if not wanted:
        return {}
    windows = [
        sa.and_(
            outbox_t.c.department_id == row["department_id"],
            outbox_t.c.channel == row["channel"],
            outbox_t.c.id > (row["items_after"] or 0),
            outbox_t.c.id <= (row["items_through"] or 0),
        )
        for row in wanted
    ]
    query = (
        digest_item_query()
        .where(
            outbox_t.c.kind == OutboxKind.notice.value,
            outbox_t.c.status.not_in([OutboxStatus.skipped.value, OutboxStatus.digested.value]),
            sa.or_(*windows),
        )
        .order_by(outbox_t.c.urgency.desc(), outbox_t.c.due, outbox_t.c.id)
    )
    owners: dict[tuple[int, str], list[Mapping[str, Any]]] = {}
    for row in wanted:
        owners.setdefault((row["department_id"], row["channel"]), []).append(row)
    entries: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in wanted}
    for found in session.connection().execute(query).mappings():
        item = dict(found)
        if is_obsolete(item):
            continue
        for owner in owners[(item["department_id"], item["channel"])]:
            if (owner["items_after"] or 0) < item["id"] <= (owner["items_through"] or 0):
                entries[owner["id"]].append(digest_entry(item, calendar))
                break
    board = f"{(settings or get_settings()).base_url.rstrip('/')}/tasks"
    frozen: dict[int, dict[str, Any]] = {}
    for row in wanted:
        items = entries[row["id"]]
        day = row["created_at"].astimezone(clock.TZ).date().isoformat()
        supervised = sum(1 for item in items if item["urgency"] >= 3)
        frozen[row["id"]] = {
            "subject": f"【每日督办摘要】{day} 共 {len(items)} 项"
            + (f"，督办 {supervised} 项" if supervised else ""),
            "day": day,
            "recipient_name": names.get(row["department_id"], ""),
            "board_link": board,
            "items": items,
        }
    return frozen
