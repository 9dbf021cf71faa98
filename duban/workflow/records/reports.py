"""进展报送 by the lead, 配合单位报送 by cooperating units: checked, stored, audited, listed per reader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import sqlalchemy as sa
from sqlmodel import Session, col, select

from duban.tasks.enums import TaskState
from duban.workflow.errors import ActionForbidden, RecordNotAllowed
from duban.workflow.evidence.files import attach, pending_files, record_waivers
from duban.workflow.machines import Actor
from duban.workflow.models import ReportKind, TaskReport
from duban.workflow.records._common import (
    Attachment,
    IndicatorValue,
    check_attachments,
    check_percent,
    check_text,
    lock_task,
    resolve_indicators,
    write_event,
)
from duban.workflow.service import TaskHeader, ensure_visible, load_header

PROGRESS_STATES: Final = frozenset({TaskState.in_progress, TaskState.returned})
CONTRIBUTION_STATES: Final = frozenset({TaskState.assigned, TaskState.in_progress, TaskState.returned})


def _states_zh(states: frozenset[TaskState]) -> str:
    return "、".join(f"“{s.label}”" for s in TaskState if s in states)


def _refuse_state(
    what_zh: str, what_en: str, state: TaskState, allowed: frozenset[TaskState]
) -> RecordNotAllowed:
    return RecordNotAllowed(
        f"任务当前为“{state.label}”，只有在{_states_zh(allowed)}状态下才能{what_zh}",
        f"The task is {state.value}; {what_en} is accepted only while it is "
        + " or ".join(s.value for s in TaskState if s in allowed),
        code=f"{what_en.replace(' ', '_')}_not_allowed",
        state=state.value,
        allowed_states=[s.value for s in TaskState if s in allowed],
    )


def add_progress(
    session: Session,
    task_id: int,
    actor: Actor,
    percent: int | None,
    text: str,
    indicator_values: Sequence[IndicatorValue] = (),
    attachments: Sequence[Attachment] = (),
    *,
    request_id: str | None = None,
    actor_label: str = "",
    file_ids: Sequence[int] = (),
    missing_contributions: Mapping[int, str] | None = None,
) -> TaskReport:
    """进展报送: the lead reports while the task is in progress or returned; writes a "progress" event.
    `file_ids`: evidence the lead uploaded for the task; `missing_contributions`: cooperating department id
    → the lead's written reason why its contribution is missing."""
    header = load_header(session, task_id)
    kind = ensure_visible(actor, header)
    if kind != "lead":
        raise ActionForbidden(
            "只有牵头单位可以报送进展" + ("；配合单位请报送配合情况" if kind == "cooperating" else ""),
            "Only the lead department reports progress"
            + ("; cooperating units send contributions" if kind == "cooperating" else ""),
            action="progress",
            actor_kind=kind,
        )
    assert actor.department_id is not None  # a lead is a department
    task = lock_task(session, task_id)
    state = TaskState(task.state)
    if state not in PROGRESS_STATES:
        raise _refuse_state("报送进展", "progress", state, PROGRESS_STATES)
    report = TaskReport(
        task_id=task_id,
        kind=ReportKind.progress,
        department_id=actor.department_id,
        author_user_id=actor.user_id,
        percent=check_percent(percent, required=True),
        text=check_text(text, "text"),
        indicator_values=resolve_indicators(session, task.plan_id, indicator_values),
        attachments=check_attachments(attachments),
    )
    reasons = {
        department: check_text(reason, "missing_contributions", limit=1000)
        for department, reason in (missing_contributions or {}).items()
    }
    return _store(session, report, actor, request_id, actor_label, file_ids, header, reasons)


def add_contribution(
    session: Session,
    task_id: int,
    actor: Actor,
    text: str,
    percent: int | None = None,
    attachments: Sequence[Attachment] = (),
    *,
    request_id: str | None = None,
    actor_label: str = "",
    file_ids: Sequence[int] = (),
) -> TaskReport:
    """配合单位报送: a cooperating unit tells the lead what it did (assigned, in progress or returned)."""
    header = load_header(session, task_id)
    kind = ensure_visible(actor, header)
    if kind != "cooperating":
        raise ActionForbidden(
            "只有配合单位可以报送配合情况" + ("；牵头单位请报送进展" if kind == "lead" else ""),
            "Only a cooperating unit sends contributions"
            + ("; the lead reports progress" if kind == "lead" else ""),
            action="contribution",
            actor_kind=kind,
        )
    assert actor.department_id is not None  # a cooperating unit is a department
    state = TaskState(lock_task(session, task_id).state)
    if state not in CONTRIBUTION_STATES:
        raise _refuse_state("报送配合情况", "contribution", state, CONTRIBUTION_STATES)
    report = TaskReport(
        task_id=task_id,
        kind=ReportKind.contribution,
        department_id=actor.department_id,
        author_user_id=actor.user_id,
        percent=check_percent(percent, required=False),
        text=check_text(text, "text"),
        indicator_values=[],
        attachments=check_attachments(attachments),
    )
    return _store(session, report, actor, request_id, actor_label, file_ids, header)


def _store(
    session: Session,
    report: TaskReport,
    actor: Actor,
    request_id: str | None,
    actor_label: str,
    file_ids: Sequence[int],
    header: TaskHeader,
    reasons: Mapping[int, str] | None = None,
) -> TaskReport:
    session.add(report)
    session.flush()
    assert report.id is not None
    # With no file named, the report carries what its department uploaded since (the page's upload form).
    named = file_ids or pending_files(session, report.task_id, actor.department_id)
    files = attach(session, report.task_id, actor, named, "report", report.id)
    record_waivers(session, report.task_id, header, report.id, reasons or {})
    write_event(
        session,
        report.task_id,
        report.kind.value,
        actor,
        data={
            "report_id": report.id,
            "percent": report.percent,
            "indicators": len(report.indicator_values),
            "attachments": len(report.attachments),
            "files": files,
        },
        request_id=request_id,
        actor_label=actor_label,
    )
    return report


def list_reports(
    session: Session,
    task_id: int,
    actor: Actor,
    *,
    kind: ReportKind | None = None,
    after_id: int | None = None,
    limit: int = 200,
) -> list[TaskReport]:
    """Reports the actor may read, office and lead all; cooperating units the lead's and their own."""
    header = load_header(session, task_id)
    relation = ensure_visible(actor, header)
    query = select(TaskReport).where(TaskReport.task_id == task_id)
    if relation == "cooperating":
        query = query.where(
            sa.or_(
                col(TaskReport.kind) == ReportKind.progress,
                col(TaskReport.department_id) == actor.department_id,
            )
        )
    if kind is not None:
        query = query.where(col(TaskReport.kind) == kind)
    if after_id is not None:
        query = query.where(col(TaskReport.id) > after_id)
    return list(session.exec(query.order_by(col(TaskReport.id)).limit(max(1, min(limit, 1000)))).all())
