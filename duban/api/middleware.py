"""ASGI middleware: request ids, the request size limit, request metrics and the access log."""

from __future__ import annotations

import json
import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duban.api.metrics import observe_request, route_template
from duban.core.config import get_settings
from duban.core.logging import REQUEST_ID, accepted_request_id

access_log = logging.getLogger("duban.access")


def _problem_bytes(status: int, detail: str, code: str) -> bytes:
    titles = {413: "请求过大 / Content Too Large", 400: "请求格式错误 / Bad Request"}
    body = {
        "type": f"https://duban.example/problems/{code}",
        "title": titles[status],
        "status": status,
        "detail": detail,
        "code": code,
    }
    return json.dumps(body, ensure_ascii=False).encode()


_TASK_FORM = re.compile(r"^/tasks/(\d+)/")


def _page_of(path: str, headers: dict[bytes, bytes]) -> str | None:
    """Where a browser posting a page's form goes back to (None for the API and other clients)."""
    if path.startswith("/api/") or b"text/html" not in headers.get(b"accept", b""):
        return None
    task = _TASK_FORM.match(path)
    return f"/tasks/{task.group(1)}" if task else "/"


def _page_bytes(max_body: int, back: str) -> bytes:
    """The 413 page a form gets: what happened (nothing was saved) and the way back."""
    size = f"{max_body / (1024 * 1024):.0f} MB"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>文件过大 / Too large</title>'
        f"</head><body><h1>文件过大</h1><p>一次提交的文件合计不能超过 {size}，本次报送未保存。"
        "请减小文件或分次上传后重新提交。</p>"
        f'<p lang="en">The files are too large: at most {size} in one submission. Nothing was saved.</p>'
        f'<p><a href="{back}">返回 / Back</a></p></body></html>'
    ).encode()


class BodyTooLargeError(Exception):
    """The client sent more bytes than allowed."""


# Routes that take 佐证材料 (API and pages; the pages' contribution and 办结报送 forms too): their bodies may
# be as large as one evidence file and a form.
UPLOAD_PATH = re.compile(
    r"^(?:(?:/api/v1)?/tasks/\d+/(?:files|progress|extensions)|/tasks/\d+/(?:contribution|actions/submit))$"
)
FORM_OVERHEAD = 1024 * 1024


class RequestGuard:
    """Assigns a request id, refuses bodies over the limit with 413, and records metrics."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int | None = None) -> None:
        self.app = app
        self.max_body = max_body
        if max_upload is None:
            max_upload = get_settings().evidence_max_file_bytes + FORM_OVERHEAD
        self.max_upload = max(max_upload, max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = accepted_request_id(headers.get(b"x-request-id", b"").decode("latin-1"))
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        uploading = (
            headers.get(b"content-type", b"")
            .lower()
            .startswith((b"multipart/form-data", b"application/octet"))
        )
        max_body = (
            self.max_upload if uploading and UPLOAD_PATH.match(scope.get("path", "")) else self.max_body
        )
        declared = headers.get(b"content-length")
        page = _page_of(scope.get("path", ""), headers)
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            await self._reject(send, request_id, max_body, page)
            REQUEST_ID.reset(token)
            return
        received = 0
        started = False
        too_large = False
        status_holder = {"status": 500}

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    too_large = True
                    raise BodyTooLargeError
            return message

        async def tagged_send(message: Message) -> None:
            nonlocal started
            if too_large:
                # A body without Content-Length (chunked) went over the limit while the app read it: whatever
                # the app made of the interrupted read (FastAPI answers 400 "error parsing the body", a page
                # its error page), the client gets the same 413 as for a declared length.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    status_holder["status"] = 413
                    await self._reject(send, request_id, max_body, page)
                return
            if message["type"] == "http.response.start":
                started = True
                status_holder["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        begin = time.perf_counter()
        try:
            await self.app(scope, limited_receive, tagged_send)
        except BodyTooLargeError:
            if not started:
                await self._reject(send, request_id, max_body, page)
            status_holder["status"] = 413
        finally:
            seconds = time.perf_counter() - begin
            status = status_holder["status"]
            observe_request(scope, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    scope.get("path", ""),
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope.get("path", ""),
                        "route": route_template(scope),
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )
            REQUEST_ID.reset(token)

    async def _reject(self, send: Send, request_id: str, max_body: int, page: str | None = None) -> None:
        if page is not None:  # a page's form: a page saying so, not JSON in the browser
            body, media = _page_bytes(max_body, page), b"text/html; charset=utf-8"
        else:
            body, media = (
                _problem_bytes(
                    413,
                    f"请求体超过 {max_body} 字节上限 / The request body exceeds {max_body} bytes",
                    "request_too_large",
                ),
                b"application/problem+json",
            )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
