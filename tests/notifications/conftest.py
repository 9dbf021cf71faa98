"""Fixtures of the notifications tests: a scenario whose mail goes to files, a robot webhook endpoint on a
loopback port."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from duban.core.config import get_settings
from tests.notifications.scenario import Scenario, open_scenario


@pytest.fixture
def scene(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scenario]:
    """A scenario in the test's transaction; its mail is written to `tmp_path / "mail"` (see `mails`)."""
    monkeypatch.setenv("DUBAN_MAIL_DIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    yield from open_scenario(session)


def mails(tmp_path: Path) -> list[email.message.EmailMessage]:
    """The mails `scene` has written, in file order."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((tmp_path / "mail").glob("*.eml"))
    ]


class Robot(BaseHTTPRequestHandler):
    """Records every POST and answers with `answer`."""

    received: list[tuple[str, dict[str, str], bytes]] = []  # noqa: RUF012
    answer: tuple[int, bytes] = (200, b'{"errcode": 0, "errmsg": "ok"}')

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers), body))
        status, payload = type(self).answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def robot() -> Iterator[tuple[str, type[Robot]]]:
    """A robot endpoint: (url, handler class with .received and .answer)."""
    handler = type("RobotEndpoint", (Robot,), {"received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/duban", handler
    finally:
        server.shutdown()
        server.server_close()
