"""Signed-in page clients for the page tests and the page features: log in through the form, post forms
with the session's CSRF token, read what a page shows."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from duban.api.security import hash_password
from duban.api.users import create_user
from duban.core.config import PROJECT_ROOT
from duban.tasks.enums import Role
from duban.tasks.models import User
from tests.fixtures.services import free_port

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = PROJECT_ROOT / "var" / "test-artifacts" / "screenshots"

PASSWORD = "pages-pass-1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TAGS = re.compile(r"<[^>]+>")


def csrf_of(page: str) -> str:
    """The CSRF token of a rendered form."""
    found = _CSRF.search(page)
    assert found, "no form with a CSRF token on the page"
    return found.group(1)


def text_of(page: str) -> str:
    """A page's visible text, tags removed and whitespace folded (entities decoded)."""
    return " ".join(html.unescape(_TAGS.sub(" ", page)).split())


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash the test password once per run


def ensure_user(session: Session, username: str, role: Role, department: str | None = None) -> User:
    """A user with the test password (created once per test transaction)."""
    found = session.exec(select(User).where(User.username == username)).first()
    if found is None:
        found = create_user(session, username, role, None, department, display_name=f"{username} 经办人")
        found.password_hash = _password_hash()
        session.add(found)
        session.flush()
    return found


@dataclass
class PageClient:
    """A browser-like client: cookies kept, redirects not followed, forms posted with the CSRF token."""

    client: TestClient
    token: str = ""
    last: httpx.Response | None = field(default=None, repr=False)

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        """Sign in through the form."""
        form = self.client.get("/login")
        response = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": ""},
        )
        if response.status_code == 303:
            self.token = csrf_of(self.client.get("/login").text)
        return response

    def get(self, path: str, **params: Any) -> httpx.Response:
        """GET a page (redirects not followed)."""
        self.last = self.client.get(path, params=params or None)
        return self.last

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        """POST a form (with the session's CSRF token unless told otherwise)."""
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.token)
        self.last = self.client.post(path, data=body)
        return self.last

    def follow(self, response: httpx.Response) -> httpx.Response:
        """The page a 303 leads to."""
        assert response.status_code == 303, (response.status_code, response.text[:500])
        return self.get(response.headers["location"])


@contextmanager
def page_clients() -> Iterator[Callable[[], PageClient]]:
    """A factory of fresh page clients over the app (each its own cookie jar), closed on exit."""
    from duban.api.app import create_app

    with ExitStack() as stack:

        def open_client() -> PageClient:
            client = stack.enter_context(
                TestClient(create_app(), raise_server_exceptions=False, follow_redirects=False)
            )
            return PageClient(client)

        yield open_client


@contextmanager
def live_server(url: str, folder: Path, now: str, **extra_env: str) -> Iterator[str]:
    """The app under uvicorn in a subprocess on a free port over `url`, standing on `now`; yields its base URL
    once /login answers (60 s at most) and stops it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "DUBAN_DATABASE_URL": url,
        "DUBAN_VAR_DIR": str(folder),
        "DUBAN_NOW": now,
        "DUBAN_ENV": "development",
        **extra_env,
    }
    command = [sys.executable, "-m", "uvicorn", "duban.api.app:create_app", "--factory"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=str(PROJECT_ROOT),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "uvicorn exited"
            assert time.monotonic() < deadline, "uvicorn did not answer within 60 s"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def system_chromium() -> Iterator[Any]:
    """The system Chromium through Playwright, for a fixture to yield from (missing: fails under CI=true,
    skips elsewhere)."""
    import pytest

    from tests.conftest import IN_CI

    if not CHROMIUM.exists():
        message = f"{CHROMIUM} 不存在 / Chromium is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            browser.close()
