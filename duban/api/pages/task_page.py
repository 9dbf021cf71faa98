"""One task's page: the measure's text, milestones, targets with the reported values, every event, the
reports, the extension requests and the notices sent — and the forms the reader may use on it."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from duban.api.deps import MAX_ID, SessionDep
from duban.api.pages.web import PageRoute, PageUser, render
from duban.api.problems import status_for
from duban.api.routers.records.files import evidence_context
from duban.api.routers.tasks import actor_of, ensure_readable
from duban.core.errors import DubanError
from duban.notifications.calendars import working_calendar
from duban.notifications.messages import item_of, item_query, outbox_t, shown_status
from duban.tasks.chinese import to_simplified
from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.models import Department, Target, Task, User
from duban.tasks.task_views import task_detail, task_events
from duban.workflow.board import BoardFilter, board_page
from duban.workflow.calendar import WorkingCalendar
from duban.workflow.evidence.completion import rules_of, silent_cooperators
from duban.workflow.machines import LADDER_ACTION_RULES, TASK_ACTION_RULES, allowed_ladder_actions
from duban.workflow.models import ExtensionStatus, ReportKind, TaskReport
from duban.workflow.policy import ISSUED_STATES
from duban.workflow.records import list_extensions, list_reports
from duban.workflow.records.extensions import REQUEST_STATES
from duban.workflow.records.reports import CONTRIBUTION_STATES, PROGRESS_STATES
from duban.workflow.service import actions_for, kind_of, load_header

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]
EVENT_LIMIT = 500
NOTICE_LIMIT = 100
# Task actions taken with a reason field on the page (the machine requires one for these).
REASON_ACTIONS = frozenset(a for a, rule in TASK_ACTION_RULES.items() if rule.reason_required)
OTHER_EVENTS = {
    "created": ("创建", "created"),
    "edit": ("办公室审定修改", "edited by the office"),
    "progress": ("进展报送", "progress report"),
    "contribution": ("配合单位报送", "contribution"),
    "extension_requested": ("申请延期", "extension requested"),
    "extension_granted": ("批准延期", "extension granted"),
    "extension_refused": ("驳回延期", "extension refused"),
    "split": ("按盟市拆分", "split by region"),
    "division_import": ("分工方案导入", "division imported"),
}


def event_label(kind: str) -> tuple[str, str]:
    """(中文, English) name of an event kind, from the machines' rules where they have it."""
    rule = TASK_ACTION_RULES.get(kind) or LADDER_ACTION_RULES.get(kind)
    if rule is not None:
        return rule.label_zh, kind.replace("_", " ")
    return OTHER_EVENTS.get(kind, (kind, kind))


def task_notices(session: Session, task_id: int, calendar: WorkingCalendar) -> list[dict[str, Any]]:
    """The notices raised about the task (newest first), as the mail shows them, with their delivery."""
    department = sa.select(Department.__table__.c.name).where(  # type: ignore[attr-defined]
        Department.__table__.c.id == outbox_t.c.department_id  # type: ignore[attr-defined]
    )
    query = (
        item_query()
        .add_columns(
            shown_status().label("status"),
            outbox_t.c.sent_at,
            outbox_t.c.channel,
            department.scalar_subquery().label("recipient_name"),
        )
        .where(outbox_t.c.task_id == task_id, outbox_t.c.kind == "notice")
        .order_by(outbox_t.c.id.desc())
        .limit(NOTICE_LIMIT)
    )
    notices = []
    for row in session.connection().execute(query).mappings():
        item = item_of(dict(row), calendar)
        notices.append(
            {
                **item,
                "status": row["status"],
                "sent_at": row["sent_at"],
                "created_at": row["created_at"],
                "channel": row["channel"],
                "recipient": row["recipient_name"] or "",
            }
        )
    return notices


# The shortest tail of an indicator's name that ties it to a measure's text ("森林覆盖率", "PM2.5年均浓度").
INDICATOR_TAIL = 5


def indicator_applies(indicator: str, text: str) -> bool:
    """Whether the measure's text speaks of the indicator: it names the indicator, or the quantity it
    measures (its last five characters or more, e.g. "排放总量" of "氨氮排放总量" needs "氮排放总量")."""
    indicator = indicator.strip()
    if not indicator or not text:
        return False
    tail = min(INDICATOR_TAIL, len(indicator))
    return indicator[-tail:] in text or to_simplified(indicator[-tail:]) in to_simplified(text)


