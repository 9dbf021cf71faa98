"""逾期督办: the office's board of overdue and at-risk tasks, its row actions and the 台账 download."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from duban.api.deps import MAX_ID, SessionDep
from duban.api.pages.batch import BatchReport, report_of, selected_items
from duban.api.pages.filters import filter_options, read_board_query
from duban.api.pages.web import (
    Form,
    FormInvalid,
    OfficeUser,
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
from duban.api.routers.exports import ledger_filter, ledger_response
from duban.api.routers.tasks import actor_of
from duban.core.errors import DubanError
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import SupervisionLevel, TaskState
from duban.tasks.models import Task
from duban.workflow.batch import EXTEND, BatchOptions, run_batch
from duban.workflow.board import BoardFilter, BoardRow, board_page
from duban.workflow.machines import LADDER_ACTION_RULES, LADDER_ACTIONS, allowed_ladder_actions
from duban.workflow.policy import ISSUED_STATES
from duban.workflow.records import decide_extension
from duban.workflow.sweep import apply_ladder_action

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]
BOARD_LIGHTS: tuple[Any, ...] = ("red", "yellow")


def office_actions(row: BoardRow) -> list[str]:
    """The ladder actions the office may take on a board row (none once the task is closed)."""
    if row.state.value not in ISSUED_STATES:
        return []
    return allowed_ladder_actions(row.level, row.colour, "office")


def waiting_for_issue(session: Session) -> dict[str, int]:
    """Why a board can be empty: the tasks already issued, and the plans and tasks still waiting for 交办."""
    task_t = Task.__table__  # type: ignore[attr-defined]
    draft = task_t.c.state == TaskState.draft.value
    plans, drafts, issued = (
        session.connection()
        .execute(
            sa.select(
                sa.func.count(sa.distinct(task_t.c.plan_id)).filter(draft),
                sa.func.count().filter(draft),
                sa.func.count().filter(task_t.c.state.in_(ISSUED_STATES)),
            )
        )
        .one()
    )
    return {"plans": int(plans), "tasks": int(drafts), "issued": int(issued)}


@router.get("/overdue")
def board(request: Request, session: SessionDep, user: OfficeUser) -> Response:
    """The board: every overdue or at-risk task with its light, level and last report; filters, sort."""
    return board_view(request, session)


def board_view(request: Request, session: Session, report: BatchReport | None = None) -> Response:
    """The board as its query asks (again with a batch's report naming each refused row)."""
    query = read_board_query(request, BOARD_LIGHTS)
    page = board_page(session, BoardFilter(**query.filters()), working_calendar(session))
    for zh, en in query.problems:
        flash(request, zh, en, "error")
    return render(
        request,
        "board.html",
        {
            "query": query,
            "page": page,
            "options": filter_options(session),
            "levels": list(SupervisionLevel),
            "office_actions": office_actions,
            "ladder_labels": {a: LADDER_ACTION_RULES[a].label_zh for a in LADDER_ACTIONS},
            "waiting": waiting_for_issue(session) if not page.rows else None,
            "report": report,
            "batch_labels": BOARD_BATCH,
            "batch_action": "/overdue/batch" + (f"?{request.url.query}" if request.url.query else ""),
        },
    )


# The board's batch buttons: 批量催办, 批量升级督办 (the next 督办单), 批量审批延期 (to the date asked for).
BOARD_BATCH: dict[str, str] = {"urge": "催办", "supervise": "升级督办", EXTEND: "批准延期"}


@router.get("/overdue/batch")
def batch_back(request: Request, user: OfficeUser) -> Response:
    """The board's own links on a page shown after a batch: back to the board with the same query."""
    return redirect("/overdue" + (f"?{request.url.query}" if request.url.query else ""))


@router.post("/overdue/batch")
def board_batch(request: Request, session: SessionDep, user: OfficeUser, form: Form) -> Response:
    """批量催办 / 批量升级督办 / 批量审批延期 on the ticked rows, each its own action and event; refused
    rows are listed with the reason on the board."""
    action = str(form.get("action") or "")
    try:
        if action not in BOARD_BATCH:
            raise FormInvalid("请选择批量操作", "Choose a batch action", field="action")
        items = selected_items(form)
        options = BatchOptions(reason=_reason(form) or None, **trail(request, user))
        report = report_of(
            session, BOARD_BATCH[action], run_batch(session, action, actor_of(user), items, options)
        )
    except DubanError as error:
        session.rollback()
        flash_error(request, error)
        return redirect(safe_next(form.get("back"), "/overdue"))
    if report.refused:
        return board_view(request, session, report)
    label = BOARD_BATCH[action]
    flash(request, f"已{label} {report.done} 项任务", f"{action}: {report.done} tasks done")
    return redirect(safe_next(form.get("back"), "/overdue"))


@router.get("/overdue/ledger.{extension}")
def board_ledger(
    request: Request,
    session: SessionDep,
    user: PageUser,
    extension: Annotated[str, Path(pattern="^(xlsx|csv)$")],
) -> Response:
    """The 台账 of what the board shows (its filters, every page)."""
    query = read_board_query(request)
    flt = ledger_filter(
        user,
        plan_id=query.plan_id,
        department=query.department,
        level=query.level,
        region=query.region,
        light=query.lights,
        sort=query.sort,
        descending=query.descending,
    )
    return ledger_response(session, flt, extension)


def _reason(form: FormData, limit: int = 4000) -> str:
    reason = str(form.get("reason") or "").strip()
    if len(reason) > limit:
        raise FormInvalid(
            f"说明不能超过 {limit} 字", f"The reason exceeds {limit} characters", field="reason"
        )
    return reason


def _from_board(
    request: Request, session: Session, form: FormData, act: Callable[[], tuple[str, str]]
) -> Response:
    """Run a board form's action, then back where the form came from: with the action's (zh, en) message,
    or with the domain error it raised after a rollback."""
    try:
        zh, en = act()
    except DubanError as error:
        session.rollback()
        flash_error(request, error)
    else:
        flash(request, zh, en)
    return redirect(safe_next(form.get("back"), "/overdue"))


@router.post("/overdue/{task_id}/ladder/{action}")
def ladder_action(
    request: Request,
    session: SessionDep,
    user: OfficeUser,
    form: Form,
    task_id: TaskId,
    action: Annotated[str, Path(max_length=32)],
) -> Response:
    """Confirm 约谈/问责 or escalate (督办单) from a board row; back to the board with the outcome."""

    def act() -> tuple[str, str]:
        outcome = apply_ladder_action(
            session,
            task_id,
            action,
            actor_of(user),
            reason=_reason(form),
            expected_version=form_version(form),
            **trail(request, user),
        )
        return (
            f"任务 {task_id}：{outcome.from_rung.label} → {outcome.to_rung.label}",
            f"Task {task_id}: {outcome.from_rung.value} → {outcome.to_rung.value}",
        )

    return _from_board(request, session, form, act)


@router.post("/extensions/{extension_id}/decision")
def extension_decision(
    request: Request,
    session: SessionDep,
    user: OfficeUser,
    form: Form,
    extension_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Grant (to the asked or another later date) or refuse an extension request from a page."""
    grant = form.get("grant") == "1"

    def act() -> tuple[str, str]:
        raw = str(form.get("granted_deadline") or "").strip()
        try:
            granted = dt.date.fromisoformat(raw) if raw and grant else None
        except ValueError:
            raise FormInvalid(
                "批准时限须为日期（YYYY-MM-DD）", "The granted deadline must be a date"
            ) from None
        extension = decide_extension(
            session, extension_id, actor_of(user), grant, _reason(form), granted, **trail(request, user)
        )
        if not grant:
            return "已驳回延期申请", "Extension request refused"
        day = (extension.granted_deadline or extension.requested_deadline).isoformat()
        return f"已批准延期至 {day}", f"Extension granted to {day}"

    return _from_board(request, session, form, act)
