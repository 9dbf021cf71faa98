"""我的任务: a department's tasks by bucket (to sign for, due soon, overdue, waiting for cooperating units,
to contribute), and the forms a task page posts: actions, progress, contributions, extension requests.

The progress, contribution, 办结报送 and extension forms carry 佐证材料 as `file` parts, stored and attached
by the API's own path (`record_files`) in the form's transaction: a refused file (415, 413) refuses the
report with it, and the page says why."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from duban.api.deps import MAX_ID, SessionDep
from duban.api.pages.batch import BatchReport, report_of, selected_items
from duban.api.pages.task_page import task_page
from duban.api.pages.web import (
    DepartmentUser,
    Form,
    FormInvalid,
    PageRoute,
    PageUser,
    flash,
    flash_error,
    form_version,
    redirect,
    render,
    safe_next,
    trail,
)
from duban.api.routers.records.files import FilesForm, FormWithFiles, record_files
from duban.api.routers.tasks import actor_of, ensure_readable
from duban.core.errors import DubanError
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import User
from duban.workflow.batch import BatchOptions, run_batch
from duban.workflow.board import BoardFilter, BoardRow, board_page, bucket_counts
from duban.workflow.board_rules import BUCKETS
from duban.workflow.evidence.files import pending_files
from duban.workflow.machines import TASK_ACTION_RULES, Actor, TaskRelation, actor_kind, allowed_actions
from duban.workflow.records import IndicatorValue, add_contribution, add_progress, request_extension
from duban.workflow.service import apply_action

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]
LIST_STATES = (
    TaskState.assigned,
    TaskState.in_progress,
    TaskState.submitted,
    TaskState.returned,
    TaskState.completed,
)
# Shown on a list row as a button; the others (dispute, …) need a reason and live on the task page.
ROW_ACTIONS = ("accept", "submit")


def row_actions(actor: Actor, row: BoardRow) -> list[str]:
    """The task actions the department may take on a row, as the machine allows them."""
    relation = TaskRelation.of(actor.department_id, {d for d, _ in row.lead}, {d for d, _ in row.cooperating})
    return allowed_actions(row.state, actor_kind(actor, relation))


@router.get("/tasks")
def my_tasks(request: Request, session: SessionDep, user: PageUser) -> Response:
    """The department's tasks by bucket; the office is sent to the board with every light."""
    if user.role is not Role.department or user.department_id is None:
        return redirect("/overdue?light=red&light=yellow&light=green")
    return my_tasks_page(request, session, user)


def my_tasks_page(
    request: Request, session: Session, user: User, report: BatchReport | None = None
) -> Response:
    """我的任务 (again with a batch's report naming each refused row)."""
    assert user.department_id is not None
    calendar = working_calendar(session)
    counts = bucket_counts(session, user.department_id, calendar)
    bucket = request.query_params.get("bucket", "")
    if bucket not in BUCKETS:
        bucket = next(
            (b for b in ("to_sign", "overdue", "due_soon", "waiting", "contribute") if counts[b]), "all"
        )
    raw_page = request.query_params.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and 1 <= int(raw_page) <= 100_000 else 1
    flt = BoardFilter(
        scope_department=user.department_id,
        bucket=bucket,
        states=LIST_STATES if bucket == "all" else (),
        page=number,
        per_page=50,
    )
    page = board_page(session, flt, calendar)
    actor = actor_of(user)
    actions = {row.id: [a for a in row_actions(actor, row) if a in ROW_ACTIONS] for row in page.rows}
    return render(
        request,
        "my_tasks.html",
        {
            "bucket": bucket,
            "buckets": BUCKETS,
            "counts": counts,
            "page": page,
            "actions": actions,
            "signable": [row for row in page.rows if "accept" in actions[row.id]],
            "action_labels": {a: rule.label_zh for a, rule in TASK_ACTION_RULES.items()},
            "department_id": user.department_id,
            "report": report,
            "page_number": number,
        },
    )


