"""Plans: import a document (text or file), list, read with outline and draft tasks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from duban.api.auth import CurrentUser, require_roles
from duban.api.deps import MAX_ID, CursorId, PlanId, SessionDep
from duban.api.problems import PROBLEM_RESPONSES, problem_response, register_error_status
from duban.api.routers import past_deadlines
from duban.api.uploads import filename_header, json_body
from duban.tasks.enums import Role
from duban.tasks.models import User
from duban.tasks.parser import decode_bytes, parse, require_measures
from duban.tasks.plan_identity import ImportConflict, PlanIdentityTaken
from duban.tasks.plan_views import PlanDetail, PlanNotIssued, PlanSummary, list_plans, plan_detail
from duban.tasks.plans import import_plan
from duban.workflow.errors import ActionForbidden

router = APIRouter(prefix="/api/v1", tags=["plans"])

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
OfficeOnly = require_roles(Role.office, Role.admin)
register_error_status(PlanIdentityTaken, 409)
register_error_status(ImportConflict, 409)
_REVISES = "把文件作为该规划的修订导入 / import the document as a revision of this plan"
RevisesQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description=_REVISES)]


class PlanText(BaseModel):
    """A document sent as text."""

    text: str = Field(min_length=1, examples=["一、总体要求\n（一）加强组织领导。各地区要……"])
    name: str | None = Field(default=None, max_length=512, examples=["实施方案.txt"])
    revises: int | None = Field(default=None, ge=1, le=MAX_ID, description=_REVISES)


class ImportedIdentity(BaseModel):
    """What identifies the document as a plan: basis number (文号 + issuer + title), issuer (+ title + date),
    title, file or content, and the parts the document gives."""

    basis: str = Field(examples=["number"])
    doc_number: str | None = Field(examples=["国办发〔2018〕128号"])
    issuer: str | None = Field(examples=["国务院办公厅"])
    title: str | None = Field(examples=["“无废城市”建设试点工作方案"])
    issue_date: dt.date | None = None


class ImportedPlan(BaseModel):
    """What an import did, to which plan and why, and the plan as it now stands."""

    status: str = Field(examples=["created"])
    added: list[str]
    removed: list[str]
    changed: list[str]
    revision: int = Field(examples=[1])
    reason: str = Field(examples=["new_plan"], description="new_plan, same_content, same_number, …, explicit")
    reason_zh: str
    reason_en: str
    similar: list[int] = Field(description="同标题而文号、发文机关或日期不同的规划 / same title, other plans")
    identity: ImportedIdentity
    plan: PlanDetail


@dataclass(frozen=True)
class _Document:
    """A document as received: its text, file name and the plan it revises, if the office named one."""

    text: str
    name: str | None
    revises: int | None = None


def _too_large() -> Response:
    return problem_response(
        413,
        f"文件超过 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB 上限 / The document exceeds 5 MB",
        "document_too_large",
    )


def _revises_field(value: object) -> int | Response | None:
    """The form's `revises` field as a plan id (None when absent), or a 422 problem."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    return problem_response(
        422,
        "revises 应为规划 id / revises must be a plan id",
        "validation_error",
        errors=[{"loc": ["revises"]}],
    )


