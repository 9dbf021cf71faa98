"""Users (issue 14 item 9): never a user without a password, set-password / disable / enable on the command
line and on the administrator's page, a disabled user stopped at once, and sign-in throttling."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlmodel import Session, select
from typer.testing import CliRunner

from duban.api import cli_users, throttle
from duban.api.app import create_app
from duban.api.cli import app
from duban.api.models import SigninThrottle
from duban.api.problems import TooManyAttempts
from duban.api.security import create_access_token
from duban.api.users import create_api_token
from duban.core import clock
from duban.core.config import get_settings
from duban.core.db import dispose_engine, get_engine
from duban.tasks.enums import Role, TaskState
from duban.tasks.models import User
from tests.api.pages.helpers import PASSWORD, PageClient, ensure_user, page_clients, text_of
from tests.fixtures.tasks import LEAD, TaskWorld

runner = CliRunner()
START = "2026-03-02T09:00:00"


# ---- the command line --------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A migrated database file with the registry, as `duban` sees it."""
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'users.sqlite3'}")
    get_settings.cache_clear()
    dispose_engine()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["departments", "load"]).exit_code == 0
    yield
    dispose_engine()


def _user(name: str) -> User | None:
    with Session(get_engine()) as session:
        return session.exec(select(User).where(User.username == name)).first()


def test_create_without_a_password_is_refused_off_a_terminal(cli_db: None) -> None:
    result = runner.invoke(app, ["users", "create", "office1", "--role", "office"])
    assert result.exit_code == 2
    assert "需要密码" in result.output and "--password-stdin" in result.output
    assert _user("office1") is None


def test_create_at_a_terminal_asks_for_the_password_twice(
    cli_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_users, "interactive", lambda: True)
    mismatch = runner.invoke(
        app, ["users", "create", "o1", "--role", "office"], input="first-pass\nother-pass\n"
    )
    assert _user("o1") is None and mismatch.exit_code != 0
    typed = runner.invoke(
        app, ["users", "create", "o1", "--role", "office"], input="typed-pass-1\ntyped-pass-1\n"
    )
    assert typed.exit_code == 0, typed.output
    made = _user("o1")
    assert made is not None and made.password_hash and "typed-pass-1" not in made.password_hash


def test_create_checks_the_user_before_asking_for_a_password(cli_db: None) -> None:
    assert (
        runner.invoke(
            app, ["users", "create", "o2", "--role", "office", "--password-stdin"], input="pw-123456\n"
        ).exit_code
        == 0
    )
    again = runner.invoke(app, ["users", "create", "o2", "--role", "office"])
    assert again.exit_code == 2 and "已存在" in again.output and "需要密码" not in again.output
    weak = runner.invoke(
        app, ["users", "create", "o3", "--role", "office", "--password-stdin"], input="short\n"
    )
    assert weak.exit_code == 2 and "至少 8 位" in weak.output and _user("o3") is None


def test_set_password_disable_enable_and_list(cli_db: None) -> None:
    runner.invoke(
        app,
        ["users", "create", "lcj", "--role", "department", "--department", "lcj", "--password-stdin"],
        input="first-pass-1\n",
    )
    assert runner.invoke(app, ["users", "set-password", "lcj"]).exit_code == 2  # no terminal, no stdin flag
    changed = runner.invoke(
        app, ["users", "set-password", "lcj", "--password-stdin"], input="second-pass-2\n"
    )
    assert changed.exit_code == 0, changed.output
    from duban.api.security import verify_password

    user = _user("lcj")
    assert user is not None and verify_password(user.password_hash, "second-pass-2")
    assert runner.invoke(app, ["users", "disable", "lcj"]).exit_code == 0
    assert _user("lcj").active is False  # type: ignore[union-attr]
    listing = runner.invoke(app, ["users", "list"])
    assert "lcj" in listing.output and "停用" in listing.output
    assert runner.invoke(app, ["users", "enable", "lcj"]).exit_code == 0
    assert _user("lcj").active is True  # type: ignore[union-attr]
    missing = runner.invoke(app, ["users", "disable", "nobody"])
    assert missing.exit_code == 2 and "没有用户 nobody" in missing.output


