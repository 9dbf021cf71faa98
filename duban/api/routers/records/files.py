"""佐证材料 over HTTP: upload (multipart, or the raw bytes with `X-Filename`), list, download, view.

Downloads are authorised like the task (the office, the lead, the task's cooperating units) and always
served as `attachment` with the stored type and `nosniff`. The `view` route shows only what the browser
renders without running it — PNG and JPEG images, and PDFs in the browser's own viewer — all three
recognised from their bytes on upload, so a file named .png that is HTML was never stored as one.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO, Final, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from duban.api.auth import CurrentUser
from duban.api.deps import MAX_ID, SessionDep, TaskId
from duban.api.pages.web import PageRoute, PageUser, checked_form, flash, flash_error, redirect
from duban.api.problems import PROBLEM_RESPONSES, problem_response, register_error_status
from duban.api.routers.tasks import actor_of, ensure_readable
from duban.api.uploads import filename_header
from duban.core.config import get_settings
from duban.core.errors import DubanError
from duban.core.filestore import CHUNK, FileStore, configured_store
from duban.tasks.enums import TaskState
from duban.tasks.models import User
from duban.workflow.evidence.completion import CompletionIncomplete
from duban.workflow.evidence.files import (
    UPLOAD_STATES,
    EvidenceError,
    EvidenceKindRefused,
    EvidenceTooLarge,
    Limits,
    as_json,
    department_names,
    file_row,
    links_of,
    task_files,
    upload,
)
from duban.workflow.evidence.kinds import INLINE_MEDIA_TYPES
from duban.workflow.service import load_header

router = APIRouter()

# The base first: a later registration is matched first, so the subclasses keep their own status.
register_error_status(EvidenceError, 422)
register_error_status(EvidenceTooLarge, 413)
register_error_status(EvidenceKindRefused, 415)
register_error_status(CompletionIncomplete, 422)

FileId = Annotated[int, Path(ge=1, le=MAX_ID, description="文件 id / file id")]
MAX_FILES_PER_REQUEST: Final = 20
# Served files never run: no script, no form, no plugin, no same-origin access, even if a browser would.
SANDBOX: Final = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


class RecordRef(BaseModel):
    """A record a file is attached to."""

    kind: str = Field(examples=["report"], description="report（进展/配合情况）或 extension（延期申请）")
    id: int


class EvidenceFileView(BaseModel):
    """An evidence file: what it is (told from its bytes), who sent it, when, and where it is attached."""

    id: int
    task_id: int
    name: str = Field(examples=["锅炉改造验收报告.pdf"])
    kind: str = Field(examples=["pdf"])
    label: str = Field(examples=["PDF"])
    media_type: str = Field(examples=["application/pdf"])
    size: int
    sha256: str
    department_id: int | None
    uploaded_by_user_id: int | None
    created_at: dt.datetime
    records: list[RecordRef]
    download_url: str
    view_url: str | None = Field(description="浏览器内查看（图片、PDF）/ shown in the browser: images, PDF")


def store() -> FileStore:
    """The configured file store (a function, so tests and hosts see the settings of the moment)."""
    return configured_store()


def limits() -> Limits:
    """The per-file and per-task limits in force."""
    settings = get_settings()
    return Limits(settings.evidence_max_file_bytes, settings.evidence_max_task_bytes)


def file_view(row: Any, links: list[tuple[str, int]], *, prefix: str = "/api/v1") -> EvidenceFileView:
    """The API shape of a stored file."""
    data = as_json(row, links)
    data["download_url"] = f"{prefix}/files/{row.id}"
    data["view_url"] = f"{prefix}/files/{row.id}/view" if row.media_type in INLINE_MEDIA_TYPES else None
    return EvidenceFileView.model_validate(data)


def store_uploads(
    session: Session, user: User, task_id: int, uploads: list[tuple[str, BinaryIO]]
) -> list[EvidenceFileView]:
    """Store each upload and add its row in the request's transaction (the request commits)."""
    ensure_readable(session, user, load_header(session, task_id))
    actor, kept, where, bounds = actor_of(user), [], store(), limits()
    for name, source in uploads:
        kept.append(upload(session, where, task_id, actor, name, source, bounds))
    return [file_view(row, []) for row in kept]


