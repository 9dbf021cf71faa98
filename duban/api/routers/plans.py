"""Plans: import a document (text or file), list, read with outline and draft tasks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from duban.api.auth import CurrentUser, require_roles
from duban.api.deps import CursorId, PlanId, SessionDep
from duban.api.problems import PROBLEM_RESPONSES, problem_response
from duban.tasks.enums import Role
from duban.tasks.parser import decode_bytes, parse, require_measures
from duban.tasks.plan_views import PlanDetail, PlanSummary, list_plans, plan_detail
from duban.tasks.plans import import_plan

router = APIRouter(prefix="/api/v1", tags=["plans"])

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
OfficeOnly = require_roles(Role.office, Role.admin)


class PlanText(BaseModel):
    """A document sent as text."""

    text: str = Field(min_length=1, examples=["一、总体要求\n（一）加强组织领导。各地区要……"])
    name: str | None = Field(default=None, max_length=512, examples=["实施方案.txt"])


class ImportedPlan(BaseModel):
    """What an import did, and the plan as it now stands."""

    status: str = Field(examples=["created"])
    added: list[str]
    removed: list[str]
    changed: list[str]
    plan: PlanDetail


def _too_large() -> Response:
    return problem_response(
        413,
        f"文件超过 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB 上限 / The document exceeds 5 MB",
        "document_too_large",
    )


async def _read_document(request: Request) -> tuple[str, str | None] | Response:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_DOCUMENT_BYTES + 1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return problem_response(422, "缺少文件字段 file / The form needs a file field", "file_required")
        data = await upload.read(MAX_DOCUMENT_BYTES + 1)
        if len(data) > MAX_DOCUMENT_BYTES:
            return _too_large()
        # PDF and spreadsheet reading is CPU work: off the event loop.
        return await run_in_threadpool(decode_bytes, data, upload.filename), upload.filename
    if content_type.startswith("application/json"):
        raw = await request.body()
        if len(raw) > MAX_DOCUMENT_BYTES * 2:
            return _too_large()
        body = PlanText.model_validate_json(raw)
        if len(body.text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
            return _too_large()
        return body.text, body.name
    if content_type.startswith("text/plain"):
        data = await request.body()
        if len(data) > MAX_DOCUMENT_BYTES:
            return _too_large()
        name = request.headers.get("x-filename")
        return await run_in_threadpool(decode_bytes, data, name), name
    return problem_response(
        415,
        "请以 JSON、纯文本或 multipart 文件提交 / Send JSON, text/plain or a multipart file",
        "unsupported_media_type",
    )


@router.post(
    "/plans",
    status_code=201,
    response_model=ImportedPlan,
    dependencies=[OfficeOnly],  # type: ignore[list-item]
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 413, 415, 422)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": PlanText.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def create_plan(request: Request, session: SessionDep, response: Response) -> Any:
    """Import a policy document (text, .docx, .xlsx or a PDF with a text layer, ≤ 5 MB); idempotent."""
    try:
        document = await _read_document(request)
    except ValueError as exc:  # pydantic ValidationError for the JSON body
        return problem_response(
            422, f"请求内容校验失败 / Request validation failed: {exc}"[:2000], "validation_error"
        )
    if isinstance(document, Response):
        return document
    text, name = document
    # Parsing and importing are CPU and database work: off the event loop, so other requests go on.
    imported = await run_in_threadpool(_import, session, text, name)
    if imported.status == "unchanged":
        response.status_code = 200
    return imported


def _import(session: Session, text: str, name: str | None) -> ImportedPlan:
    result = import_plan(session, text, require_measures(parse(text)), name)
    return ImportedPlan(
        status=result.status,
        added=result.added,
        removed=result.removed,
        changed=result.changed,
        plan=plan_detail(session, result.plan_id),
    )


@router.get("/plans", response_model=list[PlanSummary], responses={401: PROBLEM_RESPONSES[401]})
def get_plans(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after_id: CursorId = None,
) -> list[PlanSummary]:
    """Imported plans, newest first."""
    return list_plans(session, limit, after_id)


@router.get(
    "/plans/{plan_id}", response_model=PlanDetail, responses={s: PROBLEM_RESPONSES[s] for s in (401, 404)}
)
def get_plan(session: SessionDep, user: CurrentUser, plan_id: PlanId) -> PlanDetail:
    """One plan: the outline it was read into, its targets and its tasks with their proposed departments."""
    return plan_detail(session, plan_id)