async def _read_document(request: Request) -> _Document | Response:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_DOCUMENT_BYTES + 1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return problem_response(422, "缺少文件字段 file / The form needs a file field", "file_required")
        revises = _revises_field(form.get("revises"))
        if isinstance(revises, Response):
            return revises
        data = await upload.read(MAX_DOCUMENT_BYTES + 1)
        if len(data) > MAX_DOCUMENT_BYTES:
            return _too_large()
        # PDF and spreadsheet reading is CPU work: off the event loop.
        text = await run_in_threadpool(decode_bytes, data, upload.filename)
        return _Document(text, upload.filename, revises)
    if content_type.startswith("application/json"):
        raw = await request.body()
        if len(raw) > MAX_DOCUMENT_BYTES * 2:
            return _too_large()
        body = json_body(PlanText, raw)
        if len(body.text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
            return _too_large()
        return _Document(body.text, body.name, body.revises)
    if content_type.startswith("text/plain"):
        data = await request.body()
        if len(data) > MAX_DOCUMENT_BYTES:
            return _too_large()
        name = filename_header(request.headers.get("x-filename"))
        return _Document(await run_in_threadpool(decode_bytes, data, name), name)
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
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 409, 413, 415, 422)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": PlanText.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "revises": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        },
                    }
                },
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def create_plan(
    request: Request, session: SessionDep, response: Response, user: CurrentUser, revises: RevisesQuery = None
) -> Any:
    """Import a policy document (text, .docx, .xlsx or a PDF with a text layer, ≤ 5 MB); idempotent.

    The document is the plan of its identity (文号 + issuer + title, + date; the title alone when it gives
    neither), else a new plan, or — with `revises=<plan id>` (query, JSON or form field) — a revision of
    that plan; the answer says which and why (`reason`, `reason_zh`, `reason_en`, `identity`)."""
    try:
        document = await _read_document(request)
    except ValueError as exc:  # pydantic ValidationError for the JSON body
        return problem_response(
            422, f"请求内容校验失败 / Request validation failed: {exc}"[:2000], "validation_error"
        )
    if isinstance(document, Response):
        return document
    if revises is not None and document.revises is not None and revises != document.revises:
        return problem_response(
            422,
            f"查询参数 revises={revises} 与请求体中的 revises={document.revises} 不一致 / "
            f"the query's revises={revises} and the body's revises={document.revises} disagree",
            "revises_conflict",
        )
    target = revises if revises is not None else document.revises
    # Parsing and importing are CPU and database work: off the event loop, so other requests go on.
    imported = await run_in_threadpool(_import, session, document, target, user.id)
    if imported.status == "unchanged":
        response.status_code = 200
    return imported


def _import(session: Session, document: _Document, revises: int | None, user_id: int | None) -> ImportedPlan:
    parsed = require_measures(parse(document.text))
    result = import_plan(
        session, document.text, parsed, document.name, revises=revises, actor_user_id=user_id
    )
    assert result.reason is not None and result.identity is not None
    identity = result.identity
    return ImportedPlan(
        status=result.status,
        added=result.added,
        removed=result.removed,
        changed=result.changed,
        revision=result.revision,
        reason=result.reason.code,
        reason_zh=result.reason.zh,
        reason_en=result.reason.en,
        similar=list(result.reason.similar),
        identity=ImportedIdentity(
            basis=identity.basis,
            doc_number=identity.doc_number,
            issuer=identity.issuer,
            title=identity.title_key,
            issue_date=identity.issue_date,
        ),
        plan=plan_detail(session, result.plan_id),
    )


register_error_status(PlanNotIssued, 403)


def _reader_department(user: User) -> int | None:
    """The department whose view a caller gets (None: the office's whole view)."""
    if user.role is not Role.department:
        return None
    if user.department_id is None:
        raise ActionForbidden("账号未归属任何单位", "Your account belongs to no department")
    return user.department_id


@router.get(
    "/plans", response_model=list[PlanSummary], responses={s: PROBLEM_RESPONSES[s] for s in (401, 403)}
)
def get_plans(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after_id: CursorId = None,
) -> list[PlanSummary]:
    """Imported plans, newest first; a department sees issued plans only, counting the tasks it holds."""
    return list_plans(session, limit, after_id, department_id=_reader_department(user))


@router.get(
    "/plans/{plan_id}",
    response_model=PlanDetail,
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404)},
)
def get_plan(session: SessionDep, user: CurrentUser, plan_id: PlanId) -> PlanDetail:
    """One plan: the outline it was read into, its targets and its tasks with their proposed departments;
    a department reads an issued plan with only the issued tasks it leads or cooperates on (draft: 403)."""
    return plan_detail(session, plan_id, department_id=_reader_department(user))


# Deadlines already past on the issue date (issue 14 item 7): listed, set anew in bulk, confirmed at issue.
router.include_router(past_deadlines.router)
