"""RFC 9457 problem+json: one shape for every error, with Chinese first and English second."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from duban.core.errors import ConfigurationError, DubanError
from duban.tasks.errors import NotFoundError, RegistryError, TasksError
from duban.workflow.errors import CalendarError, WorkflowError

log = logging.getLogger("duban.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem document as duban writes it."""

    type: str = Field(default="about:blank", examples=["https://duban.example/problems/not_found"])
    title: str = Field(examples=["未找到 / Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["任务 42 不存在 / Task 42 does not exist"])
    code: str = Field(examples=["not_found"])
    instance: str | None = None
    allowed_actions: list[str] | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": description}
    for status, description in (
        (400, "请求格式错误 / Malformed request"),
        (401, "未登录 / Not authenticated"),
        (403, "无权操作 / Forbidden"),
        (404, "未找到 / Not found"),
        (413, "请求过大 / Request too large"),
        (415, "不支持的媒体类型 / Unsupported media type"),
        (409, "与当前状态冲突 / Conflict with the current state"),
        (412, "版本已过期 / Stale version"),
        (422, "内容不合规 / Unprocessable content"),
        (428, "缺少 If-Match / If-Match required"),
        (429, "尝试过于频繁 / Too many attempts"),
        (503, "服务暂不可用 / Service unavailable"),
    )
}

_TITLES = {
    400: "请求格式错误 / Bad Request",
    401: "未登录或凭据无效 / Unauthorized",
    403: "无权操作 / Forbidden",
    404: "未找到 / Not Found",
    405: "方法不允许 / Method Not Allowed",
    409: "与当前状态冲突 / Conflict",
    412: "版本已过期 / Precondition Failed",
    413: "请求过大 / Content Too Large",
    415: "不支持的媒体类型 / Unsupported Media Type",
    422: "内容不合规 / Unprocessable Content",
    428: "缺少前提条件 / Precondition Required",
    429: "请求过多 / Too Many Requests",
    500: "服务器内部错误 / Internal Server Error",
    503: "服务暂不可用 / Service Unavailable",
}


class ApiError(DubanError):
    """Base of the errors the HTTP layer itself raises (headers and preconditions, sign-in throttling);
    each carries its status."""

    code = "api_error"
    status = 400


class PreconditionRequired(ApiError):
    """A write that needs `If-Match` arrived without it (428, with the current ETag)."""

    code = "precondition_required"
    status = 428


class TooManyAttempts(ApiError):
    """Sign-in refused for a while after repeated failures (429, with Retry-After)."""

    code = "too_many_attempts"
    status = 429


# Most specific class first: the first isinstance match decides the HTTP status.
ERROR_STATUS: list[tuple[type[DubanError], int]] = [
    (NotFoundError, 404),
    (RegistryError, 422),
    (TasksError, 422),
    (CalendarError, 422),
    (WorkflowError, 409),
    (ConfigurationError, 503),
]


def register_error_status(error: type[DubanError], status: int) -> None:
    """Map a domain error class to an HTTP status (more specific registrations go first)."""
    ERROR_STATUS.insert(0, (error, status))


def problem_response(
    status: int,
    detail: str,
    code: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"https://duban.example/problems/{code}",
        "title": _TITLES.get(status, "错误 / Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


# Codes shared by one error class but answered differently.
CODE_STATUS: dict[str, int] = {
    "unknown_action": 404,
    "reason_required": 422,
    "new_lead_required": 422,
}


def status_for(error: DubanError) -> int:
    """The HTTP status of a domain error."""
    if error.code in CODE_STATUS:
        return CODE_STATUS[error.code]
    if isinstance(error, ApiError):
        return error.status
    for cls, status in ERROR_STATUS:
        if isinstance(error, cls):
            return status
    return 400


_RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance", "headers"})


async def _duban_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DubanError)
    extra = {key: value for key, value in exc.extra.items() if key not in _RESERVED}
    headers = exc.extra.get("headers")
    return problem_response(
        status_for(exc),
        f"{exc.message_zh} / {exc.message_en}",
        exc.code,
        headers=headers,
        instance=request.url.path,
        **extra,
    )


def _json_safe(errors: list[Any]) -> list[dict[str, Any]]:
    safe = []
    for error in errors:
        item = {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        item["type"] = str(error.get("type", ""))
        safe.append(item)
    return safe


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _json_safe(list(exc.errors()))
    if any(error["type"] == "json_invalid" for error in errors):
        return problem_response(
            400,
            "请求体不是合法的 JSON / The request body is not valid JSON",
            "malformed_json",
            instance=request.url.path,
            errors=errors,
        )
    fields = ", ".join(".".join(error["loc"]) for error in errors)
    return problem_response(
        422,
        f"请求内容校验失败：{fields} / Request validation failed: {fields}",
        "validation_error",
        instance=request.url.path,
        errors=errors,
    )


# Starlette's and FastAPI's own 400s (multipart limits, an unreadable body) say what went wrong in English
# only: each gets its Chinese, a code of its own and, for a part over the size limit, 413.
_FRAMEWORK_400: Final[list[tuple[re.Pattern[str], int, str, Callable[[re.Match[str]], str]]]] = [
    (
        re.compile(r"Too many files\. Maximum number of files is (\d+)\."),
        400,
        "too_many_files",
        lambda m: f"表单中的文件过多，一次最多 {m[1]} 个 / Too many files in the form: at most {m[1]}",
    ),
    (
        re.compile(r"Too many fields\. Maximum number of fields is (\d+)\."),
        400,
        "too_many_fields",
        lambda m: f"表单中的字段过多，最多 {m[1]} 个 / Too many fields in the form: at most {m[1]}",
    ),
    (
        re.compile(r"Part exceeded maximum size of (\d+)KB\."),
        413,
        "request_too_large",
        lambda m: f"表单中的一项超过 {m[1]} KB 上限 / A part of the form exceeds {m[1]} KB",
    ),
    (
        re.compile(r"Missing boundary in multipart\.|The Content-Disposition header field \"name\" must be"),
        400,
        "malformed_multipart",
        lambda m: "multipart 表单格式不正确 / The multipart form is malformed",
    ),
    (
        re.compile(r"There was an error parsing the body"),
        400,
        "malformed_body",
        lambda m: "请求体无法解析 / The request body could not be parsed",
    ),
]
_CJK: Final = re.compile(r"[\u4e00-\u9fff]")


def _framework_detail(status: int, detail: str) -> tuple[int, str, str] | None:
    """The status, Chinese + English detail and code of a framework's English-only 400."""
    if status != 400:
        return None
    for pattern, new_status, code, describe in _FRAMEWORK_400:
        found = pattern.search(detail)
        if found is not None:
            return new_status, describe(found), code
    if _CJK.search(detail) is None:
        return 400, f"请求格式错误 / {detail}", "bad_request"
    return None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "错误 / Error")
    status = exc.status_code
    if status == 404 and detail == "Not Found":
        detail = f"没有这个地址：{request.url.path} / No such resource: {request.url.path}"
    elif status == 405:
        detail = f"此地址不支持 {request.method} / {request.method} is not allowed here"
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
        status, "http_error"
    )
    translated = _framework_detail(status, detail)
    if translated is not None:
        status, detail, code = translated
    return problem_response(status, detail, code, headers=exc.headers, instance=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        500,
        "服务器内部错误，已记录 / Internal error, it has been logged",
        "internal_error",
        instance=request.url.path,
    )


def too_long(where: str, name: str, value: str, limit: int) -> RequestValidationError:
    """The 422 FastAPI gives a too-long parameter, for parameters a route reads itself."""
    return RequestValidationError(
        [
            {
                "type": "string_too_long",
                "loc": (where, name),
                "msg": f"String should have at most {limit} characters",
                "input": value,
                "ctx": {"max_length": limit},
            }
        ]
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error class through problem+json."""
    app.add_exception_handler(DubanError, _duban_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
