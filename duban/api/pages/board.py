"""逾期督办: the office's board of overdue and at-risk tasks, its row actions and the 台账 download."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from duban.api.deps import MAX_ID, SessionDep
from duban.api.pages.filters import filter_options, read_board_query
from duban.api.pages.web import (
    Form,
    FormInvalid,
    OfficeUser,
    PageRoute,
    PageUser,
    flash,
    flash_error,
    label_of,
    redirect,
    render,
    safe_next,
)
from duban.api.routers.exports import ledger_filter, ledger_response
from duban.api.routers.tasks import actor_of
from duban.core.errors import DubanError
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import SupervisionLevel
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


@router.get("/overdue")
def board(request: Request, session: SessionDep, user: OfficeUser) -> Response:
    """The board: every overdue or at-risk task with its light, level and last report; filters, sort."""
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
        },
    )


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


def _version(form: FormData) -> int | None:
    raw = str(form.get("version") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > MAX_ID:
        raise FormInvalid("版本号无效", "The version is not valid", field="version")
    return int(raw)


def _reason(form: FormData, limit: int = 4000) -> str:
    reason = str(form.get("reason") or "").strip()
    if len(reason) > limit:
        raise FormInvalid(
            f"说明不能超过 {limit} 字", f"The reason exceeds {limit} characters", field="reason"
        )
    return reason


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
    back = safe_next(form.get("back"), "/overdue")
    try:
        outcome = apply_ladder_action(
            session,
            task_id,
            action,
            actor_of(user),
            reason=_reason(form),
            expected_version=_version(form),
            request_id=getattr(request.state, "request_id", None),
            actor_label=label_of(user),
        )
    except DubanError as error:
        session.rollback()
        flash_error(request, error)
        return redirect(back)
    flash(
        request,
        f"任务 {task_id}：{outcome.from_rung.label} → {outcome.to_rung.label}",
        f"Task {task_id}: {outcome.from_rung.value} → {outcome.to_rung.value}",
    )
    return redirect(back)


@router.post("/extensions/{extension_id}/decision")
def extension_decision(
    request: Request,
    session: SessionDep,
    user: OfficeUser,
    form: Form,
    extension_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Grant (to the asked or another later date) or refuse an extension request from a page."""
    back = safe_next(form.get("back"), "/overdue")
    grant = form.get("grant") == "1"
    try:
        raw = str(form.get("granted_deadline") or "").strip()
        try:
            granted = dt.date.fromisoformat(raw) if raw and grant else None
        except ValueError:
            raise FormInvalid(
                "批准时限须为日期（YYYY-MM-DD）", "The granted deadline must be a date"
            ) from None
        extension = decide_extension(
            session,
            extension_id,
            actor_of(user),
            grant,
            _reason(form),
            granted,
            request_id=getattr(request.state, "request_id", None),
            actor_label=label_of(user),
        )
    except DubanError as error:
        session.rollback()
        flash_error(request, error)
        return redirect(back)
    if grant:
        day = (extension.granted_deadline or extension.requested_deadline).isoformat()
        flash(request, f"已批准延期至 {day}", f"Extension granted to {day}")
    else:
        flash(request, "已驳回延期申请", "Extension request refused")
    return redirect(back)