# ---- a disabled user is stopped at once ----------------------------------------------------------------


def test_a_disabled_users_tokens_and_session_stop_at_once(client: TestClient, world: TaskWorld) -> None:
    from duban.api.users import set_active

    user = ensure_user(world.session, "lead-clerk", Role.department, LEAD)
    assert user.id is not None
    api_token = {"Authorization": f"Bearer {create_api_token(world.session, 'lead-clerk', 'OA').token}"}
    bearer = {"Authorization": f"Bearer {create_access_token(user.id)}"}
    task = world.task_in(TaskState.assigned)
    with page_clients() as open_client:
        page = open_client()
        assert page.login("lead-clerk").status_code == 303
        assert page.get("/tasks").status_code == 200
        for headers in (api_token, bearer):
            assert client.get("/api/v1/me", headers=headers).status_code == 200
        set_active(world.session, "lead-clerk", False)
        for headers in (api_token, bearer):
            assert client.get("/api/v1/me", headers=headers).status_code == 401
            action = client.post(
                f"/api/v1/tasks/{task}/actions/accept", headers={**headers, "If-Match": '"v2"'}
            )
            assert action.status_code == 401
        assert page.get("/tasks").headers["location"].startswith("/login")
        assert page.login("lead-clerk").status_code == 401
        set_active(world.session, "lead-clerk", True)
        assert client.get("/api/v1/me", headers=api_token).status_code == 200


# ---- the administrator's page ----------------------------------------------------------------------------


@pytest.fixture
def admin_page(departments: Session) -> Iterator[Callable[[str, Role], PageClient]]:
    """`signed("name", role)`: a page client signed in as a new user of that role."""
    with page_clients() as open_client:

        def signed(name: str, role: Role) -> PageClient:
            ensure_user(departments, name, role, LEAD if role is Role.department else None)
            page = open_client()
            assert page.login(name).status_code == 303
            return page

        yield signed


def test_only_an_administrator_opens_the_users_page(admin_page: Callable[[str, Role], PageClient]) -> None:
    assert admin_page("office-u", Role.office).get("/users").status_code == 403
    assert admin_page("dept-u", Role.department).get("/users").status_code == 403
    admin = admin_page("root", Role.admin)
    page = admin.get("/users")
    assert page.status_code == 200 and "用户管理" in page.text and "office-u" in page.text
    assert 'href="/users"' in page.text  # in the navigation for the administrator only


def test_the_administrator_creates_sets_a_password_disables_and_enables(
    admin_page: Callable[[str, Role], PageClient], departments: Session
) -> None:
    admin = admin_page("root", Role.admin)
    form = {
        "form": "create",
        "username": "new-clerk",
        "role": "department",
        "department": "lcj",
        "display_name": "新经办人",
    }
    refused = admin.post("/users", {**form, "password": "new-clerk-pass", "password_again": "typo"})
    assert refused.status_code == 422 and "两次输入的密码不一致" in text_of(refused.text)
    assert 'value="new-clerk"' in refused.text  # the form keeps what was typed
    forged = admin.post(
        "/users", {**form, "password": "new-clerk-pass", "password_again": "new-clerk-pass"}, csrf=False
    )
    assert forged.status_code == 403
    made = admin.post("/users", {**form, "password": "new-clerk-pass", "password_again": "new-clerk-pass"})
    assert made.status_code == 303, made.text[:500]
    listed = admin.follow(made).text
    assert "已创建用户 new-clerk，首次登录须修改密码" in text_of(listed)
    clerk = departments.exec(select(User).where(User.username == "new-clerk")).one()
    assert clerk.role is Role.department and clerk.password_hash and clerk.must_change_password
    assert "待修改初始密码" in text_of(listed.split(f'id="user-{clerk.id}"')[1].split("</tr>")[0])
    with page_clients() as open_client:
        person = open_client()
        signed = person.login("new-clerk", "new-clerk-pass")
        assert (signed.status_code, signed.headers["location"]) == (303, "/password")
        assert person.get("/tasks").headers["location"] == "/password"  # nothing else until it is changed
        changed = person.post(
            "/password",
            {"current": "new-clerk-pass", "password": "own-clerk-pass", "password_again": "own-clerk-pass"},
        )
        assert changed.status_code == 303 and person.get("/tasks").status_code == 200
        departments.refresh(clerk)
        assert not clerk.must_change_password
        reset = admin.post(
            f"/users/{clerk.id}/password", {"password": "reset-pass-22", "password_again": "reset-pass-22"}
        )
        assert reset.status_code == 303
        assert "下次登录须修改密码" in text_of(admin.follow(reset).text)
        departments.refresh(clerk)
        assert clerk.must_change_password  # a reset password is an initial one again
        after_reset = open_client().login("new-clerk", "reset-pass-22")
        assert (after_reset.status_code, after_reset.headers["location"]) == (303, "/password")
        assert admin.post(f"/users/{clerk.id}/disable").status_code == 303
        ended = person.get("/tasks")  # the running session ends
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
        assert open_client().login("new-clerk", "reset-pass-22").status_code == 401
        assert admin.post(f"/users/{clerk.id}/enable").status_code == 303
        assert open_client().login("new-clerk", "reset-pass-22").status_code == 303
    root = departments.exec(select(User).where(User.username == "root")).one()
    own = admin.post(f"/users/{root.id}/disable")
    assert own.status_code == 422 and "不能停用自己的账号" in text_of(own.text)
    weak = admin.post(f"/users/{clerk.id}/password", {"password": "short", "password_again": "short"})
    assert weak.status_code == 422 and "至少 8 位" in text_of(weak.text)


