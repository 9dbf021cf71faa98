"""Records on a task: progress and contributions, extension requests and decisions, scoring statistics.

`POST /tasks/{id}/progress` serves both kinds of report: the caller's relation to the task decides — the
lead's report is a progress report (进展报送), a cooperating unit's is a contribution to the lead
(配合单位报送). The response's `kind` says which was recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from duban.api.auth import CurrentUser
from duban.api.deps import CursorId, ExtensionId, SessionDep, TaskId
from duban.api.idempotency import IDEMPOTENCY_KEY_MAX, claim, remember, request_hash
from duban.api.problems import PROBLEM_RESPONSES, register_error_status
from duban.api.routers.records.files import record_files
from duban.api.routers.records.forms import read_record, record_body
from duban.api.routers.records.schemas import (
    DecisionIn,
    DecisionResult,
    ExtensionIn,
    ExtensionView,
    ReportIn,
    ReportPage,
    ReportView,
    StatsReport,
)
from duban.api.routers.tasks import actor_of, ensure_readable, etag
from duban.core import clock
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import Role
from duban.tasks.models import Department, Task, User
from duban.workflow.errors import ActionForbidden, RecordInvalid
from duban.workflow.evidence.files import files_of_records
from duban.workflow.models import ExtensionRequest, ExtensionStatus, ReportKind, TaskReport
from duban.workflow.records import (
    Attachment,
    IndicatorValue,
    add_contribution,
    add_progress,
    decide_extension,
    department_stats,
    list_extensions,
    list_reports,
    request_extension,
)
from duban.workflow.service import kind_of, load_header

router = APIRouter(prefix="/api/v1")

register_error_status(RecordInvalid, 422)
register_error_status(ActionForbidden, 403)

IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=IDEMPOTENCY_KEY_MAX,
        description="同一键与同一请求体只记录一次 / same key and body: recorded once",
    ),
]


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: PROBLEM_RESPONSES[status] for status in statuses}


def _report_view(
    session: Session, report: TaskReport, department: Department | None, file_ids: list[int] | None = None
) -> ReportView:
    if file_ids is None:
        assert report.id is not None
        file_ids = files_of_records(session, "report", [report.id])[report.id]
    return ReportView.model_validate(
        {
            **report.model_dump(),
            "department_code": department.code if department else None,
            "department_name": department.name if department else None,
            "file_ids": file_ids,
        }
    )


def _idempotent(
    session: SessionDep,
    user: User,
    key: str | None,
    request: Request,
    body: BaseModel | None,
    produce: Callable[[], tuple[int, BaseModel, dict[str, str]]],
) -> JSONResponse:
    """Run `produce` once per (user, Idempotency-Key, body); a repeat gets the stored answer."""
    assert user.id is not None
    if key:
        fingerprint = request_hash(
            request.method, request.url.path, body.model_dump(mode="json") if body else None
        )
        stored = claim(session, user.id, key, fingerprint)
        if stored is not None:
            return JSONResponse(
                stored.response_body, status_code=stored.status_code, headers=dict(stored.response_headers)
            )
    status, result, headers = produce()
    payload = jsonable_encoder(result)
    if key:
        remember(session, user.id, key, status, payload, headers)
    return JSONResponse(payload, status_code=status, headers=headers)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


@router.post(
    "/tasks/{task_id}/progress",
    status_code=201,
    response_model=ReportView,
    tags=["records"],
    responses=_responses(401, 403, 404, 409, 413, 415, 422),
    openapi_extra=record_body(ReportIn),
)
async def post_progress(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    task_id: TaskId,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """进展报送 (lead, in progress or returned) or 配合单位报送 (cooperating unit, assigned to returned).

    JSON, or a multipart form with the same fields (`indicator_values` and `missing_contributions` as JSON
    text) and the 佐证材料 as `file` parts, stored and attached in the same transaction."""
    read = await read_record(request, ReportIn)
    if isinstance(read, Response):
        return read
    body, uploads = read
    actor = actor_of(user)
    label = user.label

    def produce() -> tuple[int, BaseModel, dict[str, str]]:
        relation = kind_of(actor, load_header(session, task_id))
        attachments = [Attachment(**item.model_dump()) for item in body.attachments]
        file_ids = record_files(session, user, task_id, body.file_ids, uploads)
        if relation == "cooperating":
            if body.indicator_values or body.missing_contributions:
                raise RecordInvalid(
                    "指标值和未报送配合情况的说明由牵头单位在进展报送中填报",
                    "Indicator values and reasons for missing contributions are the lead's to report",
                    code="indicator_values_lead_only",
                )
            report = add_contribution(
                session,
                task_id,
                actor,
                body.text,
                body.percent,
                attachments,
                request_id=_request_id(request),
                actor_label=label,
                file_ids=file_ids,
            )
        else:
            values = [IndicatorValue(**item.model_dump()) for item in body.indicator_values]
            report = add_progress(
                session,
                task_id,
                actor,
                body.percent,
                body.text,
                values,
                attachments,
                request_id=_request_id(request),
                actor_label=label,
                file_ids=file_ids,
                missing_contributions=_waivers(session, body),
            )
        return 201, _report_view(session, report, session.get(Department, report.department_id)), {}

    return await run_in_threadpool(_idempotent, session, user, idempotency_key, request, body, produce)


def _waivers(session: Session, body: ReportIn) -> dict[int, str]:
    """`missing_contributions` by department id (422 naming an unknown code)."""
    reasons: dict[int, str] = {}
    for index, item in enumerate(body.missing_contributions):
        found = session.exec(select(Department).where(Department.code == item.department)).first()
        if found is None or found.id is None:
            raise RecordInvalid(
                f"单位代码“{item.department}”不存在",
                f"missing_contributions[{index}]: no department has the code {item.department!r}",
                code="unknown_department",
                field=f"missing_contributions[{index}]",
            )
        reasons[found.id] = item.reason
    return reasons


@router.get(
    "/tasks/{task_id}/reports",
    response_model=ReportPage,
    tags=["records"],
    responses=_responses(401, 403, 404, 422),
)
def get_reports(
    session: SessionDep,
    user: CurrentUser,
    task_id: TaskId,
    kind: ReportKind | None = None,
    after_id: CursorId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> ReportPage:
    """A task's reports: the office and the lead see all; a cooperating unit the lead's and its own."""
    ensure_readable(session, user, load_header(session, task_id))
    reports = list_reports(session, task_id, actor_of(user), kind=kind, after_id=after_id, limit=limit + 1)
    more = len(reports) > limit
    reports = reports[:limit]
    departments = {r.department_id: session.get(Department, r.department_id) for r in reports}
    files = files_of_records(session, "report", (r.id for r in reports if r.id is not None))
    return ReportPage(
        items=[_report_view(session, r, departments[r.department_id], files[r.id or 0]) for r in reports],
        next_after_id=reports[-1].id if more and reports else None,
    )


def _extension_view(session: Session, extension: ExtensionRequest) -> ExtensionView:
    assert extension.id is not None
    file_ids = files_of_records(session, "extension", [extension.id])[extension.id]
    return ExtensionView.model_validate({**extension.model_dump(), "file_ids": file_ids})


@router.post(
    "/tasks/{task_id}/extensions",
    status_code=201,
    response_model=ExtensionView,
    tags=["records"],
    responses=_responses(401, 403, 404, 409, 413, 415, 422),
    openapi_extra=record_body(ExtensionIn),
)
async def post_extension(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    task_id: TaskId,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """延期申请: the lead asks, on or before the deadline, for a later one; one pending request per task.
    JSON, or a multipart form with the same fields and the 佐证材料 as `file` parts."""
    read = await read_record(request, ExtensionIn)
    if isinstance(read, Response):
        return read
    body, uploads = read

    def produce() -> tuple[int, BaseModel, dict[str, str]]:
        file_ids = record_files(session, user, task_id, body.file_ids, uploads)
        extension = request_extension(
            session,
            task_id,
            actor_of(user),
            body.requested_deadline,
            body.reason,
            request_id=_request_id(request),
            actor_label=user.label,
            file_ids=file_ids,
        )
        return 201, _extension_view(session, extension), {}

    return await run_in_threadpool(_idempotent, session, user, idempotency_key, request, body, produce)


@router.get(
    "/tasks/{task_id}/extensions",
    response_model=list[ExtensionView],
    tags=["records"],
    responses=_responses(401, 403, 404, 422),
)
def get_task_extensions(session: SessionDep, user: CurrentUser, task_id: TaskId) -> list[ExtensionView]:
    """A task's extension requests, oldest first (office, lead and cooperating units)."""
    ensure_readable(session, user, load_header(session, task_id))
    return [
        _extension_view(session, e)
        for e in list_extensions(session, actor_of(user), task_id=task_id, limit=1000)
    ]