@router.post("/tasks/batch/accept")
def batch_accept(request: Request, session: SessionDep, user: DepartmentUser, form: Form) -> Response:
    """批量签收: sign for every ticked task, each its own action; refused rows are listed with the reason."""
    try:
        items = selected_items(form)
    except DubanError as error:
        flash_error(request, error)
        return redirect(safe_next(form.get("back"), "/tasks"))
    options = BatchOptions(
        guard=lambda unit, header: ensure_readable(unit, user, header), **trail(request, user)
    )
    report = report_of(session, "签收", run_batch(session, "accept", actor_of(user), items, options))
    if report.refused:
        return my_tasks_page(request, session, user, report)
    flash(request, f"已签收 {report.done} 项任务", f"Signed for {report.done} tasks")
    return redirect(safe_next(form.get("back"), "/tasks"))


def _submit(
    request: Request,
    session: Session,
    user: User,
    task_id: int,
    form: FormData,
    act: Callable[[], tuple[str, str]],
) -> Response:
    """Run a task page form's action: back to the task with its (zh, en) message, or, on a domain error,
    the task page again with the error next to the form and the values as typed."""
    try:
        zh, en = act()
    except DubanError as error:
        session.rollback()
        return task_page(request, session, user, task_id, error=error, values=form)
    flash(request, zh, en)
    return redirect(f"/tasks/{task_id}")


def _text(form: FormData, name: str, limit: int) -> str:
    text = str(form.get(name) or "")
    if len(text) > limit:
        raise FormInvalid(f"内容不能超过 {limit} 字", f"The text exceeds {limit} characters", field=name)
    return text


@router.post("/tasks/{task_id}/actions/{action}")
def task_action(
    request: Request,
    session: SessionDep,
    user: PageUser,
    posted: FilesForm,
    task_id: TaskId,
    action: Annotated[str, Path(max_length=32)],
) -> Response:
    """Take a task action (签收, 办结报送, 异议, 审核通过, 退回 …) from a page; 办结报送 with a 办结情况 or
    佐证材料 first records them as the final (100%) progress report, in the same transaction."""
    form = posted.form

    def act() -> tuple[str, str]:
        if action == "submit":
            _final_report(request, session, user, task_id, posted)
        outcome = apply_action(
            session,
            task_id,
            action,
            actor_of(user),
            reason=_text(form, "reason", 4000).strip() or None,
            expected_version=form_version(form),
            **trail(request, user),
        )
        rule = TASK_ACTION_RULES.get(action)
        name = rule.label_zh if rule else action
        return (
            f"已{name}：{outcome.from_state.label} → {outcome.to_state.label}",
            f"Done ({action}): {outcome.from_state.value} → {outcome.to_state.value}",
        )

    return _submit(request, session, user, task_id, form, act)


def _files(
    session: Session, user: User, task_id: int, posted: FormWithFiles, *, pending: bool = True
) -> list[int]:
    """The files a page's record carries: those chosen on the form, stored now, and for a report those the
    department uploaded beforehand (the page promised they go with the next report)."""
    named = pending_files(session, task_id, user.department_id) if pending and posted.uploads else []
    return record_files(session, user, task_id, named, posted.uploads)


def _final_report(
    request: Request, session: Session, user: User, task_id: int, posted: FormWithFiles
) -> None:
    """The 办结报送 form's 办结情况 and files as a progress report at 100% (nothing when both are empty)."""
    text = _text(posted.form, "text", 20_000)
    if not text.strip() and not posted.uploads:
        return
    if not text.strip():
        raise FormInvalid(
            "随办结报送附佐证材料时，请填写办结情况",
            "Describe what was done when sending evidence with the submission",
            field="text",
        )
    files = _files(session, user, task_id, posted)
    add_progress(session, task_id, actor_of(user), 100, text, [], file_ids=files, **trail(request, user))


