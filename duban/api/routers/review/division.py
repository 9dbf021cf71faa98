"""The 分工方案 round trip: download a plan's tasks as XLSX or CSV, upload the edited file back."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from duban.api.auth import CurrentUser
from duban.api.deps import SessionDep
from duban.api.problems import problem_response
from duban.api.routers.review.edits import PlanId, require_office, responses
from duban.api.routers.review.schemas import DivisionImportView
from duban.tasks.division import division_rows, import_division, to_csv, to_xlsx

router = APIRouter(prefix="/api/v1", tags=["plans"])

MAX_DIVISION_BYTES = 5 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(title: str, extension: str) -> str:
    name = f"{title[:60]}分工方案.{extension}"
    return f"attachment; filename=\"division.{extension}\"; filename*=UTF-8''{quote(name)}"


@router.get(
    "/plans/{plan_id}/division.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "分工方案 XLSX"}, **responses(401, 403, 404)},
)
def get_division_xlsx(session: SessionDep, user: CurrentUser, plan_id: PlanId) -> Response:
    """The plan's 分工方案 as XLSX (序号 任务 牵头单位 配合单位 完成时限 备注; id and version hidden)."""
    require_office(user)
    plan, rows = division_rows(session, plan_id)
    return Response(
        to_xlsx(plan, rows),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": _attachment(plan.title, "xlsx")},
    )


@router.get(
    "/plans/{plan_id}/division.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "分工方案 CSV"}, **responses(401, 403, 404)},
)
def get_division_csv(session: SessionDep, user: CurrentUser, plan_id: PlanId) -> Response:
    """The plan's 分工方案 as UTF-8 CSV (with BOM); the task id and version are the last two columns."""
    require_office(user)
    plan, rows = division_rows(session, plan_id)
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(plan.title, "csv")},
    )


@router.post(
    "/plans/{plan_id}/division",
    response_model=DivisionImportView,
    responses=responses(401, 403, 404, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def post_division(request: Request, session: SessionDep, user: CurrentUser, plan_id: PlanId) -> Any:
    """Import the edited 分工方案 (XLSX or CSV): every row and cell is checked first; any problem answers one
    422 naming each row and column (with the closest registry names), and nothing is applied."""
    require_office(user)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return problem_response(
            415,
            "请以 multipart 表单上传文件 file / Upload the file as multipart field file",
            "unsupported_media_type",
        )
    form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_DIVISION_BYTES + 1)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return problem_response(422, "缺少文件字段 file / The form needs a file field", "file_required")
    data = await upload.read(MAX_DIVISION_BYTES + 1)
    if len(data) > MAX_DIVISION_BYTES:
        return problem_response(413, "文件超过 5 MB 上限 / The file exceeds 5 MB", "document_too_large")
    result = import_division(
        session, plan_id, data, upload.filename, actor_user_id=user.id, actor_label=user.label
    )
    return DivisionImportView(
        plan_id=result.plan_id,
        rows=result.rows,
        changed=result.changed,
        unchanged=result.unchanged,
        event_ids=result.event_ids,
    )
