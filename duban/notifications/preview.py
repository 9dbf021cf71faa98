"""Sample messages for `duban notifications preview KIND` (no database; the bundled calendar)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from duban.core import clock
from duban.core.config import get_settings
from duban.notifications.channels import SENDER_NAME
from duban.notifications.delivery import digest_sections
from duban.notifications.events import ROUTES, headline
from duban.notifications.messages import item_of, subject_of
from duban.notifications.render import Rendered, render
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.policy import bundled_policy

SAMPLE_DEADLINE: Final = dt.date(2025, 9, 30)
# kind → (rule, step, working days from the deadline to the day it is raised)
NOTICE_SAMPLES: Final[dict[str, tuple[str, str, int]]] = {
    "remind": ("deadline", "remind_5", -5),
    "accept": ("accept", "accept", 0),
    "urge": ("deadline", "urge", 1),
    "supervise_blue": ("deadline", "supervise_blue", 3),
    "supervise_orange": ("deadline", "supervise_orange", 6),
    "supervise_red": ("deadline", "supervise_red", 10),
    "propose_interview": ("deadline", "propose_interview", 15),
    "propose_accountability": ("deadline", "propose_accountability", 30),
    "contribution": ("contribution", "contribution_remind_3", -8),
    "report": ("report", "urge", 1),
    "interview": ("event", "interview", 16),
    "hold_accountable": ("event", "hold_accountable", 31),
    "issue": ("event", "issue", -60),
}
PREVIEW_KINDS: Final = (*NOTICE_SAMPLES, "digest", "weekly")


def _sample_row(kind: str, calendar: WorkingCalendar, outbox_id: int = 1) -> dict[str, Any]:
    rule, step, offset = NOTICE_SAMPLES[kind]
    policy = bundled_policy()
    due = SAMPLE_DEADLINE
    period = due.isoformat()
    if rule == "report":
        due, period = dt.date(2025, 10, 15), "monthly:2025-09"
    if rule == "accept":
        due = calendar.add_working_days(SAMPLE_DEADLINE, -40).date
        offset = policy.accept_within + 1
    raised = calendar.add_working_days(due, offset).date if offset else due
    step_kind = next((s for s in policy.deadline_steps() if s.name == step), None)
    urgency = step_kind.urgency if step_kind else ROUTES[step].urgency if step in ROUTES else 1
    payload = {"headline": headline(step, {}), "reason": ""} if rule == "event" else {}
    return {
        "id": outbox_id,
        "task_id": 42,
        "rule": rule,
        "step": step,
        "period": period,
        "due": due,
        "urgency": urgency,
        "delivery": "immediate" if urgency >= 3 else "digest",
        "created_at": dt.datetime.combine(raised, dt.time(9), tzinfo=clock.TZ),
        "payload": payload,
        "title": "推进燃煤锅炉淘汰改造，2025年9月底前完成全区燃煤锅炉整治",
        "state": "in_progress",
        "deadline": SAMPLE_DEADLINE,
        "original_deadline": SAMPLE_DEADLINE,
        "policy": policy.snapshot(),
        "plan_title": "关于加强大气污染防治的工作方案",
        "lead_names": "自治区生态环境厅",
    }


def preview(kind: str) -> Rendered:
    """Render a sample message of one kind (see PREVIEW_KINDS)."""
    calendar = WorkingCalendar.from_bundled()
    base_url = get_settings().base_url.rstrip("/")
    common = {"recipient_name": "自治区生态环境厅", "sender_name": SENDER_NAME, "message_ref": "1"}
    if kind in NOTICE_SAMPLES:
        item = item_of(_sample_row(kind, calendar), calendar, base_url)
        return render("notice", subject_of(item), {**common, "item": item})
    if kind == "digest":
        items = [
            item_of(_sample_row(name, calendar, i), calendar, base_url)
            for i, name in enumerate(("supervise_orange", "urge", "remind", "contribution", "issue"), 1)
        ]
        items.sort(key=lambda item: -int(item["urgency"]))
        context = {
            **common,
            "day": "2025-10-15",
            "items": items,
            "sections": digest_sections(items),
            "supervised_count": sum(1 for item in items if item["urgency"] >= 3),
            "board_link": f"{base_url}/tasks",
        }
        return render("digest", "【每日督办摘要】2025-10-15 共 5 项，督办 1 项", context)
    if kind == "weekly":
        context = {
            **common,
            "recipient_name": "自治区生态环境保护委员会办公室",
            "week_label": "2025年第42周",
            "start": "2025-10-06",
            "end": "2025-10-12",
            "open_tasks": 128,
            "overdue_tasks": 9,
            "completed_last_week": 4,
            "levels": [{"label": "未督办", "count": 101}, {"label": "督办（蓝）", "count": 6}],
            "steps": [{"label": "催办", "count": 5}, {"label": "督办单（蓝）", "count": 2}],
            "departments": [{"name": "自治区生态环境厅", "overdue": 3}],
            "board_link": f"{base_url}/overdue",
        }
        return render("weekly", "【每周督办汇总】2025年第42周：逾期 9 项", context)
    raise KeyError(kind)