def _targets(
    session: Session, plan_id: int, measure_id: int | None, text: str, reports: list[TaskReport]
) -> list[dict[str, Any]]:
    """The plan's targets this task answers for (linked to its measure, or named in its text), with the
    latest value the lead reported for each; never the whole plan's table."""
    latest: dict[int, dict[str, Any]] = {}
    for report in reports:
        if report.kind is not ReportKind.progress:
            continue
        for value in report.indicator_values:
            if isinstance(value, dict) and isinstance(value.get("target_id"), int):
                latest[value["target_id"]] = {**value, "at": report.created_at}
    targets = session.exec(
        select(Target).where(Target.plan_id == plan_id).order_by(col(Target.id)).limit(200)
    ).all()
    return [
        {"target": t, "reported": latest.get(t.id or 0)}
        for t in targets
        if (measure_id is not None and t.measure_id == measure_id)
        or (t.id or 0) in latest
        or indicator_applies(t.indicator, text)
    ]


def _measure_of(session: Session, task_id: int) -> int | None:
    task = session.get(Task, task_id)
    return task.measure_id if task is not None else None


def _asks_contributions(session: Session, task_id: int) -> bool:
    rules = rules_of(session, task_id)
    return rules is not None and rules.contributions == "or_reason"


def task_page(
    request: Request,
    session: Session,
    user: User,
    task_id: int,
    *,
    error: DubanError | None = None,
    values: FormData | None = None,
) -> Response:
    """Render the task page (again with `error` beside the forms and the `values` as typed)."""
    actor = actor_of(user)
    header = load_header(session, task_id)
    ensure_readable(session, user, header)
    relation = kind_of(actor, header)
    calendar = working_calendar(session)
    detail = task_detail(session, task_id, actions_for(actor, header))
    (row,) = board_page(session, BoardFilter(task_ids=(task_id,), states=()), calendar).rows
    reports = list_reports(session, task_id, actor, limit=200)
    names = dict(
        session.exec(
            select(Department.id, Department.name).where(
                col(Department.id).in_({r.department_id for r in reports})
            )
        ).all()
    )
    extensions = list_extensions(session, actor, task_id=task_id, limit=50)
    ladder = (
        allowed_ladder_actions(row.level, row.colour, relation)
        if relation in ("office", "admin") and header.state.value in ISSUED_STATES
        else []
    )
    context = {
        "task": detail,
        "row": row,
        "relation": relation,
        "events": [
            (event, event_label(event.kind)) for event in task_events(session, task_id, None, EVENT_LIMIT)
        ],
        "event_limit": EVENT_LIMIT,
        "reports": reports,
        "report_departments": names,
        "targets": _targets(
            session,
            detail.plan_id,
            _measure_of(session, task_id),
            f"{detail.title}\n{detail.measure_text}",
            reports,
        ),
        "extensions": extensions,
        "evidence": evidence_context(session, task_id, relation, header.state),
        "pending_extension": next((e for e in extensions if e.status is ExtensionStatus.pending), None),
        "notices": task_notices(session, task_id, calendar),
        "ladder_actions": ladder,
        "ladder_labels": {a: rule.label_zh for a, rule in LADDER_ACTION_RULES.items()},
        "action_labels": {a: rule.label_zh for a, rule in TASK_ACTION_RULES.items()},
        "reason_actions": REASON_ACTIONS,
        "state_labels": {state.value: state.label for state in TaskState},
        "level_labels": {level.value: level.label for level in SupervisionLevel},
        "can_report": relation == "lead" and header.state in PROGRESS_STATES,
        "silent_cooperators": (
            silent_cooperators(session, header)
            if relation == "lead"
            and header.state in PROGRESS_STATES
            and _asks_contributions(session, task_id)
            else {}
        ),
        "can_contribute": relation == "cooperating" and header.state in CONTRIBUTION_STATES,
        "can_extend": relation == "lead" and header.state in REQUEST_STATES,
        "error": error,
        "values": values,
    }
    status = status_for(error) if error is not None else 200
    return render(request, "task.html", context, status)


@router.get("/tasks/{task_id}")
def get_task_page(request: Request, session: SessionDep, user: PageUser, task_id: TaskId) -> Response:
    """The task page (a department sees only tasks it leads or cooperates on)."""
    return task_page(request, session, user, task_id)