def _percent(form: FormData, required: bool) -> int | None:
    raw = str(form.get("percent") or "").strip()
    if not raw:
        if required:
            raise FormInvalid("请填写完成百分比（0–100）", "Enter the percent done (0-100)", field="percent")
        return None
    if not raw.isdigit() or int(raw) > 100:
        raise FormInvalid(
            "完成百分比须为 0–100 的整数", "The percent must be a whole number 0-100", field="percent"
        )
    return int(raw)


def _reasons(form: FormData) -> dict[int, str]:
    """The lead's written reason per silent cooperating unit (`missing_<department id>` fields)."""
    reasons: dict[int, str] = {}
    for key, value in form.multi_items():
        name = key.removeprefix("missing_")
        if name != key and name.isdigit() and isinstance(value, str) and value.strip():
            reasons[int(name)] = _text(form, key, 1000)
    return reasons


def _indicators(form: FormData) -> list[IndicatorValue]:
    values = []
    for key, raw in form.multi_items():
        if not key.startswith("indicator_") or not isinstance(raw, str) or not raw.strip():
            continue
        target = key.removeprefix("indicator_")
        try:
            number = float(raw.strip().replace(",", ""))
        except ValueError:
            number = math.nan
        if not target.isdigit() or not math.isfinite(number):
            raise FormInvalid("指标值须为数字", "An indicator value must be a number", field=key)
        values.append(IndicatorValue(value=number, target_id=int(target)))
    return values


@router.post("/tasks/{task_id}/progress")
def post_progress(
    request: Request, session: SessionDep, user: DepartmentUser, posted: FilesForm, task_id: TaskId
) -> Response:
    """进展报送 by the lead: percent, text, the plan's indicator values and 佐证材料."""
    form = posted.form

    def act() -> tuple[str, str]:
        percent, text = _percent(form, required=True), _text(form, "text", 20_000)
        indicators, reasons = _indicators(form), _reasons(form)
        add_progress(
            session,
            task_id,
            actor_of(user),
            percent,
            text,
            indicators,
            **trail(request, user),
            file_ids=_files(session, user, task_id, posted),
            missing_contributions=reasons,
        )
        return "进展已报送", "Progress reported"

    return _submit(request, session, user, task_id, form, act)


@router.post("/tasks/{task_id}/contribution")
def post_contribution(
    request: Request, session: SessionDep, user: DepartmentUser, posted: FilesForm, task_id: TaskId
) -> Response:
    """配合单位报送: a cooperating unit tells the lead what it did, with its 佐证材料."""
    form = posted.form

    def act() -> tuple[str, str]:
        text, percent = _text(form, "text", 20_000), _percent(form, required=False)
        files = _files(session, user, task_id, posted)
        actor = actor_of(user)
        add_contribution(session, task_id, actor, text, percent, **trail(request, user), file_ids=files)
        return "配合情况已报送牵头单位", "Contribution sent to the lead"

    return _submit(request, session, user, task_id, form, act)


@router.post("/tasks/{task_id}/extensions")
def post_extension(
    request: Request, session: SessionDep, user: DepartmentUser, posted: FilesForm, task_id: TaskId
) -> Response:
    """延期申请 by the lead before the deadline, with its 佐证材料."""
    form = posted.form

    def act() -> tuple[str, str]:
        raw = str(form.get("requested_deadline") or "").strip()
        try:
            requested = dt.date.fromisoformat(raw)
        except ValueError:
            raise FormInvalid(
                "请填写申请延至的日期（YYYY-MM-DD）",
                "Enter the date asked for (YYYY-MM-DD)",
                field="requested_deadline",
            ) from None
        reason = _text(form, "reason", 4000)
        files = _files(session, user, task_id, posted, pending=False)
        request_extension(
            session, task_id, actor_of(user), requested, reason, **trail(request, user), file_ids=files
        )
        return "延期申请已提交，等待委员会办公室审批", "Extension requested; the office will decide"

    return _submit(request, session, user, task_id, form, act)
