"""The API side of the faults: users with API tokens, and a load of writes and reads recorded reply by
reply (when it started and ended, its status, its request id, what it wrote)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from duban.api.users import create_api_token, create_user
from duban.tasks.departments import get_department_by_code
from duban.tasks.enums import Role
from duban.workflow.models import TaskReport

LEAD_CODE = "sthjt"  # 自治区生态环境厅
report_t = TaskReport.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Tokens:
    """API tokens of an office user and of a department user, and that department's id."""

    office: str
    lead: str
    lead_department_id: int


def make_users(engine: Engine) -> Tokens:
    """An office user and a 生态环境厅 user, each with an API token."""
    with Session(engine) as session:
        create_user(session, "fault-office", Role.office, "fault-office-password")
        create_user(session, "fault-lead", Role.department, "fault-lead-password", LEAD_CODE)
        office = create_api_token(session, "fault-office", "faults").token
        lead = create_api_token(session, "fault-lead", "faults").token
        department = get_department_by_code(session, LEAD_CODE).id
        session.commit()
    assert department is not None
    return Tokens(office, lead, department)


@dataclass
class Reply:
    """One request of the load."""

    kind: str
    started: float
    ended: float
    status: int | None
    request_id: str
    marker: str = ""
    written_id: int | None = None
    error: str = ""


@dataclass
class Load:
    """Threads sending writes (progress reports on `task_ids`) and reads (task lists) until stopped."""

    base_url: str
    tokens: Tokens
    task_ids: list[int]
    writers: int = 4
    readers: int = 2
    timeout: float = 15.0
    replies: list[Reply] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Start the threads."""
        for n in range(self.writers):
            self._threads.append(threading.Thread(target=self._loop, args=(self._write, n), daemon=True))
        for n in range(self.readers):
            self._threads.append(threading.Thread(target=self._loop, args=(self._read, n), daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop and wait for the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    def _loop(self, step: Callable[[httpx.Client, int, int], Reply], n: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            count = 0
            while not self._stop.is_set():
                reply = step(client, n, count)
                with self._lock:
                    self.replies.append(reply)
                count += 1
                if reply.status is None or reply.status >= 500:
                    time.sleep(0.05)  # a client backs off a little when the server is in trouble

    def _send(
        self,
        client: httpx.Client,
        kind: str,
        method: str,
        url: str,
        token: str,
        *,
        body: dict[str, object] | None = None,
        params: dict[str, str | int] | None = None,
    ) -> Reply:
        request_id = uuid.uuid4().hex
        headers = {"X-Request-ID": request_id, "Authorization": f"Bearer {token}"}
        began = time.monotonic()
        try:
            response = client.request(method, url, headers=headers, json=body, params=params)
        except httpx.HTTPError as error:
            return Reply(kind, began, time.monotonic(), None, request_id, error=type(error).__name__)
        reply = Reply(kind, began, time.monotonic(), response.status_code, request_id)
        if response.status_code == 201:
            reply.written_id = int(response.json()["id"])
        return reply

    def _write(self, client: httpx.Client, n: int, count: int) -> Reply:
        task_id = self.task_ids[(n * 7919 + count) % len(self.task_ids)]
        marker = f"故障演练进展 {uuid.uuid4().hex}"
        body: dict[str, object] = {"percent": count % 100, "text": marker}
        reply = self._send(
            client, "write", "POST", f"/api/v1/tasks/{task_id}/progress", self.tokens.lead, body=body
        )
        reply.marker = marker
        return reply

    def _read(self, client: httpx.Client, n: int, count: int) -> Reply:
        return self._send(client, "read", "GET", "/api/v1/tasks", self.tokens.office, params={"limit": 20})


def stored_reports(engine: Engine, markers: list[str]) -> dict[str, int]:
    """Of the progress texts `markers`, the ones stored, with their report ids."""
    found: dict[str, int] = {}
    with engine.connect() as conn:
        for start in range(0, len(markers), 1000):
            chunk = markers[start : start + 1000]
            query = sa.select(report_t.c.text, report_t.c.id).where(report_t.c.text.in_(chunk))
            found.update({str(row.text): int(row.id) for row in conn.execute(query)})
    return found