def record_files(
    session: Session, user: User, task_id: int, named: Sequence[int], uploads: list[tuple[str, BinaryIO]]
) -> list[int]:
    """The files a record carries: those named, then those uploaded with it (stored by `store_uploads`, in
    the record's transaction: a refused file refuses the record). The API's and the pages' one path."""
    return [*named, *(view.id for view in store_uploads(session, user, task_id, uploads))]


async def form_uploads(request: Request) -> tuple[dict[str, str], list[tuple[str, BinaryIO]]]:
    """A multipart form's text fields and its `file` parts (names decoded as `X-Filename` is)."""
    form = await request.form(
        max_files=MAX_FILES_PER_REQUEST, max_fields=40, max_part_size=get_settings().max_request_bytes
    )
    fields: dict[str, str] = {}
    files: list[tuple[str, BinaryIO]] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != "file" or not value.filename:
                continue  # a form's empty file input sends a part without a name: nothing chosen
            files.append((filename_header(f'filename="{value.filename}"') or "file", value.file))
        else:
            fields.setdefault(key, value)
    return fields, files


UPLOAD_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    "parameters": [
        {
            "name": "X-Filename",
            "in": "header",
            "required": False,
            "description": "原始文件名（RFC 5987，如 UTF-8''%E6%8A%A5%E5%91%8A.pdf）/ the file's name",
            "schema": {"type": "string", "maxLength": 1024},
        }
    ],
}


@router.post(
    "/api/v1/tasks/{task_id}/files",
    status_code=201,
    response_model=list[EvidenceFileView],
    tags=["records"],
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 409, 413, 415, 422)},
    openapi_extra=UPLOAD_BODY,
)
async def post_files(request: Request, session: SessionDep, user: CurrentUser, task_id: TaskId) -> Any:
    """上传佐证材料: one or more `file` parts (multipart), or the bytes themselves with `X-Filename`.

    PDF, JPEG/PNG, .docx, .xlsx, .wps/.et, .ofd and .zip, told from the bytes (415 for anything else, an
    .exe named .pdf included); per-file and per-task limits (413). A file sent twice is stored once. Name
    the returned ids in `file_ids` of a progress report, contribution or extension request."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        _, uploads = await form_uploads(request)
        if not uploads:
            return problem_response(422, "缺少文件字段 file / The form needs a file field", "file_required")
        return await run_in_threadpool(store_uploads, session, user, task_id, uploads)
    if content_type.startswith("application/octet-stream"):
        name = filename_header(request.headers.get("x-filename")) or "file"
        with tempfile.SpooledTemporaryFile(max_size=CHUNK) as spool:
            async for chunk in request.stream():
                spool.write(chunk)
            spool.seek(0)
            source = cast(BinaryIO, spool)
            return await run_in_threadpool(store_uploads, session, user, task_id, [(name, source)])
    return problem_response(
        415,
        "请以 multipart 表单字段 file 或 application/octet-stream 上传 / "
        "Upload as multipart field file, or as application/octet-stream with X-Filename",
        "unsupported_media_type",
    )


@router.get(
    "/api/v1/tasks/{task_id}/files",
    response_model=list[EvidenceFileView],
    tags=["records"],
    responses={s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 422)},
)
def get_task_files(session: SessionDep, user: CurrentUser, task_id: TaskId) -> list[EvidenceFileView]:
    """A task's evidence files, oldest first, with the records each is attached to."""
    ensure_readable(session, user, load_header(session, task_id))
    rows = task_files(session, task_id)
    links = links_of(session, (row.id for row in rows if row.id is not None))
    return [file_view(row, links.get(row.id or 0, [])) for row in rows]