@router.get(
    "/extensions",
    response_model=list[ExtensionView],
    tags=["records"],
    responses=_responses(401, 422),
)
def get_extensions(
    session: SessionDep,
    user: CurrentUser,
    status: ExtensionStatus | None = None,
    after_id: CursorId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ExtensionView]:
    """Extension requests (`status=pending`: the office's queue); a department sees those it asked."""
    found = list_extensions(session, actor_of(user), status=status, after_id=after_id, limit=limit)
    return [_extension_view(session, e) for e in found]


@router.post(
    "/extensions/{extension_id}/decision",
    response_model=DecisionResult,
    tags=["records"],
    responses=_responses(401, 403, 404, 409, 422),
)
def post_decision(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    extension_id: ExtensionId,
    body: DecisionIn,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The office grants (deadline moves, original kept, ladder re-timed) or refuses with a reason."""

    def produce() -> tuple[int, BaseModel, dict[str, str]]:
        extension = decide_extension(
            session,
            extension_id,
            actor_of(user),
            body.grant,
            body.reason,
            body.granted_deadline,
            request_id=_request_id(request),
            actor_label=user.label,
        )
        task = session.get(Task, extension.task_id)
        assert task is not None
        session.refresh(task)
        result = DecisionResult(
            extension=_extension_view(session, extension),
            task_id=extension.task_id,
            deadline=task.deadline,
            original_deadline=task.original_deadline,
            supervision_level=task.supervision_level,
            version=task.version,
        )
        return 200, result, {"ETag": etag(task.version)}

    return _idempotent(session, user, idempotency_key, request, body, produce)


@router.get(
    "/stats/departments",
    response_model=StatsReport,
    tags=["stats"],
    responses=_responses(401, 422),
)
def get_department_stats(
    session: SessionDep,
    user: CurrentUser,
    start: Annotated[dt.date | None, Query(description="原定时限起 / original deadline from")] = None,
    end: Annotated[dt.date | None, Query(description="原定时限止 / original deadline to")] = None,
) -> StatsReport:
    """Scoring inputs per lead department, computed in SQL; a department sees its own row only.

    - **due**: completed, or open past the original deadline; **on_time_rate** = completed_on_time / due
      (completion date on or before the original deadline, Asia/Shanghai dates);
    - **late_tasks / days_late_\\***: days from the original deadline to completion (open: to today) —
      extensions do not erase lateness, they are counted beside it;
    - **overdue_now / overdue_now_\\***: open tasks past the deadline in force;
    - **working_days_\\***: the same spans in working days (statutory holidays and 调休 make-up days);
    - **returns**: times the office returned a submission; **highest_level**: highest supervision level held.
    """
    if start is not None and end is not None and end < start:
        raise RecordInvalid("统计区间的结束日期早于开始日期", "end is before start", code="invalid_period")
    department_id = user.department_id if user.role is Role.department else None
    if user.role is Role.department and department_id is None:
        raise ActionForbidden("账号未归属任何单位", "Your account belongs to no department")
    calendar = working_calendar(session)  # with the schedules loaded by `duban calendar load`
    rows = department_stats(session, start, end, department_id=department_id, calendar=calendar)
    return StatsReport(
        start=start,
        end=end,
        today=clock.today(),
        departments=list(rows),
    )