# ---- sign-in throttling ------------------------------------------------------------------------------


def _counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _token(client: TestClient, password: str, username: str = "throttled") -> int:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password}).status_code


@pytest.fixture
def two_addresses(departments: Session) -> Iterator[tuple[TestClient, TestClient]]:
    """Two API processes' worth of clients, at two addresses, over the same database."""
    ensure_user(departments, "throttled", Role.office)
    clock.set_now(START)
    with (
        TestClient(create_app(), client=("10.0.0.7", 5000), raise_server_exceptions=False) as first,
        TestClient(create_app(), client=("10.0.0.8", 5000), raise_server_exceptions=False) as second,
    ):
        yield first, second
    clock.set_now(None)


def _after(seconds: float) -> None:
    clock.set_now(clock.now() + dt.timedelta(seconds=seconds))


def test_failures_are_slowed_then_refused_and_a_real_user_elsewhere_gets_in(
    two_addresses: tuple[TestClient, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    here, elsewhere = two_addresses
    failures_before = _counter("duban_signin_failures_total", via="api")
    refused_before = _counter("duban_signin_throttled_total", via="api", bucket="pair")
    assert [_token(here, "wrong-password") for _ in range(5)] == [401] * 5
    waits = []
    for _ in range(5):  # the 6th to the 10th failure: each must wait longer than the one before
        refused = here.post(
            "/api/v1/auth/token", data={"username": "throttled", "password": "wrong-password"}
        )
        assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
        waits.append(int(refused.headers["retry-after"]))
        _after(waits[-1])
        assert _token(here, "wrong-password") == 401
    assert waits == [2, 4, 8, 16, 32]
    blocked = here.post("/api/v1/auth/token", data={"username": "throttled", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) == 15 * 60
    problem = blocked.json()
    assert problem["code"] == "too_many_attempts" and problem["retry_after"] == 15 * 60
    assert (
        problem["detail"]
        == "登录失败次数过多，请 900 秒后再试 / Too many failed sign-ins; try again in 900 seconds"
    )
    # Another address (another API process, too: the counts are in the database) is not held back.
    assert _token(elsewhere, PASSWORD) == 200
    _after(15 * 60)
    assert _token(here, PASSWORD) == 200
    assert _token(here, "wrong-password") == 401  # the pair started again from nothing
    assert _counter("duban_signin_failures_total", via="api") - failures_before == 11
    assert _counter("duban_signin_throttled_total", via="api", bucket="pair") - refused_before == 6
    assert any("sign-in throttled" in r.getMessage() and "10.0.0.7" in r.getMessage() for r in caplog.records)


def test_guessing_one_account_from_many_addresses_is_slowed_but_not_its_known_address(
    departments: Session, caplog: pytest.LogCaptureFixture
) -> None:
    ensure_user(departments, "throttled", Role.office)
    clock.set_now(START)
    caplog.set_level(logging.INFO, logger="duban.auth")
    try:
        with TestClient(create_app(), client=("10.1.1.1", 1)) as usual:
            assert _token(usual, PASSWORD) == 200  # the user's own address becomes known
        for n in range(11):  # a botnet: one failure from each of eleven addresses
            with TestClient(create_app(), client=(f"192.0.2.{n}", 1)) as bot:
                assert _token(bot, "guess") == 401
        with TestClient(create_app(), client=("192.0.2.99", 1)) as bot:
            slowed = bot.post("/api/v1/auth/token", data={"username": "throttled", "password": "guess"})
            assert slowed.status_code == 429 and slowed.headers["retry-after"] == "2"
        with TestClient(create_app(), client=("10.1.1.1", 1)) as usual:
            assert _token(usual, PASSWORD) == 200
    finally:
        clock.set_now(None)
    assert any("sign-in failed" in r.getMessage() for r in caplog.records)


def test_the_page_sign_in_is_throttled_too(departments: Session) -> None:
    ensure_user(departments, "page-throttled", Role.office)
    clock.set_now(START)
    try:
        with page_clients() as open_client:
            page = open_client()
            for _ in range(5):
                assert page.login("page-throttled", "wrong-password").status_code == 401
            refused = page.login("page-throttled", PASSWORD)
            assert refused.status_code == 429 and refused.headers["retry-after"] == "2"
            assert "登录失败次数过多" in text_of(refused.text)
            _after(2)
            assert page.login("page-throttled", PASSWORD).status_code == 303
    finally:
        clock.set_now(None)


def test_set_password_lifts_the_throttle(session: Session, departments: Session) -> None:
    now = clock.now()
    attempt = throttle.Attempt("someone", "10.0.0.9", "api")
    for _ in range(10):
        throttle.record_failure(session, attempt, now)
    with pytest.raises(TooManyAttempts):
        throttle.admit(session, attempt, now)
    throttle.forget_account(session, "someone")
    throttle.admit(session, attempt, now)


def test_the_address_bucket_refuses_a_spray_and_parallel_attempts_share_one_slot(session: Session) -> None:
    now = clock.now()
    for n in range(50):
        throttle.record_failure(session, throttle.Attempt(f"user{n}", "203.0.113.5", "api"), now)
    with pytest.raises(TooManyAttempts) as refused:
        throttle.admit(session, throttle.Attempt("anyone", "203.0.113.5", "api"), now)
    assert refused.value.extra["retry_after"] == 15 * 60
    # Eleven failures on one account from eleven addresses: the next two attempts at the same moment
    # from new addresses — the first claims the slot, the second waits.
    for n in range(11):
        throttle.record_failure(session, throttle.Attempt("target", f"198.51.100.{n}", "api"), now)
    later = now + dt.timedelta(seconds=2)
    throttle.admit(session, throttle.Attempt("target", "198.51.100.200", "api"), later)
    with pytest.raises(TooManyAttempts):
        throttle.admit(session, throttle.Attempt("target", "198.51.100.201", "api"), later)


def test_stale_rows_are_purged(session: Session) -> None:
    now = clock.now()
    throttle.record_failure(session, throttle.Attempt("old", "10.9.9.9", "api"), now - dt.timedelta(days=1))
    throttle.record_success(session, throttle.Attempt("old", "10.9.9.8", "api"), now - dt.timedelta(days=40))
    throttle.record_failure(session, throttle.Attempt("new", "10.9.9.9", "api"), now)
    assert throttle.purge(session, now) == 3  # the old pair, account and known rows (the address is in use)
    keys = set(session.exec(select(SigninThrottle.key)).all())
    assert keys == {"pair:new|10.9.9.9", "addr:10.9.9.9", "acct:new"}