def _disposition(kind: str, name: str) -> str:
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def file_response(session: Session, user: User, file_id: int, *, inline: bool) -> Response:
    """The stored bytes of a file the user may read (its task's office, lead and cooperating units)."""
    row = file_row(session, file_id)
    ensure_readable(session, user, load_header(session, row.task_id))
    shown = inline and row.media_type in INLINE_MEDIA_TYPES
    headers = {
        "Content-Disposition": _disposition("inline" if shown else "attachment", row.name),
        "Content-Length": str(row.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=0, must-revalidate",
        "ETag": f'"{row.sha256}"',
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if row.media_type != "application/pdf":  # Chromium refuses to show a sandboxed PDF at all
        headers["Content-Security-Policy"] = SANDBOX
    else:
        headers["Content-Security-Policy"] = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"
    try:
        handle = store().open(row.sha256)
    except FileNotFoundError:
        return problem_response(
            503,
            f"文件 {file_id} 的内容暂时无法读取 / The file's bytes cannot be read at the moment",
            "file_unavailable",
            headers={"Retry-After": "60"},
        )
    return StreamingResponse(_chunks(handle), media_type=row.media_type, headers=headers)


@router.get(
    "/api/v1/files/{file_id}",
    tags=["records"],
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "文件内容 / the bytes"},
        **{s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 422)},
    },
)
def get_file(session: SessionDep, user: CurrentUser, file_id: FileId) -> Response:
    """Download an evidence file (`Content-Disposition: attachment`, its type, `nosniff`)."""
    return file_response(session, user, file_id, inline=False)


@router.get(
    "/api/v1/files/{file_id}/view",
    tags=["records"],
    responses={
        200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}, "description": "文件"},
        **{s: PROBLEM_RESPONSES[s] for s in (401, 403, 404, 422)},
    },
)
def view_file(session: SessionDep, user: CurrentUser, file_id: FileId) -> Response:
    """Show an image or a PDF in the browser (`inline`); any other kind is served as an attachment."""
    return file_response(session, user, file_id, inline=True)


page_router = APIRouter(route_class=PageRoute, include_in_schema=False)


@page_router.get("/files/{file_id}")
def page_file(session: SessionDep, user: PageUser, file_id: FileId) -> Response:
    """The page's download link (signed-in session)."""
    return file_response(session, user, file_id, inline=False)


@page_router.get("/files/{file_id}/view")
def page_view(session: SessionDep, user: PageUser, file_id: FileId) -> Response:
    """The page's thumbnail and PDF link (signed-in session)."""
    return file_response(session, user, file_id, inline=True)


@dataclass(frozen=True, slots=True)
class FormWithFiles:
    """A page's multipart form, its CSRF token checked: the fields and the chosen `file` parts."""

    form: FormData
    uploads: list[tuple[str, BinaryIO]]


async def checked_form_with_files(request: Request) -> FormWithFiles:
    """The posted form and its files (multipart, or a plain form without any), its CSRF token checked."""
    _, uploads = await form_uploads(request)  # parsed once with room for files; `checked_form` reads it
    return FormWithFiles(await checked_form(request), uploads)


FilesForm = Annotated[FormWithFiles, Depends(checked_form_with_files)]


@page_router.post("/tasks/{task_id}/files")
def page_upload(
    request: Request, session: SessionDep, user: PageUser, posted: FilesForm, task_id: TaskId
) -> Response:
    """The task page's 上传佐证材料 form: the files join the department's next report."""
    uploads = posted.uploads
    back = redirect(f"/tasks/{task_id}#evidence")
    if not uploads:
        flash(request, "请选择要上传的文件", "Choose the files to upload", "error")
        return back
    try:
        stored = store_uploads(session, user, task_id, uploads)
    except DubanError as error:
        session.rollback()
        flash_error(request, error)
        return back
    names = "、".join(view.name for view in stored)
    flash(request, f"已上传佐证材料：{names}", f"Uploaded {len(stored)} file(s)")
    return back


def evidence_context(session: Session, task_id: int, relation: str, state: TaskState) -> dict[str, Any]:
    """What the task page's evidence panel shows: every file (name, kind, size, who, when, the record it
    came with), images as thumbnails, PDFs opened in the browser; and whether the reader may upload."""
    rows = task_files(session, task_id)
    links = links_of(session, (row.id for row in rows if row.id is not None))
    names = department_names(session, (row.department_id for row in rows if row.department_id))
    files = [
        {
            "view": file_view(row, links.get(row.id or 0, []), prefix=""),
            "department": names.get(row.department_id or 0, ""),
            "size": human_size(row.size),
            "image": row.media_type.startswith("image/"),
        }
        for row in rows
    ]
    return {
        "files": files,
        "can_upload": relation in ("lead", "cooperating") and state in UPLOAD_STATES,
        "accept": ACCEPT_ATTRIBUTE,
    }


ACCEPT_ATTRIBUTE: Final = ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,.wps,.et,.doc,.xls,.ofd,.zip"


def human_size(size: int) -> str:
    """A byte count as the page shows it (KB/MB, one decimal)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
