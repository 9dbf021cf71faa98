"""ASGI middleware: request ids, the request size limit, and request metrics."""

from __future__ import annotations

import json
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("duban_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("duban_http_request_seconds", "HTTP request latency", ["method", "route"])


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


class BodyTooLargeError(Exception):
    """The client sent more bytes than allowed."""


class RequestGuard:
    """Assigns a request id, refuses bodies over the limit with 413, and records metrics."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._reject(send, request_id)
            return
        received = 0
        started = False
        status_holder = {"status": 500}

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLargeError
            return message

        async def tagged_send(message: Message) -> None:
            nonlocal started
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
                await self._reject(send, request_id)
            status_holder["status"] = 413
        finally:
            route = _route_template(scope)
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - begin)
            REQUESTS.labels(scope["method"], route, str(status_holder["status"])).inc()

    async def _reject(self, send: Send, request_id: str) -> None:
        body = _problem_bytes(
            413,
            f"请求体超过 {self.max_body} 字节上限 / The request body exceeds {self.max_body} bytes",
            "request_too_large",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
