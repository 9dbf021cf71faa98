"""Hostile documents at `POST /api/v1/plans`: 10 MB, binary, deeply nested numbering and brackets, 100k
measures. Each gets a 2xx or a 4xx problem in bounded time, never a 5xx, and the server stays up."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from faults.core import Context, Outcome, elapsed
from faults.http import make_users
from faults.processes import answers, start_api
from faults.services import HOST, free_port

NAME = "hostile"
TITLE = "hostile documents"
TIME_LIMIT = 240.0
TEN_MB = 10 * 1024 * 1024
_CN = "一二三四五六七八九十"


def _cn(n: int) -> str:
    if n <= 10:
        return _CN[n - 1]
    if n < 20:
        return "十" + _CN[n - 11]
    return _CN[n // 10 - 1] + "十" + (_CN[n % 10 - 1] if n % 10 else "")


def hundred_thousand_measures() -> str:
    """20 parts of 5,000 numbered measures each: 100,000 measures in about 2 MB."""
    lines = ["关于开展十万项整治的实施方案", ""]
    for part in range(1, 21):
        lines.append(f"{_cn(part)}、第{part}类任务")
        lines.extend(f"{i}. 推进整治。" for i in range(1, 5001))
    return "\n".join(lines)


def nested_numbering(depth: int = 4000) -> str:
    """Every numbering style in turn, again and again: an outline `depth` levels deep if read naively."""
    styles: list[Callable[[int], str]] = [
        lambda n: f"第{_cn(n % 99 + 1)}章 ",
        lambda n: f"第{_cn(n % 99 + 1)}节 ",
        lambda n: f"{_cn(n % 99 + 1)}、",
        lambda n: f"（{_cn(n % 99 + 1)}）",
        lambda n: f"{n % 999 + 1}.",
        lambda n: f"（{n % 999 + 1}）",
        lambda n: "①",
        lambda n: f"{n % 9 + 1}.{n % 7 + 1}.{n % 5 + 1}.{n % 3 + 1}",
    ]
    lines = ["层层嵌套的实施方案", ""]
    lines += [f"{styles[i % len(styles)](i)}第{i}层措施，2026年底前完成。" for i in range(depth)]
    return "\n".join(lines)


def nested_brackets(depth: int = 200_000) -> str:
    """One measure whose body opens `depth` brackets and closes them (牵头单位 lookups scan brackets)."""
    return (
        "深括号方案\n\n一、重点任务\n（一）推进工作" + "（" * depth + "生态环境厅牵头" + "）" * depth + "。\n"
    )


@dataclass(frozen=True)
class Document:
    """One hostile request: how it is sent and what answers are acceptable."""

    name: str
    content_type: str
    body: bytes
    accept: frozenset[int]


def documents() -> list[Document]:
    """The hostile documents, built in memory."""
    rng = random.Random(20251013)
    binary = rng.randbytes(1024 * 1024)
    big = ("整治措施。" * (TEN_MB // 15 + 1)).encode()[: TEN_MB + 1]
    refused = frozenset({400, 413, 415, 422})
    ok_or_refused = refused | {200, 201}
    return [
        Document("10 MB text/plain", "text/plain; charset=utf-8", big, frozenset({413})),
        Document("10 MB JSON", "application/json", b'{"text": "' + big + b'"}', frozenset({413})),
        Document("1 MB random bytes (text/plain)", "text/plain", binary, refused),
        Document("random bytes named .docx (multipart)", "multipart:x.docx", binary, refused),
        Document("NUL and control characters", "text/plain", b"\x00\x01\x02" * 100_000, refused),
        Document(
            "4,000 levels of cycling numbering", "text/plain", nested_numbering().encode(), ok_or_refused
        ),
        Document("200,000 nested brackets", "text/plain", nested_brackets().encode(), ok_or_refused),
        Document(
            "100,000 measures (2 MB)", "text/plain", hundred_thousand_measures().encode(), ok_or_refused
        ),
    ]


def _post(client: httpx.Client, document: Document, token: str) -> tuple[int | None, float, int, str]:
    headers = {"Authorization": f"Bearer {token}"}
    began = time.monotonic()
    try:
        if document.content_type.startswith("multipart:"):
            filename = document.content_type.split(":", 1)[1]
            response = client.post(
                "/api/v1/plans", files={"file": (filename, document.body)}, headers=headers
            )
        else:
            headers["Content-Type"] = document.content_type
            response = client.post("/api/v1/plans", content=document.body, headers=headers)
    except httpx.HTTPError as error:
        return None, time.monotonic() - began, 0, type(error).__name__
    code = ""
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        code = str(response.json().get("code", ""))
    return response.status_code, time.monotonic() - began, len(response.content), code


class Liveness:
    """Polls /healthz in a thread while a document is posted: the longest wait for an answer."""

    def __init__(self, port: int) -> None:
        """Poll the server on `port` once started."""
        self.port = port
        self.longest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            answers(self.port, timeout=TIME_LIMIT)
            self.longest = max(self.longest, time.monotonic() - began)
            self._stop.wait(0.5)

    def __enter__(self) -> Liveness:
        """Start polling."""
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join(timeout=TIME_LIMIT)


def server_error(log: Path) -> str:
    """The first line of the last ERROR the API logged (why it answered 5xx)."""
    message = ""
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"level": "ERROR"' in line:
            message = str(json.loads(line).get("message", ""))
    return message.splitlines()[0][:300] if message else "nothing logged"


def run(ctx: Context, outcome: Outcome) -> None:
    """Post each hostile document as the office; check the answer, the time, and that the server lives."""
    outcome.tried = (
        "each document posted to `POST /api/v1/plans` as the office against `duban run` on PostgreSQL: "
        + "; ".join(d.name for d in documents())
        + f". Checked: an acceptable status (2xx, or the 4xx problem the case calls for), within "
        f"{TIME_LIMIT:.0f} s, no 5xx, /healthz 200 after each."
    )
    url, engine = ctx.database(NAME)
    tokens = make_users(engine)
    folder = ctx.scratch / NAME
    port = free_port()
    api = start_api(ctx.env(url, folder), folder / "api.log", port)
    started = time.monotonic()
    stalled = 0.0
    try:
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=TIME_LIMIT) as client:
            for document in documents():
                with Liveness(port) as liveness:
                    status, seconds, size, code = _post(client, document, tokens.office)
                health = answers(port, timeout=30)
                stalled = max(stalled, liveness.longest)
                verdict = (
                    f"{status}{f' {code}' if code else ''} in {seconds:.1f} s, {size:,} bytes back; "
                    f"meanwhile /healthz waited up to {liveness.longest:.1f} s"
                )
                outcome.note(f"{document.name}: {verdict}; after it /healthz {health}")
                outcome.figure(document.name, f"{status} {code}".strip() + f" ({seconds:.1f} s)")
                ctx.say(f"  {document.name}: {verdict}")
                if status is None or status >= 500:
                    cause = server_error(folder / "api.log")
                    outcome.failures.append(f"{document.name}: answered {status}; the API logged: {cause}")
                outcome.check(
                    status in document.accept or status is None or status >= 500,
                    f"{document.name}: unexpected {status} {code}",
                )
                outcome.check(seconds <= TIME_LIMIT, f"{document.name}: took {seconds:.0f} s")
                outcome.check(health == 200, f"after {document.name}: /healthz {health}")
    finally:
        api.stop()
    outcome.figure("longest /healthz wait while a document was processed (s)", round(stalled, 1))
    outcome.figure("seconds", round(elapsed(started), 1))
